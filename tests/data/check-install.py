#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Installs the build into a temporary DESTDIR and checks the tree.

What must be there: the programs, libtke (library, headers, libtke-1.pc,
Tke-1.gir and Tke-1.typelib), the desktop entry, the metainfo, the icons,
the GSettings schema, a manual page for every installed program and the
message catalogue of every language in po/LINGUAS.  Then it builds and runs
a C program against the installed headers and pkg-config file, and loads
the installed typelib from /usr/bin/python3, as a user of the -dev package
and a Python script would.

usage: check-install.py [--preload LIB] BUILDDIR SOURCE_ROOT APP_ID GUI
                        PREFIX BINDIR LIBDIR INCLUDEDIR DATADIR MANDIR LOCALEDIR
(directories as meson's options give them; GUI is true or false; LIB is
preloaded into the programs that load libtke, for sanitizer builds)
"""
import configparser
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

TEST_PROGRAM = r'''
#include <tke.h>

int
main (void)
{
  g_autoptr(TkeSecret) key = tke_secret_new (TKE_MASTER_KEY_SIZE);
  g_autofree char *hex = NULL;
  guint8 vp[TKE_VP_SIZE];

  tke_crypto_verification_pattern (key, vp);
  hex = tke_crypto_hex_encode (vp, sizeof vp);
  g_print ("%s %s\n", tke_get_version (), hex);
  return 0;
}
'''
# SHA-256 of 32 zero bytes: the VP of an all-zero key.
ZERO_KEY_VP = '66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925'


class Checker:
    def __init__(self):
        self.failures = []

    def require(self, path, what):
        if not os.path.exists(path):
            self.failures.append('%s is missing: %s' % (what, path))
            return False
        return True


def main():
    args = sys.argv[1:]
    preload = None
    if args[0] == '--preload':
        preload, args = args[1], args[2:]
    (builddir, srcroot, app_id, gui, prefix, bindir, libdir, includedir,
     datadir, mandir, localedir) = args
    c = Checker()
    dest = tempfile.mkdtemp(prefix='tke-install-')
    try:
        r = subprocess.run(['meson', 'install', '-C', builddir, '--destdir', dest,
                            '--no-rebuild', '--quiet'], capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            print('FAIL: meson install exited with %d' % r.returncode)
            return 1

        def d(*parts):
            return os.path.join(dest + prefix, *parts)

        bin_dir = d(bindir)
        programs = ['tke'] + (['tke-gtk'] if gui == 'true' else [])
        for p in programs:
            if c.require(os.path.join(bin_dir, p), 'program') and not os.access(os.path.join(bin_dir, p), os.X_OK):
                c.failures.append('%s is not executable' % p)

        lib_dir = d(libdir)
        c.require(os.path.join(lib_dir, 'libtke-1.so'), 'library (development link)')
        if not glob.glob(os.path.join(lib_dir, 'libtke-1.so.*')):
            c.failures.append('the versioned library libtke-1.so.* is missing')

        inc = d(includedir, 'tke-1')
        if c.require(os.path.join(inc, 'tke.h'), 'umbrella header'):
            with open(os.path.join(inc, 'tke.h'), encoding='utf-8') as f:
                for header in re.findall(r'#include "([^"]+)"', f.read()):
                    c.require(os.path.join(inc, header), 'header included by tke.h')

        pc = os.path.join(lib_dir, 'pkgconfig', 'libtke-1.pc')
        c.require(pc, 'pkg-config file')
        c.require(os.path.join(lib_dir, 'girepository-1.0', 'Tke-1.typelib'), 'typelib')
        c.require(d(datadir, 'gir-1.0', 'Tke-1.gir'), 'GIR')

        desktop = d(datadir, 'applications', app_id + '.desktop')
        metainfo = d(datadir, 'metainfo', app_id + '.metainfo.xml')
        schema = d(datadir, 'glib-2.0', 'schemas', app_id + '.gschema.xml')
        c.require(schema, 'GSettings schema')
        c.require(d(datadir, 'icons', 'hicolor', 'scalable', 'apps', app_id + '.svg'), 'app icon')
        c.require(d(datadir, 'icons', 'hicolor', 'symbolic', 'apps', app_id + '-symbolic.svg'),
                  'symbolic icon')

        # The desktop entry and the metainfo name things that must be installed.
        if c.require(desktop, 'desktop entry'):
            entry = configparser.ConfigParser(interpolation=None)
            entry.optionxform = str
            entry.read(desktop, encoding='utf-8')
            group = entry['Desktop Entry']
            c.require(os.path.join(bin_dir, group['Exec'].split()[0]), 'program of Exec=')
            c.require(d(datadir, 'icons', 'hicolor', 'scalable', 'apps', group['Icon'] + '.svg'),
                      'icon of Icon=')
            if 'Comment[de]' not in group:
                c.failures.append('the installed desktop entry has no German translation')
        if c.require(metainfo, 'AppStream metainfo'):
            component = ET.parse(metainfo).getroot()
            for binary in component.iter('binary'):
                c.require(os.path.join(bin_dir, binary.text), 'program the metainfo provides')
            launchable = component.find('launchable')
            if launchable is None or launchable.text != app_id + '.desktop':
                c.failures.append('the metainfo does not launch %s.desktop' % app_id)

        man1 = d(mandir, 'man1')
        for p in sorted(os.listdir(bin_dir)) if os.path.isdir(bin_dir) else []:
            c.require(os.path.join(man1, p + '.1'), 'manual page of %s' % p)
        for page in ('tke', 'tke-gtk', 'tke-emulator', 'tke-card'):
            c.require(os.path.join(man1, page + '.1'), 'manual page')

        with open(os.path.join(srcroot, 'po', 'LINGUAS'), encoding='utf-8') as f:
            languages = [w for line in f for w in line.split('#')[0].split()]
        for lang in languages:
            c.require(d(localedir, lang, 'LC_MESSAGES', 'tke.mo'), 'message catalogue')

        if os.path.exists(pc):
            build_against_install(c, dest + prefix, lib_dir, pc, preload)
            load_typelib(c, lib_dir, preload)
    finally:
        shutil.rmtree(dest, ignore_errors=True)

    for f in c.failures:
        print('FAIL: ' + f)
    if not c.failures:
        print('the installed tree is complete')
    return 1 if c.failures else 0


def run_env(lib_dir, preload):
    env = dict(os.environ, LD_LIBRARY_PATH=lib_dir)
    if preload:
        env['LD_PRELOAD'] = preload
    return env


def build_against_install(c, dest_prefix, lib_dir, pc, preload):
    with tempfile.TemporaryDirectory() as tmp:
        # The .pc file names the real prefix; a copy that names DESTDIR's
        # (--define-variable would move GLib's prefix too).
        with open(pc, encoding='utf-8') as f:
            text = re.sub(r'^prefix=.*$', 'prefix=' + dest_prefix, f.read(), count=1, flags=re.M)
        with open(os.path.join(tmp, 'libtke-1.pc'), 'w', encoding='utf-8') as f:
            f.write(text)
        env = dict(os.environ, PKG_CONFIG_PATH=tmp)
        flags = subprocess.run(['pkg-config', '--cflags', '--libs', 'libtke-1'],
                               env=env, capture_output=True, text=True)
        if flags.returncode != 0:
            c.failures.append('pkg-config libtke-1 failed: ' + flags.stderr.strip())
            return
        source = os.path.join(tmp, 'use-libtke.c')
        program = os.path.join(tmp, 'use-libtke')
        with open(source, 'w', encoding='utf-8') as f:
            f.write(TEST_PROGRAM)
        cc = os.environ.get('CC', 'cc')
        r = subprocess.run([cc, '-Wall', '-Werror', source, '-o', program] + flags.stdout.split(),
                           capture_output=True, text=True)
        if r.returncode != 0:
            c.failures.append('a program does not build against the installed libtke: ' + r.stderr)
            return
        r = subprocess.run([program], env=run_env(lib_dir, preload), capture_output=True, text=True)
        if r.returncode != 0 or ZERO_KEY_VP not in r.stdout:
            c.failures.append('the program built against the installed libtke failed: %s %s'
                              % (r.stdout, r.stderr))


def load_typelib(c, lib_dir, preload):
    env = run_env(lib_dir, preload)
    env['GI_TYPELIB_PATH'] = os.path.join(lib_dir, 'girepository-1.0')
    code = ("import gi; gi.require_version('Tke', '1'); from gi.repository import Tke; "
            "print(Tke.get_version())")
    r = subprocess.run(['/usr/bin/python3', '-c', code], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        c.failures.append('the installed typelib does not load: ' + r.stderr.strip())


if __name__ == '__main__':
    sys.exit(main())
