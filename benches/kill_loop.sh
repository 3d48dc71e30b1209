#!/usr/bin/env bash
# Issue 31's long evaluation: CYCLES (default 30) kill -9 / rerun cycles on a small clinic, each
# one to three changes (a photo retaken, a setting changed, consent withdrawn or given, a case
# added or removed), a batch killed with SIGKILL at a random moment (after a delay, or once a case
# is in finished.jsonl), sometimes one more change, then a clean rerun. Prints, per cycle and in
# total, the orphan images (in --out, not in manifest.json) and the bytes of withdrawn or removed
# cases left after the clean rerun; both must be 0. The logic is the inventory test's
# (`kill_9_and_rerun_cycles_long` in tests/it/inventory.rs); the full log is in target/kill_loop.log.
# Usage: benches/kill_loop.sh [CYCLES] [SEED]   (SEED: replay a printed one; default: a new one)
set -euo pipefail
cd "$(dirname "$0")/.."

export BEFOREAFTER_INVENTORY_CYCLES="${1:-30}"
if [ -n "${2:-}" ]; then
  export BEFOREAFTER_INVENTORY_SEED="$2"
fi
log=target/kill_loop.log
mkdir -p target
status=0
cargo test --release --test it inventory::kill_9_and_rerun_cycles_long -- --ignored --nocapture \
  >"$log" 2>&1 || status=$?
grep -E '^(inventory kill loop|total:)' "$log" | head -1
grep -E '^cycle [0-9]+:' "$log" | sed -E 's/^(cycle [0-9]+): .* \| (orphan_images=[0-9]+) .*(withdrawn_bytes=[0-9]+).*$/\1: \2 \3/'
grep -E '^total:' "$log" || { echo "no totals: the loop stopped early, see $log"; tail -30 "$log"; }
if [ "$status" -ne 0 ]; then
  echo "FAILED: some rerun left orphans or withdrawn bytes (details in $log)"
fi
exit "$status"
