# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plumber.hosting.wait_for_workers with fake workers and a fake clock: each case lists, per port, what the
worker answers to each request in turn (the last answer repeats), and time only passes when the module
sleeps or a request times out, so no case waits."""

from __future__ import annotations

import socket
from urllib.error import HTTPError, URLError

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plumber.hosting.plugins.modules import wait_for_workers
from ansible_collections.plumber.hosting.tests.unit.plugins.modules.utils import AnsibleExitJson, AnsibleFailJson, patch_exits, run_main

TIMEOUT_BIN = '/usr/bin/timeout'
BINARIES = {
    'timeout': TIMEOUT_BIN,
    'journalctl': '/usr/bin/journalctl',
    'pm2': '/usr/local/bin/pm2',
    'echo': '/usr/bin/echo',
}
REFUSED = URLError(ConnectionRefusedError(111, 'Connection refused'))
HANGS = socket.timeout('timed out')
RESET = ConnectionResetError(104, 'Connection reset by peer')
JOURNAL = '\n'.join('Nov 28 08:00:%02d host Rscript[42]: line %d' % (i, i) for i in range(30)) + '\n'


# --- the fakes -----------------------------------------------------------------------------

class FakeClock:
    """Stands in for the time module: monotonic() only moves when something sleeps or waits."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        assert seconds > 0, 'slept %r seconds' % (seconds,)
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class FakeResponse:
    def __init__(self, status):
        self.status = status

    def getcode(self):
        return self.status

    def close(self):
        pass


class FakeWorkers:
    """open_url: answers each URL from its list of answers in turn, repeating the last one.

    An answer is a status code (below 400 returned, from 400 raised as HTTPError as urllib does) or
    an exception to raise; a timeout also moves the clock by the request's timeout.
    """

    def __init__(self, clock, answers):
        self.clock = clock
        self.answers = dict((url, list(found)) for url, found in answers.items())
        self.requests = []

    def __call__(self, url, **kwargs):
        self.requests.append((url, kwargs))
        queue = self.answers[url]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, socket.timeout):
            self.clock.now += kwargs['timeout']
        if isinstance(answer, Exception):
            raise answer
        if answer >= 400:
            raise HTTPError(url, answer, 'status %d' % answer, {}, None)
        return FakeResponse(answer)

    def count(self, url):
        return sum(1 for requested, dummy in self.requests if requested == url)


class FakeRunner:
    def __init__(self, table):
        self.table = list(table)
        self.calls = []

    def __call__(self, args, **kwargs):
        self.calls.append(list(args))
        for i, (cmd, answer) in enumerate(self.table):
            if cmd == list(args):
                del self.table[i]
                return answer
        raise AssertionError('unexpected command %r' % (args,))


def url(port, path='/healthz', host='127.0.0.1'):
    return 'http://%s:%d%s' % (host, port, path)


def log_cmd(*argv):
    return [TIMEOUT_BIN, '--kill-after=5', '30'] + list(argv)


@pytest.fixture
def run_module(monkeypatch):
    """Run wait_for_workers; returns (result, fake workers, fake runner, fake clock)."""
    def get_bin_path(module, arg, required=False, opt_dirs=None):
        return BINARIES.get(arg)

    patch_exits(monkeypatch)
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', get_bin_path)

    def run(params, answers, table=(), expect=AnsibleExitJson):
        clock = FakeClock()
        workers = FakeWorkers(clock, answers)
        runner = FakeRunner(table)
        monkeypatch.setattr(wait_for_workers, 'time', clock)
        monkeypatch.setattr(wait_for_workers, 'open_url', workers)
        monkeypatch.setattr(AnsibleModule, 'run_command', runner)
        result, dummy = run_main(wait_for_workers, params, expect)
        assert runner.table == [], 'commands not run: %r' % (runner.table,)
        return result, workers, runner, clock
    return run


def up(port, elapsed=0.0, status=200, path='/healthz'):
    return dict(port=port, path=path, up=True, status=status, elapsed=elapsed, error=None)


def down(port, error, status=None, elapsed=None, path='/healthz'):
    return dict(port=port, path=path, up=False, status=status, elapsed=elapsed, error=error)


# --- cases that succeed --------------------------------------------------------------------

SUCCESS = [
    dict(
        id='all up at the first request: no sleep',
        params=dict(ports=[8001, 8002]),
        answers={url(8001): [200], url(8002): [200]},
        workers=[up(8001), up(8002)],
        requests={url(8001): 1, url(8002): 1},
        sleeps=[],
    ),
    dict(
        id='one up after three refused polls, the other not asked again',
        params=dict(ports=[8001, 8002]),
        answers={url(8001): [REFUSED, REFUSED, REFUSED, 200], url(8002): [200]},
        workers=[up(8001, elapsed=0.75), up(8002)],
        requests={url(8001): 4, url(8002): 1},
        sleeps=[0.25, 0.25, 0.25],
        elapsed=0.75,
    ),
    dict(
        id='503 while starting, then 200',
        params=dict(ports=[8001], interval=1),
        answers={url(8001): [503, 503, 200]},
        workers=[up(8001, elapsed=2.0)],
        sleeps=[1.0, 1.0],
    ),
    dict(
        id='other status codes accepted',
        params=dict(ports=[8001], status_codes=[200, 204]),
        answers={url(8001): [204]},
        workers=[up(8001, status=204)],
    ),
    dict(
        id='redirect listed in status_codes',
        params=dict(ports=[8001], status_codes=[302]),
        answers={url(8001): [302]},
        workers=[up(8001, status=302)],
    ),
    dict(
        id='reset connection while starting, then up',
        params=dict(ports=[8001]),
        answers={url(8001): [RESET, 200]},
        workers=[up(8001, elapsed=0.25)],
    ),
    dict(
        id='host, path without slash and duplicate ports',
        params=dict(ports=[9000, 9000], host='10.0.0.5', path='status/ready'),
        answers={url(9000, '/status/ready', '10.0.0.5'): [200]},
        workers=[up(9000, path='/status/ready')],
    ),
    dict(
        id='several paths on one port (the APIs behind a front), each asked until it answers',
        params=dict(ports=[80], paths=['/sales/healthz', 'stock/healthz', '/sales/healthz']),
        answers={url(80, '/sales/healthz'): [200], url(80, '/stock/healthz'): [REFUSED, 200]},
        workers=[up(80, path='/sales/healthz'), up(80, elapsed=0.25, path='/stock/healthz')],
        requests={url(80, '/sales/healthz'): 1, url(80, '/stock/healthz'): 2},
        sleeps=[0.25],
    ),
    dict(
        id='IPv6 host gets brackets',
        params=dict(ports=[8001], host='::1'),
        answers={'http://[::1]:8001/healthz': [200]},
        workers=[up(8001)],
    ),
    dict(
        id='check mode polls the same way',
        params=dict(ports=[8001], _ansible_check_mode=True),
        answers={url(8001): [REFUSED, 200]},
        workers=[up(8001, elapsed=0.25)],
        sleeps=[0.25],
    ),
    dict(
        id='min_uptime keeps polling while the workers stay up',
        params=dict(ports=[8001, 8002], min_uptime=1, interval=0.5),
        answers={url(8001): [200], url(8002): [200]},
        workers=[up(8001), up(8002)],
        requests={url(8001): 3, url(8002): 3},
        sleeps=[0.5, 0.5],
        elapsed=1.0,
    ),
    dict(
        id='last sleep stops at the deadline',
        params=dict(ports=[8001], timeout=1, interval=0.4),
        answers={url(8001): [REFUSED, REFUSED, REFUSED, 200]},
        workers=[up(8001, elapsed=1.0)],
        sleeps=[0.4, 0.4, 0.2],
    ),
]


@pytest.mark.parametrize('case', SUCCESS, ids=[case['id'] for case in SUCCESS])
def test_success(run_module, case):
    result, workers, runner, clock = run_module(case['params'], case['answers'])
    assert result['changed'] is False
    assert result['workers'] == case['workers']
    assert runner.calls == []
    for requested, count in case.get('requests', {}).items():
        assert workers.count(requested) == count, requested
    if 'sleeps' in case:
        assert clock.sleeps == case['sleeps']
    if 'elapsed' in case:
        assert result['elapsed'] == case['elapsed']


def test_requests_go_direct_without_redirects_with_a_short_timeout(run_module):
    dummy, workers, dummy, dummy = run_module(dict(ports=[8001]), {url(8001): [200]})
    requested, kwargs = workers.requests[0]
    assert requested == url(8001)
    assert kwargs['method'] == 'GET'
    assert kwargs['use_proxy'] is False
    assert kwargs['follow_redirects'] == 'none'
    assert kwargs['timeout'] == wait_for_workers.REQUEST_TIMEOUT


def test_https_asks_through_tls_without_verifying_the_certificate(run_module):
    dummy, workers, dummy, dummy = run_module(dict(ports=[443], scheme='https'), {'https://127.0.0.1:443/healthz': [200]})
    requested, kwargs = workers.requests[0]
    assert requested == 'https://127.0.0.1:443/healthz' and kwargs['validate_certs'] is False


def test_a_hanging_worker_waits_at_most_until_the_deadline(run_module):
    result, workers, dummy, clock = run_module(dict(ports=[8001], timeout=7), {url(8001): [HANGS]}, expect=AnsibleFailJson)
    timeouts = [kwargs['timeout'] for dummy, kwargs in workers.requests]
    assert timeouts == [5.0, 1.75]
    assert clock.now == 1007.0
    assert result['msg'] == 'worker(s) on port(s) 8001 did not answer GET http://127.0.0.1:8001/healthz within 7s: timed out'


# --- cases that fail -----------------------------------------------------------------------

FAILURE = [
    dict(
        id='never up: port, URL, last error',
        params=dict(ports=[8001, 8002], timeout=60),
        answers={url(8001): [200], url(8002): [REFUSED]},
        msg='worker(s) on port(s) 8002 did not answer GET http://127.0.0.1:8002/healthz within 60s: [Errno 111] Connection refused',
        workers=[up(8001), down(8002, '[Errno 111] Connection refused')],
        elapsed=60.0,
    ),
    dict(
        id='never up: log tail of the worker appended',
        params=dict(ports=[8001, 8002], timeout=60, log_command='journalctl -u plumber-sales@{port} -n 30 --no-pager'),
        answers={url(8001): [200], url(8002): [REFUSED]},
        table=[(log_cmd('journalctl', '-u', 'plumber-sales@8002', '-n', '30', '--no-pager'), (0, JOURNAL, ''))],
        msg=('worker(s) on port(s) 8002 did not answer GET http://127.0.0.1:8002/healthz within 60s: [Errno 111] Connection refused\n\n'
             'log of the worker on port 8002 (journalctl -u plumber-sales@8002 -n 30 --no-pager):\n' + JOURNAL.rstrip('\n')),
    ),
    dict(
        id='wrong status code',
        params=dict(ports=[8001], timeout=5),
        answers={url(8001): [404]},
        msg='worker(s) on port(s) 8001 did not answer GET http://127.0.0.1:8001/healthz within 5s: answered HTTP 404, expected 200',
        workers=[down(8001, 'answered HTTP 404, expected 200', status=404)],
    ),
    dict(
        id='wrong status code among several accepted',
        params=dict(ports=[8001], timeout=5, status_codes=[200, 204]),
        answers={url(8001): [500]},
        contains='within 5s: answered HTTP 500, expected one of 200, 204',
    ),
    dict(
        id='last error wins: answered 503 then refused',
        params=dict(ports=[8001], timeout=1, interval=0.5),
        answers={url(8001): [503, 503, REFUSED]},
        contains='within 1s: [Errno 111] Connection refused',
        workers=[down(8001, '[Errno 111] Connection refused', status=503)],
    ),
    dict(
        id='several ports fail: each with its error and log',
        params=dict(ports=[8001, 8002, 8003], timeout=2, log_command='pm2 logs sales-{port} --lines 30 --nostream'),
        answers={url(8001): [REFUSED], url(8002): [200], url(8003): [502]},
        table=[
            (log_cmd('pm2', 'logs', 'sales-8001', '--lines', '30', '--nostream'), (0, 'sales-8001 | Error: boom\n', '')),
            (log_cmd('pm2', 'logs', 'sales-8003', '--lines', '30', '--nostream'), (0, '', 'sales-8003 | listening\n')),
        ],
        msg=('worker(s) on port(s) 8001, 8003 did not answer GET http://127.0.0.1:<port>/healthz within 2s: '
             '8001: [Errno 111] Connection refused; 8003: answered HTTP 502, expected 200\n\n'
             'log of the worker on port 8001 (pm2 logs sales-8001 --lines 30 --nostream):\nsales-8001 | Error: boom\n\n'
             'log of the worker on port 8003 (pm2 logs sales-8003 --lines 30 --nostream):\nsales-8003 | listening'),
    ),
    dict(
        id='several paths fail on one port: each named by its URL, the log shown once',
        params=dict(ports=[80], paths=['/a/healthz', '/b/healthz', '/c/healthz'], timeout=1,
                    log_command='journalctl --unit nginx --lines 20'),
        answers={url(80, '/a/healthz'): [502], url(80, '/b/healthz'): [200], url(80, '/c/healthz'): [REFUSED]},
        table=[(log_cmd('journalctl', '--unit', 'nginx', '--lines', '20'), (0, 'nginx: upstream down\n', ''))],
        msg=('worker(s) on port(s) 80 did not answer GET http://127.0.0.1:<port><path> within 1s: '
             'http://127.0.0.1:80/a/healthz: answered HTTP 502, expected 200; '
             'http://127.0.0.1:80/c/healthz: [Errno 111] Connection refused\n\n'
             'log of the worker on port 80 (journalctl --unit nginx --lines 20):\nnginx: upstream down'),
        workers=[down(80, 'answered HTTP 502, expected 200', status=502, path='/a/healthz'), up(80, path='/b/healthz'),
                 down(80, '[Errno 111] Connection refused', path='/c/healthz')],
    ),
    dict(
        id='log command failing: its exit code and output',
        params=dict(ports=[8001], timeout=1, log_command='journalctl -u "plumber sales@{port}"'),
        answers={url(8001): [REFUSED]},
        table=[(log_cmd('journalctl', '-u', 'plumber sales@8001'), (1, '', 'No journal files were found.\n'))],
        contains="log of the worker on port 8001 (journalctl -u 'plumber sales@8001', exit code 1):\nNo journal files were found.",
    ),
    dict(
        id='log command not installed',
        params=dict(ports=[8001], timeout=1, log_command='docker logs --tail 30 sales-{port}'),
        answers={url(8001): [REFUSED]},
        contains='log of the worker on port 8001: command not found: docker logs --tail 30 sales-8001',
    ),
    dict(
        id='log command without output',
        params=dict(ports=[8001], timeout=1, log_command='echo'),
        answers={url(8001): [REFUSED]},
        table=[(log_cmd('echo'), (0, '\n', ''))],
        contains='log of the worker on port 8001 (echo):\n(no output)',
    ),
    dict(
        id='timeout 0 asks once',
        params=dict(ports=[8001], timeout=0),
        answers={url(8001): [REFUSED, 200]},
        contains='within 0s: [Errno 111] Connection refused',
        elapsed=0.0,
    ),
    dict(
        id='min_uptime: a worker that crashes after it answered',
        params=dict(ports=[8001, 8002], min_uptime=5, interval=1, log_command='echo worker {port} log'),
        answers={url(8001): [200], url(8002): [200, 200, REFUSED]},
        table=[(log_cmd('echo', 'worker', '8002', 'log'), (0, 'worker 8002 log\n', ''))],
        msg=('worker(s) on port(s) 8002 answered GET http://127.0.0.1:8002/healthz, but stopped answering within 5s (min_uptime): '
             '[Errno 111] Connection refused\n\nlog of the worker on port 8002 (echo worker 8002 log):\nworker 8002 log'),
        workers=[up(8001), down(8002, '[Errno 111] Connection refused', elapsed=0.0, status=200)],
        elapsed=2.0,
    ),
    dict(
        id='bad port',
        params=dict(ports=[8001, 70000]),
        answers={},
        msg='ports must be a non-empty list of ports from 1 to 65535, got [8001, 70000]',
    ),
    dict(
        id='no ports',
        params=dict(ports=[]),
        answers={},
        msg='ports must be a non-empty list of ports from 1 to 65535, got []',
    ),
    dict(
        id='path and paths together',
        params=dict(ports=[80], path='/healthz', paths=['/a/healthz']),
        answers={},
        msg='parameters are mutually exclusive: path|paths',
    ),
    dict(
        id='empty paths',
        params=dict(ports=[80], paths=[]),
        answers={},
        msg='paths must not be empty',
    ),
    dict(
        id='interval 0',
        params=dict(ports=[8001], interval=0),
        answers={},
        msg='interval must be more than 0 seconds, got 0.0',
    ),
    dict(
        id='negative timeout',
        params=dict(ports=[8001], timeout=-1),
        answers={},
        msg='timeout must not be negative, got -1',
    ),
]


@pytest.mark.parametrize('case', FAILURE, ids=[case['id'] for case in FAILURE])
def test_failure(run_module, case):
    result, dummy, runner, dummy = run_module(case['params'], case['answers'], case.get('table', ()), expect=AnsibleFailJson)
    if 'msg' in case:
        assert result['msg'] == case['msg']
    else:
        assert case['contains'] in result['msg']
    assert runner.calls == [cmd for cmd, dummy in case.get('table', ())]
    if 'workers' in case:
        assert result['workers'] == case['workers']
    if 'elapsed' in case:
        assert result['elapsed'] == case['elapsed']


def test_log_output_is_cut_to_the_tail(run_module):
    journal = ''.join('line %d\n' % i for i in range(500))
    result, dummy, dummy, dummy = run_module(
        dict(ports=[8001], timeout=1, log_command='journalctl -u plumber-sales@{port} -n 500'), {url(8001): [REFUSED]},
        [(log_cmd('journalctl', '-u', 'plumber-sales@8001', '-n', '500'), (0, journal, ''))], expect=AnsibleFailJson)
    shown = result['msg'].split('-n 500):\n', 1)[1].splitlines()
    assert shown == ['line %d' % i for i in range(400, 500)]


def test_log_command_without_timeout_binary(run_module, monkeypatch):
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda module, arg, required=False, opt_dirs=None: BINARIES.get(arg) if arg != 'timeout' else None)
    result, dummy, runner, dummy = run_module(
        dict(ports=[8001], timeout=1, log_command='echo {port}'), {url(8001): [REFUSED]},
        [(['echo', '8001'], (0, '8001\n', ''))], expect=AnsibleFailJson)
    assert runner.calls == [['echo', '8001']]
    assert result['msg'].endswith('log of the worker on port 8001 (echo 8001):\n8001')


@pytest.mark.parametrize('host, asked', [('0.0.0.0', '127.0.0.1'), ('::', '[::1]'), ('10.0.0.5', '10.0.0.5')])
def test_workers_on_every_address_are_asked_on_loopback(run_module, host, asked):
    url_asked = 'http://%s:8001/healthz' % asked
    dummy, workers, dummy, dummy = run_module(dict(ports=[8001], host=host), {url_asked: [200]})
    assert workers.requests[0][0] == url_asked
