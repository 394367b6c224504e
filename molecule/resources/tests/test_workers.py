"""What an operator sees on a server converged with playbooks/site.yml (pm2 or systemd workers)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest
from ansible_collections.plumber.hosting.plugins.module_utils._apis import default_port

# hello takes the default ports (a block chosen by its name), greeter sets port: 8100.
HELLO = default_port('hello')
APIS = {'hello': [HELLO, HELLO + 1], 'greeter': [8100]}
PORTS = [(name, port) for name, ports in APIS.items() for port in ports]


@pytest.fixture(scope='module')
def manager(plumber_vars):
    return plumber_vars['plumber_process_manager']


def get(host, port, path):
    cmd = host.run('curl -fsS --max-time 5 http://127.0.0.1:%d%s' % (port, path))
    assert cmd.rc == 0, 'port %d %s: %s' % (port, path, cmd.stderr)
    return json.loads(cmd.stdout)


def wait_until_answering(host, port, path='/healthz', timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if host.run('curl -fsS --max-time 2 http://127.0.0.1:%d%s' % (port, path)).rc == 0:
            return time.time()
        time.sleep(0.5)
    raise AssertionError('port %d did not answer %s within %ds' % (port, path, timeout))


def worker_pid(host, name, port):
    """The R process serving `port`: Rscript runs R with --file=<wrapper> --args <port>."""
    out = host.check_output("pgrep -f -- '--file=/srv/plumber/%s/run-%s.R --args %d$'" % (name, name, port))
    assert len(out.split()) == 1, out
    return int(out)


# Before anything disturbs the converged host.
def test_check_mode_on_the_converged_host_reports_no_change(converged_check):
    assert converged_check.rc == 0, converged_check
    assert converged_check.changed == 0, converged_check


@pytest.mark.parametrize('name, port', PORTS)
def test_every_worker_answers_on_its_port(host, name, port):
    assert get(host, port, '/healthz') == {'status': 'ok', 'api': name, 'worker': port}


def test_the_front_on_port_80_balances_each_api_over_its_workers(host):
    # This host is its own front (no plumber_fronts group): nginx -> HAProxy -> the workers on 127.0.0.1.
    seen = {get(host, 80, '/hello/whoami')['worker'] for attempt in range(8)}
    assert seen == set(APIS['hello']), seen
    assert get(host, 80, '/greeter/healthz') == {'status': 'ok', 'api': 'greeter', 'worker': 8100}
    assert host.socket('tcp://127.0.0.1:8404').is_listening and not host.socket('tcp://0.0.0.0:8404').is_listening


def test_from_another_host_only_the_front_is_reachable(host, reachable_from_controller):
    # ufw on every host. From the controller, a host on the instance's network: port 80 answers; the
    # workers and the statistics do not (Docker, whose published ports bypass ufw, publishes the
    # docker mode's workers on 127.0.0.1 only).
    assert 'Status: active' in host.check_output('ufw status')
    name = host.ansible.get_variables()['inventory_hostname']
    reachable = reachable_from_controller(name, [80, 8404] + [port for _name, port in PORTS])
    assert reachable == dict.fromkeys(reachable, False) | {80: True}, reachable


def test_each_hello_worker_serves_the_api(host):
    assert [get(host, port, '/whoami')['worker'] for port in APIS['hello']] == APIS['hello']


def test_environment_reaches_the_workers_and_secrets_stay_private(host):
    answer = get(host, 8100, '/greet?name=ops')
    assert answer == {'greeting': 'Howdy, ops', 'secret_length': len('s3cret-token-value')}
    envfile = host.file('/etc/plumber/greeter.env')
    assert envfile.mode == 0o640 and envfile.user == 'root' and envfile.group == 'plumber'


@pytest.mark.parametrize('name, port', PORTS)
def test_workers_run_as_the_service_user_bound_to_localhost_only(host, name, port):
    listeners = host.check_output("ss -ltnpH 'sport = :%d'" % port).splitlines()
    assert len(listeners) == 1 and listeners[0].split()[3] == '127.0.0.1:%d' % port, listeners
    assert host.process.get(pid=worker_pid(host, name, port)).user == 'plumber'


def test_docs_are_off_unless_asked(host):
    assert host.run('curl -fsS --max-time 5 http://127.0.0.1:%d/__docs__/' % HELLO).rc != 0


def test_wrapper_runs_by_hand_like_the_book_shows(host, manager):
    if manager not in ('pm2', 'systemd'):
        pytest.skip('R runs in the images, not on this host')
    wrapper = host.file('/srv/plumber/hello/run-hello.R')
    assert wrapper.mode == 0o755 and wrapper.content_string.startswith('#!/usr/bin/env Rscript')
    cmd = host.run("runuser -u plumber -- timeout 20 sh -c '/srv/plumber/hello/run-hello.R 8050 & "
                   "for i in $(seq 60); do curl -fsS http://127.0.0.1:8050/whoami && break; sleep 0.3; done; kill %%1'")
    assert '"worker":8050' in cmd.stdout, cmd.stdout + cmd.stderr


def test_killed_worker_comes_back(host):
    port = APIS['hello'][1]
    before = worker_pid(host, 'hello', port)
    host.run('kill -9 %d' % before)
    started = time.time()
    wait_until_answering(host, port, timeout=20)
    assert worker_pid(host, 'hello', port) != before
    assert time.time() - started < 15


def greeter_process(host, manager):
    """What restarting greeter's worker would change: its R process, or its container."""
    if manager in ('pm2', 'systemd'):
        return worker_pid(host, 'greeter', 8100)
    return host.check_output("docker inspect --format '{{.Id}} {{.State.StartedAt}}' plumber-greeter-8100")


def test_deploy_playbook_sends_new_code_with_no_package_or_front_work(host, play, manager, plumber_apis, tmp_path):
    """playbooks/deploy.yml: hello's new code reaches every hello worker, greeter's worker is not restarted, and no
    task of the roles a code change does not need runs. (The next test's last run restores hello's code.)"""
    shutil.copy(os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'playbooks/files/hello/plumber.R'), str(tmp_path))
    with open(str(tmp_path / 'plumber.R'), 'a', encoding='utf-8') as handle:
        handle.write('\n#* @get /deployed\nfunction() list(deployed = TRUE)\n')
    greeter = greeter_process(host, manager)
    changed = [dict(api, src=str(tmp_path)) if api['name'] == 'hello' else api for api in plumber_apis]
    result = play('../../playbooks/deploy.yml', extra_vars={'plumber_apis': changed})
    assert result.rc == 0, result
    # Packages the code uses and does not list are still looked after (plumber.hosting.api includes r_runtime's
    # `dependencies`); R, the listed packages, Docker, the front, TLS and the firewall are not.
    for task in ('r_runtime : Install R, plumber', 'r_runtime : Install the R packages the APIs need', 'docker_engine :',
                 'proxy :', 'tls :', 'firewall :'):
        assert 'plumber.hosting.' + task not in result.output, task
    for port in APIS['hello']:
        assert get(host, port, '/deployed') == {'deployed': [True]}, port
    assert greeter_process(host, manager) == greeter


def test_broken_code_fails_the_play_and_the_old_version_keeps_serving(host, play, manager, plumber_apis):
    """New code goes out with playbooks/deploy.yml; the load check is the api role's, the same in site.yml."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'playbooks/files/hello/plumber.R'), tmp)
        with open(os.path.join(tmp, 'plumber.R'), 'a', encoding='utf-8') as handle:
            handle.write('\nfunction( {\n')
        broken = [dict(api, src=tmp) if api['name'] == 'hello' else api for api in plumber_apis]
        result = play('../../playbooks/deploy.yml', extra_vars={'plumber_apis': broken})
    assert result.rc != 0, result
    # R's own message: from the pre-flight load on the host, or from the image build.
    assert 'unexpected' in result.output, result
    for port in APIS['hello']:
        assert get(host, port, '/whoami')['worker'] == port
    if manager in ('pm2', 'systemd'):
        assert 'does not load' in result.output, result
        assert 'function( {' not in host.file('/srv/plumber/hello/current/plumber.R').content_string
    restored = play('../../playbooks/deploy.yml')
    assert restored.rc == 0, restored


def test_everything_answers_after_a_reboot(host, manager):
    subprocess.run(['docker', 'restart', host.backend.host], check=True, capture_output=True, timeout=120)
    for _name, port in PORTS:
        wait_until_answering(host, port, timeout=90)
    assert get(host, 8100, '/greet')['greeting'] == 'Howdy, world'
