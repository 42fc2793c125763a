#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fails when a translation in po/LINGUAS is incomplete: a string of the
sources (po/POTFILES.in) that has no translation, or only a fuzzy one.

The template is extracted afresh into a temporary directory with the
arguments of meson's glib preset (i18n.gettext(preset: 'glib')), so the
source tree is never touched.  To fix a failure, run po/update-translations.sh
and translate what it marks.

usage: check-po-complete.py SOURCE_ROOT PACKAGE
"""
import os
import re
import subprocess
import sys
import tempfile

XGETTEXT_GLIB_PRESET = [
    '--from-code=UTF-8', '--add-comments',
    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format', '--flag=NC_:2:pass-c-format',
    '--flag=g_dngettext:2:pass-c-format', '--flag=g_strdup_printf:1:c-format',
    '--flag=g_string_printf:2:c-format', '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format',
    '--flag=g_markup_printf_escaped:1:c-format', '--flag=g_log:3:c-format',
    '--flag=g_print:1:c-format', '--flag=g_printerr:1:c-format',
    '--flag=g_printf:1:c-format', '--flag=g_fprintf:2:c-format',
    '--flag=g_sprintf:2:c-format', '--flag=g_snprintf:3:c-format',
]


def main():
    root, package = sys.argv[1], sys.argv[2]
    po_dir = os.path.join(root, 'po')
    with open(os.path.join(po_dir, 'LINGUAS'), encoding='utf-8') as f:
        languages = [w for line in f for w in line.split('#')[0].split()]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, package + '.pot')
        subprocess.run(['xgettext', '--package-name=' + package, '-D', root,
                        '-f', os.path.join(po_dir, 'POTFILES.in'), '-o', pot]
                       + XGETTEXT_GLIB_PRESET, check=True)
        for lang in languages:
            merged = os.path.join(tmp, lang + '.po')
            subprocess.run(['msgmerge', '--quiet', '--no-fuzzy-matching', '-o', merged,
                            os.path.join(po_dir, lang + '.po'), pot], check=True)
            # Every check of msgfmt -c (format strings, header) must pass too.
            stats = subprocess.run(['msgfmt', '-c', '--statistics', '-o', os.devnull, merged],
                                   capture_output=True, text=True, check=True,
                                   env=dict(os.environ, LC_ALL='C')).stderr.strip()
            untranslated = subprocess.run(['msgattrib', '--untranslated', '--no-obsolete',
                                           '--no-location', merged],
                                          capture_output=True, text=True, check=True).stdout
            fuzzy = subprocess.run(['msgattrib', '--only-fuzzy', '--no-obsolete',
                                    '--no-location', merged],
                                   capture_output=True, text=True, check=True).stdout
            missing = [m for m in re.findall(r'^msgid ((?:".*"\n?)+)', untranslated + fuzzy, re.M)
                       if m.strip() != '""']
            print('po/%s.po: %s' % (lang, stats))
            for m in missing:
                print('  not translated: %s' % ' '.join(m.split('\n')).strip())
            if missing:
                failures += 1
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
