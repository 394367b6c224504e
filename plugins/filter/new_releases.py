# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: new_releases
short_description: The APIs a run gives a new release, with their servers at the fronts
version_added: 0.1.0
description:
  - From C(api_deployments) (published by plumber.hosting.api), the APIs whose release this run changed (they had a
    previous one, and were not sent back to it), as the entry point C(watch) of plumber.hosting.proxy takes them
    (C(proxy_watch_backends)).
  - Each one's C(servers) are its workers as HAProxy names them, V(<address>:<port>); without O(address), V([]) (the
    backend as a whole, as for a compose stack's replicas).
author:
  - plumber.hosting contributors (@plumber-hosting)
options:
  _input:
    description: C(api_deployments).
    type: list
    elements: dict
    required: true
  address:
    description: The address the fronts reach the workers at (C(api_bind_address)); omitted for the backend as a whole.
    type: str
"""

EXAMPLES = r"""
- name: Read the error counters of the new releases at the fronts
  ansible.builtin.include_role:
    name: plumber.hosting.proxy
    tasks_from: watch
  vars:
    proxy_watch: baseline
    proxy_watch_fronts: "{{ api_fronts }}"
    proxy_watch_backends: "{{ api_deployments | plumber.hosting.new_releases(api_bind_address) }}"
"""

RETURN = r"""
_value:
  description: One item per API with a new release.
  type: list
  elements: dict
  sample:
    - name: hello
      servers: ["127.0.0.1:8000", "127.0.0.1:8001"]
"""


def new_releases(deployments, address=None):
    return [{'name': api['name'], 'servers': ['%s:%s' % (address, port) for port in api.get('ports', [])] if address else []}
            for api in deployments
            if api.get('previous_release') not in (None, '', api.get('release')) and not api.get('rolled_back')]


class FilterModule:
    def filters(self):
        return {'new_releases': new_releases}
