#!/bin/sh
# install.sh — installs rolesanywhere-agent from this directory (a clone or a release tarball) on
# Linux or macOS with Node.js >= 20.19:
#   PREFIX/lib/rolesanywhere-agent   the built agent with its production dependencies
#   PREFIX/bin/rolesanywhere-agent   a launcher, pinned to the node that ran the install
#   a schedule skeleton              if there is none yet (never overwritten)
#   a service                        systemd (system or user unit) or launchd, enabled
# Run it again to upgrade; --uninstall removes all that but the schedule and the credentials.
# It takes no secret, and never puts one on a command line.
set -eu

NAME=rolesanywhere-agent
LABEL=io.github.rolesanywhere-agent
MIN_NODE_MAJOR=20
MIN_NODE_MINOR=19
# Exit codes
E_FAILED=1
E_USAGE=2
E_NO_NODE=3
E_OLD_NODE=4

usage() {
  cat <<EOF
Usage: ./install.sh [--user] [--prefix DIR] [--no-service] [--dry-run] [--uninstall]

Installs rolesanywhere-agent (Node.js >= $MIN_NODE_MAJOR.$MIN_NODE_MINOR needed) with a service that runs it.

  (default)        system install as root: /usr/local, schedule /etc/$NAME/agent.yaml,
                   systemd system unit (user $NAME) or launchd daemon
  --user           for the current user: ~/.local, schedule ~/.config/$NAME/agent.yaml,
                   systemd user unit or launchd agent, credentials in ~/.aws/credentials
  --prefix DIR     install under DIR (bin/ and lib/$NAME) instead
  --config-dir DIR put the schedule skeleton in DIR
  --unit-dir DIR   put the systemd unit or launchd plist in DIR
  --no-service     install no service (run it yourself, or from cron with 'once')
  --destdir DIR    stage everything under DIR as if installed at --prefix (for packagers; no service)
  --node PATH      the node the launcher runs (default: the node on PATH that runs install.sh)
  --dry-run        print what would be done, change nothing
  --uninstall      remove what install.sh installed; the schedule and credentials stay
  -h, --help       this text

Exit codes: 0 done, 1 failed, 2 bad usage, 3 Node.js or npm not found, 4 Node.js too old.
EOF
}

say() { printf 'install.sh: %s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() {
  code=$1
  shift
  printf 'install.sh: %s\n' "$*" >&2
  exit "$code"
}

MODE=system
PREFIX=
CONFDIR=
UNITDIR=
DESTDIR=
NODE=
LAUNCH_NODE=
SERVICE=yes
DRY=no
ACTION=install

need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die $E_USAGE "$1 needs a value — see --help"; }
while [ $# -gt 0 ]; do
  case $1 in
    --user) MODE=user ;;
    --prefix) need_arg "$@"; PREFIX=$2; shift ;;
    --prefix=*) PREFIX=${1#*=} ;;
    --config-dir) need_arg "$@"; CONFDIR=$2; shift ;;
    --config-dir=*) CONFDIR=${1#*=} ;;
    --unit-dir) need_arg "$@"; UNITDIR=$2; shift ;;
    --unit-dir=*) UNITDIR=${1#*=} ;;
    --destdir) need_arg "$@"; DESTDIR=$2; shift ;;
    --destdir=*) DESTDIR=${1#*=} ;;
    --node) need_arg "$@"; LAUNCH_NODE=$2; shift ;;
    --node=*) LAUNCH_NODE=${1#*=} ;;
    --no-service) SERVICE=no ;;
    --dry-run|-n) DRY=yes ;;
    --uninstall) ACTION=uninstall ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die $E_USAGE "unknown option $1" ;;
  esac
  shift
done
if [ -n "$DESTDIR" ]; then SERVICE=no; fi

OS=${RA_INSTALL_OS:-$(uname -s)} # RA_INSTALL_OS: tests exercise the macOS path on Linux
case $OS in
  Linux|Darwin) ;;
  *) die $E_FAILED "$OS is not supported (Linux and macOS are); install from a clone with 'npm ci && npm run build'" ;;
esac

SRC=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
[ -f "$SRC/package.json" ] && grep -q "\"name\": \"$NAME\"" "$SRC/package.json" ||
  die $E_FAILED "$SRC does not look like a $NAME source tree (no package.json naming it); run install.sh from a clone or the release tarball"

if [ "$MODE" = user ]; then
  [ -n "${HOME:-}" ] || die $E_FAILED "--user needs HOME to be set"
  cfg_home=${XDG_CONFIG_HOME:-$HOME/.config}
  : "${PREFIX:=$HOME/.local}"
  : "${CONFDIR:=$cfg_home/$NAME}"
  CREDFILE=$HOME/.aws/credentials
  if [ "$OS" = Darwin ]; then
    : "${UNITDIR:=$HOME/Library/LaunchAgents}"
    LOGDIR=$HOME/Library/Logs
  else
    : "${UNITDIR:=$cfg_home/systemd/user}"
  fi
else
  : "${PREFIX:=/usr/local}"
  : "${CONFDIR:=/etc/$NAME}"
  if [ "$OS" = Darwin ]; then
    : "${UNITDIR:=/Library/LaunchDaemons}"
    CREDFILE=/var/db/$NAME/credentials
    LOGDIR=/Library/Logs
  else
    : "${UNITDIR:=/etc/systemd/system}"
    CREDFILE=/var/lib/$NAME/credentials
  fi
fi
LIBDIR=$PREFIX/lib/$NAME
BINDIR=$PREFIX/bin
SCHEDULE=$CONFDIR/agent.yaml
if [ "$OS" = Darwin ]; then UNITFILE=$UNITDIR/$LABEL.plist; else UNITFILE=$UNITDIR/$NAME.service; fi
# Where files land: the same paths, under DESTDIR when staging for a package.
D=$DESTDIR

# --- helpers --------------------------------------------------------------------------------------
run() {
  if [ "$DRY" = yes ]; then
    printf '+ %s\n' "$*"
  else
    "$@"
  fi
}
# write_file DEST MODE < content
write_file() {
  if [ "$DRY" = yes ]; then
    cat >/dev/null
    printf '+ write %s (mode %s)\n' "$1" "$2"
    return
  fi
  tmp="$1.tmp.$$"
  cat >"$tmp"
  chmod "$2" "$tmp"
  mv -f "$tmp" "$1"
}
# A value for a single-quoted sh word.
sq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
esc_sed() { printf '%s' "$1" | sed 's/[\\&|]/\\&/g'; }
fill() { # fill TEMPLATE: the packaging template with this install's paths
  sed -e "s|@BINDIR@|$(esc_sed "$BINDIR")|g" \
      -e "s|@CONFDIR@|$(esc_sed "$CONFDIR")|g" \
      -e "s|@CREDDIR@|$(esc_sed "$(dirname "$CREDFILE")")|g" \
      -e "s|@LOGDIR@|$(esc_sed "${LOGDIR:-/tmp}")|g" "$1"
}
# Can we create or change PATH (its nearest existing ancestor writable)?
writable() {
  p=$1
  while [ ! -e "$p" ]; do p=$(dirname "$p"); done
  [ -w "$p" ]
}
systemctl_() { if [ "$MODE" = user ]; then run systemctl --user "$@"; else run systemctl "$@"; fi; }
launch_domain() { if [ "$MODE" = user ]; then echo "gui/$(id -u)"; else echo system; fi; }

check_node() {
  NODE=$(command -v node 2>/dev/null) ||
    die $E_NO_NODE "Node.js >= $MIN_NODE_MAJOR.$MIN_NODE_MINOR is needed and 'node' is not on PATH — install Node.js $MIN_NODE_MAJOR (https://nodejs.org/en/download, or your distribution's nodejs package), then run install.sh again"
  if [ -n "$LAUNCH_NODE" ] && [ -z "$DESTDIR" ]; then
    # the launcher's node must be one that works here; a package's (--destdir) is the target's business
    [ -x "$LAUNCH_NODE" ] || die $E_NO_NODE "--node $LAUNCH_NODE is not an executable"
    NODE=$LAUNCH_NODE
  fi
  version=$("$NODE" -p 'process.versions.node' 2>/dev/null) || die $E_NO_NODE "$NODE does not run — reinstall Node.js $MIN_NODE_MAJOR"
  major=${version%%.*}
  rest=${version#*.}
  minor=${rest%%.*}
  case $major$minor in *[!0-9]*|'') die $E_NO_NODE "cannot read the version of $NODE ('$version')" ;; esac
  if [ "$major" -lt $MIN_NODE_MAJOR ] || { [ "$major" -eq $MIN_NODE_MAJOR ] && [ "$minor" -lt $MIN_NODE_MINOR ]; }; then
    die $E_OLD_NODE "$NODE is Node.js $version; rolesanywhere-agent needs >= $MIN_NODE_MAJOR.$MIN_NODE_MINOR — upgrade Node.js (https://nodejs.org/en/download), then run install.sh again"
  fi
  NPM=$(command -v npm 2>/dev/null) || die $E_NO_NODE "npm is not on PATH (it comes with Node.js) — install it, then run install.sh again"
  : "${LAUNCH_NODE:=$NODE}"
}

# --- install --------------------------------------------------------------------------------------
build_if_needed() {
  main=$SRC/dist/src/main.js
  if [ -f "$main" ] && [ ! -d "$SRC/src" ]; then return; fi # a release tarball: built already
  if [ -f "$main" ] && [ -z "$(find "$SRC/src" -name '*.ts' -newer "$main" 2>/dev/null | head -n 1)" ]; then return; fi
  [ -d "$SRC/src" ] || die $E_FAILED "$SRC has neither dist/src/main.js nor src/ to build it from"
  say "building the agent in $SRC (npm run build)"
  if [ ! -d "$SRC/node_modules" ]; then run sh -c 'cd "$1" && "$2" ci --no-audit --no-fund' sh "$SRC" "$NPM"; fi
  run sh -c 'cd "$1" && "$2" run build --silent' sh "$SRC" "$NPM"
}

stage_lib() {
  stage=$D$LIBDIR.new.$$
  old=$D$LIBDIR
  say "installing the agent in $LIBDIR"
  run mkdir -p "$stage" "$stage/dist"
  run cp "$SRC/package.json" "$stage/"
  # npm pack leaves the lock file out of a tarball; a clone has it.
  if [ -f "$SRC/package-lock.json" ]; then run cp "$SRC/package-lock.json" "$stage/"; fi
  run cp -R "$SRC/dist/src" "$stage/dist/src"
  run cp -R "$SRC/config" "$SRC/packaging" "$stage/"
  run cp "$SRC/install.sh" "$stage/install.sh"
  # Production dependencies: the previous install's when the lock file is unchanged; else this
  # tree's node_modules without its dev dependencies (no network); else npm ci from the registry.
  if [ -d "$old/node_modules" ] && [ -f "$SRC/package-lock.json" ] && cmp -s "$old/package-lock.json" "$SRC/package-lock.json"; then
    say "dependencies unchanged: keeping the installed ones"
    run mv "$old/node_modules" "$stage/node_modules"
  elif [ -d "$SRC/node_modules" ]; then
    run cp -RH "$SRC/node_modules" "$stage/node_modules"
    run sh -c 'cd "$1" && "$2" prune --omit=dev --offline --no-audit --no-fund --loglevel=error >/dev/null' sh "$stage" "$NPM"
  elif [ -f "$SRC/package-lock.json" ]; then
    run sh -c 'cd "$1" && "$2" ci --omit=dev --no-audit --no-fund --loglevel=error' sh "$stage" "$NPM"
  else
    run sh -c 'cd "$1" && "$2" install --omit=dev --no-audit --no-fund --loglevel=error' sh "$stage" "$NPM"
  fi
  if [ -e "$old" ]; then
    run mv "$old" "$old.old.$$"
    run mv "$stage" "$old"
    run rm -rf "$old.old.$$"
  else
    run mv "$stage" "$old"
  fi
}

write_launcher() {
  run mkdir -p "$D$BINDIR"
  say "launcher $BINDIR/$NAME (runs $LAUNCH_NODE)"
  write_file "$D$BINDIR/$NAME" 755 <<EOF
#!/bin/sh
# $NAME launcher, written by install.sh: the node it was installed with, and the installed agent.
exec $(sq "$LAUNCH_NODE") $(sq "$LIBDIR/dist/src/main.js") "\$@"
EOF
}

write_schedule() {
  if [ -e "$D$SCHEDULE" ]; then
    SCHEDULE_NEW=no
    say "schedule $SCHEDULE exists: left as it is"
    return
  fi
  SCHEDULE_NEW=yes
  if [ "$MODE" = user ]; then dirmode=700; filemode=600; else dirmode=755; filemode=644; fi
  case $OS/$MODE in
    Linux/system) start="systemctl start $NAME" ;;
    Linux/user) start="systemctl --user start $NAME" ;;
    Darwin/*) start="launchctl bootstrap $(launch_domain) $UNITFILE" ;;
  esac
  # a package (--destdir) ships the service; a --no-service install runs it by hand
  if [ "$SERVICE" = no ] && [ -z "$DESTDIR" ]; then start="$NAME run --config $SCHEDULE"; fi
  run mkdir -p "$D$CONFDIR"
  run chmod "$dirmode" "$D$CONFDIR"
  say "schedule skeleton $SCHEDULE (edit it before starting the agent)"
  sh "$SRC/packaging/skeleton.sh" "$CREDFILE" "$LIBDIR/config/schedule.schema.json" "$start" | write_file "$D$SCHEDULE" "$filemode"
}

ensure_service_user() {
  if getent passwd "$NAME" >/dev/null 2>&1; then return; fi
  command -v useradd >/dev/null 2>&1 || { warn "useradd not found: create a system user '$NAME' yourself"; return; }
  say "creating the system user $NAME"
  run useradd --system --user-group --home-dir "/var/lib/$NAME" --no-create-home \
    --shell /usr/sbin/nologin --comment "rolesanywhere-agent" "$NAME" ||
    warn "could not create the system user $NAME: create it yourself before starting the service"
}

# A service whose schedule does not validate cannot start (and would restart every 10 s): validate
# first, as the service user when we can become it, and say what is wrong instead of (re)starting.
schedule_validates() {
  [ "$DRY" = yes ] && return 0
  as=
  if [ "$MODE" = system ] && [ "$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1 && getent passwd "$NAME" >/dev/null 2>&1; then
    as="runuser -u $NAME --"
  fi
  if out=$($as "$BINDIR/$NAME" validate --config "$SCHEDULE" 2>&1); then return 0; fi
  warn "not (re)starting $1: the schedule $SCHEDULE does not validate:"
  printf '%s\n' "$out" | sed 's/^/    /' >&2
  warn "fix it, check it with: $NAME validate --config $SCHEDULE — then: $2"
  return 1
}

install_systemd() {
  if [ "$MODE" = user ]; then template=$SRC/packaging/systemd/$NAME.user.service; else template=$SRC/packaging/systemd/$NAME.service; fi
  if [ "$MODE" = system ]; then
    ensure_service_user
  else
    # The user unit may write only there (ReadWritePaths), so it must exist; 0700 like the AWS CLI's.
    run mkdir -p "$(dirname "$CREDFILE")"
    run chmod 700 "$(dirname "$CREDFILE")"
  fi
  run mkdir -p "$UNITDIR"
  say "systemd unit $UNITFILE"
  fill "$template" | write_file "$UNITFILE" 644
  if ! command -v systemctl >/dev/null 2>&1; then
    warn "systemctl not found: the unit is in place; enable it once systemd runs (systemctl enable $NAME)"
    return
  fi
  systemctl_ daemon-reload || warn "systemctl daemon-reload failed (is systemd running?)"
  systemctl_ enable "$NAME.service" || warn "could not enable $NAME.service"
  if [ "$SCHEDULE_NEW" = no ] && schedule_validates "$NAME.service" "systemctl $([ "$MODE" = user ] && echo '--user ')restart $NAME.service"; then
    systemctl_ restart "$NAME.service" || warn "could not (re)start $NAME.service: see journalctl $([ "$MODE" = user ] && echo '--user ')-u $NAME"
  fi
}

install_launchd() {
  template=$SRC/packaging/launchd/$LABEL.plist
  domain=$(launch_domain)
  run mkdir -p "$(dirname "$CREDFILE")"
  run chmod 700 "$(dirname "$CREDFILE")"
  if [ "$MODE" = user ]; then run mkdir -p "$LOGDIR"; fi
  run mkdir -p "$UNITDIR"
  say "launchd plist $UNITFILE"
  fill "$template" | write_file "$UNITFILE" 644
  command -v launchctl >/dev/null 2>&1 || { warn "launchctl not found: load $UNITFILE yourself"; return; }
  run launchctl bootout "$domain/$LABEL" 2>/dev/null || true
  run launchctl enable "$domain/$LABEL" || warn "could not enable $domain/$LABEL"
  if [ "$SCHEDULE_NEW" = no ] && schedule_validates "$LABEL" "launchctl bootstrap $domain $UNITFILE"; then
    run launchctl bootstrap "$domain" "$UNITFILE" || warn "could not load $UNITFILE"
  fi
}

do_install() {
  check_node
  if [ "$DRY" = no ] && [ -z "$DESTDIR" ]; then
    for p in "$LIBDIR" "$BINDIR" "$CONFDIR" $([ "$SERVICE" = yes ] && echo "$UNITDIR"); do
      writable "$p" || die $E_FAILED "cannot write $p — run as root (sudo ./install.sh), or install for yourself with --user"
    done
  fi
  if [ "$DRY" = yes ]; then say "dry run: nothing below is done"; fi
  build_if_needed
  stage_lib
  write_launcher
  write_schedule
  if [ "$SERVICE" = yes ]; then
    if [ "$OS" = Darwin ]; then install_launchd; else install_systemd; fi
  fi
  manifest=$D$LIBDIR/install-manifest
  {
    echo "mode=$MODE"
    echo "os=$OS"
    echo "bin=$BINDIR/$NAME"
    if [ "$SERVICE" = yes ]; then echo "unit=$UNITFILE"; fi
    echo "schedule=$SCHEDULE"
  } | write_file "$manifest" 644
  say "installed: $BINDIR/$NAME"
  if [ "${SCHEDULE_NEW:-no}" = yes ] && [ "$SERVICE" = yes ]; then
    say "next: edit $SCHEDULE, check it with '$BINDIR/$NAME validate --config $SCHEDULE', then start the service"
  fi
  if [ "$SERVICE" = yes ] && [ "$MODE" = user ] && [ "$OS" = Linux ]; then
    say "note: to keep the agent running while you are logged out: loginctl enable-linger \"\$USER\""
  fi
  case :$PATH: in *":$BINDIR:"*) ;; *) say "note: $BINDIR is not on PATH" ;; esac
}

# --- uninstall ------------------------------------------------------------------------------------
do_uninstall() {
  # The same options as the install find the same files (install-manifest records them for humans).
  bin=$BINDIR/$NAME
  if [ "$DRY" = yes ]; then say "dry run: nothing below is done"; fi
  if [ -f "$UNITFILE" ]; then
    say "removing the service $UNITFILE"
    if [ "$OS" = Darwin ]; then
      if command -v launchctl >/dev/null 2>&1; then run launchctl bootout "$(launch_domain)/$LABEL" 2>/dev/null || true; fi
      run rm -f "$UNITFILE"
    else
      if command -v systemctl >/dev/null 2>&1; then systemctl_ disable --now "$NAME.service" || warn "could not stop/disable $NAME.service"; fi
      run rm -f "$UNITFILE"
      if command -v systemctl >/dev/null 2>&1; then systemctl_ daemon-reload || true; fi
    fi
  fi
  # Only a launcher this script wrote (never someone else's rolesanywhere-agent).
  if [ -f "$D$bin" ] && grep -q 'written by install.sh' "$D$bin"; then
    say "removing $bin"
    run rm -f "$D$bin"
  fi
  if [ -d "$D$LIBDIR" ]; then
    say "removing $LIBDIR"
    run rm -rf "$D$LIBDIR"
  fi
  kept="the schedule ($SCHEDULE) and the credentials file ($CREDFILE)"
  if [ "$MODE" = system ] && [ "$OS" = Linux ]; then kept="$kept, and the system user $NAME"; fi
  say "kept: $kept"
}

if [ "$ACTION" = uninstall ]; then do_uninstall; else do_install; fi
