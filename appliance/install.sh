#!/usr/bin/env bash
# Installs authbox as a systemd service on Debian 12, from a clone where `make build` has run:
#
#   /opt/authbox                  the app (dist, bin, production node_modules), root-owned, read-only to the service
#   /etc/systemd/system/authbox.service
#   /etc/authbox/                 0750 root:authbox: master.key (0600 root), authbox.example.json
#   /var/lib/authbox/             0700 authbox: the data folder (database, authbox.json)
#   /usr/local/sbin/authbox       the CLI for root, with the master key of the service
#
# Safe to run again: an upgrade replaces /opt/authbox, never the data folder or the key, and
# restarts the service if it runs. Usage: sudo appliance/install.sh [--dry-run] [--prefix DIR]
# [--org NAME] [--public-url URL]. --prefix installs under DIR (a staging root for an image):
# no user is created and systemd is not told. --dry-run prints the plan and changes nothing.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX=/
DRY_RUN=0
ORG=authbox
PUBLIC_URL="http://$(hostname -f 2>/dev/null || hostname):8080"
NODE=/usr/bin/node
NODE_MAJOR_MIN=20
SERVICE_USER=authbox

usage() {
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --prefix) PREFIX="${2:?--prefix needs a folder}"; shift ;;
    --prefix=*) PREFIX="${1#--prefix=}" ;;
    --org) ORG="${2:?--org needs a name}"; shift ;;
    --public-url) PUBLIC_URL="${2:?--public-url needs a URL}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo $0): it creates a system user and writes /opt, /etc and /var/lib" >&2
  exit 1
fi

PREFIX="${PREFIX%/}"
APP="$PREFIX/opt/authbox"
ETC="$PREFIX/etc/authbox"
DATA="$PREFIX/var/lib/authbox"
UNIT_DIR="$PREFIX/etc/systemd/system"
SBIN="$PREFIX/usr/local/sbin"
# The paths the service sees: the same as above when installing into /.
LIVE_DATA=/var/lib/authbox

say() { printf '==> %s\n' "$*"; }
# Every change goes through run: printed always, executed unless --dry-run.
run() {
  printf '  + %s\n' "$*"
  if [ "$DRY_RUN" -eq 0 ]; then "$@"; fi
}
on_host() { [ -z "$PREFIX" ]; }

# 1. Node.js 20 or later at the path the unit runs (Debian 12's own nodejs is 18).
node_ok() { [ -x "$NODE" ] && "$NODE" -e "process.exit(+process.versions.node.split('.')[0] >= $NODE_MAJOR_MIN ? 0 : 1)"; }
say "Node.js $NODE_MAJOR_MIN or later at $NODE"
if node_ok; then
  echo "  found $("$NODE" --version)"
  command -v npm >/dev/null || { echo "install.sh: npm is missing (apt-get install npm, or the npm of your Node.js source)" >&2; exit 1; }
else
  candidate="$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ { print $2 }')"
  if [ -n "$candidate" ] && [ "${candidate%%.*}" -ge "$NODE_MAJOR_MIN" ] 2>/dev/null; then
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs
  elif [ "$DRY_RUN" -eq 1 ]; then
    echo "  missing: Node.js $NODE_MAJOR_MIN is not installed and apt offers ${candidate:-no nodejs} (the real run stops here)"
  else
    echo "install.sh: Node.js $NODE_MAJOR_MIN or later is needed at $NODE; apt offers ${candidate:-no nodejs package}." >&2
    echo "  Debian 12 ships Node.js 18: add a Node.js $NODE_MAJOR_MIN source you trust (e.g. NodeSource's node_${NODE_MAJOR_MIN}.x repository), then run this again." >&2
    exit 1
  fi
fi

# 2. The built app: `make build` compiles src/ into dist/ and installs node_modules.
say "the built app in $SRC"
if [ ! -f "$SRC/dist/cli/main.js" ] || [ ! -d "$SRC/node_modules/better-sqlite3" ]; then
  echo "install.sh: $SRC is not built: run \`make build\` there first (as a normal user), then this again" >&2
  exit 1
fi
echo "  found dist/ and node_modules/"

# 3. The service user: no login, no home of its own but the data folder.
say "system user $SERVICE_USER"
if ! on_host; then
  echo "  skipped: --prefix $PREFIX (create it in the image: useradd --system --user-group $SERVICE_USER)"
elif getent passwd "$SERVICE_USER" >/dev/null; then
  echo "  exists"
else
  run useradd --system --user-group --home-dir "$LIVE_DATA" --no-create-home --shell /usr/sbin/nologin \
    --comment "authbox network authentication appliance" "$SERVICE_USER"
fi
owner() { if on_host; then echo "$1"; else echo "$(id -un):$(id -gn)"; fi; }

# 4. The app, staged beside the old one and swapped in, so a failed copy leaves the old one whole.
# Root owns it: the service can read its code but not change it.
say "the app in $APP"
run mkdir -p "$PREFIX/opt"
run rm -rf "$APP.new"
run mkdir -m 0755 "$APP.new"
run cp -a "$SRC/dist" "$SRC/bin" "$SRC/package.json" "$SRC/package-lock.json" "$SRC/node_modules" "$APP.new/"
# The console's browser files are served from src/admin-ui/web as they are (no build step).
run mkdir -p "$APP.new/src/admin-ui"
run cp -a "$SRC/src/admin-ui/web" "$APP.new/src/admin-ui/"
run mkdir -p "$APP.new/appliance"
run cp "$SRC/appliance/CONFIG.md" "$SRC/appliance/authbox.example.json" "$SRC/appliance/authbox.service" "$APP.new/appliance/"
# Production dependencies only: removes the compiler, test runner and type packages; offline.
run npm --prefix "$APP.new" prune --omit=dev --offline --no-audit --no-fund
run chown -R "$(owner root:root)" "$APP.new"
run chmod -R u=rwX,go=rX "$APP.new"
if [ -e "$APP" ]; then run rm -rf "$APP.old"; run mv "$APP" "$APP.old"; fi
run mv "$APP.new" "$APP"
run rm -rf "$APP.old"

# 5. /etc/authbox: the master key and the documented settings. 0750 root:authbox: the service
# user may list it but reads the key only through systemd (LoadCredential=).
say "configuration folder $ETC"
run install -d -m 0750 -o root -g "$( on_host && echo "$SERVICE_USER" || id -gn )" "$ETC"
run install -m 0644 "$SRC/appliance/authbox.example.json" "$ETC/authbox.example.json"

# 6. The data folder. `authbox init` makes the CA hierarchy and writes the master key beside the
# database; the key then moves to /etc/authbox/master.key, owned by root with mode 0600, because:
# - a copy of /var/lib/authbox (a backup, a snapshot, a disk sent for repair) then holds only
#   sealed private keys, useless without the key kept apart;
# - the service user cannot change or delete the key: systemd reads it as root and hands the
#   service a private copy ($CREDENTIALS_DIRECTORY, LoadCredential= in the unit).
say "data folder $DATA"
fresh=0
if [ -f "$DATA/authbox.json" ]; then
  echo "  exists: kept as it is"
else
  if [ -d "$DATA" ] && [ -n "$(ls -A "$DATA")" ]; then
    echo "install.sh: $DATA is not empty but holds no authbox.json; move it aside and run this again" >&2
    exit 1
  fi
  # authbox init creates the folder itself and never writes into an existing one.
  if [ -d "$DATA" ]; then run rmdir "$DATA"; fi
  run mkdir -p "$(dirname "$DATA")"
  run "$NODE" "$APP/bin/authbox" init --data "$DATA" --org "$ORG" --public-url "$PUBLIC_URL"
  fresh=1
fi
if [ "$fresh" -eq 1 ] || [ -f "$DATA/master.key" ]; then
  if [ -f "$ETC/master.key" ]; then
    echo "install.sh: both $DATA/master.key and $ETC/master.key exist; keep the one that unseals this database and remove the other" >&2
    [ "$DRY_RUN" -eq 1 ] || exit 1
  else
    run install -m 0600 -o root -g root "$DATA/master.key" "$ETC/master.key"
    run rm -f "$DATA/master.key"
  fi
elif [ ! -f "$ETC/master.key" ]; then
  echo "install.sh: no master key in $ETC/master.key or $DATA/master.key: restore it (from where its copy is kept) to $ETC/master.key, mode 0600" >&2
  [ "$DRY_RUN" -eq 1 ] || exit 1
fi
run chown -R "$(owner "$SERVICE_USER:$SERVICE_USER")" "$DATA"
run chmod 0700 "$DATA"

# 7. The CLI for root: the same data folder and key as the service. SQLite keeps the journal files
# owned by the database's owner when root writes, so the service can still open them.
say "CLI $SBIN/authbox"
run install -d -m 0755 "$SBIN"
wrapper="#!/bin/sh
# authbox CLI for the installed service (appliance/install.sh): run as root, e.g. authbox user list --data $LIVE_DATA
AUTHBOX_MASTER_KEY_FILE=/etc/authbox/master.key exec $NODE /opt/authbox/bin/authbox \"\$@\""
if [ "$DRY_RUN" -eq 1 ]; then
  printf '  + write %s (AUTHBOX_MASTER_KEY_FILE=/etc/authbox/master.key exec node /opt/authbox/bin/authbox)\n' "$SBIN/authbox"
else
  printf '%s\n' "$wrapper" > "$SBIN/authbox"
  chmod 0755 "$SBIN/authbox"
fi

# 8. The unit, and systemd told about it (on this host only).
say "systemd unit $UNIT_DIR/authbox.service"
run install -d -m 0755 "$UNIT_DIR"
run install -m 0644 "$SRC/appliance/authbox.service" "$UNIT_DIR/authbox.service"
if ! on_host; then
  echo "  skipped systemctl: --prefix $PREFIX"
elif [ ! -d /run/systemd/system ]; then
  echo "  skipped systemctl: systemd is not running here"
else
  run systemctl daemon-reload
  # An upgrade: the running service picks up the new code now; a first install is left to the admin.
  run systemctl try-restart authbox.service
fi

say "done"
cat <<EOF
  start it:      systemctl enable --now authbox
  its log:       journalctl -u authbox -f
  health:        curl http://127.0.0.1:8080/healthz    metrics: curl http://127.0.0.1:8080/metrics
  settings:      $LIVE_DATA/authbox.json (documented in /opt/authbox/appliance/CONFIG.md); restart after a change
  master key:    /etc/authbox/master.key: keep a copy apart from your backups
EOF
