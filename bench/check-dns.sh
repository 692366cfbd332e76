#!/usr/bin/env bash
# Wall time of `launchgate check` over N record expectations against a local
# authoritative server that delays every answer by D ms, next to one query's time.
#   bench/check-dns.sh [N=100] [DELAY_MS=50] [RUNS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}; delay=${2:-50}; runs=${3:-5}
dir=$(mktemp -d)
cargo build --release --quiet --bin launchgate --example bench_dns
./target/release/examples/bench_dns "$n" "$delay" "$dir" > "$dir/ready" &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do [ -s "$dir/ready" ] && break; sleep 0.1; done
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
echo "records=$n delay=${delay}ms runs=$runs"
for i in $(seq "$runs"); do
  one=$(ms ./target/release/launchgate check -p "$dir/one.yml" --format json)
  many=$(ms ./target/release/launchgate check -p "$dir/many.yml" --format json --out "$dir/r.json")
  verdict=$(python3 -c "import json; r=json.load(open('$dir/r.json')); print(r['counts']['passed'], 'passed', r['result'])")
  echo "run $i: $n records ${many} ms, one record ${one} ms ($verdict)"
done
