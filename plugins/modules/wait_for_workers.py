#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: wait_for_workers
short_description: Wait until every worker of an API answers HTTP on its health path
version_added: 0.1.0
description:
  - Polls C(GET http://HOST:PORT/PATH) on every port of O(ports) until each worker answers with one of O(status_codes),
    and fails when one does not within O(timeout) seconds. Meant to run right after the workers of an API (re)started.
  - With O(paths), every path on every port, so that one run waits for the health paths of several APIs behind one front.
  - Polls every O(interval) seconds; there is no fixed wait. A worker counts as up from its first good answer.
  - The failure message names the ports, the URL and the last error, followed by the output of O(log_command) for every
    worker that did not come up, so that it explains itself without C(-v).
  - With O(min_uptime), keeps polling that long after all workers answered, and fails when one stops answering (a worker
    that crashes right after it started).
author:
  - plumber.hosting contributors (@plumber-hosting)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads; it polls the workers in check mode too. In check mode the workers were not restarted, so
        this checks the workers that are running.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  ports:
    description: Ports of the workers, each from 1 to 65535.
    type: list
    elements: int
    required: true
  host:
    description:
      - Host (name or address) the workers listen on. An IPv6 address may be given without brackets.
      - V(0.0.0.0) (every IPv4 address) is asked on V(127.0.0.1), V(::) on V(::1).
    type: str
    default: 127.0.0.1
  scheme:
    description:
      - V(https) asks through TLS, for a front whose plain HTTP only redirects. The certificate is not verified (a
        local check, and the front may still serve a stand-in certificate).
    type: str
    choices: [http, https]
    default: http
  path:
    description:
      - Health path of the workers; a leading C(/) is added when missing. V(/healthz) when neither O(path) nor O(paths) is
        set.
    type: str
  paths:
    description:
      - Several paths, each asked on every port, instead of O(path).
    type: list
    elements: str
  timeout:
    description:
      - Seconds all workers have to answer, counted from the start of the task. With V(0), every worker is asked once.
    type: int
    default: 60
  interval:
    description: Seconds between two rounds of requests.
    type: float
    default: 0.25
  status_codes:
    description:
      - HTTP status codes that count as an answer. Redirects are not followed, so a V(301) or V(302) can be listed too.
    type: list
    elements: int
    default: [200]
  log_command:
    description:
      - Command whose output is added to the failure message for each worker that did not answer, with C({port}) replaced
        by the worker's port, for example C(journalctl -u plumber-sales@{port} -n 30 --no-pager) or
        C(pm2 logs sales-{port} --lines 30 --nostream).
      - Split like a shell would (C(shlex.split)) but run without a shell, only when the task fails. The last 100 lines of
        its output are shown; it is stopped after 30 seconds, so a command that follows the log does no harm.
    type: str
  min_uptime:
    description:
      - Seconds to keep polling after all workers answered; the task fails when a worker stops answering meanwhile.
      - Counted after O(timeout), not within it. V(0) stops at the first good answer of the last worker.
    type: float
    default: 0
notes:
  - Requests go to the workers directly, never through a proxy from the environment.
seealso:
  - module: plumber.hosting.plumber_api
  - module: ansible.builtin.uri
  - module: ansible.builtin.wait_for
"""

EXAMPLES = r"""
- name: Wait for the workers of the sales API
  plumber.hosting.wait_for_workers:
    ports: [8001, 8002, 8003]
    path: /healthz
    timeout: 60
    log_command: journalctl -u plumber-sales@{port} -n 30 --no-pager

- name: Wait until both APIs answer through the front on port 80
  plumber.hosting.wait_for_workers:
    ports: [80]
    paths: [/sales/healthz, /stock/healthz]

- name: Wait for pm2 workers, and make sure they stay up for 5 seconds
  plumber.hosting.wait_for_workers:
    ports: "{{ range(8101, 8105) | list }}"
    min_uptime: 5
    log_command: pm2 logs sales-{port} --lines 30 --nostream
"""

RETURN = r"""
workers:
  description: One entry per port (and path), in the order of O(ports) (then O(paths)).
  returned: always
  type: list
  elements: dict
  contains:
    port:
      description: Port of the worker.
      type: int
      sample: 8001
    path:
      description: The path asked.
      type: str
      sample: /healthz
    up:
      description: Whether the worker answered with one of O(status_codes) (and, with O(min_uptime), kept doing so).
      type: bool
      sample: true
    status:
      description: HTTP status of the worker's last answer, V(null) when it never answered.
      type: int
      sample: 200
    elapsed:
      description: Seconds from the start of the task to the worker's first good answer, V(null) when there was none.
      type: float
      sample: 1.52
    error:
      description: Why the last request did not count, V(null) when it did.
      type: str
      sample: "[Errno 111] Connection refused"
elapsed:
  description: Seconds the task waited in all.
  returned: always
  type: float
  sample: 1.77
"""

import shlex
import time
from http.client import HTTPException
from urllib.error import HTTPError, URLError

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

from ansible_collections.plumber.hosting.plugins.module_utils._r import output_tail

# Longest wait for one answer: a worker that accepts connections but does not answer must not use up the timeout alone.
REQUEST_TIMEOUT = 5.0
MIN_REQUEST_TIMEOUT = 0.5
LOG_LINES = 100
LOG_TIMEOUT = 30


class Worker:
    def __init__(self, port, path, url):
        self.port = port
        self.path = path
        self.url = url
        self.up = False
        self.status = None
        self.elapsed = None
        self.error = None

    def result(self):
        return dict(port=self.port, path=self.path, up=self.up, status=self.status, elapsed=self.elapsed, error=self.error)


class Waiter:
    def __init__(self, module):
        self.module = module
        params = module.params
        # Workers listening on every address answer on loopback.
        host = {'0.0.0.0': '127.0.0.1', '::': '::1'}.get(params['host'], params['host'])
        if ':' in host and not host.startswith('['):
            host = '[%s]' % host
        self.base = '%s://%s:' % (params['scheme'], host)
        # Each once, in the order given.
        paths = list(dict.fromkeys('/' + path.lstrip('/') for path in params['paths'] or [params['path'] or '/healthz']))
        ports = list(dict.fromkeys(params['ports']))
        self.workers = [Worker(port, path, self.url(port, path)) for port in ports for path in paths]
        self.timeout = params['timeout']
        self.interval = params['interval']
        self.status_codes = params['status_codes']
        self.min_uptime = params['min_uptime']
        self.log_command = params['log_command']
        self.start = time.monotonic()

    def url(self, port, path):
        return '%s%s%s' % (self.base, port, path)

    def since_start(self):
        return round(time.monotonic() - self.start, 3)

    def expected(self):
        codes = ', '.join(str(code) for code in self.status_codes)
        return codes if len(self.status_codes) == 1 else 'one of ' + codes

    def probe(self, worker, deadline):
        """Ask the worker once; True when it answered with one of status_codes.

        The request may take until the deadline, but no less than MIN_REQUEST_TIMEOUT and no more than REQUEST_TIMEOUT.
        """
        timeout = min(REQUEST_TIMEOUT, max(MIN_REQUEST_TIMEOUT, deadline - time.monotonic()))
        try:
            response = open_url(worker.url, method='GET', timeout=timeout, use_proxy=False, use_netrc=False, follow_redirects='none',
                                http_agent='plumber.hosting.wait_for_workers', validate_certs=False)
            status = response.getcode()
            response.close()
        except HTTPError as exc:
            status = exc.code
            exc.close()
        except URLError as exc:
            worker.error = str(exc.reason)
            return False
        except (HTTPException, OSError, ValueError) as exc:
            # A worker that closes the connection or times out while it starts.
            worker.error = str(exc) or type(exc).__name__
            return False
        worker.status = status
        if status in self.status_codes:
            worker.error = None
            return True
        worker.error = 'answered HTTP %s, expected %s' % (status, self.expected())
        return False

    def wait_up(self):
        """Poll until every worker answered; the workers that did not, when the deadline passed."""
        deadline = self.start + self.timeout
        pending = list(self.workers)
        while True:
            for worker in pending:
                if self.probe(worker, deadline):
                    worker.up = True
                    worker.elapsed = self.since_start()
            pending = [worker for worker in pending if not worker.up]
            now = time.monotonic()
            if not pending or now >= deadline:
                return pending
            time.sleep(min(self.interval, deadline - now))

    def watch(self):
        """Keep polling for min_uptime seconds; the workers that stopped answering meanwhile."""
        until = time.monotonic() + self.min_uptime
        while True:
            now = time.monotonic()
            if now >= until:
                return []
            time.sleep(min(self.interval, until - now))
            stopped = [worker for worker in self.workers if not self.probe(worker, until)]
            for worker in stopped:
                worker.up = False
            if stopped:
                return stopped

    def log(self, worker):
        """The log tail of one worker, from log_command."""
        argv = shlex.split(self.log_command.replace('{port}', str(worker.port)))
        shown = ' '.join(shlex.quote(arg) for arg in argv)
        if not argv or not self.module.get_bin_path(argv[0]):
            return 'log of the worker on port %d: command not found: %s' % (worker.port, shown)
        timeout = self.module.get_bin_path('timeout')
        cmd = ([timeout, '--kill-after=5', str(LOG_TIMEOUT)] if timeout else []) + argv
        rc, stdout, stderr = self.module.run_command(cmd)
        text = output_tail('%s\n%s' % (stdout, stderr), LOG_LINES) or '(no output)'
        status = '' if rc == 0 else ', exit code %s' % rc
        return 'log of the worker on port %d (%s%s):\n%s' % (worker.port, shown, status, text)

    def fail(self, failed, what):
        """Fail for the workers in failed; what says what they did, with {url} for the URL."""
        ports = ', '.join(sorted(set(str(worker.port) for worker in failed), key=int))
        paths = set(worker.path for worker in failed)
        if len(failed) == 1:
            reason = failed[0].error
        else:
            reason = '; '.join('%s: %s' % (worker.port if len(paths) == 1 else worker.url, worker.error) for worker in failed)
        url = failed[0].url if len(failed) == 1 else self.url('<port>', next(iter(paths)) if len(paths) == 1 else '<path>')
        msg = 'worker(s) on port(s) %s %s: %s' % (ports, what.replace('{url}', url), reason)
        if self.log_command:
            # One log per port, however many paths failed on it.
            first = dict((worker.port, worker) for worker in reversed(failed))
            msg += ''.join('\n\n' + self.log(first[port]) for port in sorted(first))
        self.module.fail_json(msg=msg, workers=[worker.result() for worker in self.workers], elapsed=self.since_start())

    def run(self):
        pending = self.wait_up()
        if pending:
            self.fail(pending, 'did not answer GET {url} within %ds' % self.timeout)
        if self.min_uptime > 0:
            stopped = self.watch()
            if stopped:
                self.fail(stopped, 'answered GET {url}, but stopped answering within %gs (min_uptime)' % self.min_uptime)
        return dict(changed=False, workers=[worker.result() for worker in self.workers], elapsed=self.since_start())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            ports=dict(type='list', elements='int', required=True),
            host=dict(type='str', default='127.0.0.1'),
            scheme=dict(type='str', default='http', choices=['http', 'https']),
            path=dict(type='str'),
            paths=dict(type='list', elements='str'),
            timeout=dict(type='int', default=60),
            interval=dict(type='float', default=0.25),
            status_codes=dict(type='list', elements='int', default=[200]),
            log_command=dict(type='str'),
            min_uptime=dict(type='float', default=0),
        ),
        mutually_exclusive=[('path', 'paths')],
        supports_check_mode=True,
    )
    params = module.params
    bad_ports = [port for port in params['ports'] if not 1 <= port <= 65535]
    if not params['ports'] or bad_ports:
        module.fail_json(msg='ports must be a non-empty list of ports from 1 to 65535, got %s' % params['ports'])
    if params['paths'] is not None and not params['paths']:
        module.fail_json(msg='paths must not be empty')
    if not params['status_codes']:
        module.fail_json(msg='status_codes must not be empty')
    for name in ('timeout', 'min_uptime'):
        if params[name] < 0:
            module.fail_json(msg='%s must not be negative, got %s' % (name, params[name]))
    if params['interval'] <= 0:
        module.fail_json(msg='interval must be more than 0 seconds, got %s' % params['interval'])
    module.exit_json(**Waiter(module).run())


if __name__ == '__main__':
    main()
