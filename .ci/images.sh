#!/usr/bin/env bash
# Builds, locally and without any registry, the images the container tests
# use (see docs/stacks.md):
#
#   collide-demo:test       FROM scratch + a static build of cmd/collide (runs `collide demo`)
#   collide-toxiproxy:test  FROM scratch + a static build of Toxiproxy's cmd/server (go.mod's version)
#   collide-postgres:test   PostgreSQL 15 from Debian bookworm (debootstrap → docker import as
#                           collide-postgres-rootfs:bookworm, kept to skip debootstrap next time),
#                           with an entry point compatible with testcontainers' postgres module
#
# Idempotent: the demo image is rebuilt only when the collide binary changed
# (its sha256 is a label of the image); the other two only when missing.
# FORCE=1 rebuilds. Arguments pick images: .ci/images.sh postgres. Without a Docker engine it does nothing (the
# container tests then skip, outside CI). Tests find the images through
# COLLIDE_TEST_DEMO_IMAGE, COLLIDE_TEST_TOXIPROXY_IMAGE and
# COLLIDE_TEST_PG_IMAGE, which default to these tags.
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_IMAGE=${COLLIDE_TEST_DEMO_IMAGE:-collide-demo:test}
TOXIPROXY_IMAGE=${COLLIDE_TEST_TOXIPROXY_IMAGE:-collide-toxiproxy:test}
PG_IMAGE=${COLLIDE_TEST_PG_IMAGE:-collide-postgres:test}
FORCE=${FORCE:-0}
export DOCKER_BUILDKIT=0 # the classic builder: FROM scratch needs no registry and no buildx

if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
  echo "images: no Docker engine (docker info failed); container tests will skip" >&2
  exit 0
fi

work=$(mktemp -d /var/tmp/collide-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

has_image() { [ "$FORCE" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }
label_of() { docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }
took() { echo "images: $1 in $(($(date +%s) - $2))s"; }
# docker build, quiet unless it fails (the classic builder's deprecation
# notice is noise here).
build() {
  if ! docker build -q "$@" >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    echo "images: docker build $* failed" >&2
    exit 1
  fi
}

build_demo() {
  local t0 ctx sum
  t0=$(date +%s)
  ctx=$work/demo
  mkdir -p "$ctx"
  cp testdata/images/demo/Dockerfile "$ctx/"
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ctx/collide" ./cmd/collide
  sum=$(sha256sum "$ctx/collide" | cut -d' ' -f1)
  if [ "$FORCE" != 1 ] && [ "$(label_of "$DEMO_IMAGE" dev.collide.sha256)" = "$sum" ]; then
    echo "images: $DEMO_IMAGE is up to date"
    return
  fi
  local old
  old=$(docker image inspect -f '{{.Id}}' "$DEMO_IMAGE" 2>/dev/null || true)
  build --label "dev.collide.sha256=$sum" -t "$DEMO_IMAGE" "$ctx"
  # The previous build, now untagged, would pile up with every change.
  [ -z "$old" ] || [ "$old" = "$(docker image inspect -f '{{.Id}}' "$DEMO_IMAGE")" ] || docker rmi "$old" >/dev/null 2>&1 || true
  took "built $DEMO_IMAGE" "$t0"
}

build_toxiproxy() {
  local t0 ctx ver
  if has_image "$TOXIPROXY_IMAGE"; then
    echo "images: $TOXIPROXY_IMAGE exists"
    return
  fi
  t0=$(date +%s)
  ctx=$work/toxiproxy
  mkdir -p "$ctx"
  cp testdata/images/toxiproxy/Dockerfile "$ctx/"
  ver=$(go list -m -f '{{.Version}}' github.com/Shopify/toxiproxy/v2)
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/Shopify/toxiproxy/v2.Version=${ver#v}" \
    -o "$ctx/toxiproxy" github.com/Shopify/toxiproxy/v2/cmd/server
  build --label "dev.collide.toxiproxy=$ver" -t "$TOXIPROXY_IMAGE" "$ctx"
  took "built $TOXIPROXY_IMAGE (toxiproxy $ver)" "$t0"
}

debian_mirror() {
  if [ -n "${COLLIDE_DEBIAN_MIRROR:-}" ]; then
    echo "$COLLIDE_DEBIAN_MIRROR"
    return
  fi
  local m
  m=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  echo "${m:-http://deb.debian.org/debian}"
}

build_postgres() {
  local t0 root mirror rootfs=collide-postgres-rootfs:bookworm ctx
  if has_image "$PG_IMAGE"; then
    echo "images: $PG_IMAGE exists"
    return
  fi
  t0=$(date +%s)
  if ! has_image "$rootfs"; then
    if ! command -v debootstrap >/dev/null; then
      [ "$(id -u)" = 0 ] || { echo "images: debootstrap is missing and installing it needs root" >&2; exit 1; }
      apt-get install -y -qq debootstrap >/dev/null
    fi
    root=$work/postgres-rootfs
    mirror=$(debian_mirror)
    debootstrap --variant=minbase --include=postgresql-15 bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
      tail -n 30 "$work/debootstrap.log" >&2
      echo "images: debootstrap from $mirror failed" >&2
      exit 1
    }
    # The package's own cluster is not used: the entry point creates one in
    # $PGDATA on first start, from POSTGRES_* (like the official image).
    rm -rf "$root/var/lib/postgresql/15" "$root/etc/postgresql/15" \
      "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* "$root/var/log/"*.log
    tar -C "$root" -c . | docker import -c 'LABEL dev.collide.rootfs=debian-bookworm-postgresql-15' - "$rootfs" >/dev/null
    rm -rf "$root"
    took "made $rootfs from $mirror" "$t0"
  fi
  ctx=$work/postgres
  mkdir -p "$ctx"
  cp testdata/images/postgres/Dockerfile testdata/images/postgres/docker-entrypoint.sh "$ctx/"
  build --build-arg "ROOTFS=$rootfs" -t "$PG_IMAGE" "$ctx"
  took "built $PG_IMAGE" "$t0"
}

# Arguments pick images (demo, toxiproxy, postgres); none builds all three.
for what in "${@:-demo toxiproxy postgres}"; do
  for w in $what; do
    case $w in
      demo) build_demo ;;
      toxiproxy) build_toxiproxy ;;
      postgres) build_postgres ;;
      *) echo "usage: $0 [demo|toxiproxy|postgres]..." >&2; exit 2 ;;
    esac
  done
done
