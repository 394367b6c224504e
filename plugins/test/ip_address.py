# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ip_address
short_description: Is the value one IP address, written as nginx, HAProxy, Docker and R expect it
version_added: 0.1.0
description:
  - True for a string that is one IPv4 address in dotted-quad form (C(127.0.0.1), C(0.0.0.0)) or, unless O(version=4),
    one IPv6 address (C(::1), C(fd00::10)); nothing else (no host names, prefixes, zone ids, spaces or line breaks), so
    it can be written into a configuration file as it is.
author:
  - plumber.hosting contributors (@plumber-hosting)
options:
  _input:
    description: The value.
    type: raw
    required: true
  version:
    description: V(4) or V(6) for that version only; V(0) for either.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Check the address the workers listen on
  ansible.builtin.assert:
    that: api_bind_address is plumber.hosting.ip_address

- name: An IPv4 address only
  ansible.builtin.assert:
    that: compose_listen_address is plumber.hosting.ip_address(4)
"""

RETURN = r"""
_value:
  description: Whether the value is an IP address (of the version asked for).
  type: bool
"""

import ipaddress


def ip_address(value, version=0):
    if not isinstance(value, str) or not value or value != value.strip() or '%' in value:
        return False
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return version in (0, address.version)


class TestModule:
    def tests(self):
        return {'ip_address': ip_address}
