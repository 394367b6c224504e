"""What a user of the docker_engine role sees on the server: an engine on overlay2 with compose v2, logs
rotated, and a plumber container that outlives a daemon restart and a reboot."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

IMAGE = 'plumber-hosting-test/plumber-r:latest'
CONTAINER = 'plumber-healthz'
HEALTH_URL = 'http://127.0.0.1:18000/healthz'
# The engine part of the role alone: what these tests change. (converge.yml also runs site.yml.)
ENGINE_PLAY = '''
- hosts: all
  roles:
    - role: plumber.hosting.docker_engine
'''
HEALTH_API = 'plumber::pr_run(plumber::pr_get(plumber::pr(), "/healthz", function() "ok"), host = "0.0.0.0", port = 8000)'


def version_tuple(text):
    return tuple(int(part) for part in text.split('-')[0].split('.')[:3])


def journal(host, unit='docker'):
    return host.run('journalctl -u %s -n 40 --no-pager', unit).stdout


def wait_for_health(host, timeout=90):
    deadline = time.monotonic() + timeout
    while True:
        answer = host.run('curl -fsS --max-time 5 %s', HEALTH_URL)
        if answer.rc == 0 or time.monotonic() > deadline:
            return answer
        time.sleep(1)


def container_state(host):
    return json.loads(host.check_output("docker inspect --format '{{json .State}}' %s", CONTAINER))


@pytest.fixture(scope='module')
def instance(host):
    """The instance's container name on the controller's engine (the inventory name)."""
    return host.ansible.get_variables()['inventory_hostname']


@pytest.fixture(scope='module')
def plumber_image(host):
    """The locally built plumber image, which converge.yml copied into the instance's engine."""
    assert host.run('docker image inspect %s', IMAGE).rc == 0, 'converge.yml did not load ' + IMAGE
    return IMAGE


@pytest.fixture(scope='module')
def plumber_container(host, plumber_image):
    host.run('docker rm -f %s', CONTAINER)
    started = host.run('docker run -d --name %s --restart unless-stopped -p 127.0.0.1:18000:8000 %s Rscript -e %s',
                       CONTAINER, plumber_image, HEALTH_API)
    assert started.rc == 0, started.stderr
    answer = wait_for_health(host)
    assert answer.rc == 0, host.run('docker logs %s', CONTAINER).stdout + answer.stderr
    yield CONTAINER
    host.run('docker rm -f %s', CONTAINER)


def test_check_mode_on_the_converged_host_reports_no_change(converged_check):
    assert converged_check.rc == 0, converged_check
    assert converged_check.changed == 0, converged_check


def test_engine_answers_on_overlay2(host):
    info = host.run("docker info --format '{{json .}}'")
    assert info.rc == 0, info.stderr + journal(host)
    assert json.loads(info.stdout)['Driver'] == 'overlay2'


def test_daemon_is_enabled_and_running(host):
    service = host.service('docker')
    assert service.is_enabled and service.is_running, journal(host)


def test_compose_v2_answers(host):
    assert version_tuple(host.check_output('docker compose version --short')) >= (2, 18)


def test_python_sdk_is_importable(host):
    assert host.run('python3 -c "import docker, yaml"').rc == 0


def test_daemon_json_rotates_logs_and_keeps_containers_on_restart(host):
    settings = json.loads(host.file('/etc/docker/daemon.json').content_string)
    assert settings == {'live-restore': True, 'log-driver': 'json-file', 'log-opts': {'max-size': '10m', 'max-file': '3'}}
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info['LiveRestoreEnabled'] is True
    assert info['LoggingDriver'] == 'json-file'


def test_plumber_container_answers_as_non_root(host, plumber_container):
    assert host.check_output('curl -fsS %s', HEALTH_URL) == '["ok"]'
    assert host.check_output('docker exec %s id -un', plumber_container) == 'plumber'
    # PID 1 is tini, the R process its child, both unprivileged.
    top = host.check_output('docker top %s -eo pid,uid,comm', plumber_container).splitlines()[1:]
    processes = [dict(zip(('pid', 'uid', 'comm'), line.split())) for line in top]
    assert processes and all(proc['uid'] != '0' for proc in processes), processes
    assert any(proc['comm'] == 'tini' for proc in processes), processes


def test_container_logs_are_rotated(host, plumber_container):
    log_config = json.loads(host.check_output("docker inspect --format '{{json .HostConfig.LogConfig}}' %s", plumber_container))
    assert log_config == {'Type': 'json-file', 'Config': {'max-size': '10m', 'max-file': '3'}}


def test_daemon_restart_keeps_the_container_running(host, plumber_container):
    before = container_state(host)
    restart = host.run('systemctl restart docker')
    assert restart.rc == 0, restart.stderr + journal(host)
    after = container_state(host)
    # live-restore: the same process, never stopped.
    assert after['Running'] and after['Pid'] == before['Pid'] and after['StartedAt'] == before['StartedAt'], (before, after)
    answer = wait_for_health(host, timeout=30)
    assert answer.rc == 0, answer.stderr + journal(host)


def test_changed_settings_restart_the_daemon_only_then_and_null_drops_a_default(host, play, plumber_container):
    def daemon_pid():
        return host.check_output('systemctl show --property MainPID --value docker')

    before = daemon_pid()
    container_pid = container_state(host)['Pid']
    changed = play(ENGINE_PLAY, '--diff', extra_vars={'docker_engine_daemon_options': {'log-opts': {'max-size': '20m'}}})
    assert changed.rc == 0, changed
    assert '+    "max-size": "20m"' in changed.output, changed
    # Merged recursively: max-file stays.
    assert json.loads(host.file('/etc/docker/daemon.json').content_string)['log-opts'] == {'max-size': '20m', 'max-file': '3'}
    assert daemon_pid() != before, 'the daemon was not restarted after daemon.json changed'
    assert container_state(host)['Pid'] == container_pid

    # null drops a default: log-opts goes, and the daemon logs with the driver set instead.
    dropped = play(ENGINE_PLAY, extra_vars={'docker_engine_daemon_options': {'log-driver': 'local', 'log-opts': None}})
    assert dropped.rc == 0, dropped
    assert json.loads(host.file('/etc/docker/daemon.json').content_string) == {'live-restore': True, 'log-driver': 'local'}
    assert host.check_output("docker info --format '{{.LoggingDriver}}'") == 'local'

    restored = play(ENGINE_PLAY)
    assert restored.rc == 0 and restored.changed == 2, restored  # daemon.json + the restart handler
    assert host.check_output("docker info --format '{{.LoggingDriver}}'") == 'json-file'
    settled = daemon_pid()
    again = play(ENGINE_PLAY)
    assert again.rc == 0 and again.changed == 0, again
    assert daemon_pid() == settled
    assert wait_for_health(host, timeout=30).rc == 0


def test_reboot_brings_engine_and_container_back(host, instance, plumber_container):
    """Enabled unit + restart policy: after the instance restarts, the API answers again."""
    subprocess.run(['docker', 'restart', instance], check=True, capture_output=True, timeout=120)
    deadline = time.monotonic() + 60
    while host.run('systemctl is-active docker').stdout.strip() != 'active' and time.monotonic() < deadline:
        time.sleep(1)
    answer = wait_for_health(host)
    assert answer.rc == 0, answer.stderr + journal(host)
    assert container_state(host)['Running']


@pytest.mark.parametrize('extra_vars, fragments', [
    ({'docker_engine_source': 'podman'}, ['docker_engine_source', 'podman']),
    ({'docker_engine_daemon_options': {'hosts': ['tcp://0.0.0.0:2375']}}, ['docker_engine_daemon_options.hosts', 'tcp://0.0.0.0:2375']),
    ({'docker_engine_daemon_options': ['live-restore']}, ['docker_engine_daemon_options', 'list']),
], ids=['unknown-source', 'hosts-clash-with-unit', 'options-not-a-dict'])
def test_bad_input_fails_before_any_change(host, play, extra_vars, fragments):
    before = host.file('/etc/docker/daemon.json').mtime
    result = play(ENGINE_PLAY, extra_vars=extra_vars)
    assert result.rc != 0, result
    assert all(fragment in result.output for fragment in fragments), result
    assert result.changed == 0, result
    assert host.file('/etc/docker/daemon.json').mtime == before
