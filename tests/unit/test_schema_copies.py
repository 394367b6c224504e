"""The schemas are written once (module_utils/_apis.py, _proxy.py, each role's meta/argument_specs.yml);
their documented copies, the role README variable tables included, must match them."""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import pytest
import yaml

from ansible_collections.plumber.hosting.plugins.module_utils._apis import PROCESS_MANAGERS
from ansible_collections.plumber.hosting.plugins.modules import validate_apis as module

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLE_READMES = sorted(ROOT.glob('roles/*/README.md'))


def _sync_schema():
    spec = importlib.util.spec_from_file_location('sync_schema', ROOT / 'tests/harness/sync_schema.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_schema_copies_are_current():
    proc = subprocess.run([sys.executable, str(ROOT / 'tests/harness/sync_schema.py'), '--check'],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize('readme', ROLE_READMES, ids=lambda path: path.parent.name)
def test_role_readme_variables_are_generated(readme):
    """Each role README has one generated variables block; a stale one is caught by the check above."""
    sync = _sync_schema()
    text = readme.read_text()
    assert len(sync.ROLE_BEGIN.findall(text)) == 1, '%s: no (or more than one) generated variables block' % readme
    targets = [target for target in sync.TARGETS if target[0] == str(readme.relative_to(ROOT))]
    assert len(targets) == 1, 'sync_schema does not render %s' % readme
    target = targets[0]
    assert sync.render(text, *target[1:]) == text
    row = next(line for line in text.splitlines() if line.startswith('| `'))
    stale = text.replace(row, row.replace(' | ', ' | stale ', 1), 1)
    assert sync.render(stale, *target[1:]) == text, 'a hand-edited row is not regenerated'
    assert sync.render(text.replace(row + '\n', '', 1), *target[1:]) == text, 'a missing row is not regenerated'


def test_process_manager_choices_follow_the_table():
    """The documented choices of plumber_process_manager are the table in _apis.py, in its order."""
    specs = yaml.safe_load((ROOT / 'roles/api/meta/argument_specs.yml').read_text(encoding='utf-8'))
    assert specs['argument_specs']['main']['options']['plumber_process_manager']['choices'] == list(PROCESS_MANAGERS)
    assert yaml.safe_load(module.DOCUMENTATION)['options']['process_manager']['choices'] == list(PROCESS_MANAGERS)
