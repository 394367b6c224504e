# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: topology
short_description: What one host does among the fronts and app hosts of an inventory
version_added: 0.1.0
description:
  - Reads the inventory groups C(plumber_servers) (hosts running R workers) and C(plumber_fronts) (hosts running nginx
    and HAProxy in front of them) and tells one host what it runs and whom it talks to.
  - With a C(plumber_fronts) group, every front balances the workers of every host of C(plumber_servers); a host may be
    in both. Without one (or with an empty one), each pm2, systemd or docker host of C(plumber_servers) is its own front,
    unless its C(plumber_front) is false. Compose hosts carry their own front in their stack.
  - Workers listen on 127.0.0.1 when only their own host fronts them, else on the host's private address, which is
    C(plumber_private_address), by default the address of its default IPv4 route (C(ansible_facts.default_ipv4)).
  - Fails naming the group, host or variable when a front has no app host, a compose host is a front or is behind one,
    or an app host has no usable private address.
author:
  - plumber.hosting contributors (@plumber-hosting)
options:
  _input:
    description: The inventory's groups, C(groups).
    type: dict
    required: true
  hostvars:
    description: The variables of every host, C(hostvars).
    type: dict
    required: true
  host:
    description: The host to describe, normally C(inventory_hostname).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Work out what this host runs
  ansible.builtin.set_fact:
    my_topology: "{{ groups | plumber.hosting.topology(hostvars, inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: What the host runs and whom it talks to.
  type: dict
  contains:
    workers:
      description: The host runs the workers of its C(plumber_apis) (it is in C(plumber_servers)).
      type: bool
    front:
      description: The host runs nginx and HAProxy for the workers of RV(_value.app_hosts).
      type: bool
    worker_address:
      description: The address the host's workers listen on.
      type: str
      sample: 127.0.0.1
    fronts:
      description: The other hosts whose HAProxy reaches this host's workers, each with C(name) and C(address).
      type: list
      elements: dict
    app_hosts:
      description:
        - For a front, the hosts it balances, each with C(name), C(address) (where their workers listen), C(apis) and
          C(process_manager); the input of the filter plumber.hosting.proxy_backends.
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.plumber.hosting.plugins.module_utils._topology import TopologyError
from ansible_collections.plumber.hosting.plugins.module_utils._topology import topology as _topology


def topology(groups, hostvars, host):
    try:
        return _topology(groups, hostvars, host)
    except TopologyError as exc:
        raise AnsibleFilterError('topology: %s' % exc) from None


class FilterModule:
    def filters(self):
        return {'topology': topology}
