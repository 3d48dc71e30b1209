#!/usr/bin/env bash
# Lighthouse (mobile: its default Moto G-class emulation, simulated slow 4G) on the sample
# gallery's index and a case page, served on loopback by Python's http.server. Prints the
# performance, accessibility, best-practices and SEO scores and the CLS and LCP of each page.
# Issue 15's bar: performance >= 95, accessibility 100.
# Usage: benches/lighthouse.sh   (installs lighthouse from the npm registry into
# target/lighthouse; needs Chromium: CHROME_PATH, default /usr/bin/chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

work=target/lighthouse
lh="$work/node_modules/.bin/lighthouse"
if [ ! -x "$lh" ]; then
  mkdir -p "$work"
  npm install --prefix "$work" --no-save --no-audit --no-fund lighthouse@12 >/dev/null
fi
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"

cargo build --release --quiet
rm -rf "$work/gallery"
./target/release/beforeafter batch samples --out "$work/gallery" >/dev/null

port=$((20000 + RANDOM % 20000))
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/gallery" >/dev/null 2>&1 &
server=$!
trap 'kill "$server"' EXIT
sleep 1

for page in index.html smp-crown-series/index.html; do
  name=$(echo "$page" | tr '/' '-')
  "$lh" "http://127.0.0.1:$port/$page" --quiet --output=json --output-path="$work/$name.json" \
    --only-categories=performance,accessibility,best-practices,seo \
    --chrome-flags="--headless --no-sandbox --disable-gpu" >/dev/null 2>&1 || true
  node -e '
    const r = require(process.argv[1]);
    const c = r.categories, a = r.audits;
    const s = k => Math.round(c[k].score * 100);
    console.log(process.argv[2] + ": performance " + s("performance") +
      ", accessibility " + s("accessibility") + ", best practices " + s("best-practices") +
      ", SEO " + s("seo") + "; CLS " + a["cumulative-layout-shift"].displayValue +
      ", LCP " + a["largest-contentful-paint"].displayValue);
    for (const k of ["accessibility", "performance"])
      for (const ref of c[k].auditRefs)
        if (ref.weight > 0 && a[ref.id].score !== null && a[ref.id].score < 0.9)
          console.log("  " + k + ": " + a[ref.id].title + " (" + (a[ref.id].displayValue || a[ref.id].score) + ")");
  ' "$PWD/$work/$name.json" "$page"
done
