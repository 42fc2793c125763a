#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: the running tke-gtk driven through the accessibility tree
(AT-SPI, dogtail), as a screen reader user would, against a real
tke-emulator over HTTPS.

Finds every control by its accessible name and role.  GTK 4.8 names a
labelled button "<label> <label>" (the label property, then the child
label's text), so buttons are matched by the end of their name.

Run by meson (suite e2e) inside xvfb-run and dbus-run-session; TAP output.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

os.environ.setdefault('GTK_A11Y', 'atspi')
os.environ.pop('NO_AT_BRIDGE', None)

# TAP goes to the real stdout; dogtail's own chatter goes to stderr.
TAP = sys.stdout
sys.stdout = sys.stderr

from dogtail.config import config  # noqa: E402

# GTK 4 does not read the gsettings key dogtail checks; its a11y is on.
config.checkForA11y = False
config.searchShowingOnly = False
config.logDebugToStdOut = False
config.logDebugToFile = False
config.searchCutoffCount = 3
config.searchBackoffDuration = 0.2

from dogtail import tree  # noqa: E402

results = []


def unit_root_hex(path):
    """The emulator's unit root as the profile pins it: the P-521 point of
    the PEM SubjectPublicKeyInfo (its last 133 bytes), in hex."""
    import base64
    with open(path) as f:
        body = ''.join(line for line in f.read().splitlines() if not line.startswith('-----'))
    return base64.b64decode(body)[-133:].hex()


def tap(ok, what):
    results.append(ok)
    print('%s %d - %s' % ('ok' if ok else 'not ok', len(results), what), file=TAP, flush=True)


def wait_for(what, find, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            found = find()
            if found:
                return found
        except Exception:  # the tree changes under our feet
            pass
        time.sleep(0.2)
    raise AssertionError('not found within %d s: %s' % (timeout, what))


def button(root, name):
    return root.findChild(lambda n: n.roleName == 'push button' and
                          (n.name == name or n.name.endswith(' ' + name)),
                          retry=False, requireResult=False)


def act(node):
    """Activates NODE the way its role offers (click, activate, toggle…)."""
    for name in ('click', 'activate', 'toggle', 'press', 'select'):
        if name in node.actions:
            node.doActionNamed(name)
            return
    if node.actions:
        node.doActionNamed(list(node.actions)[0])
        return
    node.select()


def label(root, text, exact=True):
    return root.findChild(lambda n: n.roleName == 'label' and
                          (n.name == text if exact else text in n.name),
                          retry=False, requireResult=False)


def start_emulator(state):
    emulator = subprocess.Popen([os.environ['TKE_EMULATOR'], '--state-dir', state,
                                 '--init', 'demo', '--keys', '20'],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = json.loads(emulator.stdout.readline())
    return emulator, ready


def main():
    print('1..10', file=TAP, flush=True)
    tmp = tempfile.mkdtemp(prefix='tke-e2e-')
    emulator = app_process = None
    try:
        emulator, ready = start_emulator(os.path.join(tmp, 'state'))
        config_dir = os.path.join(tmp, 'config', 'tke')
        os.makedirs(config_dir)
        with open(os.path.join(config_dir, 'profile.ini'), 'w') as f:
            f.write('[service]\nendpoint=%s\nca-file=%s\ninstance=%s\nunit-root=%s\n'
                    % (ready['url'], ready['ca_file'], ready['instance_id'],
                       unit_root_hex(ready['unit_root_file'])))
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(tmp, 'config'),
                   SECRET_BACKEND='file', SECRET_FILE_TEST_PATH=os.path.join(tmp, 'keyring'),
                   SECRET_FILE_TEST_PASSWORD='e2e', GSETTINGS_BACKEND='memory')
        app_process = subprocess.Popen([os.environ['TKE_GTK']], env=env)

        app = wait_for('the tke-gtk application on the accessibility bus',
                       lambda: tree.root.application('tke-gtk'))
        window = wait_for('the main window', lambda: app.child(name='Trusted Key Entry', roleName='frame'))
        tap(True, 'the main window is on the accessibility bus')

        tap(label(window, 'Not Logged In') is not None, 'the Crypto units tab says: Not Logged In')

        # Log in… in the header bar: the button's name ends with its label.
        log_in = wait_for('Log In… button', lambda: button(window, 'Log In…'))
        log_in.doActionNamed('click')
        dialog = wait_for('the Log In dialog', lambda: app.child(name='Log In', roleName='frame'))
        entry = wait_for('the API key field', lambda: dialog.findChild(
            lambda n: n.roleName in ('password text', 'entry', 'text'), retry=False, requireResult=False))
        print('# API key field: role %s, name %r' % (entry.roleName, entry.name), file=TAP, flush=True)
        entry.text = ready['api_key']
        button(dialog, 'Log In').doActionNamed('click')
        tap(True, 'typed the API key into the Log In dialog and pressed Log In')

        wait_for('the units', lambda: label(window, '0 of 3 crypto units selected'), timeout=60)
        tap(True, 'the table lists the 3 crypto units of the instance')
        tap(label(window, ready['instance_id'], exact=False) is not None,
            'the header names the service instance')

        # GTK 4.8 gives check boxes no AT-SPI action; Select All is a button.
        checks = window.findChildren(lambda n: n.roleName == 'check box' and n.name.startswith('Select crypto unit'))
        tap(len(checks) == 3, 'each unit has a check box named “Select crypto unit N”')
        act(wait_for('Select All button', lambda: button(window, 'Select All')))
        wait_for('3 selected', lambda: label(window, '3 of 3 crypto units selected'))
        tap(True, 'Select All selects the three units')

        tab = wait_for('Master keys tab', lambda: window.findChild(
            lambda n: n.roleName == 'page tab' and 'Master keys' in n.name,
            retry=False, requireResult=False))
        act(tab)
        valid = wait_for('Valid registers', lambda: window.findChildren(
            lambda n: n.roleName == 'label' and n.name == 'Valid'))
        tap(len(valid) >= 3, 'the Master keys tab shows the current registers Valid')

        # Issue 14 item 10: the main menu button has a name, not its type's.
        menu = window.findChild(lambda n: n.roleName in ('toggle button', 'push button') and
                                n.name == 'Main Menu', retry=False, requireResult=False)
        unnamed = window.findChild(lambda n: n.name == 'GtkMenuButton', retry=False,
                                   requireResult=False)
        tap(menu is not None and unnamed is None, 'the main menu button is named “Main Menu”')

        load = wait_for('Load… button', lambda: button(window, 'Load…'))
        rotate = button(window, 'Rotate…')
        tap(load.sensitive and rotate is not None and not rotate.sensitive,
            'Load is offered, Rotate is not (no committed new key)')
        if os.environ.get('TKE_SCREENSHOT_DIR') and shutil.which('import'):
            os.makedirs(os.environ['TKE_SCREENSHOT_DIR'], exist_ok=True)
            subprocess.run(['import', '-window', 'root',
                            os.path.join(os.environ['TKE_SCREENSHOT_DIR'], 'e2e-master-keys.png')],
                           check=False)
    except Exception as e:  # report, then fail
        print('# %s: %s' % (type(e).__name__, e), file=TAP, flush=True)
        while len(results) < 10:
            tap(False, 'not reached')
    finally:
        if app_process is not None:
            app_process.send_signal(signal.SIGTERM)
            app_process.wait(timeout=10)
        if emulator is not None:
            emulator.terminate()
            emulator.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(results) and len(results) == 10 else 1


if __name__ == '__main__':
    if not os.environ.get('DISPLAY'):
        print('1..0 # SKIP no display; run the e2e suite under xvfb-run')
        sys.exit(0)
    sys.exit(main())
