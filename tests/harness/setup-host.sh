#!/usr/bin/env bash
# Installs what the tests need on this machine, once. Two parts, both by default:
#   engine  the Docker engine + compose v2 and debootstrap: what building the images needs
#   tools   rsync, git, R with plumber, the Python venv with pinned tools, and the collection link
#           Ansible imports from (tests/run builds the images while this part runs)
# Every step checks first, so a second run costs a few seconds.
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "$0")/common.sh"

apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

# apt_install_missing package...: the ones not installed yet (the caller checks a command of each).
apt_install_missing() {
  [ $# -gt 0 ] || return 0
  log "Installing $*"
  as_root apt-get update -q >/dev/null
  apt_install "$@"
}

engine() {
  local missing=() tmp opts
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  apt_install_missing "${missing[@]}"

  if ! docker info >/dev/null 2>&1; then
    log "Starting the Docker daemon"
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
      as_root systemctl start docker
    else
      as_root setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
    fi
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || die "dockerd did not start; see /var/log/dockerd.log"
  fi

  # Compose v2 is not packaged for Debian 12; Debian 13's build runs on 12. A separate apt state
  # fetches it without touching the system's sources.
  if ! docker compose version >/dev/null 2>&1; then
    log "Installing docker compose v2 (Debian trixie package)"
    tmp=$(mktemp -d)
    echo "deb $(debian_mirror) trixie main" > "$tmp/trixie.list"
    mkdir -p "$tmp/lists/partial"
    opts=(-o "Dir::Etc::sourcelist=$tmp/trixie.list" -o Dir::Etc::sourceparts=/dev/null -o "Dir::State::Lists=$tmp/lists")
    as_root apt-get "${opts[@]}" update -q >/dev/null
    (cd "$tmp" && as_root apt-get "${opts[@]}" download docker-compose >/dev/null)
    as_root dpkg -i "$tmp"/docker-compose_*.deb >/dev/null
    rm -rf "$tmp"
    docker compose version >/dev/null || die "docker compose v2 is not usable after install"
  fi
  log "Docker ready: $(docker version --format 'engine {{.Server.Version}}'), $(docker compose version --short | sed 's/^/compose /')"
}

tools() {
  local missing=() req stamp want link
  command -v rsync >/dev/null || missing+=(rsync)
  command -v git >/dev/null || missing+=(git)
  # The unit tests also load plumber APIs with the real R (plugins/modules/plumber_api.py).
  command -v Rscript >/dev/null || missing+=(r-base-core r-cran-plumber)
  apt_install_missing "${missing[@]}"

  # Python tools, pinned. Reinstalled only when tests/requirements.txt changes.
  req="$ROOT/tests/requirements.txt"
  stamp="$VENV/.requirements.sha256"
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "Creating the Python venv in $VENV"
    python3 -m venv "$VENV"
    mkdir -p "$CACHE"
    { "$VENV/bin/pip" install -q --upgrade pip && "$VENV/bin/pip" install -q -r "$req"; } >"$CACHE/pip.log" 2>&1 \
      || { grep -v 'is ignored' "$CACHE/pip.log" | tail -n 30 >&2; die "pip install failed, see $CACHE/pip.log"; }
    echo "$want" > "$stamp"
  fi

  # Ansible finds this checkout as the collection plumber.hosting through this link.
  link="$ROOT/.collections/ansible_collections/plumber/hosting"
  if [ ! -L "$link" ]; then
    mkdir -p "$(dirname "$link")"
    ln -sfn ../../.. "$link"
  fi
  log "Tools ready: $("$VENV/bin/ansible" --version | sed -n 1p)"
}

case ${1:-all} in
  engine) engine ;;
  tools) tools ;;
  all) engine; tools ;;
  *) die "usage: $0 [engine|tools|all]" ;;
esac
