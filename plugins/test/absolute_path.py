# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: absolute_path
short_description: Is the value an absolute path every file of this collection can hold as it is
version_added: 0.1.0
description:
  - True for a string that is an absolute path other than C(/), of letters, digits, C(.), C(_), C(-) and C(/), with no
    empty, C(.) or C(..) segment and no trailing C(/). Such a path needs no quoting in nginx, HAProxy, unit, compose and
    shell files, and names what it seems to name.
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
- name: Check compose_project_dir
  ansible.builtin.assert:
    that: compose_project_dir is plumber.hosting.absolute_path
"""

RETURN = r"""
_value:
  description: Whether the value is such a path.
  type: bool
"""

from ansible_collections.plumber.hosting.plugins.module_utils._proxy import FILE_RE


def absolute_path(value):
    return isinstance(value, str) and FILE_RE.match(value) is not None


class TestModule:
    def tests(self):
        return {'absolute_path': absolute_path}
