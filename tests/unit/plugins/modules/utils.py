# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the module tests share: exit_json and fail_json that raise instead of exiting, running a module's
main() with the task's parameters, and substituting strings in nested test data. Each test keeps its own
fakes (command runners, clocks), which differ from module to module."""

from __future__ import annotations

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args


class AnsibleExitJson(Exception):
    """AnsibleModule.exit_json was called (see patch_exits); args[0] is the result."""


class AnsibleFailJson(Exception):
    """AnsibleModule.fail_json was called (see patch_exits); args[0] is the result."""


def patch_exits(monkeypatch):
    """Make AnsibleModule.exit_json raise AnsibleExitJson and fail_json raise AnsibleFailJson."""
    def exit_json(module, **kwargs):
        raise AnsibleExitJson(kwargs)

    def fail_json(module, **kwargs):
        raise AnsibleFailJson(kwargs)

    monkeypatch.setattr(AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(AnsibleModule, 'fail_json', fail_json)


def run_main(module, params, expect=AnsibleExitJson):
    """Run module.main() with params as the task's parameters (patch_exits in place); the test fails unless
    it exits by raising expect (a class, or a tuple of classes). Returns (result, the class it raised)."""
    with patch_module_args(params):
        with pytest.raises(expect) as caught:
            module.main()
    return caught.value.args[0], caught.type


def substitute(value, replace):
    """value with replace(text) in place of every string text in it, through nested lists, tuples and dicts
    (dict keys are kept as they are)."""
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, list):
        return [substitute(item, replace) for item in value]
    if isinstance(value, tuple):
        return tuple(substitute(item, replace) for item in value)
    if isinstance(value, dict):
        return dict((key, substitute(item, replace)) for key, item in value.items())
    return value
