# Sourced by build.sh and packaging/kubernetes/play.sh: how they call podman.
#
# PODMAN_FLAGS (global podman flags) defaults to the settings that work on a plain Debian 12 host
# and inside sandboxes and CI machines where podman's own defaults fail:
#   --runtime runc            crun cannot set rlimits or create cgroups in some sandboxes; runc can
#   --cgroup-manager cgroupfs no systemd needed to manage the containers' cgroups
#   --storage-driver vfs      works on any file system, also inside another container where
#                             overlay-on-overlay is refused (slower and larger than overlay)
# and CONTAINERS_CONF points at containers.conf beside this file, which sets default_ulimits = []
# so that podman does not try to raise limits it may not hold. Set PODMAN_FLAGS= (empty) and
# CONTAINERS_CONF to your own file to use your podman's configuration instead.
read -r -a podman_flags <<< "${PODMAN_FLAGS-"--runtime runc --cgroup-manager cgroupfs --storage-driver vfs"}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/containers.conf}"
pm() { podman "${podman_flags[@]}" "$@"; }
