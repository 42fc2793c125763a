#!/bin/sh
# Refreshes po/tke.pot from the sources listed in po/POTFILES.in and merges it
# into every translation of po/LINGUAS (meson's tke-pot and tke-update-po
# targets), then lists per language what is new or changed and needs a
# translator: untranslated strings and fuzzy ("#, fuzzy") guesses.
#
#   po/update-translations.sh [BUILDDIR]     default: _build/dev
#
# Then translate those entries in po/LL.po, delete the "#, fuzzy" lines you
# checked, and run `meson test -C BUILDDIR po-complete`.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-$top/_build/dev}

[ -f "$builddir/build.ninja" ] || meson setup "$builddir" "$top" >/dev/null
meson compile -C "$builddir" tke-pot tke-update-po >/dev/null

status=0
for lang in $(sed -e 's/#.*//' "$top/po/LINGUAS"); do
  po="$top/po/$lang.po"
  printf '%s: ' "po/$lang.po"
  LC_ALL=C msgfmt -c --statistics -o /dev/null "$po" 2>&1
  todo=$(msgattrib --no-obsolete --no-wrap --no-location --untranslated "$po" | grep -c '^msgid' || true)
  fuzzy=$(msgattrib --no-obsolete --no-wrap --no-location --only-fuzzy "$po" | grep -c '^msgid' || true)
  # msgattrib repeats the header entry in each non-empty output.
  [ "$todo" -gt 0 ] && todo=$((todo - 1))
  [ "$fuzzy" -gt 0 ] && fuzzy=$((fuzzy - 1))
  if [ "$todo" -gt 0 ] || [ "$fuzzy" -gt 0 ]; then
    echo "  to translate in po/$lang.po: $todo new, $fuzzy fuzzy"
    status=1
  fi
done
# The merged desktop and metainfo files do not depend on the .po files in
# meson 1.0; touch their sources so the next build merges the new strings.
touch "$top"/data/*.desktop.in "$top"/data/*.metainfo.xml.in
exit $status
