#!/bin/sh
# npm run deb [-- --out DIR] [-- --compression xz|gzip|none]: builds dist/deb/rolesanywhere-agent_<version>_<arch>.deb with dpkg-deb.
# The agent is laid out by install.sh itself (--destdir, as if installed at /usr), so the package
# and a script install are the same tree; this adds the systemd units, the maintainer scripts and
# the control file. Needs dpkg-deb (Debian/Ubuntu); no network when node_modules is present.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
root=$(CDPATH='' cd -- "$here/../.." && pwd)
out=$root/dist/deb
compression=xz
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift ;;
    --out=*) out=${1#*=} ;;
    --compression) compression=$2; shift ;; # xz (default), gzip (faster, for tests), none
    --compression=*) compression=${1#*=} ;;
    *) echo "build.sh: unknown option $1 (--out DIR, --compression xz|gzip|none)" >&2; exit 2 ;;
  esac
  shift
done
command -v dpkg-deb >/dev/null 2>&1 || { echo "build.sh: dpkg-deb not found — build the package on Debian/Ubuntu (apt-get install dpkg-dev)" >&2; exit 1; }

name=rolesanywhere-agent
version=$(node -p "require('$root/package.json').version")
arch=$(dpkg --print-architecture) # pkcs11js is a native module
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/$name

sh "$root/install.sh" --destdir "$stage" --prefix /usr --config-dir /etc/$name --node /usr/bin/node >/dev/null
# dpkg owns these files: no install.sh uninstall from the package's tree.
rm -f "$stage/usr/lib/$name/install-manifest" "$stage/usr/lib/$name/install.sh"

fill() { # fill TEMPLATE CONFDIR CREDDIR
  sed -e "s|@BINDIR@|/usr/bin|g" -e "s|@CONFDIR@|$2|g" -e "s|@CREDDIR@|$3|g" "$1"
}
mkdir -p "$stage/usr/lib/systemd/system" "$stage/usr/lib/systemd/user" "$stage/usr/share/doc/$name" "$stage/DEBIAN"
fill "$root/packaging/systemd/$name.service" /etc/$name /var/lib/$name >"$stage/usr/lib/systemd/system/$name.service"
fill "$root/packaging/systemd/$name.user.service" '%h/.config/rolesanywhere-agent' '%h/.aws' >"$stage/usr/lib/systemd/user/$name.service"
cp "$root/README.md" "$stage/usr/share/doc/$name/README.md"
[ -f "$root/CHANGELOG.md" ] && cp "$root/CHANGELOG.md" "$stage/usr/share/doc/$name/CHANGELOG.md"
cat >"$stage/usr/share/doc/$name/copyright" <<'COPYRIGHT'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: rolesanywhere-agent

Files: *
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0. The bundled node_modules keep their own licenses.
COPYRIGHT

cp "$here/postinst" "$here/prerm" "$here/postrm" "$stage/DEBIAN/"
chmod 755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"
echo "/etc/$name/agent.yaml" >"$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" "$here/control" >"$stage/DEBIAN/control"

# Directories 0755, files 0644 unless executable; the schedule skeleton is world-readable config.
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f ! -perm -u+x -exec chmod 0644 {} +

mkdir -p "$out"
deb=$out/${name}_${version}_${arch}.deb
dpkg-deb --root-owner-group "-Z$compression" --build "$stage" "$deb" >/dev/null
echo "$deb"
