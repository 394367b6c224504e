"""systemd specifics: units enabled, sandboxed, restart count visible, stale instances removed."""

from __future__ import annotations

import pytest
from ansible_collections.plumber.hosting.plugins.module_utils._apis import default_port

HELLO = default_port('hello')
UNITS = ['plumber-hello@%d' % HELLO, 'plumber-hello@%d' % (HELLO + 1), 'plumber-greeter@8100']


@pytest.mark.parametrize('unit', UNITS)
def test_unit_is_enabled_and_running(host, unit):
    service = host.service(unit)
    assert service.is_enabled and service.is_running, host.run('journalctl -u %s -n 30 --no-pager', unit).stdout


@pytest.mark.parametrize('setting, value', [
    ('User', 'plumber'), ('Restart', 'always'), ('NoNewPrivileges', 'yes'), ('ProtectSystem', 'strict'),
    ('ProtectHome', 'yes'), ('PrivateTmp', 'yes'), ('ReadWritePaths', '/srv/plumber/hello/data'),
])
def test_unit_is_sandboxed(host, setting, value):
    assert host.check_output('systemctl show --property %s --value %s', setting, UNITS[0]) == value


def test_worker_sees_a_read_only_system_and_a_writable_data_directory(host):
    pid = host.check_output('systemctl show --property MainPID --value %s' % UNITS[0])
    mounts = {}
    for line in host.file('/proc/%s/mountinfo' % pid).content_string.splitlines():
        fields = line.split()
        mounts[fields[4]] = fields[5].split(',')
    assert 'ro' in mounts['/'], mounts['/']
    assert 'rw' in mounts['/srv/plumber/hello/data'], mounts
    assert '/tmp' in mounts  # PrivateTmp


def main_pids(host, prefix):
    units = host.check_output("systemctl list-units --plain --no-legend --state=running '%s*'", prefix).split()
    return dict((unit, host.check_output('systemctl show --property MainPID --value %s', unit))
                for unit in units if unit.endswith('.service'))


def test_remove_playbook_removes_one_api_and_fewer_workers_stop_the_others_keep_running(host, play, plumber_apis):
    """playbooks/remove.yml takes greeter out (while hello goes down to one worker): its workers, unit file,
    route, code and environment file (secrets) go, its data stays. guarded and routered, listed after
    greeter, keep their default ports and their processes. The next converge brings it all back."""
    others = dict(main_pids(host, 'plumber-guarded@'), **main_pids(host, 'plumber-routered@'))
    assert len(others) == 2, others
    assert host.file('/srv/plumber/greeter/data').is_directory
    hello = [api for api in plumber_apis if api['name'] == 'hello'][0]
    result = play('../../playbooks/remove.yml', extra_vars={'remove_apis': 'greeter', 'test_api_hello': dict(hello, workers=1)})
    assert result.rc == 0, result
    assert not host.service(UNITS[1]).is_enabled
    assert host.run('curl -fsS http://127.0.0.1:%d/healthz' % (HELLO + 1)).rc != 0
    assert not host.file('/etc/systemd/system/plumber-greeter@.service').exists
    assert host.run('curl -fsS http://127.0.0.1:8100/healthz').rc != 0
    for gone in ('/srv/plumber/greeter/current', '/srv/plumber/greeter/incoming', '/srv/plumber/greeter/run-greeter.R',
                 '/etc/plumber/greeter.env'):
        assert not host.file(gone).exists, gone
    assert host.file('/srv/plumber/greeter/data').is_directory
    # The front: greeter's prefix is gone, hello still answers.
    assert host.check_output("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1/greeter/healthz") == '404'
    assert host.run('curl -fsS http://127.0.0.1/hello/healthz').rc == 0
    assert dict(main_pids(host, 'plumber-guarded@'), **main_pids(host, 'plumber-routered@')) == others

    still_listed = play('../../playbooks/remove.yml', extra_vars={'remove_apis': 'nosuch'})
    assert still_listed.rc != 0 and 'remove_apis names nosuch, which no host of plumber_servers lists' in still_listed.output, still_listed
    assert still_listed.changed == 0, still_listed

    restored = play('converge.yml')
    assert restored.rc == 0, restored
    assert host.service(UNITS[1]).is_running and host.service('plumber-greeter@8100').is_running
    assert host.file('/etc/plumber/greeter.env').mode == 0o640


# The data model is checked in the api role, the same for every process manager: tested here once.
@pytest.mark.parametrize('change, message', [
    ({'plumber_apis': [{'name': 'a', 'src': '/tmp'}, {'name': 'a', 'src': '/tmp'}]}, "plumber_apis[1].name 'a' is already used"),
    ({'plumber_apis': [{'name': 'a', 'src': '/tmp', 'port': 9000, 'workers': 2}, {'name': 'b', 'src': '/tmp', 'port': 9001}]},
     'plumber_apis[1] (b) ports 9001-9001 overlap plumber_apis[0] (a) ports 9000-9001'),
    ({'plumber_apis': [{'name': 'a', 'src': '/tmp', 'workers': 0}]}, 'plumber_apis[0].workers 0 must be between 1 and 64'),
    ({'plumber_apis': [{'name': 'a', 'src': '/tmp', 'port': 80}]}, 'plumber_apis[0].port 80'),
    ({'plumber_process_manager': 'supervisord'},
     "plumber_process_manager 'supervisord' is not a known process manager: choose one of pm2, systemd, docker, compose"),
    # The api role's own input, refused before r_runtime (which runs first) installs anything.
    ({'api_user': 'root', 'r_runtime_system_packages': ['tree']}, 'api_user "root"'),
], ids=['duplicate-name', 'overlapping-ports', 'zero-workers', 'port-80', 'unknown-manager', 'root-user-before-r-runtime'])
def test_bad_input_fails_before_any_change(play, change, message):
    result = play('converge.yml', extra_vars=change)
    assert result.rc != 0, result
    assert message in result.output, result
    assert result.changed == 0, result
