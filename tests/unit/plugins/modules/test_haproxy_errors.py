# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plumber.hosting.haproxy_errors against the real HAProxy of the test image: two servers on two loopback addresses,
each answering 500 to the paths that ask for it. Traffic runs while the module watches; what it counts is compared
with what the test sent."""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request

import pytest

from ansible_collections.plumber.hosting.plugins.modules import haproxy_errors
from ansible_collections.plumber.hosting.tests.unit.plugins.modules.utils import AnsibleFailJson, haproxy, haproxy_ready, patch_exits, run_main

FRONT = 18301
SERVERS = {'hello1': ('127.0.0.1', 18302), 'hello2': ('127.0.0.2', 18303)}

pytestmark = pytest.mark.skipif(not haproxy_ready(), reason='needs Docker and the test images (tests/run setup images)')


class Worker(http.server.BaseHTTPRequestHandler):
    """200, or 500 for a path with 'fail' in it."""

    def do_GET(self):  # pylint: disable=invalid-name
        status = 500 if 'fail' in self.path else 200
        self.send_response(status)
        self.send_header('Content-Length', '2')
        self.end_headers()
        self.wfile.write(b'ok')

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture(scope='module')
def balancer(tmp_path_factory):
    """HAProxy on the host network, its admin socket in a directory of the test: the socket's path."""
    with haproxy(tmp_path_factory.mktemp('errors'), FRONT, SERVERS, Worker, balance='roundrobin') as path:
        yield path


def send(paths):
    """GET each path through HAProxy; the statuses."""
    statuses = []
    for path in paths:
        try:
            with urllib.request.urlopen('http://127.0.0.1:%d/%s' % (FRONT, path), timeout=10) as answer:
                statuses.append(answer.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


def watch(params, paths, expect=None):
    """Run the module with a window while `paths` are sent (after half a second); its result and the statuses sent."""
    sent = []
    traffic = threading.Timer(0.5, lambda: sent.extend(send(paths)))
    traffic.start()
    try:
        result = run_main(haproxy_errors, params, **({'expect': expect} if expect else {}))[0]
    finally:
        traffic.join()
    return result, sent


def test_counters_without_a_window_are_what_the_servers_answered(balancer, monkeypatch):
    patch_exits(monkeypatch)
    params = {'socket': balancer, 'backend': 'hello'}
    before = run_main(haproxy_errors, params)[0]
    assert send(['a', 'fail', 'b', 'c']) == [200, 500, 200, 200]
    after = run_main(haproxy_errors, params)[0]
    assert not after['changed'] and not after['judged'] and not after['exceeded'], after
    assert after['counters'] == {'requests': before['counters']['requests'] + 4, 'errors': before['counters']['errors'] + 1}


def test_a_share_of_failures_that_rose_fails_the_task_with_the_numbers(balancer, monkeypatch):
    patch_exits(monkeypatch)
    baseline = run_main(haproxy_errors, {'socket': balancer, 'backend': 'hello'})[0]['counters']
    params = {'socket': balancer, 'backend': 'hello', 'baseline': baseline, 'window': 2, 'min_requests': 10}
    result, sent = watch(params, ['fail', 'ok'] * 15, expect=AnsibleFailJson)
    assert sent.count(500) == 15
    assert result['exceeded'] and result['judged'] and result['watched'] == {'requests': 30, 'errors': 15}, result
    assert result['rate'] == 0.5, result
    assert result['msg'].startswith('hello: 15 of 30 requests (50.0%) failed (5xx, or no answer) in the 2 s watched, against '), result
    assert 'more than the rise of 10.0% allowed (max_error_rise)' in result['msg'], result


def test_the_same_share_as_before_the_switch_passes(balancer, monkeypatch):
    patch_exits(monkeypatch)
    # Before: half the requests failed already (a client that sends bad input); the same after is no rise.
    params = {'socket': balancer, 'backend': 'hello', 'baseline': {'requests': 200, 'errors': 100}, 'window': 2, 'min_requests': 10}
    result, _sent = watch(params, ['fail', 'ok'] * 10)
    assert result['judged'] and not result['exceeded'] and result['baseline_rate'] == 0.5 and result['rate'] == 0.5, result


def test_too_few_requests_judge_nothing(balancer, monkeypatch):
    patch_exits(monkeypatch)
    params = {'socket': balancer, 'backend': 'hello', 'window': 1, 'min_requests': 20}
    result, _sent = watch(params, ['fail'] * 5)
    assert not result['judged'] and not result['exceeded'] and 'fewer than min_requests (20): not judged' in result['msg'], result


def test_servers_chosen_by_address_count_only_their_requests(balancer, monkeypatch):
    patch_exits(monkeypatch)
    # Round robin: hello1 and hello2 take turns, so 'fail' at even places lands on one server only.
    params = {'socket': balancer, 'backend': 'hello', 'servers': ['127.0.0.2:18303']}
    before = run_main(haproxy_errors, params)[0]['counters']
    both = run_main(haproxy_errors, {'socket': balancer, 'backend': 'hello', 'servers': ['hello1', '127.0.0.2:18303']})[0]['counters']
    send(['x'] * 8)
    after = run_main(haproxy_errors, params)[0]['counters']
    assert after['requests'] - before['requests'] == 4, (before, after)
    assert run_main(haproxy_errors, {'socket': balancer, 'backend': 'hello', 'servers': ['hello1', '127.0.0.2:18303']})[0][
        'counters']['requests'] - both['requests'] == 8
    # A server HAProxy does not have counts nothing.
    assert run_main(haproxy_errors, dict(params, servers=['10.9.9.9:1']))[0]['counters'] == {'requests': 0, 'errors': 0}


@pytest.mark.parametrize('params, message', [
    ({'backend': 'hello world'}, "backend 'hello world' is not a backend name"),
    ({'socket': '/nonexistent/admin.sock'}, 'cannot talk to HAProxy on its admin socket /nonexistent/admin.sock'),
    ({'window': -1}, 'window must be at least 0, min_requests at least 1 and max_error_rise between 0 and 1; got -1, 20, 0.1'),
    ({'max_error_rise': 1.5}, 'got 0, 20, 1.5'),
    ({'baseline': {'requests': 'many'}}, "baseline must be the counters of an earlier call"),
])
def test_errors_name_what_is_wrong(balancer, monkeypatch, params, message):
    patch_exits(monkeypatch)
    result = run_main(haproxy_errors, dict({'socket': balancer, 'backend': 'hello'}, **params), expect=AnsibleFailJson)[0]
    assert message in result['msg'], result
