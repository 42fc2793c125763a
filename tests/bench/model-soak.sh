#!/bin/sh
# The model suite's soak (issue 13): many seeds of the model walk, each in
# its own test-model run with a fresh emulator, then the totals.
#
#   tests/bench/model-soak.sh [BUILDDIR] [TOTAL_STEPS] [STEPS_PER_SEED] [FIRST_SEED]
#
# defaults: _build/dev, 100000, 1500, 100.  Each seed's log is kept in
# BUILDDIR/model-soak/ (or $TKE_SOAK_DIR, one per parallel run); a divergence stops nothing: its shrunk sequence is
# in the log (and in BUILDDIR/model-soak/SEED.steps), the script reports it
# and exits 1 at the end.  Run it under nice: it takes hours on 2 cores.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/_build/dev}" && pwd)
total=${2:-100000}
per=${3:-1500}
seed=${4:-100}
out=${TKE_SOAK_DIR:-$build/model-soak}
mkdir -p "$out/xdg"

export TKE_EMULATOR="$build/src/emulator/tke-emulator"
export TKE_CLI="$build/src/cli/tke"
# The card pulled in a commit needs the virtual readers (a private pcscd).
export TKE_VIRTUAL_READERS="$build/src/virtual-reader/tke-virtual-readers"
export TKE_CARD="$build/src/virtual-reader/tke-card"
export XDG_CONFIG_HOME="$out/xdg/config" XDG_DATA_HOME="$out/xdg/data"
export XDG_STATE_HOME="$out/xdg/state" XDG_CACHE_HOME="$out/xdg/cache"
export LANGUAGE=C LC_ALL=C.UTF-8

done_steps=0
seeds=0
failed=0
while [ "$done_steps" -lt "$total" ]; do
  log="$out/$seed.log"
  if TKE_MODEL_SEED=$seed TKE_MODEL_STEPS=$per TKE_MODEL_SHRUNK_FILE="$out/$seed.steps" \
       "$build/tests/model/test-model" -p /model/seed >"$log" 2>&1; then
    :
  else
    failed=$((failed + 1))
    echo "seed $seed DIVERGED: $(grep -m1 'model divergence:' "$log")"
  fi
  grep -h '^# soak seed=' "$log" || true
  done_steps=$((done_steps + per))
  seeds=$((seeds + 1))
  seed=$((seed + 1))
done

# Totals over the machine lines of the runs that finished.
cat "$out"/*.log | awk '
  /^# soak seed=/ {
    runs++;
    for (i = 3; i <= NF; i++) { split($i, kv, "="); sum[kv[1]] += kv[2] }
  }
  END {
    printf "soak: %d runs finished:", runs;
    for (k in sum) if (k != "seed") printf " %s=%d", k, sum[k];
    printf "\n"
  }'
echo "soak: $seeds seeds, $failed diverged"
[ "$failed" -eq 0 ]
