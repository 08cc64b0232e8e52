#!/usr/bin/env bash
# Installs the benchmark peers and load generators from Debian packages, idempotently:
#   ab (apache2-utils), wrk, cfssl (golang-cfssl), hyperfine, openssl, iproute2 (ip), procps (pgrep).
# Needs root (or sudo). Daemons are kept from starting during the install with a
# temporary /usr/sbin/policy-rc.d that exits 101 (left alone if one already exists).
set -euo pipefail

need=()
command -v ab >/dev/null 2>&1 || need+=(apache2-utils)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v cfssl >/dev/null 2>&1 || need+=(golang-cfssl)
command -v hyperfine >/dev/null 2>&1 || need+=(hyperfine)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v pgrep >/dev/null 2>&1 || need+=(procps)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)

if [ ${#need[@]} -eq 0 ]; then
  echo "bench/setup.sh: everything is installed (ab, wrk, cfssl, hyperfine, openssl)"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "bench/setup.sh: need root to install: ${need[*]}" >&2; exit 1
  fi
fi

created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

echo "bench/setup.sh: installing ${need[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "bench/setup.sh: done"
