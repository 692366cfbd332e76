#!/usr/bin/env bash
# An independent fixture for forms, exposure, edge and load: nginx (not our own test
# server) on 127.0.0.1, a launch.yml pointing at it, the outcomes as `id target status
# severity`, and what the backend logged (submissions per path, with the test marker).
#   bench/nginx-fixture.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nginx >/dev/null || { echo "nginx not found" >&2; exit 2; }
cargo build --release --quiet --bin launchgate
d=$(mktemp -d); chmod 755 "$d"; mkdir -p "$d/www" "$d/logs"; chmod 755 "$d/www"
echo '<h1>Book a discovery call</h1>' > "$d/www/index.html"
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
www=$(free); locked=$(free); noidx=$(free); open=$(free); down=$(free)
cat > "$d/nginx.conf" <<EOF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 1024; }
http {
  log_format lg '\$request_method \$request_uri marker=\$http_x_launch_check';
  client_body_temp_path $d/tmp_body; proxy_temp_path $d/tmp_proxy;
  fastcgi_temp_path $d/tmp_fcgi; uwsgi_temp_path $d/tmp_uwsgi; scgi_temp_path $d/tmp_scgi;
  server {
    listen 127.0.0.1:$www;
    root $d/www;
    access_log $d/logs/www.log lg;
    location = /contact { return 303 /thanks; }
    location = /broken { return 500; }
    location = /thanks { default_type text/html; return 200 "Thanks"; }
    location / { add_header cf-ray 8a1b2c3d-FRA; try_files \$uri \$uri/index.html =404; }
  }
  server { listen 127.0.0.1:$locked; location / { return 401; } }
  server { listen 127.0.0.1:$noidx; location / { add_header X-Robots-Tag noindex; default_type text/html; return 200 "preview"; } }
  server { listen 127.0.0.1:$open; location / { default_type text/html; return 200 "staging"; } }
}
EOF
nginx -p "$d" -c "$d/nginx.conf" -g 'daemon off;' &
ngx=$!
trap 'kill $ngx 2>/dev/null; wait $ngx 2>/dev/null; rm -rf "$d"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$www/" >/dev/null 2>&1 && break; sleep 0.1; done
cat > "$d/launch.yml" <<EOF
version: 1
defaults:
  retries: 1
  resolve:
    "www.nginx.test:80": "127.0.0.1:$www"
    "locked.nginx.test:80": "127.0.0.1:$locked"
    "noindex.nginx.test:80": "127.0.0.1:$noidx"
    "open.nginx.test:80": "127.0.0.1:$open"
    "down.nginx.test:80": "127.0.0.1:$down"
forms:
  - { name: contact, url: "http://www.nginx.test/contact", form: { email: launch-check@nginx.test, launch_check: "1" }, expect: { status: 303 }, samples: 4, p95: 500ms }
  - { name: broken, url: "http://www.nginx.test/broken", form: { email: launch-check@nginx.test }, samples: 2 }
exposure:
  - { url: "http://locked.nginx.test/", expect: private }
  - { url: "http://noindex.nginx.test/", expect: private }
  - { url: "http://open.nginx.test/", expect: private }
  - { url: "http://down.nginx.test/", expect: private }
edge:
  - { host: "www.nginx.test:80", proxied_by: cloudflare }
  - { host: "open.nginx.test:80", proxied_by: any }
load:
  - { name: burst, url: "http://www.nginx.test/", requests: 5000, concurrency: 20, thresholds: { p95: 100ms, error_rate: 1% } }
  - { name: burst-500, url: "http://www.nginx.test/broken", requests: 300, concurrency: 5 }
EOF
./target/release/launchgate check -p "$d/launch.yml" --format json --out "$d/report.json" || true
python3 - "$d/report.json" <<'PY'
import json,sys
r=json.load(open(sys.argv[1]))
for c in r["checks"]:
    if c["kind"] in ("forms","exposure","edge","load"):
        e=c["evidence"]
        extra=f' requests={e["requests"]} errors={e["errors"]} rps={e["rps"]} p95_ms={e["p95_ms"]}' if c["kind"]=="load" else ""
        print(f'{c["id"]:20} {c["target"]:28} {c["status"]:5} {c["severity"] or "":8} {extra}')
print("verdict:", r["result"])
PY
echo "backend log (method path marker: count):"
sort "$d/logs/www.log" | uniq -c
echo "(GET / = 5000 burst requests + the edge probe + the readiness curl)"
