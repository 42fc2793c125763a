#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tke command line speaks German under LANGUAGE=de.

TKE_LOCALEDIR points tke at the .mo files of this build (BUILD/po), so the
test needs no installation.  English would mean the catalogue was not found
or the strings are not marked for translation.

usage: test-cli-german.py TKE LOCALEDIR
"""
import os
import subprocess
import sys


def run(tke, localedir, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith('LC_')}
    env.update(LANGUAGE='de', LANG='C.UTF-8', TKE_LOCALEDIR=localedir)
    return subprocess.run([tke, *args], env=env, capture_output=True, text=True)


def main():
    tke, localedir = sys.argv[1], sys.argv[2]
    mo = os.path.join(localedir, 'de', 'LC_MESSAGES', 'tke.mo')
    if not os.path.isfile(mo):
        print('%s was not built' % mo)
        return 1
    failures = []

    help_ = run(tke, localedir, 'help')
    print(help_.stdout)
    if help_.returncode != 0:
        failures.append('tke help exited with %d' % help_.returncode)
    for german in ('Aufruf: tke BEFEHL', 'Befehle:', 'Rückgabewerte:', 'Die Version von tke anzeigen'):
        if german not in help_.stdout:
            failures.append('tke help does not say “%s”' % german)
    for english in ('Usage:', 'Verbs:', 'Exit status:'):
        if english in help_.stdout:
            failures.append('tke help still says “%s”' % english)

    unknown = run(tke, localedir, 'no-such-verb')
    print(unknown.stderr)
    if unknown.returncode != 2 or 'Unbekannter Befehl „no-such-verb“' not in unknown.stderr:
        failures.append('an unknown verb is not refused in German with exit status 2')

    for f in failures:
        print('FAIL: ' + f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
