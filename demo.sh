#!/usr/bin/env bash
# The demo: ./demo.sh [up [systemd|pm2|docker|compose]] hosts the sample API (two workers) on a local container
# that plays the server, with playbooks/site.yml, and prints an answer from each worker.
# Running it again changes nothing. ./demo.sh down removes the container.
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "$0")/tests/harness/common.sh"
cd "$ROOT"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.collections"

action=${1:-up}
case $action in
  up)
    manager=${2:-systemd}
    tests/harness/setup-host.sh
    tests/harness/build-images.sh
    ansible-playbook playbooks/demo.yml -e "demo_process_manager=$manager"
    ;;
  down)
    ansible-playbook playbooks/demo.yml -e demo_state=absent
    ;;
  *) die "usage: ./demo.sh [up [systemd|pm2|docker|compose] | down]" ;;
esac
