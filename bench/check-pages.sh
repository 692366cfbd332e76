#!/usr/bin/env bash
# Wall time of `launchgate check` on a policy of N pages whose server answers each
# request after D ms, next to the slowest single page (concurrency should make them close).
#   bench/check-pages.sh [PAGES=50] [DELAY_MS=200] [RUNS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
pages=${1:-50}; delay=${2:-200}; runs=${3:-5}
dir=$(mktemp -d)
cargo build --release --quiet --bin launchgate --example bench_funnel
./target/release/examples/bench_funnel "$pages" "$delay" "$dir" > "$dir/policy.path" &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do [ -s "$dir/policy.path" ] && break; sleep 0.1; done
policy=$(cat "$dir/policy.path")
echo "pages=$pages delay=${delay}ms runs=$runs"
for i in $(seq "$runs"); do
  start=$(date +%s%N)
  ./target/release/launchgate check -p "$policy" --format json --out "$dir/report.json" || true
  end=$(date +%s%N)
  wall=$(( (end - start) / 1000000 ))
  slowest=$(python3 -c "import json,sys; r=json.load(open('$dir/report.json')); print(max(c['evidence'].get('latency_ms',0) for c in r['checks'] if c['id']=='pages.latency'))")
  results=$(python3 -c "import json; r=json.load(open('$dir/report.json')); print(len(r['checks']), r['result'])")
  echo "run $i: wall ${wall} ms, slowest page ${slowest} ms, results/verdict: $results"
done
