#!/usr/bin/env bash
# Installs the benchmark peers and load generators from Debian packages, idempotently:
#   ab (apache2-utils), wrk, cfssl (golang-cfssl), hyperfine, openssl, iproute2 (ip), procps (pgrep),
#   freeradius (radiusd, the RADIUS peer), freeradius-utils (radclient), eapoltest (eapol_test),
#   slapd and ldap-utils (OpenLDAP, the LDAP sync peer; ldapsearch, ldapmodify).
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
command -v freeradius >/dev/null 2>&1 || need+=(freeradius)
command -v radclient >/dev/null 2>&1 || need+=(freeradius-utils)
command -v eapol_test >/dev/null 2>&1 || need+=(eapoltest)
command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ] || need+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || need+=(ldap-utils)

if [ ${#need[@]} -eq 0 ]; then
  echo "bench/setup.sh: everything is installed (ab, wrk, cfssl, hyperfine, openssl, freeradius, radclient, eapol_test, slapd, ldapsearch)"
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
# The benchmarks run their own radiusd on a loopback port: if the package's system
# service got started anyway (policy-rc.d ignored), stop it so it holds no ports.
if [[ " ${need[*]} " == *" slapd "* ]]; then
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet slapd 2>/dev/null; then
    $SUDO systemctl stop slapd || true
  fi
fi
if [[ " ${need[*]} " == *" freeradius "* ]]; then
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet freeradius 2>/dev/null; then
    $SUDO systemctl stop freeradius || true
  fi
  if [ -f /run/freeradius/freeradius.pid ] && kill -0 "$(cat /run/freeradius/freeradius.pid)" 2>/dev/null; then
    $SUDO kill "$(cat /run/freeradius/freeradius.pid)" || true
  fi
fi
echo "bench/setup.sh: done"
