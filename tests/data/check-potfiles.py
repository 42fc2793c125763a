#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fails when a file with translatable strings is missing from po/POTFILES.in,
or when POTFILES.in names a file that does not exist.

A file has translatable strings when it is under src/ and calls _(), N_(),
C_(), NC_() or the g_d*gettext family, or is a .ui/.xml file with
translatable="yes"; or when it is a desktop entry, AppStream metainfo or
GSettings schema source under data/.  po/POTFILES.skip (optional) lists
files that match but must not be translated.

usage: check-potfiles.py SOURCE_ROOT
"""
import os
import re
import sys

GETTEXT_CALL = re.compile(r'(?<![A-Za-z0-9_])(?:N?C?_|g_d[a-z]*gettext2?|ngettext)\s*\(')
UI_TRANSLATABLE = re.compile(r'translatable\s*=\s*"(?:yes|true|1)"')
DATA_SUFFIXES = ('.desktop.in', '.metainfo.xml.in', '.appdata.xml.in', '.gschema.xml')
SOURCE_SUFFIXES = ('.c', '.h', '.ui', '.xml', '.in', '.blp')


def read_list(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding='utf-8') as f:
        return [l.strip() for l in f if l.strip() and not l.lstrip().startswith('#')]


def has_strings(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    if path.endswith('.c') or path.endswith('.h') or path.endswith('.c.in'):
        # Comments may mention _() without being strings to translate.
        text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
        text = re.sub(r'//[^\n]*', '', text)
        return GETTEXT_CALL.search(text) is not None
    return UI_TRANSLATABLE.search(text) is not None or GETTEXT_CALL.search(text) is not None


def wanted_files(root):
    found = set()
    for top in ('src',):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = [d for d in dirnames if not d.startswith('.')]
            for name in filenames:
                if name.endswith(SOURCE_SUFFIXES):
                    path = os.path.join(dirpath, name)
                    if has_strings(path):
                        found.add(os.path.relpath(path, root))
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, 'data')):
        for name in filenames:
            if name.endswith(DATA_SUFFIXES):
                found.add(os.path.relpath(os.path.join(dirpath, name), root))
    return found


def main():
    root = sys.argv[1]
    listed = read_list(os.path.join(root, 'po', 'POTFILES.in'))
    skipped = set(read_list(os.path.join(root, 'po', 'POTFILES.skip')))
    failures = []
    for path in sorted(wanted_files(root) - set(listed) - skipped):
        failures.append('%s has translatable strings but is not in po/POTFILES.in' % path)
    for path in listed:
        if not os.path.isfile(os.path.join(root, path)):
            failures.append('po/POTFILES.in names %s, which does not exist' % path)
    dupes = sorted({p for p in listed if listed.count(p) > 1})
    for path in dupes:
        failures.append('po/POTFILES.in names %s twice' % path)
    for line in failures:
        print(line)
    if not failures:
        print('po/POTFILES.in lists all %d files with translatable strings' % len(listed))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
