# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: repository_url
short_description: Is the value a CRAN-like repository URL
version_added: 0.1.0
description:
  - >-
    True for an C(http://), C(https://) or C(file://) URL without spaces, quotes or backslashes: the grammar
    of C(plumber_apis[].packages[].repos), so a role variable holding repositories accepts what the APIs
    accept.
author:
  - plumber.hosting contributors (@plumber-hosting)
options:
  _input:
    description: The value.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Check the repositories
  ansible.builtin.assert:
    that: api_image_r_repos | reject('plumber.hosting.repository_url') | list | length == 0
"""

RETURN = r"""
_value:
  description: Whether the value is a repository URL.
  type: bool
"""

from ansible_collections.plumber.hosting.plugins.module_utils._apis import REPO_URL_RE


def repository_url(value):
    return isinstance(value, str) and REPO_URL_RE.match(value) is not None


class TestModule:
    def tests(self):
        return {'repository_url': repository_url}
