#!/usr/bin/env bash
# libifdtkevirtual.so is loaded by the distribution's pcscd, which has no
# sanitizer runtime and no GLib of ours: it must need nothing but libc.
set -u
driver=${TKE_DRIVER:?run from meson test}
echo "1..2"
needed=$(readelf -d "$driver" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
extra=$(grep -v -E '^(libc|libpthread)\.so' <<< "$needed")
if [ -z "$extra" ]; then echo "ok 1 - needs only libc"; else echo "not ok 1 - also needs: $extra"; fi
if nm -D --undefined-only "$driver" | grep -q -E '__asan|__ubsan'; then
  echo "not ok 2 - references a sanitizer runtime"
else
  echo "ok 2 - no sanitizer symbols"
fi
