#!/usr/bin/env bash
# Builds the collide image (default tag collide:local) from deploy/Dockerfile,
# locally and without any registry: a static build of cmd/collide in a
# temporary build context, then `docker build` with the classic builder
# (FROM scratch). Idempotent: the image carries the sha256 of the binary and the Dockerfile as the
# label dev.collide.sha256 and is rebuilt only when either changed
# (FORCE=1 rebuilds). Usage: deploy/image.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${1:-${COLLIDE_IMAGE:-collide:local}}
GO=${GO:-go}
export DOCKER_BUILDKIT=0 # the classic builder: FROM scratch needs no registry and no buildx

if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
  echo "image: no Docker engine (docker info failed)" >&2
  exit 3
fi

ctx=$(mktemp -d /var/tmp/collide-image.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w -X main.version=$version" -o "$ctx/collide" ./cmd/collide
cp deploy/Dockerfile "$ctx/"
mkdir -m 1777 "$ctx/tmp"
chmod 1777 "$ctx/tmp"
sum=$(cat "$ctx/collide" "$ctx/Dockerfile" | sha256sum | cut -d" " -f1) # the binary and the Dockerfile
if [ "${FORCE:-0}" != 1 ] && [ "$(docker image inspect -f '{{ index .Config.Labels "dev.collide.sha256" }}' "$IMAGE" 2>/dev/null || true)" = "$sum" ]; then
  echo "image: $IMAGE is up to date"
  exit 0
fi
old=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
if ! docker build -q --label "dev.collide.sha256=$sum" -t "$IMAGE" "$ctx" >"$ctx/build.log" 2>&1; then
  cat "$ctx/build.log" >&2
  echo "image: docker build of $IMAGE failed" >&2
  exit 1
fi
# The previous build, now untagged, would pile up with every change.
[ -z "$old" ] || [ "$old" = "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ] || docker rmi "$old" >/dev/null 2>&1 || true
echo "image: built $IMAGE ($version)"
