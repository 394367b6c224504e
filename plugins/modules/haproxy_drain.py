#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: haproxy_drain
short_description: Drain the HAProxy servers that have given addresses, and wait until they answer no request
version_added: 0.1.0
description:
  - For servers found through DNS (a C(server-template)), whose names say nothing of the replica behind them, such as
    the replicas of a compose service. M(community.general.haproxy) acts on servers by name; this module finds them by
    address first, through HAProxy's admin socket (C(show servers state)).
  - O(state=drained) puts each server of O(backend) whose address is in O(addresses) in drain (HAProxy sends it no new
    request; a sticky client moves to another server) and waits until none of them answers a request or has one queued,
    at most O(timeout) seconds; a drain that outlasts it is not an error (the caller then stops the server anyway). It
    returns their names in RV(servers).
  - O(state=ready) takes the servers of O(names) out of drain (or maintenance). A slot of a C(server-template) keeps
    its administrative state when DNS gives it another address, so the slot of a removed replica must be made ready
    again, or the next replica DNS puts there gets no request.
  - An address no server of O(backend) has is not an error (a replica HAProxy has not resolved yet).
author:
  - plumber.hosting contributors (@plumber-hosting)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - plumber.hosting.haproxy
attributes:
  check_mode:
    support: full
    details:
      - Reads the servers' states and reports what would change; sends no command.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  state:
    description: V(drained) drains the servers of O(addresses) and waits; V(ready) takes the servers of O(names) back.
    type: str
    choices: [drained, ready]
    required: true
  addresses:
    description: With O(state=drained), the IPv4 addresses of the servers to drain.
    type: list
    elements: str
    default: []
  names:
    description: With O(state=ready), the names of the servers to take back (what O(state=drained) returned).
    type: list
    elements: str
    default: []
  timeout:
    description: With O(state=drained), seconds the servers have to finish the requests they are answering.
    type: int
    default: 60
"""

EXAMPLES = r"""
- name: Drain the old replicas of hello at the compose stack's HAProxy
  plumber.hosting.haproxy_drain:
    socket: /opt/plumber-compose/run/haproxy.sock
    backend: hello
    addresses: [172.20.0.5, 172.20.0.6]
    state: drained
    timeout: 60
  register: drained

- name: Make their slots ready for the next replicas, once the old ones are removed
  plumber.hosting.haproxy_drain:
    socket: /opt/plumber-compose/run/haproxy.sock
    backend: hello
    names: "{{ drained.servers }}"
    state: ready
"""

RETURN = r"""
servers:
  description: Names of the servers the task acted on (or would have, in check mode).
  returned: always
  type: list
  elements: str
  sample: [hello2, hello5]
busy:
  description: With O(state=drained), the servers still answering a request when O(timeout) ran out.
  returned: always
  type: list
  elements: str
  sample: []
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.plumber.hosting.plugins.module_utils._haproxy import HAPROXY_OPTIONS, command, counter, stats, valid_backend

# HAProxy's server administrative state bits (show servers state, srv_admin_state).
ADMIN_FORCED_MAINT = 0x01
ADMIN_FORCED_DRAIN = 0x08


def servers_state(path, backend):
    """{name: (address, admin_state)} of the backend's servers (show servers state, format 1)."""
    servers = {}
    for line in command(path, 'show servers state %s' % backend).splitlines():
        fields = line.split()
        # be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
        if len(fields) > 6 and not line.startswith('#') and fields[1] == backend:
            servers[fields[3]] = (fields[4], int(fields[6]))
    return servers


def sessions(path, backend, names):
    """{name: requests it answers or has queued} (show stat: scur + qcur)."""
    rows = stats(path, backend)
    return {name: counter(rows[name], 'scur') + counter(rows[name], 'qcur') for name in names if name in rows}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **HAPROXY_OPTIONS,
            state=dict(type='str', required=True, choices=['drained', 'ready']),
            addresses=dict(type='list', elements='str', default=[]),
            names=dict(type='list', elements='str', default=[]),
            timeout=dict(type='int', default=60),
        ),
        supports_check_mode=True,
    )
    path, backend, state = module.params['socket'], module.params['backend'], module.params['state']
    if not valid_backend(backend):
        module.fail_json(msg='backend %r is not a backend name' % backend)
    try:
        servers = servers_state(path, backend)
    except OSError as error:
        module.fail_json(msg='cannot talk to HAProxy on its admin socket %s: %s' % (path, error))
    if not servers:
        module.fail_json(msg='HAProxy has no backend %r with servers (show servers state %s)' % (backend, backend))

    if state == 'drained':
        wanted = set(module.params['addresses'])
        names = sorted(name for name, (address, _admin) in servers.items() if address in wanted)
        todo = [name for name in names if not servers[name][1] & ADMIN_FORCED_DRAIN]
        if module.check_mode:
            module.exit_json(changed=bool(todo), servers=names, busy=[])
        for name in todo:
            answer = command(path, 'set server %s/%s state drain' % (backend, name)).strip()
            if answer:
                module.fail_json(msg='HAProxy refused to drain %s/%s: %s' % (backend, name, answer), servers=names)
        deadline = time.monotonic() + module.params['timeout']
        busy = sessions(path, backend, names)
        while any(busy.values()) and time.monotonic() < deadline:
            time.sleep(0.5)
            busy = sessions(path, backend, names)
        module.exit_json(changed=bool(todo), servers=names, busy=sorted(name for name, count in busy.items() if count))

    names = [name for name in module.params['names'] if name in servers]
    todo = [name for name in names if servers[name][1] & (ADMIN_FORCED_DRAIN | ADMIN_FORCED_MAINT)]
    if not module.check_mode:
        for name in todo:
            answer = command(path, 'set server %s/%s state ready' % (backend, name)).strip()
            if answer:
                module.fail_json(msg='HAProxy refused to make %s/%s ready: %s' % (backend, name, answer), servers=names)
    module.exit_json(changed=bool(todo), servers=names, busy=[])


if __name__ == '__main__':
    main()
