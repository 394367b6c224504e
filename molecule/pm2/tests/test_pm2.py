"""pm2 specifics: the book's recipe, run as the service user, saved for boot, logs rotated."""

from __future__ import annotations

import json

import pytest
from ansible_collections.plumber.hosting.plugins.module_utils._apis import default_port

PM2 = 'runuser -u plumber -- env PM2_HOME=/srv/plumber/.pm2 pm2 '
HELLO = default_port('hello')
WORKERS = ['hello-%d' % HELLO, 'hello-%d' % (HELLO + 1), 'greeter-8100']


def jlist(host):
    return {proc['name']: proc for proc in json.loads(host.check_output(PM2 + 'jlist'))}


@pytest.mark.parametrize('name', WORKERS)
def test_worker_runs_with_rscript_as_interpreter(host, name):
    proc = jlist(host)[name]
    assert proc['pm2_env']['status'] == 'online'
    assert proc['pm2_env']['exec_interpreter'] == '/usr/bin/Rscript'
    assert proc['pm2_env']['pm_exec_path'].endswith('/run-%s.R' % name.split('-')[0])


def test_pm2_daemon_runs_as_the_service_user_from_systemd(host):
    service = host.service('pm2-plumber')
    assert service.is_enabled and service.is_running
    pid = host.check_output('systemctl show --property MainPID --value pm2-plumber')
    assert 'PM2' in host.file('/proc/%s/cmdline' % pid).content_string
    assert host.check_output('stat -c %%U /proc/%s' % pid) == 'plumber'


def test_process_list_is_saved_for_boot(host):
    dump = host.file('/srv/plumber/.pm2/dump.pm2')
    assert dump.exists and dump.user == 'plumber' and dump.mode == 0o600
    assert sorted(proc['name'] for proc in json.loads(dump.content_string)) == sorted(WORKERS)


def test_logs_are_written_and_rotated(host):
    assert host.file('/srv/plumber/.pm2/logs/%s-out.log' % WORKERS[0]).exists or \
        host.file('/srv/plumber/.pm2/logs/%s-error.log' % WORKERS[0]).exists
    rotate = host.run('logrotate --debug /etc/logrotate.d/pm2-plumber')
    assert rotate.rc == 0, rotate.stderr
    assert '/srv/plumber/.pm2/logs/*.log' in host.file('/etc/logrotate.d/pm2-plumber').content_string


def test_restart_count_is_reported(host, play):
    """By every run of the pm2 role: here playbooks/deploy.yml's."""
    before = jlist(host)['greeter-8100']['pm2_env']['restart_time']
    host.run('kill -9 %d' % jlist(host)['greeter-8100']['pid'])
    result = play('../../playbooks/deploy.yml')
    assert result.rc == 0, result
    assert 'greeter-8100 has restarted %d times' % (before + 1) in result.output, result


def serving_pid(host, worker):
    """The one R process serving `worker` ("<api>-<port>"): R runs with --file=<wrapper> --args <port>."""
    api, port = worker.rsplit('-', 1)
    out = host.check_output("pgrep -f -- '--file=/srv/plumber/%s/run-%s.R --args %s$'" % (api, api, port))
    assert len(out.split()) == 1, (worker, out)
    return int(out)


TRACES = '/etc/ansible/facts.d/plumber_hosting_%s.fact'


def test_switching_to_systemd_and_back_leaves_one_set_of_workers(host, play):
    """site.yml retires the other process managers' workers: after a switch, the new manager's
    workers hold the ports (not the old ones, still answering), and nothing of the old one is left.
    The same run takes the host's front away (plumber_front: false): nginx and HAProxy stop, port 80
    is free; the run back brings it back."""
    switched = play('converge.yml', extra_vars={'plumber_process_manager': 'systemd', 'plumber_front': False})
    assert switched.rc == 0, switched
    for service in ('nginx', 'haproxy'):
        assert not host.service(service).is_running and not host.service(service).is_enabled, service
    assert not host.file('/etc/nginx/conf.d/plumber.conf').exists
    assert host.run('curl -s -o /dev/null http://127.0.0.1/').rc == 7  # connection refused
    assert not host.file(TRACES % 'proxy').exists
    pm2 = host.service('pm2-plumber')
    assert not pm2.is_running and not pm2.is_enabled
    for name in WORKERS:
        api, port = name.rsplit('-', 1)
        unit = 'plumber-%s@%s.service' % (api, port)
        assert host.service(unit).is_running, unit
        main_pid = int(host.check_output('systemctl show --property MainPID --value %s', unit))
        assert serving_pid(host, name) == main_pid, unit
    assert host.run('pgrep -u plumber -f PM2').rc != 0
    # The traces site.yml retires by: systemd's now, pm2's gone with its workers.
    assert host.file(TRACES % 'systemd').exists and not host.file(TRACES % 'pm2').exists

    back = play('converge.yml')
    assert back.rc == 0, back
    assert pm2.is_running and pm2.is_enabled
    assert host.file(TRACES % 'pm2').exists and not host.file(TRACES % 'systemd').exists
    assert host.file(TRACES % 'proxy').exists
    assert host.check_output("curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1/greeter/healthz") == '200'
    assert host.run('ls /etc/systemd/system/plumber-*@.service').rc != 0
    assert host.run("systemctl list-units --no-legend 'plumber-*@*.service' | grep -q running").rc != 0
    processes = jlist(host)
    assert sorted(processes) == sorted(WORKERS)
    for name in WORKERS:
        assert serving_pid(host, name) == processes[name]['pid'], name
