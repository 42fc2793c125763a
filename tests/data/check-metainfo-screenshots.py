#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every screenshot the AppStream metainfo names is one a GUI test takes.

The gui suite writes its pictures with tke_test_save_screenshot (WIDGET,
"NAME") into the build directory's screenshots/, and a release copies
them to the metainfo's location.  A name no test writes would leave the
store page with a broken picture, or one of a window that no longer
exists; this fails on it, and names what is missing.

Usage: check-metainfo-screenshots.py SOURCE_ROOT
"""

import glob
import os
import re
import sys
import xml.etree.ElementTree as ET


def names_saved_by_tests(root):
    saved = set()
    pattern = re.compile(r'tke_test_save_screenshot\s*\([^;]*?"([A-Za-z0-9_-]+)"\s*\)', re.S)
    for path in glob.glob(os.path.join(root, 'tests', 'gui', '*.c')):
        with open(path, encoding='utf-8') as f:
            saved.update(pattern.findall(f.read()))
    return saved


def main():
    root = sys.argv[1]
    metainfo = glob.glob(os.path.join(root, 'data', '*.metainfo.xml.in*'))
    if len(metainfo) != 1:
        print('expected one metainfo in data/, found %r' % metainfo)
        return 1
    component = ET.parse(metainfo[0]).getroot()
    images = [i.text.strip() for i in component.iter('image') if i.text]
    if not images:
        print('the metainfo names no screenshot')
        return 1
    saved = names_saved_by_tests(root)
    missing = []
    for url in images:
        name = os.path.basename(url)
        if not name.endswith('.png') or name[:-4] not in saved:
            missing.append(name)
    for name in missing:
        print('the metainfo names %s, which no test in tests/gui takes' % name)
    print('%d screenshots named, %d taken by the gui tests' % (len(images), len(images) - len(missing)))
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main())
