"""What a user on the network sees of a front and three app hosts (systemd, pm2, docker): every API
through the front on HTTPS with the ACME CA's certificate, hello spread over the workers of every app
host, the worker ports (the docker host's included) and the front's other ports closed to anyone
but the front, a renewal picked up without a
playbook run, no request lost while an app host goes down and comes back, and none while it is
removed from the inventory (the last test: the scenario ends without app2 behind the front)."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import time

import pytest
import testinfra
import yaml

from ansible_collections.plumber.hosting.plugins.module_utils._apis import default_port

# hello (two workers, port chosen by the collection) on every app host; greeter (port 8100) on app1.
HELLO = default_port('hello')
WORKER_PORTS = {'app1': (HELLO, HELLO + 1, 8100), 'app2': (HELLO, HELLO + 1), 'app3': (HELLO, HELLO + 1)}
PREFIX = os.environ.get('PLUMBER_HOSTING_INSTANCE', 'plumber') + '-fronts-'
NAMES = {role: PREFIX + role for role in ('front', 'app1', 'app2', 'app3', 'client')}
DOMAIN = 'front.plumber.test'
BASE = 'https://' + DOMAIN
ROOTS = '/tmp/pebble-roots.pem'
# greeter's user at the front (molecule.yml).
ANN = {'Authorization': 'Basic ' + base64.b64encode('ann:s3cret: with spaces & $ign'.encode()).decode()}

# Client-side helpers, written to the client once. get.py: GET each URL (HTTPS trusting pebble's
# roots, redirects not followed) and print one JSON line each: status, headers, body.
GET = r'''
import json, ssl, sys, urllib.error, urllib.request
context = ssl.create_default_context(cafile=sys.argv[1])
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=context))
# Then JSON: {"method": ..., "headers": {...}}, then the URLs.
options = json.loads(sys.argv[2])
for url in sys.argv[3:]:
    try:
        request = urllib.request.Request(url, method=options.get('method', 'GET'), headers=options.get('headers', {}))
        with opener.open(request, timeout=30) as response:
            status, headers, body = response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, dict(error.headers), error.read().decode()
    except Exception as error:
        status, headers, body = 0, {}, repr(error)
    print(json.dumps({'status': status, 'headers': {k.lower(): v for k, v in headers.items()}, 'body': body}))
'''
# loop.py: GET a URL for some seconds (or until a stop file, the optional 4th argument, exists), one
# request at a time, 0.05 s apart (RequestLoop in molecule/conftest.py says why); print the answers per
# worker and the failures.
LOOP = r'''
import collections, json, os, ssl, sys, time, urllib.request
context = ssl.create_default_context(cafile=sys.argv[1])
url, seconds = sys.argv[2], float(sys.argv[3])
stop = sys.argv[4] if len(sys.argv) > 4 else None
answers, failures, deadline = collections.Counter(), [], time.monotonic() + seconds
while time.monotonic() < deadline and not (stop and os.path.exists(stop)):
    try:
        with urllib.request.urlopen(url, timeout=30, context=context) as response:
            body = json.load(response)
            answers['%s/%s' % (body['host'], body['worker'])] += 1
    except Exception as exc:
        failures.append('%.1f %r' % (time.monotonic(), exc))
    time.sleep(0.05)
print(json.dumps({'answers': answers, 'failures': failures}))
'''


@pytest.fixture(scope='module')
def hosts():
    return {role: testinfra.get_host('docker://' + name) for role, name in NAMES.items()}


@pytest.fixture(scope='module')
def ips(address):
    return {role: address(name) for role, name in NAMES.items() if role != 'client'}


def hello_containers():
    """The (short) ids of hello's worker containers on app3. They run on app3's network, so they answer with its host name."""
    return set(subprocess.run(['docker', 'exec', NAMES['app3'], 'docker', 'ps', '-q', '--filter', 'label=plumber.hosting.api=hello'],
                              capture_output=True, text=True, check=True).stdout.split())


@pytest.fixture(scope='module')
def app3_workers():
    return hello_containers()


@pytest.fixture(scope='module')
def client(hosts, ips):
    """The client: the front's name in /etc/hosts, pebble's roots trusted by the helpers."""
    host = hosts['client']
    host.check_output("grep -q ' %s$' /etc/hosts || echo '%s %s' >> /etc/hosts" % (DOMAIN, ips['front'], DOMAIN))
    host.check_output("python3 -c 'import ssl, urllib.request\n"
                      "context = ssl.create_default_context(cafile=\"/etc/pebble/ca.pem\")\n"
                      "open(\"%s\", \"wb\").write(urllib.request.urlopen(\"https://localhost:15000/roots/0\", context=context).read())'"
                      % ROOTS)
    for name, text in (('get.py', GET), ('loop.py', LOOP)):
        host.check_output("cat > /tmp/%s <<'EOF'\n%s\nEOF" % (name, text))
    return host


def get(host, *urls, cafile=ROOTS, method='GET', headers=None):
    options = json.dumps({'method': method, 'headers': headers or {}})
    out = host.check_output('python3 /tmp/get.py %s %s %s' % (cafile, shlex.quote(options), ' '.join(shlex.quote(url) for url in urls)))
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def whoami(host, count):
    answers = get(host, *['%s/hello/whoami' % BASE] * count)
    assert all(answer['status'] == 200 for answer in answers), answers
    return [json.loads(answer['body']) for answer in answers]


def can_connect(host, ip, port, timeout=2):
    cmd = host.run("python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), %d)' %s %d"
                   % (timeout, ip, port))
    return cmd.rc == 0


def served_certificate(host):
    return host.check_output("python3 -c 'import ssl; print(ssl.get_server_certificate((\"%s\", 443)))'" % DOMAIN)


def test_hello_is_spread_over_the_workers_of_every_app_host(client, app3_workers):
    assert len(app3_workers) == 2, app3_workers
    seen = whoami(client, 36)
    workers = {(answer['host'], answer['worker']) for answer in seen}
    assert {host for host, _worker in workers} == {NAMES['app1'], NAMES['app2'], NAMES['app3']}, seen
    assert len(workers) == 6, seen


def test_https_with_the_acme_certificate_and_http_redirected(client):
    greeter = get(client, '%s/greeter/greet?name=Ann' % BASE, headers=ANN)[0]
    missing = get(client, '%s/nothing/here' % BASE)[0]
    # Verified against pebble's roots: the certificate is the ACME CA's, for the front's name.
    assert greeter['status'] == 200 and 'Howdy, Ann' in greeter['body'], greeter
    assert greeter['headers']['strict-transport-security'] == 'max-age=63072000', greeter['headers']
    assert missing['status'] == 404
    plain = get(client, 'http://%s/hello/whoami?x=1' % DOMAIN)[0]
    assert plain['status'] == 301 and plain['headers']['location'] == '%s/hello/whoami?x=1' % BASE, plain
    # Not trusted by a client that does not trust the test ACME CA.
    assert get(client, '%s/hello/whoami' % BASE, cafile='/etc/pebble/ca.pem')[0]['status'] == 0


def test_access_control_at_the_front_401_cors_429(client):
    url = '%s/greeter/greet' % BASE
    assert get(client, url)[0]['status'] == 401
    assert get(client, url, headers={'Authorization': 'Basic ' + base64.b64encode(b'ann:wrong').decode()})[0]['status'] == 401
    # A browser's preflight, without credentials: answered by the front for the allowed origin.
    asked = {'Origin': 'https://app.plumber.test', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization'}
    preflight = get(client, url, method='OPTIONS', headers=asked)[0]
    assert preflight['status'] == 204, preflight
    assert preflight['headers']['access-control-allow-origin'] == 'https://app.plumber.test', preflight
    answer = get(client, url, headers=dict(ANN, Origin='https://app.plumber.test'))[0]
    assert answer['status'] == 200 and answer['headers']['access-control-allow-origin'] == 'https://app.plumber.test', answer
    assert answer['headers']['strict-transport-security'] == 'max-age=63072000', answer['headers']
    assert 'access-control-allow-origin' not in get(client, url, headers=dict(ANN, Origin='https://evil.test'))[0]['headers']
    # 5 per second, bursts of 5: 20 at once get some 429s, and never a 5xx.
    time.sleep(1.5)
    statuses = [answer['status'] for answer in get(client, *[url] * 20, headers=ANN)]
    assert 429 in statuses and 200 in statuses and max(statuses) < 500, statuses
    # The users file holds a hash, not the password.
    users = testinfra.get_host('docker://' + NAMES['front']).check_output('cat /etc/nginx/plumber-users/greeter.htpasswd')
    assert users.startswith('ann:$apr1$') and 's3cret' not in users


def test_maintenance_switch_answers_503_at_the_front_until_switched_off(play, client):
    """playbooks/maintenance.yml as a user runs it: hello answers 503 and the page at once (no reload), its health path
    and greeter still answer; a second run changes nothing; a name no host lists fails; switched off, hello answers."""
    maintenance = '../../playbooks/maintenance.yml'
    unknown = play(maintenance, extra_vars={'maintenance_on': 'hello,nope'})
    assert unknown.rc != 0 and 'maintenance_on names nope, which no host of plumber_servers lists' in unknown.output, unknown
    switched = play(maintenance, extra_vars={'maintenance_on': 'hello'})
    assert switched.rc == 0 and switched.changed == 1, switched
    assert 'In maintenance at this front (503 and the maintenance page): hello' in switched.output, switched
    down, health, greeter = get(client, BASE + '/hello/whoami', BASE + '/hello/healthz', BASE + '/greeter/healthz')
    assert down['status'] == 503 and 'Down for maintenance' in down['body'] and down['headers']['retry-after'] == '120', down
    assert health['status'] == 200 and greeter['status'] == 200, (health, greeter)
    again = play(maintenance, extra_vars={'maintenance_on': 'hello'})
    assert again.rc == 0 and again.changed == 0, again
    back = play(maintenance, extra_vars={'maintenance_off': 'hello'})
    assert back.rc == 0 and back.changed == 1 and 'No API is in maintenance at this front.' in back.output, back
    assert whoami(client, 2)


def test_worker_ports_answer_the_front_only(hosts, ips, client):
    for app, ports in WORKER_PORTS.items():
        for port in ports:
            assert can_connect(hosts['front'], ips[app], port), '%s:%d from the front' % (app, port)
            assert not can_connect(client, ips[app], port), '%s:%d is reachable from the client' % (app, port)


def test_the_front_serves_http_and_https_only_and_its_statistics_on_loopback(hosts, ips, client):
    for port in (80, 443):
        assert can_connect(client, ips['front'], port)
    for port in (8080, 8404):
        assert not can_connect(client, ips['front'], port), 'front port %d is reachable from the client' % port
    page = hosts['front'].check_output('python3 -c \'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:8404/").read().decode())\'')
    assert 'hello' in page and 'greeter' in page
    for role in ('front', 'app1', 'app2', 'app3'):
        status = hosts[role].check_output('ufw status verbose')
        assert 'Status: active' in status and 'deny (incoming)' in status, status


def test_a_check_run_on_the_converged_hosts_changes_nothing(play):
    result = play('converge.yml', '--check', '--diff')
    assert result.rc == 0 and result.changed == 0, result


def test_a_renewal_on_the_host_reaches_nginx_without_a_playbook_run(hosts, client):
    assert hosts['front'].service('certbot.timer').is_enabled
    before = served_certificate(client)
    renew = hosts['front'].run('certbot renew --force-renewal --no-random-sleep-on-renew --cert-name %s' % DOMAIN)
    assert renew.rc == 0, renew.stdout + renew.stderr
    # The deploy hook reloaded nginx: the new certificate is served (once the new workers run), and trusted.
    deadline = time.monotonic() + 15
    while served_certificate(client) == before:
        assert time.monotonic() < deadline, 'nginx still serves the old certificate 15 s after the renewal'
        time.sleep(0.5)
    assert whoami(client, 2)


def test_no_request_fails_while_an_app_host_goes_down_and_comes_back(client):
    client.check_output('rm -f /tmp/loop.json; setsid nohup python3 /tmp/loop.py %s %s/hello/whoami 30 > /tmp/loop.json 2>&1 &'
                        % (ROOTS, BASE))
    time.sleep(4)
    subprocess.run(['docker', 'stop', NAMES['app2']], check=True, capture_output=True)
    time.sleep(28)
    summary = json.loads(client.check_output('cat /tmp/loop.json'))
    assert summary['failures'] == [], summary
    assert any(key.startswith(NAMES['app2']) for key in summary['answers']), summary
    late = whoami(client, 12)
    assert {answer['host'] for answer in late} == {NAMES['app1'], NAMES['app3']}, late

    # Back after a reboot: pm2's boot service resurrects the workers, the front's checks let them in.
    subprocess.run(['docker', 'start', NAMES['app2']], check=True, capture_output=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if NAMES['app2'] in {answer['host'] for answer in whoami(client, 12)}:
            break
        time.sleep(2)
    else:
        pytest.fail('app2 did not come back behind the front within 120 s')


def inventory_without(host, directory):
    """A copy of the scenario's inventory without `host`, as a user removes a host from theirs: the
    copy in `directory`, next to the group_vars and host_vars of the scenario's (linked)."""
    source = os.environ['MOLECULE_INVENTORY_FILE']
    with open(source, encoding='utf-8') as handle:
        inventory = yaml.safe_load(handle)
    for group in inventory.values():
        (group.get('hosts') or {}).pop(host, None)
    for name in ('group_vars', 'host_vars'):
        if os.path.isdir(os.path.join(os.path.dirname(source), name)):
            os.symlink(os.path.join(os.path.dirname(source), name), os.path.join(str(directory), name))
    path = os.path.join(str(directory), 'inventory.yml')
    with open(path, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(inventory, handle)
    return path


def ufw_ports(host):
    """The ports of the ALLOW rules `ufw status` lists (e.g. '22/tcp', '8443/tcp (v6)' as '8443/tcp')."""
    return {line.split()[0] for line in host.check_output('ufw status').splitlines() if ' ALLOW ' in line}


# Last: the scenario ends with app2 out of the inventory. The rerun also takes the front's extra
# public port away (molecule.yml): its firewall rule goes stale and is deleted. And it sends new code
# of hello: app1 (systemd) and app3 (docker) restart their hello workers, each drained at the front first.
def test_removing_an_app_host_is_a_rerun_that_drains_it_without_a_failed_request(play, hosts, ips, client, app3_workers, tmp_path):
    assert '8443/tcp' in ufw_ports(hosts['front'])
    inventory = inventory_without(NAMES['app2'], tmp_path)
    code = tmp_path / 'hello'
    code.mkdir()
    with open(os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'playbooks/files/hello/plumber.R'), encoding='utf-8') as handle:
        code.joinpath('plumber.R').write_text(handle.read() + '\n#* @get /v2\nfunction() list(v2 = TRUE)\n', encoding='utf-8')
    hello = {'name': 'hello', 'src': str(code), 'workers': 2}
    client.check_output('rm -f /tmp/loop.json /tmp/loop.stop; setsid nohup python3 /tmp/loop.py %s %s/hello/whoami 1800 /tmp/loop.stop'
                        ' > /tmp/loop.json 2>&1 &' % (ROOTS, BASE))
    try:
        result = play('converge.yml', extra_vars={'firewall_public_ports': [], 'test_api_hello': hello}, inventory=inventory)
    finally:
        client.check_output('touch /tmp/loop.stop')
    deadline = time.monotonic() + 60
    while not client.run('cat /tmp/loop.json').stdout.strip():
        assert time.monotonic() < deadline, 'the request loop did not stop within 60 s'
        time.sleep(1)
    summary = json.loads(client.check_output('cat /tmp/loop.json'))
    print('requests during the run:', summary)  # in the log with pytest -s or -rA
    assert result.rc == 0, result
    assert summary['failures'] == [], summary
    # app2 was behind the front when the run started.
    assert any(key.startswith(NAMES['app2']) for key in summary['answers']), summary
    # app3's hello containers are new ones (new code).
    late = whoami(client, 12)
    assert {answer['host'] for answer in late} == {NAMES['app1'], NAMES['app3']}, late
    assert len(hello_containers()) == 2 and not hello_containers() & app3_workers
    # The servers are <address>:<port>.
    config = hosts['front'].check_output('cat /etc/haproxy/haproxy.cfg')
    assert ' %s:' % ips['app2'] not in config and NAMES['app2'] not in config, config
    assert ' %s:' % ips['app1'] in config, config
    ports = ufw_ports(hosts['front'])
    assert '8443/tcp' not in ports and {'22/tcp', '80/tcp', '443/tcp'} <= ports, ports
    # The new code on every app host left, each hello worker drained at the front (from its app host) before it restarted.
    assert {answer['status'] for answer in get(client, *['%s/hello/v2' % BASE] * 6)} == {200}
    drained = re.findall(r'TASK \[plumber\.hosting\.proxy : Wait for its requests to end, then put it in maintenance, '
                         r'server ([^\]]+)\]', result.output)
    assert sorted(set(drained)) == sorted('hello/%s:%d' % (ips[app], port) for app in ('app1', 'app3') for port in (HELLO, HELLO + 1)), drained
