# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: host_name
short_description: Is the value one DNS host name
version_added: 0.1.0
description:
  - True for a string that is a host name as DNS allows it (RFC 1123) - labels of letters, digits and C(-), 1 to 63
    characters, neither starting nor ending with C(-), joined by C(.), 253 characters at most - and nothing else (no
    wildcard, trailing dot, port, space or line break), so nginx, HAProxy and certbot can be given it as it is.
  - The grammar nginx's and HAProxy's configurations are checked against (filter plumber.hosting.proxy_config).
author:
  - plumber.hosting contributors (@plumber-hosting)
options:
  _input:
    description: The value.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Check the names of the certificate
  ansible.builtin.assert:
    that: tls_domains | reject('plumber.hosting.host_name') | list | length == 0
"""

RETURN = r"""
_value:
  description: Whether the value is a host name.
  type: bool
"""

from ansible_collections.plumber.hosting.plugins.module_utils._proxy import HOST_NAME_RE


def host_name(value):
    return isinstance(value, str) and HOST_NAME_RE.match(value) is not None


class TestModule:
    def tests(self):
        return {'host_name': host_name}
