#!/usr/bin/env bash
# launchgate's load generator next to oha against the same local nginx endpoint, same
# request count and concurrency. Prints requests/s and p95 for both and the ratios.
#   bench/load-vs-oha.sh [REQUESTS=100000] [CONCURRENCY=20] [RUNS=3]
# Needs `nginx` and `oha` on PATH (cargo install oha --locked; apt-get install nginx).
# nginx runs as the current user from a temp dir on 127.0.0.1 (no system config touched).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}; c=${2:-20}; runs=${3:-3}
command -v nginx >/dev/null || { echo "nginx not found" >&2; exit 2; }
command -v oha >/dev/null || { echo "oha not found" >&2; exit 2; }
cargo build --release --quiet --bin launchgate

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$dir/www" "$dir/logs"
chmod 755 "$dir" "$dir/www"   # nginx workers may run as another user
printf '<!doctype html><html><body><h1>Book a discovery call</h1></body></html>\n' > "$dir/www/index.html"
cat > "$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $dir/tmp_body; proxy_temp_path $dir/tmp_proxy;
  fastcgi_temp_path $dir/tmp_fcgi; uwsgi_temp_path $dir/tmp_uwsgi; scgi_temp_path $dir/tmp_scgi;
  server {
    listen 127.0.0.1:$port;
    root $dir/www;
    location / { try_files \$uri \$uri/index.html =404; }
  }
}
EOF
nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' &
ngx=$!
trap 'kill $ngx 2>/dev/null; wait $ngx 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
url="http://127.0.0.1:$port/"

cat > "$dir/launch.yml" <<EOF
version: 1
load:
  - name: bench
    url: $url
    requests: $n
    concurrency: $c
    thresholds: { p95: 10s, error_rate: 1% }
EOF

# CPU seconds (user + system) a command used: less sensitive to a busy machine than req/s.
cpu() {
  python3 -c 'import resource,subprocess,sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
r=resource.getrusage(resource.RUSAGE_CHILDREN); print(round(r.ru_utime+r.ru_stime,2))' "$@"
}

echo "endpoint $url  requests=$n concurrency=$c  ($(nproc) cores)"
printf '%-4s %-11s %12s %10s %10s %8s\n' run tool req/s p95_ms p50_ms cpu_s
for i in $(seq "$runs"); do
  o_cpu=$(cpu oha -n "$n" -c "$c" --no-tui --output-format json -o "$dir/oha.json" "$url")
  read -r o_rps o_p95 o_p50 o_ok < <(python3 - "$dir/oha.json" <<'PY'
import json,sys
j=json.load(open(sys.argv[1]))
s=j["summary"]; p=j["latencyPercentiles"]
print(round(s["requestsPerSec"]), round(p["p95"]*1000,3), round(p["p50"]*1000,3), json.dumps(j.get("statusCodeDistribution"), separators=(",", ":")))
PY
)
  l_cpu=$(LAUNCHGATE_NO_PROGRESS=1 cpu ./target/release/launchgate check -p "$dir/launch.yml" --only load --format json --out "$dir/lg.json")
  read -r l_rps l_p95 l_p50 l_err < <(python3 - "$dir/lg.json" <<'PY'
import json,sys
r=json.load(open(sys.argv[1]))
e=[c for c in r["checks"] if c["id"]=="load.p95"][0]["evidence"]
print(e["rps"], e["p95_ms"], e["p50_ms"], str(e["errors"]) + "/" + json.dumps(e["statuses"], separators=(",", ":")) + json.dumps(e["transport_errors"], separators=(",", ":")))
PY
)
  printf '%-4s %-11s %12s %10s %10s %8s   statuses=%s\n' "$i" oha "$o_rps" "$o_p95" "$o_p50" "$o_cpu" "$o_ok"
  printf '%-4s %-11s %12s %10s %10s %8s   errors=%s\n' "$i" launchgate "$l_rps" "$l_p95" "$l_p50" "$l_cpu" "$l_err"
  python3 -c "print(f'     ratio rps launchgate/oha = {$l_rps/$o_rps:.2f}   p95 launchgate/oha = {$l_p95/$o_p95:.2f}')"
  echo "$o_rps $o_p95 $o_cpu $l_rps $l_p95 $l_cpu" >> "$dir/runs.txt"
done
python3 - "$dir/runs.txt" <<'PY'
import statistics as st, sys
rows=[list(map(float,l.split())) for l in open(sys.argv[1])]
m=[st.median(c) for c in zip(*rows)]
print(f"median of {len(rows)}: oha {m[0]:.0f} req/s p95 {m[1]:.3f} ms cpu {m[2]:.2f} s | "
      f"launchgate {m[3]:.0f} req/s p95 {m[4]:.3f} ms cpu {m[5]:.2f} s | "
      f"rps ratio {m[3]/m[0]:.2f}, p95 ratio {m[4]/m[1]:.2f}, cpu ratio {m[5]/m[2]:.2f}")
PY
