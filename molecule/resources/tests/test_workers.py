"""What an operator sees on a server converged with playbooks/site.yml (pm2 or systemd workers)."""

from __future__ import annotations

import json
import os
import re
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
    # workers and the statistics do not (the docker mode's containers run on the host's network and
    # listen on 127.0.0.1, as the other modes' workers do).
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


def current_release(host):
    """The release hello's `current` links to."""
    return host.check_output('readlink /srv/plumber/hello/current')


def worker_process(host, manager, name, port):
    """What restarting a worker would change: its R process, or its container."""
    if manager in ('pm2', 'systemd'):
        return worker_pid(host, name, port)
    return host.check_output("docker inspect --format '{{.Id}} {{.State.StartedAt}}' plumber-%s-%d" % (name, port))


def test_deploy_playbook_sends_new_code_with_no_package_or_front_work(host, play, manager, plumber_apis, tmp_path, request_loop):
    """playbooks/deploy.yml: hello's new code reaches every hello worker, greeter's worker is not restarted, and no
    task of the roles a code change does not need runs. A client asking through the front all along gets every answer:
    each worker is drained at the front before it restarts. (The next test uses the new code's /slow; the rollback
    playbook's test restores hello's code.)"""
    shutil.copy(os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'playbooks/files/hello/plumber.R'), str(tmp_path))
    with open(str(tmp_path / 'plumber.R'), 'a', encoding='utf-8') as handle:
        handle.write('\n#* @get /deployed\nfunction() list(deployed = TRUE)\n'
                     '\n#* @serializer unboxedJSON\n#* @post /slow\n'
                     'function(seconds = 1) { Sys.sleep(as.numeric(seconds)); list(slept = as.numeric(seconds)) }\n')
    greeter = worker_process(host, manager, 'greeter', 8100)
    changed = [dict(api, src=str(tmp_path)) if api['name'] == 'hello' else api for api in plumber_apis]
    loop = request_loop(host.ansible.get_variables()['inventory_hostname'], 'http://127.0.0.1/hello/whoami')
    try:
        result = play('../../playbooks/deploy.yml', extra_vars={'plumber_apis': changed})
    finally:
        answers = loop.stop()
    assert result.rc == 0, result
    failed = [line for line in answers if not line.endswith(' 200')]
    assert len(answers) > 50 and not failed, (len(answers), failed[:10])
    # Each hello worker drained (the proxy role's entry point rotation ran for it), no other worker.
    drained = re.findall(r'TASK \[plumber\.hosting\.proxy : Wait for its requests to end, then put it in maintenance, server ([^\]]+)\]',
                         result.output)
    assert sorted(set(drained)) == ['hello/127.0.0.1:%d' % port for port in APIS['hello']], drained
    # Packages the code uses and does not list are still looked after (plumber.hosting.api includes r_runtime's
    # `dependencies`); R, the listed packages, Docker, the front, TLS and the firewall are not.
    for task in ('r_runtime : Install R, plumber', 'r_runtime : Install the R packages the APIs need', 'docker_engine :',
                 'tls :', 'firewall :'):
        assert 'plumber.hosting.' + task not in result.output, task
    # Of the front's role, only the drains (its entry point rotation) ran.
    proxy_tasks = set(re.findall(r'TASK \[plumber\.hosting\.proxy : ([^,\]]+)', result.output))
    # And the watch of hello's new release after the switch, which the client's steady answers passed.
    assert proxy_tasks <= {"Validating arguments against arg spec 'rotation' - Take one worker out of rotation at its fronts before a restart",
                           'Find the fronts whose HAProxy has an admin socket', 'Stop sending new requests to the server at the fronts',
                           'Wait for its requests to end', 'Put the server back in rotation at the fronts',
                           # (The names up to their first comma.)
                           "Validating arguments against arg spec 'watch' - Watch the failed requests of new releases at their fronts",
                           'Read the error counters of the APIs at the fronts before the switch', 'Keep the counters for the judge',
                           'Watch the failed requests of the new releases at the fronts', 'Wait for the watch to end',
                           'Check that the failed requests did not rise after the switch'}, proxy_tasks
    assert re.search(r'"msg": "hello: 0 of \d+ requests \(0\.0%\) failed \(5xx, or no answer\) in the 10 s watched, against '
                     r'[0-9.]+% before at ', result.output), result
    for port in APIS['hello']:
        assert get(host, port, '/deployed') == {'deployed': [True]}, port
    assert worker_process(host, manager, 'greeter', 8100) == greeter


ROTATION = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: plumber.hosting.proxy
        tasks_from: rotation
      vars:
        proxy_rotation: %s
        proxy_rotation_fronts: ["{{ inventory_hostname }}"]
        proxy_rotation_backend: hello
        proxy_rotation_server: "127.0.0.1:%d"
"""


def server_state(host, port):
    """HAProxy's status and sessions of hello's server 127.0.0.1:<port>, from its admin socket."""
    line = host.check_output("python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); s.connect('/run/haproxy/admin.sock'); "
                             "s.sendall(b'show stat\\\\n'); print(s.makefile().read())\" | grep '^hello,127.0.0.1:%d,'" % port)
    fields = line.split(',')
    return fields[17], int(fields[4])


def test_a_drained_worker_finishes_its_request_and_gets_no_new_one(host, play):
    """The proxy role's entry point rotation, as the process managers run it around a restart: a request in flight on
    the drained worker ends with its answer, and the new ones go to the other worker until it is enabled again."""
    first, second = APIS['hello']
    name = host.ansible.get_variables()['inventory_hostname']
    # Two 8-second requests through the front: one on each worker (HAProxy gives each worker one request at a time).
    slow = [subprocess.Popen(['docker', 'exec', name, 'curl', '-sS', '-X', 'POST', '-w', ' %{http_code}',
                              'http://127.0.0.1/hello/slow?seconds=8'], stdout=subprocess.PIPE, text=True) for _request in range(2)]
    time.sleep(1)
    assert server_state(host, first)[1] == 1 and server_state(host, second)[1] == 1
    drained = play(ROTATION % ('drain', first))
    assert drained.rc == 0, drained
    # In maintenance only once its request has ended (a play takes a few seconds; the request 8).
    assert server_state(host, first) == ('MAINT', 0)
    answers = [request.communicate(timeout=30)[0] for request in slow]
    assert answers == ['{"slept":8} 200'] * 2, answers
    assert {get(host, 80, '/hello/whoami')['worker'] for _request in range(6)} == {second}
    enabled = play(ROTATION % ('enable', first))
    assert enabled.rc == 0, enabled
    # Up at once (the checks resume; 'UP 1/3' until they have passed), and slow start gives it its share again.
    assert server_state(host, first)[0].startswith('UP')
    assert wait_until_seen(host, first)


def wait_until_seen(host, port, timeout=30):
    """True once a request through the front reaches the worker on `port` (slow start gives it few at first)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if get(host, 80, '/hello/whoami')['worker'] == port:
            return True
        time.sleep(0.2)
    return False


def test_broken_code_fails_the_play_and_the_old_version_keeps_serving(host, play, manager, plumber_apis):
    """New code goes out with playbooks/deploy.yml; the load check is the api role's, the same in site.yml."""
    before = current_release(host)
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
    assert current_release(host) == before
    if manager in ('pm2', 'systemd'):
        assert 'does not load' in result.output, result
        assert 'function( {' not in host.file('/srv/plumber/hello/current/plumber.R').content_string


def test_a_release_whose_workers_fail_their_health_check_is_rolled_back_by_itself(host, play, manager, plumber_apis, tmp_path,
                                                                                  request_loop):
    """New hello code that loads but whose health path answers 503 (as an API's does when its database is down): the first
    worker restarted on it never becomes healthy, so every API this run changed goes back to its previous release, that
    worker runs it again, and the play fails with the worker's error. The second worker is never touched, and a client
    through the front gets every answer. (The deploy test's release, with /deployed, is current before and after.)"""
    first, second = APIS['hello']
    before = current_release(host)
    untouched = worker_process(host, manager, 'hello', second)
    shutil.copy(os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'playbooks/files/hello/plumber.R'), str(tmp_path))
    with open(str(tmp_path / 'plumber.R'), 'a', encoding='utf-8') as handle:
        handle.write('\n#* @get /healthz\nfunction(res) { res$status <- 503; list(database = "unreachable") }\n')
    unhealthy = [dict(api, src=str(tmp_path)) if api['name'] == 'hello' else api for api in plumber_apis]
    loop = request_loop(host.ansible.get_variables()['inventory_hostname'], 'http://127.0.0.1/hello/whoami')
    try:
        result = play('../../playbooks/deploy.yml', extra_vars={
            'plumber_apis': unhealthy, 'systemd_ready_timeout': 10, 'pm2_ready_timeout': 10, 'docker_workers_ready_timeout': 10})
    finally:
        answers = loop.stop()
    assert result.rc != 0, result
    failed = [line for line in answers if not line.endswith(' 200')]
    assert len(answers) > 20 and not failed, (len(answers), failed[:10])
    new = re.search(r'hello: release (\w+) again \(release (\w+) left\)', result.output)
    assert new and 'releases/' + new.group(1) == before and new.group(2) != new.group(1), result
    assert 'worker(s) on port(s) %d did not answer GET' % first in result.output and 'answered HTTP 503' in result.output, result
    assert 'log of the worker on port %d' % first in result.output, result
    assert current_release(host) == before
    for port in APIS['hello']:
        assert get(host, port, '/deployed') == {'deployed': [True]}, port
    assert worker_process(host, manager, 'hello', second) == untouched


def test_a_release_that_fails_more_requests_after_the_switch_is_rolled_back_by_itself(host, play, manager, plumber_apis,
                                                                                      tmp_path, request_loop, watched_rollback):
    """New hello code that loads and answers its health path, but whose /whoami fails (R's error, a 500): every worker
    runs it, and in the watch after the switch the share of failed requests at the front rises from none to all, so
    hello goes back to its previous release, its workers run it again and the play fails with the counts. (The deploy
    test's release, with /deployed, is current before and after.)"""
    before = current_release(host)
    source = os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'playbooks/files/hello/plumber.R')
    with open(source, encoding='utf-8') as handle:
        code = handle.read()
    assert 'list(api = Sys.getenv("PLUMBER_API")' in code
    (tmp_path / 'plumber.R').write_text(code.replace('list(api = Sys.getenv("PLUMBER_API")', 'stop("the new database layer"); list(api = 1'),
                                        encoding='utf-8')
    failing = [dict(api, src=str(tmp_path)) if api['name'] == 'hello' else api for api in plumber_apis]
    loop = request_loop(host.ansible.get_variables()['inventory_hostname'], 'http://127.0.0.1/hello/whoami')
    try:
        result = play('../../playbooks/deploy.yml', extra_vars={'plumber_apis': failing, 'api_watch_window': 4, 'api_watch_min_requests': 10})
    finally:
        answers = loop.stop()
    assert result.rc != 0, result
    watched = watched_rollback(result.output, 4)
    assert watched and watched[2] >= 90 and watched[1] >= 10, result
    assert 'releases/' + watched[4] == before and current_release(host) == before, result
    # The client saw the new release's errors while it was watched, and the old release's answers after.
    assert any(line.endswith(' 500') for line in answers), answers[-20:]
    for port in APIS['hello']:
        assert get(host, port, '/deployed') == {'deployed': [True]}, port
    assert {get(host, 80, '/hello/whoami')['api'] for _request in range(4)} == {'hello'}


def test_rollback_playbook_returns_an_api_to_its_previous_release(host, play):
    """playbooks/rollback.yml: hello goes back from the deploy test's release to the one site.yml made (the rolled back
    release above left the history), its workers drained and restarted one at a time."""
    before = current_release(host)
    result = play('../../playbooks/rollback.yml', extra_vars={'rollback_apis': 'hello'})
    assert result.rc == 0, result
    assert current_release(host) != before
    for port in APIS['hello']:
        assert host.run('curl -fsS --max-time 5 http://127.0.0.1:%d/deployed' % port).rc != 0, port
        assert get(host, port, '/whoami')['worker'] == port
    # The release left is out of the history: the next rollback would go further back.
    history = host.file('/srv/plumber/hello/releases/history').content_string.split()
    assert 'releases/' + history[-1] == current_release(host) and before.split('/')[-1] not in history, (before, history)
    unknown = play('../../playbooks/rollback.yml', extra_vars={'rollback_apis': 'nosuch'})
    assert unknown.rc != 0 and 'rollback_apis names nosuch, which no host of plumber_servers lists in plumber_apis' in unknown.output


def test_everything_answers_after_a_reboot(host, manager):
    subprocess.run(['docker', 'restart', host.backend.host], check=True, capture_output=True, timeout=120)
    for _name, port in PORTS:
        wait_until_answering(host, port, timeout=90)
    assert get(host, 8100, '/greet')['greeting'] == 'Howdy, world'
