# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: r_literal
short_description: A value as R source code
version_added: 0.1.0
description:
  - Writes a value as an R expression that evaluates to it, for templates that render R files; whatever a string holds
    (quotes, backslashes, newlines, C(${...}), non-ASCII letters), R reads back the same string.
  - Strings become C("...") with R's escapes, booleans C(TRUE)/C(FALSE), numbers plain numbers, V(null) C(NULL), lists
    C(list(...)) and dicts C(list(name = value, ...)) (names quoted, so any name is allowed).
author:
  - plumber.hosting contributors (@plumber-hosting)
options:
  _input:
    description: The value.
    type: raw
    required: true
"""

EXAMPLES = r"""
# health <- "/healthz"
- name: Render an R assignment
  ansible.builtin.debug:
    msg: 'health <- {{ "/healthz" | plumber.hosting.r_literal }}'
"""

RETURN = r"""
_value:
  description: R source code.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.plumber.hosting.plugins.module_utils._loader import r_literal as _r_literal


def r_literal(value):
    try:
        return _r_literal(value)
    except ValueError as exc:
        raise AnsibleFilterError('r_literal: %s' % exc) from None


class FilterModule:
    def filters(self):
        return {'r_literal': r_literal}
