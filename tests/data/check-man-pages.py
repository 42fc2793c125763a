#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks the manual pages in data/doc/.

1. groff formats each page with all warnings on (-ww) and prints none.
2. Every verb that `tke help` lists is documented in the VERBS section of
   tke.1, and `tke help VERB` succeeds for it.
3. With --both, also the other way round: every verb tke.1 documents is one
   that `tke help` lists.  (Turn it on in tests/data/meson.build once every
   verb of tke.1 is implemented.)

usage: check-man-pages.py [--both] TKE MAN_PAGE...
"""
import os
import re
import subprocess
import sys


def groff_warnings(page):
    r = subprocess.run(['groff', '-man', '-ww', '-z', '-Tutf8', page],
                       capture_output=True, text=True, env=dict(os.environ, LC_ALL='C.UTF-8'))
    return (r.stderr.strip() or ('groff exited with %d' % r.returncode)) if (r.returncode or r.stderr.strip()) else ''


def help_verbs(tke):
    env = {k: v for k, v in os.environ.items() if not k.startswith(('LC_', 'LANG'))}
    env['LC_ALL'] = 'C.UTF-8'
    out = subprocess.run([tke, 'help'], env=env, capture_output=True, text=True, check=True).stdout
    verbs, inside = [], False
    for line in out.splitlines():
        if line.strip() == 'Verbs:':
            inside = True
        elif inside and not line.strip():
            break
        elif inside:
            verbs.append(line.split()[0])
    return verbs


def man_verbs(page):
    with open(page, encoding='utf-8') as f:
        text = f.read()
    section = re.search(r'^\.SH VERBS\n(.*?)(?=^\.SH )', text, re.S | re.M)
    if not section:
        return []
    verbs = []
    lines = section.group(1).splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.strip() == '.TP':
            tag = lines[i + 1]
            tag = re.sub(r'^\.[BI]+[RI]?\s+', '', tag).replace('\\-', '-').lstrip('"')
            tag = re.sub(r'\\f[BIRP]', '', tag)
            verbs.append(tag.split()[0].strip('"'))
    return verbs


def main():
    args = sys.argv[1:]
    both = args and args[0] == '--both'
    if both:
        args = args[1:]
    tke, pages = args[0], args[1:]
    failures = []
    for page in pages:
        w = groff_warnings(page)
        if w:
            failures.append('%s: %s' % (os.path.basename(page), w))
    tke_page = next(p for p in pages if os.path.basename(p) == 'tke.1')
    listed, documented = help_verbs(tke), man_verbs(tke_page)
    print('tke help lists: ' + ' '.join(listed))
    print('tke.1 documents: ' + ' '.join(documented))
    if not listed:
        failures.append('tke help lists no verbs')
    for verb in listed:
        if verb not in documented:
            failures.append('tke help lists %s, which tke.1 does not document' % verb)
        r = subprocess.run([tke, 'help', verb], capture_output=True, text=True)
        if r.returncode != 0:
            failures.append('tke help %s exits with %d' % (verb, r.returncode))
    if both:
        for verb in documented:
            if verb not in listed:
                failures.append('tke.1 documents %s, which tke help does not list' % verb)
    for f in failures:
        print('FAIL: ' + f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
