#!/usr/bin/env bash
# Builds the Molecule instance images locally and caches them by recipe: a second run with the
# same recipe reuses the image. The Debian base comes from a registry when one answers, else
# from debootstrap with this machine's Debian mirror.
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "$0")/common.sh"

base=plumber-hosting-test/debian:bookworm

ensure_base() {
  docker image inspect "$base" >/dev/null 2>&1 && return 0
  if timeout 60 docker pull -q debian:bookworm >/dev/null 2>&1; then
    log "Base image pulled from the registry"
    docker tag debian:bookworm "$base"
    return 0
  fi
  log "No registry answered; building the base image with debootstrap"
  local dir start=$SECONDS
  dir=$(mktemp -d)
  as_root debootstrap --variant=minbase bookworm "$dir" "$(debian_mirror)" >"$CACHE/debootstrap.log" 2>&1 \
    || die "debootstrap failed, see $CACHE/debootstrap.log"
  as_root tar -C "$dir" -c . | docker import - "$base" >/dev/null
  as_root rm -rf "$dir"
  log "Built $base in $((SECONDS - start)) s"
}

# A recipe with a file `parent` (the name of another recipe) builds on that image, built first;
# the others build on the Debian base. (Not by name order: with the trailing / of a glob,
# debian12-systemd-r/ sorts before debian12-systemd/ in the C locale.)
declare -A BUILT=()
build_recipe() {
  local name=$1 recipe=$ROOT/tests/images/$1 tag hash ctx base=$base
  [ -z "${BUILT[$name]:-}" ] || return 0
  if [ -f "$recipe/parent" ]; then
    [ -f "$ROOT/tests/images/$(cat "$recipe/parent")/Dockerfile" ] || die "tests/images/$name/parent names no recipe"
    build_recipe "$(cat "$recipe/parent")"
    base=plumber-hosting-test/$(cat "$recipe/parent"):latest
  fi
  ctx=$(mktemp -d)
  cp -a "$recipe/." "$ctx/"
  mkdir -p "$ctx/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$ctx/ca-certificates/" 2>/dev/null || true
  hash=$( (docker image inspect -f '{{.Id}}' "$base"; cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-12)
  tag=plumber-hosting-test/$name:$hash
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    local start=$SECONDS
    log "Building image $tag"
    DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$base" -t "$tag" "$ctx" >"$CACHE/build-$name.log" 2>&1 \
      || { tail -n 30 "$CACHE/build-$name.log" >&2; die "building $name failed"; }
    log "Built $tag in $((SECONDS - start)) s"
  fi
  # Scenarios name the image by this stable tag.
  docker tag "$tag" "plumber-hosting-test/$name:latest"
  rm -rf "$ctx"
  BUILT[$name]=1
  # tests/run starts the scenarios whose images are all marked ready while the others still build.
  touch "$READY/$name"
}

READY=$CACHE/images-ready
rm -rf "$READY" && mkdir -p "$READY"
docker info >/dev/null 2>&1 || die "Docker is not running; tests/run setup installs and starts it"
ensure_base
# The recipes built on the Debian base first (quick ones: the Docker scenarios need only those),
# then those built on another recipe (debian12-systemd-r, the longest).
for recipe in "$ROOT"/tests/images/*/; do
  [ -f "$recipe/parent" ] || build_recipe "$(basename "$recipe")"
done
for recipe in "$ROOT"/tests/images/*/; do
  build_recipe "$(basename "$recipe")"
done
log "Images ready: $(docker images --format '{{.Repository}}:{{.Tag}}' 'plumber-hosting-test/*' | grep ':latest' | tr '\n' ' ')"
