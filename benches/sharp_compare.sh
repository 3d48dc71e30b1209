#!/usr/bin/env bash
# beforeafter (full default pipeline) vs sharp (libvips + mozjpeg, the usual Node choice) on the
# same 12 pairs of 12-MP (4032×3024) photos, all cores of this machine, one run each.
#
# sharp does far less than we do: per photo 3 widths (480, 1024, 2048) × JPEG q85 + WebP q80,
# a logo watermark on the two large ones. beforeafter runs its default config: registration,
# tone matching, 3 widths × JPEG + WebP, 4 composites, labels, watermark, pages.
# Prints both wall times, the ratio (issue 32's target: <= 0.45, goal 0.4), peak memory, beforeafter's
# stage split (CPU seconds from --json) and the bytes of the 2048-px JPEGs.
# Usage: benches/sharp_compare.sh   (installs sharp from the npm registry into target/ if it
# can; without npm it prints our figures alone)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
input=$(cargo bench --quiet --bench throughput -- --prepare-only | tail -n 1)
work=target/sharp-compare
rm -rf "$work/ours" "$work/sharp" "$work/config"
mkdir -p "$work/sharp" "$work/config"
printf '[cases]\ndefault_consent = true\n' > "$work/config/beforeafter.toml"

have_sharp=
if [ -d "$work/node_modules/sharp" ] || { command -v npm >/dev/null &&
  npm install --prefix "$work" --no-save --no-audit --no-fund sharp@0.34.5 >/dev/null 2>&1; }; then
  have_sharp=1
fi

now() { date +%s.%N; }
rss() { # rss COMMAND...: run it, print peak RSS in MB on fd 3 (blank without GNU time)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M' -o "$work/rss" "$@" || true
    echo "$(($(tail -n 1 "$work/rss") / 1024))" >&3
  else
    "$@" || true
    echo "?" >&3
  fi
}

t0=$(now)
ours_rss=$(rss ./target/release/beforeafter batch "$input" --out "$work/ours" \
  --config "$work/config/beforeafter.toml" --json 3>&1 >"$work/ours.json" 2>/dev/null)
t1=$(now)
ours_s=$(echo "$t1 - $t0" | bc -l)
n_ours=$(find "$work/ours" -name '*.jpg' -o -name '*.webp' | wc -l)

printf '| tool | wall time | images written | peak RSS |\n| --- | --- | --- | --- |\n'
printf '| beforeafter (default config) | %.2f s | %s | %s MB |\n' "$ours_s" "$n_ours" "$ours_rss"

if [ -n "$have_sharp" ]; then
  cat > "$work/job.js" <<'JS'
const sharp = require('sharp');
const fs = require('fs');
const os = require('os');
const path = require('path');
const [input, out, logo] = process.argv.slice(2);
const photos = fs.readdirSync(input)
  .filter((d) => d.startsWith('case-'))
  .flatMap((d) => ['before.jpg', 'after.jpg'].map((f) => path.join(input, d, f)));
async function one(file, i) {
  const src = fs.readFileSync(file);
  for (const width of [2048, 1024, 480]) {
    let img = sharp(src).rotate().resize({ width });
    if (width >= 1024) {
      const mark = await sharp(logo).resize({ width: Math.round(width * 0.16) }).toBuffer();
      img = img.composite([{ input: mark, gravity: 'southeast' }]);
    }
    const base = path.join(out, `${i}-${width}`);
    await img.clone().jpeg({ quality: 85 }).toFile(`${base}.jpg`);
    await img.clone().webp({ quality: 80 }).toFile(`${base}.webp`);
  }
}
(async () => {
  const queue = photos.map((f, i) => [f, i]);
  const workers = Array.from({ length: os.cpus().length }, async () => {
    while (queue.length) await one(...queue.shift());
  });
  await Promise.all(workers);
})();
JS
  t2=$(now)
  sharp_rss=$(rss node "$work/job.js" "$input" "$work/sharp" "$PWD/samples/logo.png" 3>&1 >/dev/null)
  t3=$(now)
  sharp_s=$(echo "$t3 - $t2" | bc -l)
  n_sharp=$(find "$work/sharp" -name '*.jpg' -o -name '*.webp' | wc -l)
  printf '| sharp %s | %.2f s | %s | %s MB |\n' \
    "$(node -p "require('./$work/node_modules/sharp').versions.sharp")" "$sharp_s" "$n_sharp" "$sharp_rss"
  printf '\nratio beforeafter / sharp: %.2f (target <= 0.45)\n' "$(echo "$ours_s / $sharp_s" | bc -l)"
  kb() { find "$1" -name "$2" -printf '%s\n' | awk '{s+=$1; n++} END {if (n) printf "%.0f KB (%d files)", s/n/1024, n}'; }
  printf '2048-px JPEG, mean size: beforeafter q82 %s, sharp q85 %s\n' \
    "$(kb "$work/ours" '*-2048.*.jpg')" "$(kb "$work/sharp" '*-2048.jpg')"
else
  echo "sharp SKIPPED: npm or the registry is not available; our figures only"
fi

echo
echo "beforeafter's stage split (CPU seconds, all threads; write is waiting on the disk, on a"
echo "thread of its own, overlapped with encoding, so not in the total):"
python3 - "$work/ours.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
t = {k: v for k, v in run["timings"].items() if isinstance(v, (int, float))}
total = sum(v for k, v in t.items() if k != "write")
for k, v in sorted(t.items(), key=lambda kv: -kv[1]):
    if v > 0:
        share = f"{100 * v / total:4.1f}%" if k != "write" else "  (I/O)"
        print(f"  {k:10} {v:7.2f} s  {share}")
split = run.get("encode_split", {})
enc = sum(split.values())
if enc:
    print("encode by kind of file (CPU seconds):")
    for k, v in sorted(split.items(), key=lambda kv: -kv[1]):
        print(f"  {k:16} {v:6.2f} s  {100 * v / enc:4.1f}%")
PY
