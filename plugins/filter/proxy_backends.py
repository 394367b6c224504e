# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: proxy_backends
short_description: The backends of plumber_proxy for the hosts behind one front
version_added: 0.1.0
description:
  - Builds C(plumber_proxy.backends), what the nginx and HAProxy templates of plumber.hosting.proxy route to, from the
    C(plumber_apis) of every host behind one front (nginx and HAProxy).
  - Checks each host's C(plumber_apis) with the schema of M(plumber.hosting.validate_apis), naming
    C(hostvars['<host>'].plumber_apis) in errors, and fills in its defaults and ports.
  - One backend per API name. An API of a C(pm2), C(systemd) or C(docker) host gets static C(servers), one per worker
    port at the host's C(address); the same API on several such hosts is one backend with the servers of all of them,
    and must have the same C(path), C(health), C(docs) and C(sticky) on each. An API of a C(compose) host gets a
    C(server_template), the replicas of its compose service, found by DNS.
  - Fails naming the hosts and the value when two different APIs share a path (paths are unique across every host behind
    one front), when the same API differs between hosts, and when an API of a compose host is also on another host
    (not supported yet).
  - The order is stable, so a rerun renders the same files. APIs come in the order of C(plumber_apis), hosts by name; servers
    by host name, then port.
author:
  - plumber.hosting contributors (@plumber-hosting)
options:
  _input:
    description:
      - The hosts behind the front, each a dict with C(name) (the inventory host), C(address) (the IPv4 address or host
        name the front reaches it at), C(apis) (the host's raw C(plumber_apis)) and C(process_manager) (V(pm2),
        V(systemd), V(docker) or V(compose)).
    type: list
    elements: dict
    required: true
  sticky_all:
    description: Sticky sessions for every API, whatever its own C(sticky) says.
    type: bool
    default: false
  compose_port:
    description: Port the API replicas of compose hosts listen on. Required when a host is a compose host.
    type: int
  slots:
    description:
      - Server slots per API of a compose host (C(server_template.count)), or twice its C(workers) when that is more.
        Required when a host is a compose host.
    type: int
  var:
    description: Name of the input in error messages about its shape (each host's own C(plumber_apis) is named through C(hostvars)).
    type: str
    default: hosts
"""

EXAMPLES = r"""
# One compose host: each API's replicas found through Docker's DNS.
- name: Describe the APIs of this host as backends
  ansible.builtin.set_fact:
    my_backends: >-
      {{ [{'name': inventory_hostname, 'address': '127.0.0.1', 'apis': plumber_apis, 'process_manager': 'compose'}]
         | plumber.hosting.proxy_backends(compose_port=8000, slots=8) }}

# Two plain servers behind one front; an API listed on both gets the workers of both.
- name: Describe the APIs of two hosts as backends
  ansible.builtin.set_fact:
    my_backends: "{{ my_hosts | plumber.hosting.proxy_backends(sticky_all=true) }}"
  vars:
    my_hosts:
      - {name: web1, address: 10.0.0.11, apis: "{{ hostvars['web1'].plumber_apis }}", process_manager: systemd}
      - {name: web2, address: 10.0.0.12, apis: "{{ hostvars['web2'].plumber_apis }}", process_manager: pm2}
"""

RETURN = r"""
_value:
  description:
    - One backend per API, as C(plumber_proxy.backends) takes it (see the C(configure) entry point of plumber.hosting.proxy).
    - Each has C(name), C(path), C(health), C(docs), C(sticky) and either C(servers) (a list of V(address:port)) or
      C(server_template) (C(host), C(port), C(count)).
  type: list
  elements: dict
  sample:
    - name: hello
      path: /hello
      health: /healthz
      docs: false
      sticky: false
      servers: ["10.0.0.11:8000", "10.0.0.11:8001", "10.0.0.12:8000", "10.0.0.12:8001"]
    - name: greeter
      path: /greeter
      health: /healthz
      docs: true
      sticky: false
      server_template: {host: greeter, port: 8000, count: 8}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.plumber.hosting.plugins.module_utils._proxy import ProxyError, plain
from ansible_collections.plumber.hosting.plugins.module_utils._proxy import proxy_backends as _proxy_backends


def proxy_backends(hosts, sticky_all=False, compose_port=None, slots=None, var='hosts'):
    try:
        return _proxy_backends(plain(hosts), sticky_all=sticky_all, compose_port=compose_port, slots=slots, var=var)
    except ProxyError as exc:
        raise AnsibleFilterError('proxy_backends: %s' % exc) from None


class FilterModule:
    def filters(self):
        return {'proxy_backends': proxy_backends}
