#!/usr/bin/env bash
# Runs launchgate's secrets engine and gitleaks side by side on one directory
# (or, with --git, one repository's history), checks that the findings are
# identical after sorting, and prints times, MB/s, peak RSS and the ratio.
#
#   bench/secrets-vs-gitleaks.sh DIR [--git] [--config gitleaks.toml] [--decode N] [--runs N]
#
# Needs: gitleaks on PATH (or $GITLEAKS), python3, /usr/bin/time, and a
# release build (`cargo build --release`); $LAUNCHGATE overrides the binary.
set -euo pipefail

target=""; mode=dir; config=""; decode=0; runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --git) mode=git ;;
    --config) config="$2"; shift ;;
    --decode) decode="$2"; shift ;;
    --runs) runs="$2"; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) target="$1" ;;
  esac
  shift
done
[ -n "$target" ] || { echo "usage: $0 DIR [--git] [--config F] [--decode N] [--runs N]" >&2; exit 2; }

here="$(cd "$(dirname "$0")/.." && pwd)"
gitleaks="${GITLEAKS:-gitleaks}"
ours="${LAUNCHGATE:-}"
if [ -z "$ours" ]; then
  for c in "$here/target/release/launchgate"; do
    [ -x "$c" ] && ours="$c" && break
  done
fi
[ -n "$ours" ] || { echo "build first: cargo build --release" >&2; exit 2; }
command -v "$gitleaks" >/dev/null || { echo "gitleaks not found (set GITLEAKS)" >&2; exit 2; }

tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cfg_gl=(); cfg_us=()
if [ -n "$config" ]; then cfg_gl=(-c "$config"); cfg_us=(--config "$config"); fi

if [ "$mode" = git ]; then
  bytes=$(git -C "$target" log -p -U0 --full-history --all --diff-filter=tuxdb | wc -c)
  gl_cmd=("$gitleaks" git "$target" "${cfg_gl[@]}" --max-decode-depth "$decode" --no-banner -l error -f json -r "$tmp/gl.json")
  sub=()
  [ "$(basename "$ours")" = launchgate ] && sub=(secrets)
  us_cmd=("$ours" "${sub[@]}" "$target" --git "${cfg_us[@]}" --max-decode-depth "$decode" --no-redact --format json --out "$tmp/us.json")
else
  bytes=$(find "$target" -type f -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
  sub=()
  # In the full CLI the engine sits behind `launchgate secrets`.
  [ "$(basename "$ours")" = launchgate ] && sub=(secrets)
  us_cmd=("$ours" "${sub[@]}" "$target" "${cfg_us[@]}" --max-decode-depth "$decode" --no-redact --format json --out "$tmp/us.json")
  gl_cmd=("$gitleaks" dir "$target" "${cfg_gl[@]}" --max-decode-depth "$decode" --no-banner -l error -f json -r "$tmp/gl.json")
fi

# Warm the page cache so both read from memory.
find "$target" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true

best() { # prints "seconds rss_kb" of the fastest of $runs runs
  local best_s="" best_m=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || true
    read -r s m < <(tail -n 1 "$tmp/time")
    if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s; best_m=$m; fi
  done
  echo "$best_s $best_m"
}

read -r gl_s gl_m < <(best "${gl_cmd[@]}")
read -r us_s us_m < <(best "${us_cmd[@]}")

python3 - "$tmp/gl.json" "$tmp/us.json" <<'PY'
import json, sys
def key(f):
    return json.dumps([f.get(k) for k in ("File", "Commit", "RuleID", "StartLine", "EndLine",
        "StartColumn", "EndColumn", "Match", "Secret", "Entropy", "Tags", "Fingerprint",
        "Author", "Email", "Date", "Message", "Link")])
a = sorted(map(key, json.load(open(sys.argv[1]))))
b = sorted(map(key, json.load(open(sys.argv[2]))))
print(f"findings: gitleaks {len(a)}, launchgate {len(b)}: " + ("identical" if a == b else "DIFFERENT"))
if a != b:
    sa, sb = set(a), set(b)
    for x in sorted(sa - sb)[:10]: print("  only gitleaks:", x[:240])
    for x in sorted(sb - sa)[:10]: print("  only launchgate:", x[:240])
    sys.exit(1)
PY

mb=$(awk "BEGIN{print $bytes/1e6}")
printf "input: %s (%s, %.1f MB, decode depth %s)\n" "$target" "$mode" "$mb" "$decode"
printf "gitleaks   %6.2f s  %7.1f MB/s  peak RSS %6.1f MB\n" "$gl_s" "$(awk "BEGIN{print $mb/$gl_s}")" "$(awk "BEGIN{print $gl_m/1024}")"
printf "launchgate %6.2f s  %7.1f MB/s  peak RSS %6.1f MB\n" "$us_s" "$(awk "BEGIN{print $mb/$us_s}")" "$(awk "BEGIN{print $us_m/1024}")"
printf "ratio      %6.2fx\n" "$(awk "BEGIN{print $gl_s/$us_s}")"
