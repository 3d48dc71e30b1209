#!/usr/bin/env bash
# beforeafter vs sigal (Pillow) on the same job: resize and watermark 24 photos of 12 MP
# (4032×3024) into 3 JPEG sizes (480, 1024, 2048 px wide), all cores of this machine.
#
# sigal writes one resized size plus thumbnails per run, so it runs twice (2048 + 480 thumbnails,
# then 1024) and its time is the sum. beforeafter runs once with benches/sigal_equivalent.toml.
# Usage: benches/sigal_compare.sh   (installs sigal from PyPI if missing)
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c "import sigal" 2>/dev/null || python3 -m pip install --quiet 'sigal==2.6.1'
cargo build --release --quiet
input=$(cargo bench --quiet --bench throughput -- --prepare-only | tail -n 1)

work=target/sigal-compare
rm -rf "$work"
mkdir -p "$work/album"
for f in "$input"/case-*/*.jpg; do
  cp "$f" "$work/album/$(basename "$(dirname "$f")")-$(basename "$f")"
done
logo="$PWD/samples/logo.png"

conf() { # destination img_size make_thumbs
  cat <<PY
source = 'album'
destination = '$1'
img_size = ($2, $2)
thumb_size = (480, 480)
thumb_fit = False
make_thumbs = $3
keep_orig = False
jpg_options = {'quality': 82, 'optimize': False, 'progressive': False}
plugins = ['sigal.plugins.watermark']
watermark = '$logo'
watermark_position = (40, 40)
watermark_opacity = 0.45
PY
}
conf out-2048 2048 True > "$work/sigal-2048.py"
conf out-1024 1024 False > "$work/sigal-1024.py"

now() { date +%s.%N; }
t0=$(now)
(cd "$work" && sigal build -c sigal-2048.py -q album out-2048 >/dev/null 2>&1)
(cd "$work" && sigal build -c sigal-1024.py -q album out-1024 >/dev/null 2>&1)
t1=$(now)
./target/release/beforeafter batch "$input" --out "$work/ours" \
  --config benches/sigal_equivalent.toml >/dev/null 2>&1 || true
t2=$(now)

sigal_s=$(echo "$t1 - $t0" | bc -l)
ours_s=$(echo "$t2 - $t1" | bc -l)
n_sigal=$(find "$work/out-2048" "$work/out-1024" -name '*.jpg' | wc -l)
n_ours=$(find "$work/ours" -name '*.jpg' | wc -l)
printf '| tool | wall time | JPEGs written |\n| --- | --- | --- |\n'
printf '| sigal %s (Pillow) | %.2f s | %s |\n' "$(sigal --version 2>/dev/null | awk '{print $NF}')" "$sigal_s" "$n_sigal"
printf '| beforeafter | %.2f s | %s |\n' "$ours_s" "$n_ours"
printf 'ratio beforeafter / sigal: %.2f (target <= 0.50)\n' "$(echo "$ours_s / $sigal_s" | bc -l)"
