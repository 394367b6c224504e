# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options of the modules that talk to HAProxy through its admin socket (plugins/module_utils/_haproxy.py).
    DOCUMENTATION = r"""
options:
  socket:
    description: Path of HAProxy's admin socket (C(stats socket ... level admin)).
    type: path
    required: true
  backend:
    description: The backend of the servers.
    type: str
    required: true
"""
