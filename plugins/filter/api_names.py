# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: api_names
short_description: The APIs a playbook's extra variable names, each one checked
version_added: 0.1.0
description:
  - Reads the names of APIs given to a playbook (C(remove_apis), C(rollback_apis), C(maintenance_on), ...) as a
    comma-separated string (the command line, an AWX survey) or a list, and returns them as a list.
  - Fails with the variable and its value when a name is not an API name (the grammar of C(plumber_apis[].name)), or
    names an API that no host of the group V(plumber_servers) lists in C(plumber_apis), or (O(required)) when none is
    named.
author:
  - plumber.hosting contributors (@plumber-hosting)
options:
  _input:
    description: The names, V(sales,forecast) or V([sales, forecast]); V('') or none for none.
    type: raw
    required: true
  var:
    description: The variable's name, for the error messages.
    type: str
    required: true
  groups:
    description: The inventory's groups, C(groups).
    type: dict
    required: true
  hostvars:
    description: The variables of every host, C(hostvars).
    type: dict
    required: true
  required:
    description: Fail when no API is named.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Name the APIs to remove
  ansible.builtin.debug:
    msg: "Removing {{ remove_apis | default('') | plumber.hosting.api_names('remove_apis', groups, hostvars) | join(', ') }}"
"""

RETURN = r"""
_value:
  description: The names, in the order given, each once.
  type: list
  elements: str
  sample: [sales, forecast]
"""

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.plumber.hosting.plugins.module_utils._apis import NAME_RE, NAME_RULE
from ansible_collections.plumber.hosting.plugins.module_utils._topology import SERVERS_GROUP


def api_names(value, var, groups, hostvars, required=True):
    usage = 'api_names: %s %s must name APIs of plumber_apis, comma-separated (-e %s=sales,forecast)' % (var, json.dumps(value, default=str), var)
    if value is None:
        value = ''
    if isinstance(value, str):
        value = value.split(',')
    if not isinstance(value, (list, tuple)) or not all(isinstance(name, str) for name in value):
        raise AnsibleFilterError(usage)
    names = list(dict.fromkeys(name.strip() for name in value if name.strip()))
    if required and not names:
        raise AnsibleFilterError(usage)
    invalid = [name for name in names if not NAME_RE.match(name)]
    if invalid:
        verb = 'is not an API name' if len(invalid) == 1 else 'are not API names'
        raise AnsibleFilterError('%s: %s %s (%s)' % (usage, ', '.join(repr(name) for name in invalid), verb, NAME_RULE))
    hosted = set()
    for host in groups.get(SERVERS_GROUP) or []:
        for api in hostvars[host].get('plumber_apis') or []:
            if isinstance(api, dict):
                hosted.add(api.get('name'))
    unknown = [name for name in names if name not in hosted]
    if unknown:
        raise AnsibleFilterError('api_names: %s names %s, which no host of %s lists in plumber_apis' % (var, ', '.join(unknown), SERVERS_GROUP))
    return names


class FilterModule:
    def filters(self):
        return {'api_names': api_names}
