# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plumber.hosting.pm2_info against recorded `pm2 jlist` outputs (fixtures/pm2/)."""

from __future__ import annotations

import json
import os

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plumber.hosting.plugins.modules import pm2_info
from ansible_collections.plumber.hosting.tests.unit.plugins.modules.utils import AnsibleExitJson, AnsibleFailJson, patch_exits, run_main

FIXTURE_DIR = os.path.join(os.path.dirname(__file__), 'fixtures', 'pm2')


def run(monkeypatch, tmp_path, jlist, daemon=True, rc=0, **params):
    calls = []

    def run_command(self, cmd, **kwargs):
        calls.append((cmd, kwargs.get('environ_update')))
        return rc, jlist, 'boom' if rc else ''

    patch_exits(monkeypatch)
    monkeypatch.setattr(AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda self, name, required=False: '/usr/bin/pm2')
    monkeypatch.setattr(pm2_info, 'daemon_running', lambda home: daemon)
    result, raised = run_main(pm2_info, dict(params, pm2_home=str(tmp_path)), expect=(AnsibleExitJson, AnsibleFailJson))
    return dict(result, failed=raised is AnsibleFailJson), calls


def recorded(name):
    with open(os.path.join(FIXTURE_DIR, name + '.json')) as fixture:
        return fixture.read()


@pytest.mark.parametrize('fixture, expected', [
    ('empty', []),
    ('banner-empty', []),
    ('two-online', [('w8101', 'online', 0), ('w8102', 'online', 0)]),
    ('errored', [('crasher', 'errored', 2)]),
    ('crashloop', [('crashloop', 'waiting restart', 2)]),
], ids=['empty', 'banner-before-json', 'two-online', 'errored', 'crashloop'])
def test_lists_every_process_with_status_and_restarts(monkeypatch, tmp_path, fixture, expected):
    result, calls = run(monkeypatch, tmp_path, recorded(fixture))
    assert calls == [(['/usr/bin/pm2', 'jlist'], {'LC_ALL': 'C', 'PM2_HOME': str(tmp_path)})]
    assert [(p['name'], p['status'], p['restarts']) for p in result['processes']] == expected
    assert result['changed'] is False and result['daemon_running'] is True


def test_secrets_are_not_returned(monkeypatch, tmp_path):
    result, _calls = run(monkeypatch, tmp_path, recorded('two-online'))
    text = json.dumps(result)
    assert 'GREETING' in text and 'SECRET_TOKEN' in text
    for proc in json.loads(recorded('two-online')):
        for key, value in (proc['pm2_env'].get('env') or {}).items():
            if key in ('GREETING', 'SECRET_TOKEN'):
                assert value not in text


def test_env_values_returns_only_the_named_variables_the_module_set(monkeypatch, tmp_path):
    # GREETING is set by pm2_process on w8102; HOME is in pm2's environment of both but not set by the module.
    result, _calls = run(monkeypatch, tmp_path, recorded('two-online'), env_values=['GREETING', 'HOME', 'MISSING'])
    assert [(p['name'], p['env']) for p in result['processes']] == [('w8101', {}), ('w8102', {'GREETING': 'hello'})]
    assert 's3cr3t-value' not in json.dumps(result)
    result, _calls = run(monkeypatch, tmp_path, recorded('two-online'))
    assert [p['env'] for p in result['processes']] == [{}, {}]


def test_a_stopped_daemon_is_not_started(monkeypatch, tmp_path):
    result, calls = run(monkeypatch, tmp_path, '', daemon=False)
    assert calls == []
    assert result['processes'] == [] and result['daemon_running'] is False


@pytest.mark.parametrize('jlist, rc, message', [
    ('not json at all', 0, 'could not parse the output of pm2 jlist: no JSON process list found'),
    ('', 1, 'pm2 jlist failed (rc 1): boom'),
], ids=['unparseable', 'command-fails'])
def test_errors_name_the_command(monkeypatch, tmp_path, jlist, rc, message):
    result, _calls = run(monkeypatch, tmp_path, jlist, rc=rc)
    assert result['failed'] and result['msg'].startswith(message)
    assert result['cmd'] == ['/usr/bin/pm2', 'jlist']
