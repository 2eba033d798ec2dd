#!/usr/bin/env bash
# Builds the container image rolesanywhere-agent:<version> and :latest from the repository root,
# with podman, or docker when that is what the machine has (CONTAINER_ENGINE=docker|podman to choose).
#
#   packaging/container/build.sh            # → rolesanywhere-agent:0.1.0, rolesanywhere-agent:latest
#
# Environment:
#   BASE_IMAGE       the base of both stages (default node:20-bookworm-slim, the official Node image)
#   IMAGE            the image name (default rolesanywhere-agent)
#   CONTAINER_ENGINE podman or docker (default: podman when installed, else docker)
#   PODMAN_FLAGS     global podman flags (default in podman.sh: runc, cgroupfs, vfs storage; set it
#                    empty to use your podman's own storage and runtime configuration)
#   STANDIN_CACHE    where the stand-in base's root file system is cached
#                    (default /var/cache/rolesanywhere-agent-ci when writable, else ~/.cache/rolesanywhere-agent)
#   DEBIAN_MIRROR    the Debian mirror for the stand-in base (default http://deb.debian.org/debian)
#
# When the base image is neither present nor pullable (no image registry reachable) and it is the
# default node:20-bookworm-slim, the script builds a stand-in for it: a Debian bookworm root file
# system made from Debian's packages (debootstrap or mmdebstrap) plus the Node.js that runs this
# script, laid out as the official image is (/usr/local/bin/node, npm, user "node" 1000:1000). It
# is tagged as the base, so the Dockerfile stays unchanged, and the image build needs no registry.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf 'build.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

DEFAULT_BASE=node:20-bookworm-slim
BASE_IMAGE="${BASE_IMAGE:-$DEFAULT_BASE}"
IMAGE="${IMAGE:-rolesanywhere-agent}"
VERSION="$(node -p 'require("./package.json").version' 2>/dev/null)" || die "node is needed to read package.json's version (and for a stand-in base)"

ENGINE="${CONTAINER_ENGINE:-}"
if [ -z "$ENGINE" ]; then
  if command -v podman >/dev/null; then ENGINE=podman
  elif command -v docker >/dev/null; then ENGINE=docker
  else die "neither podman nor docker is installed: apt-get install podman runc (or install Docker)"; fi
fi

engine_flags=()
build_flags=()
if [ "$ENGINE" = podman ]; then
  # shellcheck source=podman.sh
  . packaging/container/podman.sh
  engine_flags=("${podman_flags[@]}")
  # Docker format keeps HEALTHCHECK (the OCI format has no such field); podman reads the build
  # context filter only when named.
  build_flags+=(--format docker --ignorefile packaging/container/Dockerfile.dockerignore)
  log "podman ${engine_flags[*]:-(its own settings)}, CONTAINERS_CONF=$CONTAINERS_CONF (see packaging/container/podman.sh)"
fi
eng() { "$ENGINE" "${engine_flags[@]}" "$@"; }

# --- the stand-in base --------------------------------------------------------------------------
STANDIN_RECIPE=2 # bump when the recipe below changes: it is part of the cache key
node_bin="$(command -v node)"
node_bin="$(readlink -f "$node_bin")"
npm_dir="$(npm root -g 2>/dev/null)/npm"

standin_key() {
  {
    echo "recipe $STANDIN_RECIPE bookworm minbase ${DEBIAN_MIRROR:-http://deb.debian.org/debian} $(uname -m)"
    sha256sum "$node_bin"
    node -p 'require(process.argv[1] + "/package.json").version' "$npm_dir"
  } | sha256sum | cut -c1-16
}

cache_dir() {
  if [ -n "${STANDIN_CACHE:-}" ]; then echo "$STANDIN_CACHE"
  elif mkdir -p /var/cache/rolesanywhere-agent-ci 2>/dev/null && [ -w /var/cache/rolesanywhere-agent-ci ]; then echo /var/cache/rolesanywhere-agent-ci
  else echo "${XDG_CACHE_HOME:-$HOME/.cache}/rolesanywhere-agent"; fi
}

# Writes the stand-in root file system as a tarball (cached by its inputs) and prints its path.
standin_tarball() {
  local key="$1" dir tarball rootfs
  dir="$(cache_dir)"; mkdir -p "$dir"
  tarball="$dir/node20-bookworm-standin-$key.tar"
  if [ -s "$tarball" ]; then echo "$tarball"; return; fi
  [ "$(id -u)" = 0 ] || die "a stand-in base is built with debootstrap, which needs root (or pull $DEFAULT_BASE)"
  rootfs="$(mktemp -d "$dir/rootfs.XXXXXX")"
  trap 'rm -rf "$rootfs"' EXIT
  local mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  if command -v mmdebstrap >/dev/null; then
    mmdebstrap --variant=minbase --quiet bookworm "$rootfs" "$mirror" >&2
  elif command -v debootstrap >/dev/null; then
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$dir/debootstrap.log" 2>&1 \
      || die "debootstrap failed (see $dir/debootstrap.log)"
  else
    die "no $DEFAULT_BASE and no registry: apt-get install debootstrap to build a stand-in base"
  fi
  # The official image's layout: Node under /usr/local, user node 1000:1000, no apt lists or docs.
  install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # Node's headers, which node-gyp needs to build the optional PKCS#11 binding (the official image has them).
  local headers
  headers="$(dirname "$(dirname "$node_bin")")/include/node"
  [ -d "$headers" ] && mkdir -p "$rootfs/usr/local/include" && cp -a "$headers" "$rootfs/usr/local/include/node"
  chroot "$rootfs" /usr/sbin/groupadd --gid 1000 node
  chroot "$rootfs" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  chroot "$rootfs" /usr/local/bin/node --version >/dev/null || die "the host's node does not run on bookworm's libraries"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
         "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log
  tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  # Stand-ins from another Node or recipe are never used again.
  find "$dir" -maxdepth 1 -name 'node20-bookworm-standin-*.tar' ! -name "$(basename "$tarball")" -delete
  rm -rf "$rootfs"; trap - EXIT
  echo "$tarball"
}

LABEL=io.github.rolesanywhere-agent.standin
ensure_base() {
  local key present current
  key="$(standin_key)"
  if present="$(eng image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$BASE_IMAGE" 2>/dev/null)"; then
    current="${present#<no value>}"
    # A stand-in made from another Node (or recipe) is rebuilt; a real base is used as it is.
    if [ "$current" = "$key" ]; then
      log "$DEFAULT_BASE is the stand-in built here earlier (Debian bookworm + node $(node --version)): no registry was reachable"
      return
    fi
    if [ -z "$current" ] || [ "$BASE_IMAGE" != "$DEFAULT_BASE" ]; then return; fi
  elif eng pull "$BASE_IMAGE" >/dev/null 2>&1; then
    return
  fi
  [ "$BASE_IMAGE" = "$DEFAULT_BASE" ] || die "cannot pull $BASE_IMAGE: make it available locally or unset BASE_IMAGE"
  local tarball
  tarball="$(standin_tarball "$key")"
  eng import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL $LABEL=$key" --change 'CMD ["node"]' "$tarball" "docker.io/library/$DEFAULT_BASE" >/dev/null
  log "$DEFAULT_BASE could not be pulled: using a stand-in built here (Debian bookworm from $(basename "$tarball") + node $(node --version))"
}

ensure_base
# A registry behind a TLS-inspecting proxy: hand npm's CA file to the build stage as a secret.
cafile="${NPM_CA_FILE:-$(npm config get cafile 2>/dev/null || true)}"
if [ -n "$cafile" ] && [ "$cafile" != null ] && [ "$cafile" != undefined ] && [ -s "$cafile" ]; then
  build_flags+=(--secret "id=npm_ca,src=$cafile")
fi
start=$(date +%s)
eng build "${build_flags[@]}" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  -f packaging/container/Dockerfile -t "$IMAGE:$VERSION" -t "$IMAGE:latest" . >&2
log "built $IMAGE:$VERSION and $IMAGE:latest in $(( $(date +%s) - start )) s"
echo "$IMAGE:$VERSION"
