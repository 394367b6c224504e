# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The loader's recycle() with real R workers behind the real HAProxy of the test image, configured as the
proxy template configures it (health checks, fall 3, one request per worker): the recycled worker fails its
health checks, HAProxy takes it out, it exits once idle, and a client asking all along never sees a failure."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from ansible_collections.plumber.hosting.plugins.module_utils._loader import WORKER_R

HAPROXY_IMAGE = 'plumber-hosting-test/haproxy:latest'
FRONT, PORTS = 18491, (18492, 18493)
# The lines of roles/proxy/templates/plumber-haproxy.cfg.j2 that decide when a worker is out of rotation.
CONFIG = '''defaults
    mode http
    option http-server-close
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    timeout connect 3s
    timeout client 30s
    timeout server 30s
    timeout queue 30s
    default-server inter 1s fastinter 500ms downinter 1s fall 3 rise 2 observe layer4 error-limit 1 on-error mark-down maxconn 1
frontend plumber
    bind 127.0.0.1:%d
    default_backend api
backend api
    balance leastconn
    option httpchk GET /healthz
    http-check expect status 200
%s
''' % (FRONT, '\n'.join('    server w%d 127.0.0.1:%d check' % (port, port) for port in PORTS))
API = '''#* @get /whoami
function() list(port = as.integer(Sys.getenv("PLUMBER_WORKER")))
'''
RUN = WORKER_R + '''
args <- commandArgs(trailingOnly = TRUE)
port <- as.integer(args[[1L]])
pr <- .plumber_hosting$load_api(dir = args[[2L]], health = "/healthz", name = "api", worker = port)
pr <- .plumber_hosting$recycle(pr, health = "/healthz", memory_mb = as.numeric(args[[3L]]), requests = as.numeric(args[[4L]]))
plumber::pr_run(pr, host = "127.0.0.1", port = port, docs = FALSE, quiet = TRUE)
'''


def ready():
    if not shutil.which('Rscript') or not shutil.which('docker'):
        return False
    return subprocess.run(['docker', 'image', 'inspect', HAPROXY_IMAGE], capture_output=True, check=False).returncode == 0


pytestmark = pytest.mark.skipif(not ready(), reason='needs R with plumber, Docker and the test images')


def get(path):
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d%s' % (FRONT, path), timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, repr(error)


@pytest.mark.parametrize('memory_mb, requests, reason', [(0, 12, '12 requests answered'), (1, 0, 'MB resident, past 1 MB')],
                         ids=['requests', 'memory'])
def test_a_recycled_worker_is_drained_by_haproxy_then_exits(tmp_path, memory_mb, requests, reason):
    (tmp_path / 'api').mkdir()
    (tmp_path / 'api' / 'plumber.R').write_text(API, encoding='utf-8')
    (tmp_path / 'run.R').write_text(RUN, encoding='utf-8')
    (tmp_path / 'haproxy.cfg').write_text(CONFIG, encoding='utf-8')
    limits = {PORTS[0]: (memory_mb, requests), PORTS[1]: (0, 0)}
    logs = {port: open(tmp_path / ('%d.log' % port), 'w+', encoding='utf-8') for port in PORTS}  # pylint: disable=consider-using-with
    workers = {port: subprocess.Popen(['Rscript', str(tmp_path / 'run.R'), str(port), str(tmp_path / 'api'), str(limits[port][0]),
                                       str(limits[port][1])], stdout=logs[port], stderr=subprocess.STDOUT)
               for port in PORTS}
    name = 'plumber-hosting-unit-recycle-%d' % os.getpid()
    try:
        subprocess.run(['docker', 'run', '-d', '--name', name, '--network', 'host', '-v',
                        '%s:/usr/local/etc/haproxy/haproxy.cfg:ro' % (tmp_path / 'haproxy.cfg'), HAPROXY_IMAGE],
                       check=True, capture_output=True)
        deadline = time.monotonic() + 60
        while get('/whoami')[0] != 200:
            assert time.monotonic() < deadline, 'the workers did not answer through HAProxy'
            time.sleep(0.3)
        # A client asks, one request at a time, until the recycled worker has exited and a while after.
        answers, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            answers.append(get('/whoami'))
            if workers[PORTS[0]].poll() is not None and len(answers) > 40:
                break
            time.sleep(0.05)
        assert workers[PORTS[0]].poll() == 0, 'the recycled worker is still running after 60 s'
        assert workers[PORTS[1]].poll() is None
        failed = [answer for answer in answers if answer[0] != 200]
        assert not failed, failed[:5]
        served = [answer for answer in answers if '"port":[%d]' % PORTS[0] in answer[1] or '"port":%d' % PORTS[0] in answer[1]]
        assert served, answers[:5]
        logs[PORTS[0]].seek(0)
        log = logs[PORTS[0]].read()
        assert 'recycling this worker (' in log and reason in log and 'worker recycled (' in log, log
        # HAProxy took it out for its failed health checks (503), before it exited: not for a refused connection.
        balancer = subprocess.run(['docker', 'logs', name], capture_output=True, text=True, check=False)
        events = re.findall(r'Server api/w%d is (UP|DOWN), reason: ([^,]*)' % PORTS[0], balancer.stdout + balancer.stderr)
        assert events[-1] == ('DOWN', 'Layer7 wrong status'), balancer.stdout + balancer.stderr
    finally:
        subprocess.run(['docker', 'rm', '-f', name], check=False, capture_output=True)
        for worker in workers.values():
            if worker.poll() is None:
                worker.kill()
            worker.wait()
        for log in logs.values():
            log.close()


def test_no_limit_adds_no_hook():
    """recycle() without limits returns the router untouched: the workers of an API without `recycle` run as before."""
    script = WORKER_R + '''
pr <- plumber::pr()
before <- length(pr$.__enclos_env__$private$hooks$postserialize)
pr <- .plumber_hosting$recycle(pr)
cat(identical(length(pr$.__enclos_env__$private$hooks$postserialize), before))
'''
    out = subprocess.run(['Rscript', '-e', script], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip().endswith('TRUE'), out.stdout + out.stderr
