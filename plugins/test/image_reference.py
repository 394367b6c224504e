# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: image_reference
short_description: Is the value a container image reference
version_added: 0.1.0
description:
  - >-
    True for a string like C(nginx:1.27), C(rstudio/plumber:v1.2.0) or
    C(registry.example.com:5000/team/api@sha256:<64 hex>):
    C([registry[:port]/]name[/name...][:tag][@sha256:digest]), at most 255 characters, nothing else (no
    spaces, quotes or line breaks), so it can be written into a Dockerfile or a compose file as it is.
author:
  - plumber.hosting contributors (@plumber-hosting)
options:
  _input:
    description: The value.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Check the base image
  ansible.builtin.assert:
    that: api_image_base is plumber.hosting.image_reference
"""

RETURN = r"""
_value:
  description: Whether the value is an image reference.
  type: bool
"""

import re

IMAGE_REFERENCE_RE = re.compile(
    r'^(?=.{1,255}\Z)([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?/)?[a-z0-9]+([._-]+[a-z0-9]+)*'
    r'(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?\Z')


def image_reference(value):
    return isinstance(value, str) and IMAGE_REFERENCE_RE.match(value) is not None


class TestModule:
    def tests(self):
        return {'image_reference': image_reference}
