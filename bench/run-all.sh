#!/usr/bin/env bash
# Runs every authbox benchmark against its peers and prints each summary table.
#   bash bench/run-all.sh            (after `make build` and bench/setup.sh; `make bench` does both)
#   bash bench/run-all.sh ocsp crl   (only these; also issue, radius, ldap-sync, console-lists)
# Each benchmark takes up to about 3 minutes on 2 cores. The OCSP and CRL benchmarks
# re-run themselves in a private network namespace (unshare -n), so they need root.
# Extra settings (WORKERS="1 2", CERTS, RATE, ENTRIES, ...) are read from the environment;
# see the header of each script. Set BENCH_OUT=DIR to keep each run's output and JSON.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

if [ ! -f "$root/dist/main.js" ]; then
  echo "dist/ is missing: run \`make build\` (or npx tsc -p tsconfig.json) first" >&2
  exit 1
fi
for tool in ab cfssl openssl unshare pgrep; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run bash bench/setup.sh (as root)" >&2; exit 1; }
done

benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(ocsp crl issue radius ldap-sync console-lists)
status=0
for b in "${benches[@]}"; do
  echo "=================================================================== $b"
  start=$(date +%s)
  if [ -n "${BENCH_OUT:-}" ]; then
    mkdir -p "$BENCH_OUT"
    BENCH_JSON="$BENCH_OUT/$b.json" node "$here/$b.mjs" 2>&1 | tee "$BENCH_OUT/$b.txt" || status=1
  else
    node "$here/$b.mjs" || status=1
  fi
  echo "($b took $(( $(date +%s) - start )) s)"
  echo
done
exit $status
