#!/bin/sh
# run.sh: drives tke-emulator with IBM's Key Protect Node SDK
# (@ibm-cloud/ibm-key-protect), installed with npm into a temporary
# directory.  Not in CI (CI installs Debian packages only); needs node, npm
# and the npm registry.
#
#   tests/kms-sdk/run.sh [PATH/TO/tke-emulator]
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
here=$(cd "$(dirname "$0")" && pwd)
emulator=${1:-$here/../../_build/dev/src/emulator/tke-emulator}
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

(cd "$tmp" && npm init -y >/dev/null && npm install --no-audit --no-fund --no-package-lock \
  @ibm-cloud/ibm-key-protect >/dev/null)
cp "$here/drive.js" "$tmp/"
"$emulator" --state-dir "$tmp/state" --init demo --keys 3 --ready-file "$tmp/ready.json" \
  >/dev/null &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/ready.json" ] && break; sleep 0.1; done
(cd "$tmp" && NODE_EXTRA_CA_CERTS="$tmp/state/ca.pem" node drive.js "$tmp/ready.json")
