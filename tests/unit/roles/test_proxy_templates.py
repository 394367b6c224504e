"""The nginx and HAProxy templates of the role proxy (roles/proxy/templates) serve R workers in a
compose stack and on plain servers alike. Each case renders them with Ansible's template module, checks
them with the real nginx and HAProxy of the test images (`nginx -t`, `haproxy -c`), and the
plain-server case also runs them: nginx -> HAProxy -> two workers on 127.0.0.1, host network. The
backends built by the filter proxy_backends (static servers, server_template) render and check the
same way."""

from __future__ import annotations

import base64
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from ansible_collections.plumber.hosting.plugins.module_utils._proxy import proxy_backends, validate_proxy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TEMPLATES = os.path.join(ROOT, 'roles', 'proxy', 'templates')
NGINX_IMAGE = 'plumber-hosting-test/nginx:latest'
HAPROXY_IMAGE = 'plumber-hosting-test/haproxy:latest'

HOLD_SCRIPT = os.path.join(ROOT, 'roles', 'proxy', 'files', 'plumber-hold.lua')
BALANCER = {'log': 'stdout format raw local0', 'timeout': 300, 'check_interval': 1, 'check_timeout': 5,
            'maxconn': 1, 'slow_start': 2, 'cookie_key': 'k' * 32, 'hold': 8, 'hold_script': '/usr/local/etc/haproxy/plumber-hold.lua'}
ROUTER = {'server_name': '_', 'timeout': 300, 'client_max_body_size': '100m'}

# plumber.hosting.compose: servers found through Docker's DNS, nginx reaching HAProxy by name.
COMPOSE = {
    'router': dict(ROUTER, listen=[80], balancer='haproxy:8080', resolver='127.0.0.11'),
    'balancer': dict(BALANCER, bind=':8080', nameservers=['127.0.0.11:53']),
    'backends': [
        {'name': 'hello', 'path': '/hello', 'health': '/healthz', 'docs': False, 'sticky': True,
         'server_template': {'host': 'hello', 'port': 8000, 'count': 8}},
        {'name': 'root-api', 'path': '/', 'health': '/healthz', 'docs': True, 'sticky': False,
         'server_template': {'host': 'root-api', 'port': 8000, 'count': 8}},
    ],
}

# Plain servers (pm2 or systemd workers on 127.0.0.1): static servers, no resolver, HAProxy on
# loopback, a TLS listener next to plain HTTP. Ports high enough not to clash with the machine's.
ROUTER_PORT, BALANCER_PORT, TLS_PORT, STATS_PORT, WORKER_PORTS, LATER_PORT = 18080, 18081, 18443, 18404, (18101, 18102), 18103
PLAIN = {
    'router': dict(ROUTER, listen=[ROUTER_PORT], balancer='127.0.0.1:%d' % BALANCER_PORT, resolver='',
                   tls={'port': TLS_PORT, 'certificate': '/certs/cert.pem', 'certificate_key': '/certs/key.pem', 'redirect': False}),
    'balancer': dict(BALANCER, bind='127.0.0.1:%d' % BALANCER_PORT, nameservers=[], stats='127.0.0.1:%d' % STATS_PORT),
    'backends': [
        {'name': 'hello', 'path': '/hello', 'health': '/healthz', 'docs': True, 'sticky': False,
         'servers': ['127.0.0.1:%d' % port for port in WORKER_PORTS]},
        {'name': 'sticky', 'path': '/sticky', 'health': '/healthz', 'docs': False, 'sticky': True,
         'servers': ['127.0.0.1:%d' % port for port in WORKER_PORTS]},
        # Access control: this client (127.0.0.1) let in, a user, 2 requests per second, one CORS origin.
        {'name': 'guarded-api', 'path': '/guarded', 'health': '/healthz', 'docs': False, 'sticky': False,
         'servers': ['127.0.0.1:%d' % port for port in WORKER_PORTS],
         'access': {'allow': ['127.0.0.0/8'], 'basic_auth': True, 'rate_limit': 2, 'cors_origins': ['https://app.example.com'],
                    'cors_credentials': True}},
        {'name': 'denied', 'path': '/denied', 'health': '/healthz', 'docs': False, 'sticky': False,
         'servers': ['127.0.0.1:%d' % port for port in WORKER_PORTS], 'access': {'allow': ['192.0.2.0/24']}},
        # One worker, which no test starts but the hold's.
        {'name': 'later', 'path': '/later', 'health': '/healthz', 'docs': False, 'sticky': False, 'servers': ['127.0.0.1:%d' % LATER_PORT]},
    ],
}
PLAIN['router']['htpasswd_dir'] = '/htpasswd'
PLAIN['router']['maintenance_dir'] = '/maintenance'


def docker_ready():
    if not shutil.which('docker'):
        return False
    images = subprocess.run(['docker', 'image', 'inspect', NGINX_IMAGE, HAPROXY_IMAGE], capture_output=True, check=False)
    return images.returncode == 0


pytestmark = pytest.mark.skipif(not docker_ready(), reason='needs Docker and the test images (tests/run setup images)')


def render(tmp_path, proxy):
    """Both templates rendered by Ansible for `plumber_proxy` = proxy: (nginx.conf, haproxy.cfg) paths."""
    out = {}
    variables = tmp_path / 'vars.json'
    variables.write_text(json.dumps({'plumber_proxy': proxy, 'ansible_python_interpreter': sys.executable}), encoding='utf-8')
    for name, src in (('nginx', 'plumber-nginx.conf.j2'), ('haproxy', 'plumber-haproxy.cfg.j2')):
        out[name] = tmp_path / name
        cmd = subprocess.run(['ansible', 'localhost', '-i', 'localhost,', '-c', 'local', '-m', 'ansible.builtin.template',
                              '-a', 'src=%s dest=%s' % (os.path.join(TEMPLATES, src), out[name]), '-e', '@%s' % variables],
                             capture_output=True, text=True, check=False, timeout=120)
        assert cmd.returncode == 0, cmd.stdout + cmd.stderr
    return out['nginx'], out['haproxy']


def docker(*args, check=True):
    cmd = subprocess.run(['docker', *args], capture_output=True, text=True, check=False, timeout=120)
    if check:
        assert cmd.returncode == 0, cmd.stdout + cmd.stderr
    return cmd


def nginx_check(conf, *mounts):
    return docker('run', '--rm', '--network', 'none', '-v', '%s:/etc/nginx/conf.d/default.conf:ro' % conf, *mounts,
                  NGINX_IMAGE, 'nginx', '-t', '-q', check=False)


def haproxy_check(cfg):
    return docker('run', '--rm', '--network', 'none', '--user', 'root', '-v', '%s:/usr/local/etc/haproxy/haproxy.cfg:ro' % cfg,
                  '-v', '%s:/usr/local/etc/haproxy/plumber-hold.lua:ro' % HOLD_SCRIPT, HAPROXY_IMAGE,
                  'haproxy', '-c', '-q', '-f', '/usr/local/etc/haproxy/haproxy.cfg', check=False)


def certificate(tmp_path):
    certs = tmp_path / 'certs'
    certs.mkdir()
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
                    '-keyout', str(certs / 'key.pem'), '-out', str(certs / 'cert.pem')], check=True, capture_output=True)
    certs.chmod(0o755)
    for pem in certs.iterdir():
        pem.chmod(0o644)
    return certs


def render_checked(tmp_path, proxy):
    """Both templates rendered, then checked by nginx -t and haproxy -c: (nginx text, HAProxy text)."""
    nginx, haproxy = render(tmp_path, proxy)
    checked = nginx_check(nginx)
    assert checked.returncode == 0, checked.stderr
    checked = haproxy_check(haproxy)
    assert checked.returncode == 0, checked.stderr
    return nginx.read_text(encoding='utf-8'), haproxy.read_text(encoding='utf-8')


def test_compose_configuration_is_valid(tmp_path):
    routes, cfg = render_checked(tmp_path, COMPOSE)
    assert 'server-template hello 8 hello:8000 check resolvers plumber' in cfg
    assert 'dynamic-cookie-key' in cfg and 'cookie plumber_hello insert' in cfg
    # An API at the root takes / itself: no catch-all 404 location next to it.
    assert 'location / {' in routes and '404 - Resource Not Found' not in routes
    assert 'resolver 127.0.0.11' in routes


def filter_hosts(manager, *addresses):
    """Hosts behind one front as the filter proxy_backends takes them: each with the same two APIs."""
    apis = [{'name': 'hello', 'src': '/srv/hello', 'workers': 2, 'port': 9000, 'sticky': True},
            {'name': 'greeter', 'src': '/srv/greeter', 'port': 9100, 'docs': True, 'path': '/greet/v1'}]
    return [{'name': 'web%d' % i, 'address': address, 'apis': apis, 'process_manager': manager}
            for i, address in enumerate(addresses, 1)]


def test_filter_static_servers_render_valid_configuration(tmp_path):
    backends = proxy_backends(filter_hosts('systemd', '10.0.0.2', '10.0.0.1'))
    # Without the TLS listener: no certificate to mount for nginx -t.
    router = {key: value for key, value in PLAIN['router'].items() if key != 'tls'}
    proxy = validate_proxy({'router': router, 'balancer': PLAIN['balancer'], 'backends': backends})
    routes, cfg = render_checked(tmp_path, proxy)
    # Every worker of both hosts, by host name (web1 at 10.0.0.2 first), named after its address (the worker roles
    # drain hello/10.0.0.2:9000 before they restart it), a cookie value each for the sticky API.
    assert ('    server 10.0.0.2:9000 10.0.0.2:9000 check cookie hello1\n    server 10.0.0.2:9001 10.0.0.2:9001 check cookie hello2\n'
            '    server 10.0.0.1:9000 10.0.0.1:9000 check cookie hello3\n    server 10.0.0.1:9001 10.0.0.1:9001 check cookie hello4\n') in cfg
    assert '    server 10.0.0.2:9100 10.0.0.2:9100 check\n    server 10.0.0.1:9100 10.0.0.1:9100 check\n' in cfg
    assert 'server-template' not in cfg and 'resolvers plumber' not in cfg and 'dynamic-cookie-key' not in cfg
    assert 'location = /greet/v1/__docs__ {' in routes and 'location /hello/ {' in routes
    assert '\nresolver ' not in routes
    # A server back from a drain or a restart gets its full share of requests over 2 s.
    assert ' maxconn 1 slowstart 2s\n' in cfg


def test_filter_server_template_renders_valid_configuration(tmp_path):
    apis = [{'name': 'hello', 'src': '/srv/hello', 'workers': 5}, {'name': 'greeter', 'src': '/srv/greeter'}]
    hosts = [dict(filter_hosts('compose', '127.0.0.1')[0], apis=apis)]
    proxy = validate_proxy(dict(COMPOSE, backends=proxy_backends(hosts, compose_port=8000, slots=8, sticky_all=True)))
    routes, cfg = render_checked(tmp_path, proxy)
    assert 'server-template hello 10 hello:8000 check resolvers plumber' in cfg
    assert 'server-template greeter 8 greeter:8000 check resolvers plumber' in cfg
    assert 'cookie plumber_greeter insert indirect nocache httponly attr "SameSite=Lax" dynamic' in cfg
    assert '\n    server ' not in cfg


class Worker(http.server.BaseHTTPRequestHandler):
    """A stand-in R worker: answers its port, the path it got and the prefix header as JSON."""

    def do_GET(self):  # pylint: disable=invalid-name
        body = json.dumps({'worker': self.server.server_port, 'path': self.path,
                           'prefix': self.headers.get('X-Forwarded-Prefix', ''),
                           'backend_header': self.headers.get('X-Plumber-Backend', '')}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture
def workers():
    servers = [http.server.ThreadingHTTPServer(('127.0.0.1', port), Worker) for port in WORKER_PORTS]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def plain_stack(tmp_path, workers):  # pylint: disable=redefined-outer-name,unused-argument
    """nginx and HAProxy from the rendered plain-server configuration, on the host network."""
    nginx, haproxy = render(tmp_path, PLAIN)
    certs = certificate(tmp_path)
    users = tmp_path / 'htpasswd'
    users.mkdir()
    (users / 'guarded-api.htpasswd').write_text('ann:{PLAIN}s3cret\n', encoding='utf-8')
    users.chmod(0o755)
    (users / 'guarded-api.htpasswd').chmod(0o644)
    # The maintenance switch's directory with the role's page, as the entry point maintenance writes it.
    maintenance = tmp_path / 'maintenance'
    maintenance.mkdir()
    shutil.copy(os.path.join(ROOT, 'roles', 'proxy', 'files', 'maintenance.html'), maintenance)
    maintenance.chmod(0o755)
    (maintenance / 'maintenance.html').chmod(0o644)
    checked = nginx_check(nginx, '-v', '%s:/certs:ro' % certs, '-v', '%s:/htpasswd:ro' % users)
    assert checked.returncode == 0, checked.stderr
    checked = haproxy_check(haproxy)
    assert checked.returncode == 0, checked.stderr
    names = ['plumber-hosting-unit-haproxy-%d' % os.getpid(), 'plumber-hosting-unit-nginx-%d' % os.getpid()]
    try:
        docker('run', '-d', '--name', names[0], '--network', 'host', '-v', '%s:/usr/local/etc/haproxy/haproxy.cfg:ro' % haproxy,
               '-v', '%s:/usr/local/etc/haproxy/plumber-hold.lua:ro' % HOLD_SCRIPT, HAPROXY_IMAGE)
        docker('run', '-d', '--name', names[1], '--network', 'host', '-v', '%s:/etc/nginx/conf.d/default.conf:ro' % nginx,
               '-v', '%s:/certs:ro' % certs, '-v', '%s:/htpasswd:ro' % users, '-v', '%s:/maintenance:ro' % maintenance, NGINX_IMAGE)
        yield names
    finally:
        for name in names:
            docker('rm', '-f', name, check=False)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # pylint: disable=unused-argument
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(path, port=ROUTER_PORT, cookie=None, timeout=30, method='GET', headers=None):
    """A request through nginx, redirects not followed, until it answers (the containers are starting):
    (status, headers, body)."""
    headers = dict(headers or {}, **({'Cookie': cookie} if cookie else {}))
    request = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path), headers=headers, method=method)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with OPENER.open(request, timeout=10) as answer:
                return answer.status, answer.headers, answer.read().decode()
        except urllib.error.HTTPError as error:
            if error.code not in (502, 503) or time.monotonic() > deadline:
                return error.code, error.headers, error.read().decode()
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def test_plain_servers_route_by_prefix_and_balance_over_the_workers(plain_stack):  # pylint: disable=redefined-outer-name,unused-argument
    status, body = fetch('/hello/whoami')[::2]
    assert status == 200, body
    answer = json.loads(body)
    # The prefix is stripped and passed on; the routing header stops at HAProxy.
    assert answer['path'] == '/whoami' and answer['prefix'] == '/hello' and answer['backend_header'] == '', answer
    seen = {json.loads(fetch('/hello/whoami')[2])['worker'] for attempt in range(10)}
    assert seen == set(WORKER_PORTS), seen
    assert fetch('/elsewhere')[0] == 404
    status, headers = fetch('/hello/__docs__')[:2]
    assert status == 301 and headers.get('Location') == '/hello/__docs__/', (status, dict(headers))


def test_plain_servers_statistics_page_lists_every_backend(plain_stack):  # pylint: disable=redefined-outer-name,unused-argument
    fetch('/hello/whoami')  # started
    with urllib.request.urlopen('http://127.0.0.1:%d/' % STATS_PORT, timeout=10) as response:
        page = response.read().decode()
    assert response.status == 200 and 'hello' in page and 'sticky' in page


def test_access_control_answers_401_403_429_and_cors(plain_stack):  # pylint: disable=redefined-outer-name,unused-argument
    fetch('/hello/whoami')  # started
    ann = {'Authorization': 'Basic ' + base64.b64encode(b'ann:s3cret').decode()}
    assert fetch('/guarded/whoami')[0] == 401
    # The health path stays open, for monitors and the deploy's own check.
    assert fetch('/guarded/healthz')[0] == 200 and fetch('/denied/healthz')[0] == 200
    assert fetch('/guarded/whoami', headers={'Authorization': 'Basic ' + base64.b64encode(b'ann:wrong').decode()})[0] == 401
    status, _headers, body = fetch('/guarded/whoami', headers=ann)
    assert status == 200 and json.loads(body)['path'] == '/whoami', body
    assert fetch('/denied/whoami')[0] == 403
    # A preflight: answered by nginx, without credentials, for the allowed origin only.
    asked = {'Origin': 'https://app.example.com', 'Access-Control-Request-Method': 'POST',
             'Access-Control-Request-Headers': 'content-type'}
    status, headers, _body = fetch('/guarded/whoami', method='OPTIONS', headers=asked)
    assert status == 204 and headers['Access-Control-Allow-Origin'] == 'https://app.example.com', dict(headers)
    assert headers['Access-Control-Allow-Credentials'] == 'true' and 'POST' in headers['Access-Control-Allow-Methods']
    assert headers['Access-Control-Allow-Headers'] == 'content-type'
    status, headers, _body = fetch('/guarded/whoami', method='OPTIONS', headers=dict(asked, Origin='https://evil.example.com'))
    assert status == 204 and 'Access-Control-Allow-Origin' not in headers, dict(headers)
    status, headers, _body = fetch('/guarded/whoami', headers=dict(ann, Origin='https://app.example.com'))
    assert headers['Access-Control-Allow-Origin'] == 'https://app.example.com' and 'Origin' in headers['Vary'], dict(headers)
    # 2 per second with bursts of 2: ten at once, some refused with 429, never a 5xx.
    time.sleep(1.5)
    statuses = [fetch('/guarded/whoami', headers=ann, timeout=0)[0] for attempt in range(10)]
    assert 429 in statuses and 200 in statuses and max(statuses) < 500, statuses


def test_maintenance_switch_answers_503_and_the_page_while_its_file_exists(plain_stack, tmp_path):  # pylint: disable=redefined-outer-name,unused-argument
    fetch('/hello/whoami')  # started
    switch = tmp_path / 'maintenance'
    (switch / 'hello').write_text('', encoding='utf-8')
    (switch / 'guarded-api').write_text('', encoding='utf-8')
    # From the next request on, no reload: 503, the page and Retry-After, whatever the method.
    status, headers, body = fetch('/hello/whoami', timeout=0)
    assert status == 503 and 'Down for maintenance' in body, (status, body)
    assert headers['Retry-After'] == '120' and headers['Content-Type'].startswith('text/html'), dict(headers)
    assert fetch('/hello/whoami', method='POST', timeout=0)[0] == 503
    # Before the access control; the health paths stay open; the other APIs answer.
    assert fetch('/guarded/whoami', timeout=0)[0] == 503
    assert fetch('/hello/healthz', timeout=0)[0] == 200 and fetch('/guarded/healthz', timeout=0)[0] == 200
    assert fetch('/sticky/whoami', timeout=0)[0] == 200
    # Without the page, nginx's own 503.
    (switch / 'maintenance.html').unlink()
    status, _headers, body = fetch('/hello/whoami', timeout=0)
    assert status == 503 and 'Down for maintenance' not in body, body
    (switch / 'hello').unlink()
    assert fetch('/hello/whoami', timeout=0)[0] == 200


def later_status():
    """HAProxy's status of the one server of backend `later` (its statistics page as CSV)."""
    with urllib.request.urlopen('http://127.0.0.1:%d/;csv' % STATS_PORT, timeout=10) as response:
        rows = [line.split(',') for line in response.read().decode().splitlines()]
    return [row[17] for row in rows if row[:2] == ['later', '127.0.0.1:%d' % LATER_PORT]][0]


def timed_get(path):
    """(status, seconds) of one GET through nginx, not retried."""
    started = time.monotonic()
    try:
        with OPENER.open('http://127.0.0.1:%d%s' % (ROUTER_PORT, path), timeout=30) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


def test_a_request_waits_while_its_api_has_no_worker_and_gets_the_one_that_comes_back(plain_stack):  # pylint: disable=redefined-outer-name,unused-argument
    """balancer.hold (8 s here): an API with no server in rotation (one worker, restarting) holds the request until its
    worker is back (health checks every second, two to rise), then answers; with none back in time, the 503 after the hold."""
    fetch('/hello/whoami')  # started
    deadline = time.monotonic() + 30
    while later_status() != 'DOWN':
        assert time.monotonic() < deadline, later_status()
        time.sleep(0.2)
    worker = http.server.ThreadingHTTPServer(('127.0.0.1', LATER_PORT), Worker)
    starting = threading.Timer(2, worker.serve_forever)
    starting.start()
    try:
        status, seconds = timed_get('/later/whoami')
        assert status == 200 and 2 < seconds < 8, (status, seconds)
    finally:
        worker.shutdown()
        starting.join()
        worker.server_close()
    deadline = time.monotonic() + 30
    while later_status() != 'DOWN':
        assert time.monotonic() < deadline, later_status()
        time.sleep(0.2)
    status, seconds = timed_get('/later/whoami')
    assert status == 503 and 7.5 < seconds < 12, (status, seconds)
    # An API with a worker up is not held.
    assert timed_get('/hello/whoami')[1] < 1


def test_plain_servers_sticky_cookie_keeps_a_client_on_one_worker(plain_stack):  # pylint: disable=redefined-outer-name,unused-argument
    status, headers, body = fetch('/sticky/whoami')
    assert status == 200, body
    cookie = headers.get('Set-Cookie', '')
    assert cookie.startswith('plumber_sticky=') and 'path=/sticky/' in cookie, cookie
    stuck = {json.loads(fetch('/sticky/whoami', cookie=cookie.split(';')[0])[2])['worker'] for attempt in range(8)}
    assert len(stuck) == 1, stuck


def test_plain_servers_answer_on_the_tls_listener(plain_stack):  # pylint: disable=redefined-outer-name,unused-argument
    fetch('/hello/whoami')  # started
    cmd = subprocess.run(['curl', '-sSk', '--max-time', '20', 'https://127.0.0.1:%d/hello/whoami' % TLS_PORT],
                         capture_output=True, text=True, check=False)
    assert cmd.returncode == 0, cmd.stderr
    assert json.loads(cmd.stdout)['path'] == '/whoami'


def test_tls_redirects_plain_http_but_acme_challenges_and_sends_hsts(tmp_path):
    """The TLS front as the tls role configures it: plain HTTP redirects to HTTPS but serves ACME
    challenges from the webroot; HTTPS answers with HSTS (also on errors: no balancer runs here)."""
    http_port, https_port = 18180, 18543
    router = dict(PLAIN['router'], listen=[http_port], acme_webroot='/acme',
                  tls={'port': https_port, 'certificate': '/certs/cert.pem', 'certificate_key': '/certs/key.pem', 'hsts': 63072000})
    nginx, _haproxy = render(tmp_path, validate_proxy(dict(PLAIN, router=router)))
    certs = certificate(tmp_path)
    challenges = tmp_path / 'acme' / '.well-known' / 'acme-challenge'
    challenges.mkdir(parents=True)
    (challenges / 'token-1').write_text('token-1.thumbprint', encoding='utf-8')
    for path in (tmp_path / 'acme', tmp_path / 'acme' / '.well-known', challenges):
        path.chmod(0o755)
    (challenges / 'token-1').chmod(0o644)
    name = 'plumber-hosting-unit-nginx-tls-%d' % os.getpid()
    try:
        docker('run', '-d', '--name', name, '--network', 'host', '-v', '%s:/etc/nginx/conf.d/default.conf:ro' % nginx,
               '-v', '%s:/certs:ro' % certs, '-v', '%s:/acme:ro' % (tmp_path / 'acme'), NGINX_IMAGE)
        status, headers, _body = fetch('/hello/whoami?x=1', port=http_port)
        assert status == 301 and headers['Location'] == 'https://127.0.0.1:%d/hello/whoami?x=1' % https_port, (status, dict(headers))
        assert fetch('/.well-known/acme-challenge/token-1', port=http_port)[::2] == (200, 'token-1.thumbprint')
        cmd = subprocess.run(['curl', '-sSk', '-o', '/dev/null', '-D', '-', '--max-time', '20', '--tls-max', '1.1',
                              'https://127.0.0.1:%d/hello/whoami' % https_port], capture_output=True, text=True, check=False)
        assert cmd.returncode != 0, 'TLS 1.1 was accepted: %s' % cmd.stdout
        cmd = subprocess.run(['curl', '-sSk', '-o', '/dev/null', '-D', '-', '--max-time', '20',
                              'https://127.0.0.1:%d/hello/whoami' % https_port], capture_output=True, text=True, check=False)
        assert cmd.returncode == 0, cmd.stderr
        assert 'strict-transport-security: max-age=63072000' in cmd.stdout.lower(), cmd.stdout
    finally:
        docker('rm', '-f', name, check=False)
