"""What a user of plumber.hosting.compose sees on the server: every API answering through nginx at
its prefix, spread over its replicas by HAProxy, scaling without dropped requests, containers that
come back, and no R port published; HTTPS with the ACME CA's certificate, renewed without a
playbook run, and a user at nginx (basic authentication)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import pytest

PROJECT = 'plumber'
PROJECT_DIR = '/opt/plumber-compose'
HELLO_WORKERS = 3
# The stack's name resolves to the instance, which trusts pebble's roots (prepare.yml).
DOMAIN = 'compose.plumber.test'
BASE = 'https://' + DOMAIN
# greeter's user (molecule.yml); curl sends it with every request, which only greeter checks.
AUTH = "-u 'ann:s3cret: & $ign'"


@pytest.fixture(scope='module')
def instance(host):
    """The instance's container name on the controller's engine (the inventory name)."""
    return host.ansible.get_variables()['inventory_hostname']


def with_workers(apis, name, workers):
    return [dict(api, workers=workers) if api['name'] == name else api for api in apis]


def stack_logs(host):
    return host.run('docker compose --project-directory %s logs --no-color --tail 30', PROJECT_DIR).stdout


def request(host, path, *curl_args):
    """One request through nginx: (status, body)."""
    cmd = host.run("curl -sS --max-time 120 -w '\\n%%{http_code}' %s %s '%s%s'" % (AUTH, ' '.join(curl_args), BASE, path))
    assert cmd.rc == 0, '%s: %s' % (path, cmd.stderr)
    body, status = cmd.stdout.rsplit('\n', 1)
    return int(status), body


def get(host, path):
    status, body = request(host, path)
    assert status == 200, '%s answered %d: %s\n%s' % (path, status, body, stack_logs(host))
    return json.loads(body)


def replicas_answering(host, path, count, *curl_args):
    """The `replica` of `count` answers to GET `path` (in one shell round trip)."""
    out = host.check_output("for i in $(seq %d); do curl -fsS --max-time 30 %s %s '%s%s'; echo; done"
                            % (count, AUTH, ' '.join(curl_args), BASE, path))
    return [json.loads(line)['replica'] for line in out.splitlines() if line]


def replicas_answering_at_once(host, path, count):
    """The `replica` of `count` GETs of `path` sent at the same time (each answer in a file of its own)."""
    out = host.check_output("rm -rf /tmp/at-once && mkdir /tmp/at-once && for i in $(seq %d); do "
                            "curl -fsS --max-time 30 -o /tmp/at-once/$i %s '%s%s' & done; wait; "
                            "for i in $(seq %d); do cat /tmp/at-once/$i; echo; done" % (count, AUTH, BASE, path, count))
    return [json.loads(line)['replica'] for line in out.splitlines() if line]


def replica_ids(host, service):
    """Short container ids of a service's running replicas: their host names."""
    out = host.check_output("docker ps --filter label=com.docker.compose.project=%s "
                            "--filter label=com.docker.compose.service=%s --format '{{.ID}}'" % (PROJECT, service))
    return set(out.split())


def inspect(host, container):
    return json.loads(host.check_output('docker inspect %s', container))[0]


def wait_until(check, timeout, interval=1):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def all_replicas_serve(host, service='hello', path='/hello/whoami', timeout=90):
    """True once every running replica of `service` has answered through nginx."""
    def check():
        ids = replica_ids(host, service)
        try:
            seen = set(replicas_answering(host, path, 6 * max(len(ids), 1)))
        except AssertionError:
            return False
        return bool(ids) and seen == ids
    return wait_until(check, timeout)


# Before anything disturbs the converged host.
def test_check_mode_on_the_converged_host_reports_no_change_while_a_long_request_outlives_nginx_default_timeout(play, instance):
    """`--check --diff` of converge.yml changes nothing. Meanwhile (both take about a minute), a 65-second request gets its
    answer: nginx cuts a proxied request off after 60 s unless told otherwise (compose_proxy_timeout: 300)."""
    slow = subprocess.Popen(['docker', 'exec', instance, 'sh', '-c', "curl -sS --max-time 120 -w ' %%{http_code}' %s '%s%s'"
                             % (AUTH, BASE, '/hello/slow?seconds=65')], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        check = play('converge.yml', '--check', '--diff')
    finally:
        answer = slow.communicate(timeout=180)[0]
    assert check.rc == 0, check
    assert check.changed == 0, check
    body, _space, status = answer.rpartition(' ')
    assert status == '200' and json.loads(body)['slept'] == 65, answer


def test_https_with_the_acme_certificate_http_redirected_and_a_user_at_nginx(host):
    # curl trusts pebble's roots only: the certificate is the ACME CA's, for the stack's name.
    issuer = host.check_output("curl -sS -o /dev/null -v '%s/hello/healthz' 2>&1 | grep -i 'issuer:'" % BASE)
    assert 'Pebble' in issuer, issuer
    headers = host.check_output("curl -sS -o /dev/null -D - '%s/hello/healthz'" % BASE)
    assert 'Strict-Transport-Security: max-age=63072000' in headers, headers
    plain = host.check_output("curl -sS -o /dev/null -D - 'http://%s/hello/whoami?x=1'" % DOMAIN)
    assert plain.startswith('HTTP/1.1 301') and 'Location: %s/hello/whoami?x=1' % BASE in plain, plain
    # greeter: 401 without the user or with a wrong password; its health path stays open.
    assert host.check_output("curl -sS -o /dev/null -w '%%{http_code}' '%s/greeter/greet'" % BASE) == '401'
    assert host.check_output("curl -sS -o /dev/null -w '%%{http_code}' -u ann:wrong '%s/greeter/greet'" % BASE) == '401'
    assert host.check_output("curl -sS -o /dev/null -w '%%{http_code}' '%s/greeter/healthz'" % BASE) == '200'
    assert get(host, '/greeter/greet?name=Ann')['greeting'] == 'Howdy, Ann'
    users = host.file('/opt/plumber-compose/users/greeter.htpasswd')
    assert users.mode == 0o640 and users.gid == 101 and users.content_string.startswith('ann:$apr1$'), users.content_string


def test_a_renewal_on_the_host_reaches_the_stack_without_a_playbook_run(host):
    assert host.service('certbot.timer').is_enabled
    served = "openssl s_client -connect 127.0.0.1:443 -servername %s </dev/null 2>/dev/null | openssl x509 -noout -serial" % DOMAIN
    before = host.check_output(served)
    renew = host.run('certbot renew --force-renewal --no-random-sleep-on-renew --cert-name %s', DOMAIN)
    assert renew.rc == 0, renew.stdout + renew.stderr
    # The deploy hook reloaded nginx inside its container: the new certificate is served.
    assert wait_until(lambda: host.check_output(served) != before, 15), 'nginx still serves the old certificate 15 s after the renewal'
    assert get(host, '/hello/healthz')['status'] == 'ok'


def test_every_api_answers_through_nginx_at_its_prefix(host):
    hello = get(host, '/hello/whoami')
    # The prefix is stripped; the API learns it, and the client's address, from X-Forwarded-*.
    assert hello['api'] == 'hello' and hello['path'] == '/whoami', hello
    assert hello['prefix'] == '/hello' and hello['forwarded_proto'] == 'https' and hello['forwarded_host'] == DOMAIN, hello
    assert hello['forwarded_for'], hello
    # nginx's routing header stops at HAProxy.
    assert hello['balancer_header'] == '', hello
    greeter = get(host, '/greeter/greet?name=ops')
    assert greeter['greeting'] == 'Howdy, ops' and greeter['replica'] in replica_ids(host, 'greeter'), greeter
    assert get(host, '/hello/healthz')['status'] == 'ok'


@pytest.mark.parametrize('path', ['/', '/nothing', '/hellothere/whoami', '/hello/nothing'])
def test_paths_outside_every_route_answer_404(host, path):
    assert request(host, path)[0] == 404


def test_every_replica_receives_traffic(host):
    ids = replica_ids(host, 'hello')
    assert len(ids) == HELLO_WORKERS, ids
    seen = replicas_answering(host, '/hello/whoami', 10 * HELLO_WORKERS)
    assert set(seen) == ids, seen


def test_balancer_reloads_drop_no_request(host, instance, request_loop):
    """Each change of HAProxy's configuration reloads it: the new process must serve at once, with the
    replicas' addresses, rather than answer 503 until Docker's DNS has been asked. Requests back to back:
    a reload's gap would be milliseconds."""
    loop = request_loop(instance, BASE + '/hello/whoami', AUTH, pause=0)
    try:
        time.sleep(2)
        for _reload in range(5):
            host.check_output("docker compose --project-directory %s exec -T haproxy sh -c 'kill -USR2 1'" % PROJECT_DIR)
            time.sleep(1.5)
    finally:
        answers = loop.stop()
    failed = [line for line in answers if not line.endswith(' 200')]
    assert len(answers) > 50 and not failed, (len(answers), failed[:10])


def test_no_r_container_publishes_a_port(host, plumber_apis):
    containers = host.check_output("docker ps --filter label=com.docker.compose.project=%s --format '{{.Names}}'" % PROJECT).split()
    published = {}
    for name in containers:
        details = inspect(host, name)
        published[details['Config']['Labels']['com.docker.compose.service']] = sorted(
            '%s:%s' % (binding['HostIp'], binding['HostPort'])
            for bindings in (details['NetworkSettings']['Ports'] or {}).values() for binding in bindings or [])
    assert published.pop('nginx') == ['0.0.0.0:443', '0.0.0.0:80'], published
    assert set(published) == {api['name'] for api in plumber_apis} | {'haproxy'} and not any(published.values()), published


def test_from_another_host_only_nginx_is_reachable(host, instance, reachable_from_controller):
    # ufw is on; Docker publishes nginx's ports only (they bypass ufw's input rules). From the
    # controller, a host on the instance's network: 80 and 443 answer, pebble's port 14000 does not.
    assert 'Status: active' in host.check_output('ufw status')
    reachable = reachable_from_controller(instance, [80, 443, 14000])
    assert reachable == {80: True, 443: True, 14000: False}, reachable


def test_replicas_run_unprivileged_read_only_and_restart(host):
    account = host.user('plumber')
    for replica in replica_ids(host, 'hello'):
        details = inspect(host, replica)
        assert details['Config']['User'] == '%d:%d' % (account.uid, account.gid)
        assert details['HostConfig']['ReadonlyRootfs'] is True
        assert details['HostConfig']['CapDrop'] == ['ALL']
        assert details['HostConfig']['RestartPolicy']['Name'] == 'unless-stopped'
        assert details['State']['Health']['Status'] == 'healthy'


def test_replicas_share_the_data_directory_and_read_their_environment(host):
    replica = sorted(replica_ids(host, 'hello'))[0]
    written = host.run('docker exec %s touch /srv/plumber/hello/data/written-by-replica', replica)
    assert written.rc == 0, written.stderr
    probe = host.file('/srv/plumber/hello/data/written-by-replica')
    assert probe.exists and probe.user == 'plumber'
    # The environment file is mounted read-only; the greeting comes from it.
    assert host.run('docker exec %s touch /etc/plumber/hello.env', replica).rc != 0


def test_docs_work_behind_the_prefix(host):
    headers = host.check_output("curl -sS -o /dev/null -D - %s '%s/greeter/__docs__'" % (AUTH, BASE))
    assert headers.startswith('HTTP/1.1 301') and 'Location: /greeter/__docs__/' in headers, headers
    status, page = request(host, '/greeter/__docs__/')
    assert status == 200 and 'swagger-ui' in page
    # The Swagger UI fetches the spec relative to its own address: /greeter/openapi.json.
    assert '/greet' in get(host, '/greeter/openapi.json')['paths']
    # Off unless asked.
    assert request(host, '/hello/__docs__/')[0] == 404


def test_maintenance_switch_reaches_the_stacks_nginx(host, play):
    """playbooks/maintenance.yml on a compose host: the switch's directory is mounted into nginx's container."""
    maintenance = '../../playbooks/maintenance.yml'
    switched = play(maintenance, extra_vars={'maintenance_on': 'hello'})
    assert switched.rc == 0 and switched.changed == 1, switched
    status, body = request(host, '/hello/whoami', '-X', 'POST')
    assert status == 503 and 'Down for maintenance' in body, (status, body)
    assert request(host, '/hello/healthz')[0] == 200 and request(host, '/greeter/healthz')[0] == 200
    back = play(maintenance, extra_vars={'maintenance_off': 'hello'})
    assert back.rc == 0 and back.changed == 1, back
    assert get(host, '/hello/whoami')


def test_uploads_beyond_nginx_default_limit_reach_the_api(host):
    size = 20 * 1000 * 1000
    cmd = host.run("head -c %d /dev/zero > /tmp/upload.bin && curl -sS --max-time 120 -H 'Content-Type: application/octet-stream' "
                   "--data-binary @/tmp/upload.bin '%s/hello/upload'" % (size, BASE))
    assert cmd.rc == 0 and json.loads(cmd.stdout)['bytes'] == size, cmd.stdout + cmd.stderr
    # Beyond compose_client_max_body_size (100m): refused by nginx, before any R process reads it.
    too_big = host.check_output("head -c 120000000 /dev/zero > /tmp/upload.bin && curl -sS -o /dev/null -w '%%{http_code}' "
                                "-H 'Content-Type: application/octet-stream' --data-binary @/tmp/upload.bin '%s/hello/upload'" % BASE)
    host.run('rm -f /tmp/upload.bin')
    assert too_big == '413'


def test_scaling_sticky_sessions_a_failed_deploy_and_the_next_run_drop_no_request(host, play, instance, plumber_apis, tmp_path, request_loop):
    """Three runs while a client keeps asking, none of its requests failing:
    1. hello scaled from 3 replicas to 2, and sticky sessions on, while each replica answers a 12-second request: the
       replica that leaves is drained first, so every one of those requests is answered by the replica it reached
       (stopped, it would cut its request off). Scaling changes no image, so the replicas that stay are old ones; each
       client with the cookie is kept on one replica;
    2. broken code through playbooks/deploy.yml: the play fails and the old version keeps serving. Then `docker kill`, a
       deliberate stop for Docker: no restart policy applies until the playbook runs again;
    3. the original settings and code: the run brings the project back to its definition, the
       killed replica included, hello back to 3 replicas, and sticky sessions off (the default)."""
    assert 'plumber_hello=' not in host.check_output("curl -sS -o /dev/null -D - '%s/hello/whoami'" % BASE)
    two = with_workers(plumber_apis, 'hello', 2)
    loop = request_loop(instance, BASE + '/hello/whoami', AUTH)
    try:
        before = replica_ids(host, 'hello')
        # One request per replica (leastconn, one request at a time each); the loop's wait in HAProxy's queue meanwhile.
        slow = [subprocess.Popen(['docker', 'exec', instance, 'curl', '-sS', '--max-time', '120', '-w', ' %{http_code}',
                                  BASE + '/hello/slow?seconds=12'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for replica in before]
        time.sleep(2)
        down = play('converge.yml', extra_vars={'plumber_apis': two, 'compose_sticky_sessions': True})
        slow_answers = [proc.communicate(timeout=150)[0] for proc in slow]
        assert down.rc == 0, down
        assert re.search(r'Drain the replicas that leave at the balancer, API hello\] \**\n[^\n]*\nchanged:', down.output), down
        answered = []
        for answer in slow_answers:
            body, _space, status = answer.rpartition(' ')
            assert status == '200' and json.loads(body)['slept'] == 12, slow_answers
            answered.append(json.loads(body)['replica'])
        assert sorted(answered) == sorted(before), (answered, before)
        after = replica_ids(host, 'hello')
        assert len(after) == 2 and after <= before, (before, after)
        headers = host.check_output("curl -sS -o /dev/null -D - -c /tmp/cookies '%s/hello/whoami'" % BASE)
        assert 'plumber_hello=' in headers and 'path=/hello/' in headers, headers
        stuck = replicas_answering(host, '/hello/whoami', 12, '-b', '/tmp/cookies')
        assert len(set(stuck)) == 1, stuck
        # Without the cookie, the requests still spread: sent together, since one after the other the least busy
        # replica may always be the same one (the request loop keeps the other busy).
        assert wait_until(lambda: len(set(replicas_answering_at_once(host, '/hello/whoami', 12))) > 1, 30)

        source = [api['src'] for api in plumber_apis if api['name'] == 'hello'][0]
        with open(source + '/plumber.R', encoding='utf-8') as handle:
            (tmp_path / 'plumber.R').write_text(handle.read() + '\nfunction( {\n', encoding='utf-8')
        broken_apis = [dict(api, src=str(tmp_path)) if api['name'] == 'hello' else api for api in two]
        broken = play('../../playbooks/deploy.yml', extra_vars={'plumber_apis': broken_apis, 'compose_sticky_sessions': True})
        assert broken.rc != 0, broken
        assert 'unexpected' in broken.output, broken
        assert replica_ids(host, 'hello') == after
        assert set(replicas_answering(host, '/hello/whoami', 10 * len(after))) == after
    finally:
        answers = loop.stop()
    failed = [line for line in answers if not line.endswith(' 200')]
    assert len(answers) > 50 and not failed, (len(answers), failed[:10])

    victim, survivor = sorted(after)
    assert host.run('docker kill %s', victim).rc == 0
    assert replica_ids(host, 'hello') == {survivor}
    assert all_replicas_serve(host), stack_logs(host)
    loop = request_loop(instance, BASE + '/hello/whoami', AUTH)
    try:
        rerun = play('converge.yml')
        assert rerun.rc == 0 and rerun.changed > 0, rerun
    finally:
        answers = loop.stop()
    failed = [line for line in answers if not line.endswith(' 200')]
    assert len(answers) > 50 and not failed, (len(answers), failed[:10])
    assert inspect(host, victim)['State']['Running']
    ids = replica_ids(host, 'hello')
    assert len(ids) == HELLO_WORKERS and after <= ids, (after, ids)
    assert all_replicas_serve(host), stack_logs(host)
    assert 'plumber_hello=' not in host.check_output("curl -sS -o /dev/null -D - '%s/hello/whoami'" % BASE)


def test_new_code_replaces_the_replicas_without_cutting_a_request_off(host, play, instance, plumber_apis, tmp_path, request_loop):
    """playbooks/deploy.yml with changed code: the new replicas start next to the old ones, then the old ones are drained
    at HAProxy and stop once their requests have ended. Two 45-second requests on old replicas get their answers (a
    stopped replica would cut them off), and a client asking all along sees no failure."""
    source = [api['src'] for api in plumber_apis if api['name'] == 'hello'][0]
    shutil.copytree(source, tmp_path / 'hello')
    with open(tmp_path / 'hello' / 'plumber.R', 'a', encoding='utf-8') as handle:
        handle.write('\n# A new release.\n')
    apis = [dict(api, src=str(tmp_path / 'hello')) if api['name'] == 'hello' else api for api in plumber_apis]
    before = replica_ids(host, 'hello')
    slow = [subprocess.Popen(['docker', 'exec', instance, 'curl', '-sS', '--max-time', '180', '-w', ' %{http_code}',
                              BASE + '/hello/slow?seconds=45'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for attempt in range(2)]
    loop = request_loop(instance, BASE + '/hello/whoami', AUTH)
    try:
        deploy = play('../../playbooks/deploy.yml', extra_vars={'plumber_apis': apis})
    finally:
        answers = loop.stop()
        slow_answers = [proc.communicate(timeout=240)[0] for proc in slow]
    assert deploy.rc == 0, deploy
    assert re.search(r'Drain the replicas that leave at the balancer, API hello\] \**\n[^\n]*\nchanged:', deploy.output), deploy
    for answer in slow_answers:
        body, _space, status = answer.rpartition(' ')
        assert status == '200' and json.loads(body)['slept'] == 45 and json.loads(body)['replica'] in before, slow_answers
    failed = [line for line in answers if not line.endswith(' 200')]
    assert answers and not failed, (len(answers), failed[:10])
    after = replica_ids(host, 'hello')
    assert len(after) == HELLO_WORKERS and not after & before, (before, after)
    assert all_replicas_serve(host), stack_logs(host)


def test_a_release_that_fails_more_requests_after_the_switch_is_rolled_back_by_itself(host, play, instance, plumber_apis,
                                                                                      tmp_path, request_loop, watched_rollback):
    """New hello code whose /whoami fails (R's error, a 500) while its health path answers: the new replicas pass their
    checks and replace the old ones, then the watch at the stack's HAProxy sees the share of failed requests rise, so
    hello goes back to its previous release: replicas of its image replace the failing ones, drained in turn, and the
    play fails with the counts."""
    source = [api['src'] for api in plumber_apis if api['name'] == 'hello'][0]
    shutil.copytree(source, tmp_path / 'hello')
    code = (tmp_path / 'hello' / 'plumber.R').read_text(encoding='utf-8')
    assert 'list(api = Sys.getenv("PLUMBER_API"), replica = replica' in code
    (tmp_path / 'hello' / 'plumber.R').write_text(code.replace('list(api = Sys.getenv("PLUMBER_API"), replica = replica',
                                                               'stop("the new database layer"); list(replica = replica'), encoding='utf-8')
    apis = [dict(api, src=str(tmp_path / 'hello')) if api['name'] == 'hello' else api for api in plumber_apis]
    before = host.check_output('readlink /srv/plumber/hello/current')
    loop = request_loop(instance, BASE + '/hello/whoami', AUTH)
    try:
        deploy = play('../../playbooks/deploy.yml', extra_vars={'plumber_apis': apis, 'api_watch_window': 4, 'api_watch_min_requests': 10})
    finally:
        answers = loop.stop()
    assert deploy.rc != 0, deploy
    watched = watched_rollback(deploy.output, 4)
    assert watched and watched[2] >= 90 and watched[1] >= 10, deploy
    assert 'releases/' + watched[4] == before == host.check_output('readlink /srv/plumber/hello/current'), deploy
    assert any(line.endswith(' 500') for line in answers), answers[-20:]
    assert set(replicas_answering(host, '/hello/whoami', 2 * HELLO_WORKERS)) <= replica_ids(host, 'hello')
    assert len(replica_ids(host, 'hello')) == HELLO_WORKERS and all_replicas_serve(host), stack_logs(host)


def test_the_apis_reach_nothing_outside(host):
    """compose_api_egress: false (this scenario's inventory): the APIs' network is internal."""
    replica = sorted(replica_ids(host, 'hello'))[0]
    outside = host.run('docker exec %s Rscript -e %s', replica, 'readLines(url("http://deb.debian.org/"), 1)')
    assert outside.rc != 0 and 'resolve' in outside.stderr, outside.stdout + outside.stderr


def test_crashed_replica_comes_back(host):
    """An R process that dies: its container exits and the restart policy starts it again."""
    victim = sorted(replica_ids(host, 'hello'))[0]
    before = inspect(host, victim)
    crash = host.run('kill -9 $(pgrep -P %d)' % before['State']['Pid'])
    assert crash.rc == 0, crash.stderr

    def back():
        state = inspect(host, victim)
        return state['RestartCount'] > before['RestartCount'] and state['State'].get('Health', {}).get('Status') == 'healthy'
    assert wait_until(back, 90), inspect(host, victim)['State']
    assert all_replicas_serve(host), stack_logs(host)


def test_docker_restart_brings_the_stack_back(host):
    restart = host.run('systemctl restart docker')
    assert restart.rc == 0, restart.stderr
    # While the containers come back one by one, Docker's DNS may refuse a lookup for a moment
    # (nginx answers 502): wait for every API, as after a reboot.
    assert all_replicas_serve(host), stack_logs(host)
    assert all_replicas_serve(host, 'greeter', '/greeter/greet'), stack_logs(host)
    assert get(host, '/greeter/greet')['greeting'] == 'Howdy, world'


def test_reboot_brings_the_stack_back(host, instance):
    """The docker unit is enabled and every container has a restart policy: after the instance restarts, all answer."""
    subprocess.run(['docker', 'restart', instance], check=True, capture_output=True, timeout=180)
    assert wait_until(lambda: host.run('systemctl is-active docker').stdout.strip() == 'active', 90)
    # Docker writes the instance's /etc/hosts anew at each start: the stack's name again (prepare.yml).
    host.check_output("grep -q ' %s$' /etc/hosts || echo '127.0.0.1 %s' >> /etc/hosts" % (DOMAIN, DOMAIN))
    assert all_replicas_serve(host, timeout=180), stack_logs(host)
    assert all_replicas_serve(host, 'greeter', '/greeter/greet'), stack_logs(host)


# Bad input fails in the role's preflight: a play with the role alone, facts as plumber.hosting.api
# and plumber.hosting.api_image leave them, and one bad value.
ROLE_ONLY = """
- hosts: all
  gather_facts: false
  vars:
    api_service_account: {user: plumber, group: plumber, home: /srv/plumber}
    plumber_apis: [{name: hello, src: /tmp}]
    api_images:
      - {name: hello, path: /hello, workers: 1, health: /healthz, docs: false, image: 'plumber-hello:0',
         workdir: /srv/plumber/hello/current, env_file: /etc/plumber/hello.env}
  roles:
    - plumber.hosting.compose
"""


@pytest.mark.parametrize('extra_vars, fragments', [
    ({'compose_client_max_body_size': '10 MB'}, ['compose_client_max_body_size', '10 MB']),
    ({'compose_listen_address': 'localhost'}, ['compose_listen_address', 'localhost']),
    ({'compose_http_port': 70000}, ['compose_http_port', '70000']),
    ({'compose_project_name': 'My Stack'}, ['compose_project_name', 'My Stack']),
    ({'plumber_apis': [{'name': 'nginx', 'src': '/tmp'}]}, ['plumber_apis name', 'nginx', 'router']),
    ({'api_images': [{'name': 'hello', 'path': '/hello', 'workers': 1, 'health': '/healthz'}]},
     ['api_images', 'plumber.hosting.api_image']),
], ids=['body-size', 'listen-address', 'port', 'project-name', 'api-named-nginx', 'no-image'])
def test_bad_input_fails_before_any_change(host, play, extra_vars, fragments):
    before = host.file(PROJECT_DIR + '/compose.yaml').mtime
    result = play(ROLE_ONLY, extra_vars=extra_vars)
    assert result.rc != 0, result
    assert all(fragment in result.output for fragment in fragments), result
    assert result.changed == 0, result
    assert host.file(PROJECT_DIR + '/compose.yaml').mtime == before
