#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fails when libtke-1.so exports a symbol that no installed public header
declares: internal and test-only functions belong in a *-private.h with a
_tke_ name, hidden by -fvisibility=hidden (libtke-testable gives the tests
access to them).

usage: check-exports.py LIBRARY HEADER...
"""
import re
import subprocess
import sys

# Defined by the linker or by instrumentation (gcov, sanitizers), not by us.
TOOLCHAIN = re.compile(r'^(_init|_fini|_edata|_end|__bss_start|__gcov_.*|__asan_.*|__ubsan_.*|__odr_asan.*|__llvm_.*|__sancov.*)$')


def declared_names(headers):
    names = set()
    for path in headers:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
        text = re.sub(r'//[^\n]*', ' ', text)
        # Strip the preprocessor's own lines except declarations in macros.
        names.update(re.findall(r'\b([A-Za-z_][A-Za-z0-9_]*)\b', text))
    return names


def exported_symbols(library):
    out = subprocess.run(['nm', '-D', '--defined-only', library], check=True,
                         capture_output=True, text=True).stdout
    symbols = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            symbols.append((fields[1], fields[2].split('@')[0]))
    return symbols


def main():
    library, headers = sys.argv[1], sys.argv[2:]
    names = declared_names(headers)
    symbols = exported_symbols(library)
    bad = sorted(name for kind, name in symbols
                 if not TOOLCHAIN.match(name) and name not in names)
    print('%d exported symbols, %d public header(s)' % (len(symbols), len(headers)))
    for name in bad:
        print('exported but not in an installed header: %s' % name)
    if not symbols:
        print('no symbols read from %s' % library)
        return 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
