#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks flatpak/dev.tke.TrustedKeyEntry.json without the network.

1. flatpak-builder parses it (--show-manifest) with G_DEBUG=fatal-warnings,
   so an unknown key or a value of the wrong type fails instead of warning.
2. Every dependency() that a meson.build of the project asks for is either
   in the GNOME runtime (RUNTIME below) or built by a module of the manifest
   (MODULES below); a new dependency must be added to one of the two.
3. The sandbox permissions are exactly the ones the application needs.
4. Every source is pinned: a git source by tag and commit, an archive or
   file by sha256.

usage: check-flatpak.py MANIFEST SOURCE_ROOT APP_ID
"""
import json
import os
import re
import subprocess
import sys
import tempfile

# pkg-config names that org.gnome.Platform//49 (on org.freedesktop.Platform
# 25.08) ships: GLib, GTK, libadwaita, json-glib and libsoup 3 from GNOME;
# libcurl, SQLite, OpenSSL and (since 25.08) libsecret from the freedesktop
# base.  pcsc-lite is in neither.
RUNTIME_VERSION = '49'
RUNTIME = {
    'glib-2.0', 'gobject-2.0', 'gio-2.0', 'gio-unix-2.0', 'gmodule-2.0', 'gthread-2.0',
    'gtk4', 'libadwaita-1', 'json-glib-1.0', 'libsoup-3.0', 'libsecret-1',
    'libcurl', 'sqlite3', 'openssl', 'libcrypto', 'libssl', 'threads',
    'gobject-introspection-1.0',
    # GTK's own drawing and text stack: the ceremony report's PDF.
    'cairo', 'cairo-pdf', 'pango', 'pangocairo',
}
# pkg-config name -> the manifest module that builds it.
MODULES = {
    'libpcsclite': 'pcsc-lite',
}
REQUIRED_ARGS = {
    '--socket=pcsc',                        # the smart card readers, through the host's pcscd
    '--talk-name=org.freedesktop.secrets',  # the API key in the keyring (libsecret)
    '--share=network',                      # the HSM service over HTTPS
    '--socket=wayland',
    '--socket=fallback-x11',                # X11 only where there is no Wayland
}
ALLOWED_ARGS = REQUIRED_ARGS | {
    '--share=ipc',                          # X11 shared memory, for the fallback
    '--device=dri',                         # GTK 4 renders with OpenGL
}


def meson_dependencies(root):
    names = set()
    pattern = re.compile(r"""dependency\(\s*['"]([^'"]+)['"]""")
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(('.', '_build', 'build'))
                       and d not in ('subprojects', 'flatpak')]
        if 'meson.build' in filenames:
            with open(os.path.join(dirpath, 'meson.build'), encoding='utf-8') as f:
                names.update(pattern.findall(f.read()))
    return names


def all_modules(modules):
    for m in modules:
        if isinstance(m, dict):
            yield m
            yield from all_modules(m.get('modules', []))


def main():
    manifest_path, root, app_id = sys.argv[1], sys.argv[2], sys.argv[3]
    env = dict(os.environ, G_DEBUG='fatal-warnings')
    # flatpak-builder writes its state directory into the working directory.
    with tempfile.TemporaryDirectory() as tmp:
        shown = subprocess.run(['flatpak-builder', '--show-manifest', os.path.abspath(manifest_path)],
                               cwd=tmp, env=env, capture_output=True, text=True)
    if shown.returncode != 0:
        print(shown.stderr)
        print('FAIL: flatpak-builder does not accept the manifest (exit %d)' % shown.returncode)
        return 1
    manifest = json.loads(shown.stdout)
    failures = []

    for key, want in (('id', app_id), ('command', 'tke-gtk'),
                      ('runtime', 'org.gnome.Platform'), ('sdk', 'org.gnome.Sdk'),
                      # RUNTIME above describes this version; check it again when moving.
                      ('runtime-version', RUNTIME_VERSION)):
        if manifest.get(key) != want:
            failures.append('%s is %r, not %r' % (key, manifest.get(key), want))

    modules = list(all_modules(manifest.get('modules', [])))
    names = [m.get('name') for m in modules]
    print('modules: ' + ', '.join(names))
    if not names or names[-1] != 'tke':
        failures.append('the last module must be tke, the project itself')
    else:
        tke = modules[-1]
        if tke.get('buildsystem') != 'meson':
            failures.append('the tke module must build with meson')
        if '-Dtests=false' not in tke.get('config-opts', []):
            failures.append('the tke module must not build the tests (-Dtests=false)')
        if not any(s.get('type') == 'dir' and s.get('path') == '..' for s in tke.get('sources', [])):
            failures.append('the tke module must build this checkout (a dir source "..")')

    deps = meson_dependencies(root)
    print('meson dependencies: ' + ', '.join(sorted(deps)))
    for dep in sorted(deps):
        if dep in RUNTIME:
            continue
        if dep in MODULES:
            if MODULES[dep] not in names:
                failures.append('%s is needed but no module %s builds it' % (dep, MODULES[dep]))
            continue
        failures.append('dependency %s is neither in the GNOME runtime nor built by a module: '
                        'add a module to the manifest and to MODULES in this script, or to RUNTIME '
                        'if the runtime ships it' % dep)

    args = manifest.get('finish-args', [])
    for arg in sorted(REQUIRED_ARGS - set(args)):
        failures.append('finish-args lacks %s' % arg)
    for arg in args:
        if arg not in ALLOWED_ARGS:
            failures.append('finish-args has %s, broader than the application needs' % arg)

    for m in modules:
        for s in m.get('sources', []):
            kind = s.get('type')
            if kind == 'git' and not (s.get('tag') or s.get('branch')) or kind == 'git' and not s.get('commit'):
                failures.append('module %s: a git source needs a tag and its commit' % m.get('name'))
            if kind in ('archive', 'file') and not s.get('sha256'):
                failures.append('module %s: %s source without sha256' % (m.get('name'), kind))

    for f in failures:
        print('FAIL: ' + f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
