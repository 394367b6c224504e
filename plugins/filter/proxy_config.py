# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: proxy_config
short_description: plumber_proxy checked and normalised
version_added: 0.1.0
description:
  - Checks C(plumber_proxy), the one variable the nginx and HAProxy templates of plumber.hosting.proxy read, with the
    grammars nginx and HAProxy accept (host names, C(host:port), IPv4 addresses, sizes like V(100m), log targets, backend
    names and URL paths), and returns it with its types converted and its defaults filled in.
  - Each error names the variable and the value, for example
    C(plumber_proxy.backends[1].path '/a b' is not a URL path prefix like '/hello' ...).
  - The options are those of the C(configure) entry point of plumber.hosting.proxy (its C(meta/argument_specs.yml)).
author:
  - plumber.hosting contributors (@plumber-hosting)
options:
  _input:
    description: The value of C(plumber_proxy), a dict with C(router), C(balancer) and C(backends).
    type: dict
    required: true
  var:
    description: Name of the variable in error messages.
    type: str
    default: plumber_proxy
"""

EXAMPLES = r"""
- name: Check plumber_proxy before anything is written
  ansible.builtin.set_fact:
    my_proxy: "{{ plumber_proxy | plumber.hosting.proxy_config }}"
"""

RETURN = r"""
_value:
  description:
    - The input with integers as integers, C(router.resolver), C(balancer.nameservers), C(router.tls.port) and the
      backends' C(health), C(docs) and C(sticky) filled in when absent. An absent C(router.tls), C(server_template) or
      C(servers) stays absent.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.plumber.hosting.plugins.module_utils._proxy import ProxyError, plain, validate_proxy


def proxy_config(proxy, var='plumber_proxy'):
    try:
        return validate_proxy(plain(proxy), var=var)
    except ProxyError as exc:
        raise AnsibleFilterError('proxy_config: %s' % exc) from None


class FilterModule:
    def filters(self):
        return {'proxy_config': proxy_config}
