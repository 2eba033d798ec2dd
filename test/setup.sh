#!/bin/sh
# `npm run test:setup`: installs what `npm test` needs on a Debian 12 (or later) machine that has
# Node.js >= 20.19 and nothing else, then installs the npm dependencies.
#
# 1. The Debian packages below, when missing, with apt-get (as root, or through sudo). It prints the
#    exact apt-get command before running it. Set TEST_SETUP_NO_APT=1 to only print it.
# 2. `npm ci` (after the packages: the optional PKCS#11 binding pkcs11js is compiled with g++).
#
# Why each package (test/helpers/prerequisites.ts has the same table, tool by tool):
#   awscli python3-boto3 python3-botocore   the real readers of the credentials file
#   softhsm2 opensc                         PKCS#11 keys on a real token
#   swtpm swtpm-tools tpm2-tools tpm2-abrmd libtss2-tcti-tabrmd0 libtpm2-pkcs11-1
#     libtpm2-pkcs11-tools dbus-daemon      PKCS#11 keys in a software TPM
#   openssl                                 key/PKCS#12 fixtures made by the reference implementation
#   systemd man-db                          systemd-analyze verify/security on the unit files (verify runs man)
#   git dpkg procps                         the README command in a clean clone, the .deb, kill/ps
#   podman runc debootstrap                 the container image and the Kubernetes sidecar, built and run
#   g++ make python3                        npm ci compiles pkcs11js
set -eu
cd "$(dirname "$0")/.."

PACKAGES="awscli python3 python3-boto3 python3-botocore softhsm2 opensc openssl systemd man-db procps git dpkg
  swtpm swtpm-tools tpm2-tools tpm2-abrmd libtss2-tcti-tabrmd0 libtpm2-pkcs11-1 libtpm2-pkcs11-tools dbus-daemon
  podman runc debootstrap g++ make"

if [ "${1:-}" = --list ]; then echo $PACKAGES; exit 0; fi

say() { printf 'test:setup: %s\n' "$*" >&2; }

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  cmd="apt-get install -y$missing"
  if [ "${TEST_SETUP_NO_APT:-}" = 1 ]; then
    say "missing Debian packages; run: $cmd"; exit 1
  fi
  if [ "$(id -u)" = 0 ]; then sudo=""
  elif command -v sudo >/dev/null; then sudo="sudo"
  else say "missing Debian packages and not root: run as root: apt-get update && $cmd"; exit 1; fi
  say "installing:$missing"
  say "running: ${sudo:+$sudo }apt-get update && ${sudo:+$sudo }$cmd"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq $missing >/dev/null
fi

# pkcs11js builds against Node's own headers: no header download on a closed network.
export npm_config_nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")}"
say "npm ci"
npm ci --no-audit --no-fund 2>&1 | grep -v 'Unknown .* config "nodedir"' >&2 || true
[ -d node_modules ] || { say "npm ci failed"; exit 1; }
