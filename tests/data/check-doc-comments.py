#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lists every function libtke-1.so exports that has no gtk-doc comment
(a "/**" block opening with " * NAME:") in the sources, and fails when
there is one.  Functions that G_DEFINE_* and glib-mkenums generate
(*_get_type, tke_error_quark) are documented by their type.

usage: check-doc-comments.py [--warn-only] LIBRARY SOURCE_DIR
  --warn-only  report the missing comments but do not fail
"""
import os
import re
import subprocess
import sys

DOC_NAME = re.compile(r'/\*\*\s*\n\s*\*\s*([A-Za-z_][A-Za-z0-9_]*)\s*:')
GENERATED = re.compile(r'^tke_.*_get_type$|^tke_error_quark$')


def documented(source_dir):
    names = set()
    for root, _dirs, files in os.walk(source_dir):
        for name in files:
            if name.endswith(('.c', '.h', '.h.in')):
                with open(os.path.join(root, name), encoding='utf-8') as f:
                    names.update(DOC_NAME.findall(f.read()))
    return names


def exported_functions(library):
    out = subprocess.run(['nm', '-D', '--defined-only', library], check=True,
                         capture_output=True, text=True).stdout
    return sorted(f[2].split('@')[0] for f in (l.split() for l in out.splitlines())
                  if len(f) >= 3 and f[1] in ('T', 'W') and f[2].startswith('tke_'))


def main():
    args = sys.argv[1:]
    warn_only = '--warn-only' in args
    args = [a for a in args if a != '--warn-only']
    library, source_dir = args
    docs = documented(source_dir)
    functions = exported_functions(library)
    missing = [f for f in functions if not GENERATED.match(f) and f not in docs]
    print('%d exported functions, %d without a gtk-doc comment' % (len(functions), len(missing)))
    for name in missing:
        print('no /** %s: comment' % name)
    if not functions:
        return 1
    if missing and warn_only:
        print('(warn-only: not failing)')
        return 0
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main())
