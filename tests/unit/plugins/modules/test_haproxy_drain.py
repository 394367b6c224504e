# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plumber.hosting.haproxy_drain against the real HAProxy of the test image: a backend of two servers at two
loopback addresses, one of them answering slowly. Draining it by address waits for the request it answers,
then HAProxy sends it nothing more; ready takes it back."""

from __future__ import annotations

import http.server
import threading
import time
import urllib.request

import pytest

from ansible_collections.plumber.hosting.plugins.modules import haproxy_drain
from ansible_collections.plumber.hosting.tests.unit.plugins.modules.utils import AnsibleFailJson, haproxy, haproxy_ready, patch_exits, run_main

FRONT = 18291
SERVERS = {'hello1': ('127.0.0.1', 18292), 'hello2': ('127.0.0.2', 18293)}


pytestmark = pytest.mark.skipif(not haproxy_ready(), reason='needs Docker and the test images (tests/run setup images)')


class Worker(http.server.BaseHTTPRequestHandler):
    """Answers with the address it listens on, after ?wait=<seconds>."""

    def do_GET(self):  # pylint: disable=invalid-name
        if 'wait=' in self.path:
            time.sleep(float(self.path.rsplit('wait=', 1)[1]))
        body = self.server.server_address[0].encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture(scope='module')
def balancer(tmp_path_factory):
    """HAProxy on the host network, its admin socket in a directory of the test: the socket's path."""
    with haproxy(tmp_path_factory.mktemp('drain'), FRONT, SERVERS, Worker) as path:
        yield path


def get(path=''):
    with urllib.request.urlopen('http://127.0.0.1:%d/%s' % (FRONT, path), timeout=30) as answer:
        return answer.read().decode()


def test_drained_waits_for_the_request_in_flight_and_ready_takes_the_server_back(balancer, monkeypatch):
    patch_exits(monkeypatch)
    # A 3-second request on each server (leastconn: one each), then drain 127.0.0.2's.
    answers = []
    slow = [threading.Thread(target=lambda: answers.append(get('?wait=3'))) for attempt in range(2)]
    for thread in slow:
        thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    params = {'socket': balancer, 'backend': 'hello', 'addresses': ['127.0.0.2', '10.9.9.9'], 'state': 'drained', 'timeout': 20}
    result = run_main(haproxy_drain, params)[0]
    waited = time.monotonic() - started
    assert result['changed'] and result['servers'] == ['hello2'] and result['busy'] == [], result
    # It returned once the request on hello2 had ended, not before, and that request was answered.
    assert 1.5 < waited < 10, waited
    for thread in slow:
        thread.join()
    assert sorted(answers) == ['127.0.0.1', '127.0.0.2'], answers
    assert {get() for attempt in range(6)} == {'127.0.0.1'}
    # Again: nothing to change. In check mode, ready would change it back; then it does.
    assert not run_main(haproxy_drain, params)[0]['changed']
    ready = {'socket': balancer, 'backend': 'hello', 'names': result['servers'], 'state': 'ready'}
    result = run_main(haproxy_drain, dict(ready, _ansible_check_mode=True))[0]
    assert result['changed'] and {get() for attempt in range(6)} == {'127.0.0.1'}, result
    assert run_main(haproxy_drain, ready)[0]['changed']
    assert {get() for attempt in range(8)} == {'127.0.0.1', '127.0.0.2'}
    assert not run_main(haproxy_drain, ready)[0]['changed']


def test_a_drain_that_outlasts_the_timeout_names_the_busy_server(balancer, monkeypatch):
    patch_exits(monkeypatch)
    slow = threading.Thread(target=get, args=('?wait=4',))
    slow.start()
    time.sleep(0.5)
    params = {'socket': balancer, 'backend': 'hello', 'addresses': ['127.0.0.1', '127.0.0.2'], 'state': 'drained', 'timeout': 1}
    result = run_main(haproxy_drain, params)[0]
    slow.join()
    assert len(result['busy']) == 1 and result['servers'] == ['hello1', 'hello2'], result
    run_main(haproxy_drain, {'socket': balancer, 'backend': 'hello', 'names': result['servers'], 'state': 'ready'})


@pytest.mark.parametrize('params, message', [
    ({'backend': 'nope'}, "HAProxy has no backend 'nope'"),
    ({'backend': 'hello world'}, "backend 'hello world' is not a backend name"),
    ({'socket': '/nonexistent/admin.sock'}, 'cannot talk to HAProxy on its admin socket /nonexistent/admin.sock'),
])
def test_errors_name_what_is_wrong(balancer, monkeypatch, params, message):
    patch_exits(monkeypatch)
    params = dict({'socket': balancer, 'backend': 'hello', 'addresses': ['127.0.0.2'], 'state': 'drained'}, **params)
    result = run_main(haproxy_drain, params, expect=AnsibleFailJson)[0]
    assert message in result['msg'], result
