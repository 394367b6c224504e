"""The benchmarks of plumber.hosting's front: real R workers (the collection's loader, as every worker runs
it) behind nginx and HAProxy configured by the collection's own templates (roles/proxy/templates), loaded by
wrk on loopback. Each figure is a ratio or a difference measured in this one run, on this machine:

1. worker scaling: an endpoint that waits 50 ms, 1, 2, 4 and 8 workers, keep-alive clients: throughput as a
   fraction of the limit (workers x 20 requests per second); beside it, one worker asked straight (with a new
   connection per request as HAProxy asks, and over one kept-alive connection), and plumber's own ceiling: the
   same API under a bare `plumb()` + `pr_run()`, none of the collection's code, asked straight;
2. proxy overhead: a trivial endpoint through the whole front with keep-alive clients, against one worker
   asked straight with a new connection per request (what a client without the front pays);
3. head-of-line blocking: 2-second requests and fast ones mixed on 4 workers; the fast ones' 99th percentile
   through the front, against a plain nginx round-robin upstream over the same workers (the book's recipe).

Figures 4 (faults under load) and 5 (deploy cost) need whole hosts: benchmarks/hosts.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.collections'))

from ansible_collections.plumber.hosting.plugins.module_utils._loader import WORKER_R  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.plumber.hosting.plugins.module_utils._proxy import validate_proxy  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hosts  # noqa: E402  pylint: disable=wrong-import-position

NGINX_IMAGE = 'plumber-hosting-test/nginx:latest'
HAPROXY_IMAGE = 'plumber-hosting-test/haproxy:latest'
FRONT, BALANCER, PLAIN = 19080, 19081, 19090
WORKERS = [19101 + n for n in range(8)]
BARE = 19110
API = '''#* @get /trivial
function() list(ok = TRUE)

#* @get /wait
function() {
  Sys.sleep(0.05)
  list(ok = TRUE)
}

#* @get /slow
function() {
  Sys.sleep(2)
  list(ok = TRUE)
}
'''
RUN = WORKER_R + '''
args <- commandArgs(trailingOnly = TRUE)
port <- as.integer(args[[1L]])
pr <- .plumber_hosting$load_api(dir = args[[2L]], health = "/healthz", name = "bench", worker = port)
plumber::pr_run(pr, host = "127.0.0.1", port = port, docs = FALSE, quiet = TRUE)
'''
# plumber alone, as its documentation runs an API: no loader, no health route.
BARE_RUN = '''args <- commandArgs(trailingOnly = TRUE)
pr <- plumber::plumb(file.path(args[[2L]], "plumber.R"))
plumber::pr_run(pr, host = "127.0.0.1", port = as.integer(args[[1L]]), docs = FALSE, quiet = TRUE)
'''
# The book's recipe: nginx round-robin over the workers, nothing in between.
PLAIN_NGINX = '''upstream bench {
%s
}
server {
    listen %d;
    location /bench/ {
        proxy_pass http://bench/;
    }
}
'''


def sh(*cmd, check=True):
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def proxy(ports):
    """plumber_proxy for one API over these workers, as plumber.hosting.proxy's main entry point builds it."""
    return validate_proxy({
        'router': {'listen': [FRONT], 'server_name': '_', 'balancer': '127.0.0.1:%d' % BALANCER, 'resolver': '',
                   'timeout': 300, 'client_max_body_size': '100m'},
        'balancer': {'bind': '127.0.0.1:%d' % BALANCER, 'log': 'stdout format raw local0', 'nameservers': [], 'timeout': 300,
                     'check_interval': 2, 'check_timeout': 30, 'maxconn': 1, 'slow_start': 0, 'cookie_key': 'k' * 32},
        'backends': [{'name': 'bench', 'path': '/bench', 'health': '/healthz', 'docs': False, 'sticky': False,
                      'servers': ['127.0.0.1:%d' % port for port in ports]}],
    })


def render(workdir, ports):
    """nginx's and HAProxy's files from the collection's templates (Ansible's template module)."""
    variables = os.path.join(workdir, 'vars.json')
    with open(variables, 'w', encoding='utf-8') as handle:
        json.dump({'plumber_proxy': proxy(ports), 'ansible_python_interpreter': sys.executable}, handle)
    out = {}
    for name, src in (('nginx', 'plumber-nginx.conf.j2'), ('haproxy', 'plumber-haproxy.cfg.j2')):
        out[name] = os.path.join(workdir, name + '.conf')
        sh('ansible', 'localhost', '-i', 'localhost,', '-c', 'local', '-m', 'ansible.builtin.template',
           '-a', 'src=%s dest=%s' % (os.path.join(ROOT, 'roles', 'proxy', 'templates', src), out[name]), '-e', '@' + variables)
    return out


class Bench:
    def __init__(self, workdir):
        self.workdir = workdir
        self.workers = {}
        self.containers = []
        os.makedirs(os.path.join(workdir, 'api'))
        with open(os.path.join(workdir, 'api', 'plumber.R'), 'w', encoding='utf-8') as handle:
            handle.write(API)
        with open(os.path.join(workdir, 'run.R'), 'w', encoding='utf-8') as handle:
            handle.write(RUN)
        with open(os.path.join(workdir, 'bare.R'), 'w', encoding='utf-8') as handle:
            handle.write(BARE_RUN)

    def start_workers(self):
        for port in WORKERS:
            self.workers[port] = subprocess.Popen(['Rscript', os.path.join(self.workdir, 'run.R'), str(port), os.path.join(self.workdir, 'api')],
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.workers[BARE] = subprocess.Popen(['Rscript', os.path.join(self.workdir, 'bare.R'), str(BARE), os.path.join(self.workdir, 'api')],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for port in WORKERS:
            wait_for('http://127.0.0.1:%d/healthz' % port)
        wait_for('http://127.0.0.1:%d/trivial' % BARE)

    def container(self, name, image, *mounts):
        sh('docker', 'rm', '-f', name, check=False)
        args = ['docker', 'run', '-d', '--name', name, '--network', 'host']
        for source, target in mounts:
            args += ['-v', '%s:%s:ro' % (source, target)]
        sh(*args, image)
        if name not in self.containers:
            self.containers.append(name)

    def front(self, count):
        """The collection's front over the first `count` workers, every server up."""
        files = render(self.workdir, WORKERS[:count])
        self.container('plumber-bench-haproxy', HAPROXY_IMAGE, (files['haproxy'], '/usr/local/etc/haproxy/haproxy.cfg'))
        self.container('plumber-bench-nginx', NGINX_IMAGE, (files['nginx'], '/etc/nginx/conf.d/default.conf'))
        wait_for('http://127.0.0.1:%d/bench/trivial' % FRONT)
        time.sleep(2 * 2 + 1)  # every server checked up (rise 2 at check_interval 2 s)

    def plain(self, count):
        path = os.path.join(self.workdir, 'plain.conf')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(PLAIN_NGINX % ('\n'.join('    server 127.0.0.1:%d;' % port for port in WORKERS[:count]), PLAIN))
        self.container('plumber-bench-plain', NGINX_IMAGE, (path, '/etc/nginx/conf.d/default.conf'))
        wait_for('http://127.0.0.1:%d/bench/trivial' % PLAIN)

    def close(self):
        for name in self.containers:
            sh('docker', 'rm', '-f', name, check=False)
        for worker in self.workers.values():
            worker.kill()
            worker.wait()


def wait_for(url, timeout=90):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit('benchmarks: %s did not answer within %d s' % (url, timeout))
        time.sleep(0.3)


UNITS = {'us': 1e-3, 'ms': 1.0, 's': 1000.0, 'm': 60000.0}


def wrk(url, seconds, connections=1, headers=()):
    """wrk's answer: requests per second, mean latency and 99th percentile (ms), errors (non-2xx, socket)."""
    cmd = ['wrk', '-t', '1', '-c', str(connections), '-d', '%ds' % seconds, '--latency', '--timeout', '30s']
    for header in headers:
        cmd += ['-H', header]
    out = sh(*cmd, url).stdout

    def latency(pattern):
        found = re.search(pattern, out, re.M)
        return float(found.group(1)) * UNITS[found.group(2)]
    errors = sum(int(n) for n in re.findall(r'Non-2xx or 3xx responses: (\d+)', out))
    errors += sum(int(n) for n in re.findall(r'(?:connect|read|write|timeout) (\d+)', ''.join(re.findall(r'Socket errors:.*', out))))
    return {'rps': float(re.search(r'Requests/sec:\s+([0-9.]+)', out).group(1)),
            'mean_ms': latency(r'^\s+Latency\s+([0-9.]+)(us|ms|s|m)\b'),
            'p99_ms': latency(r'^\s+99%\s+([0-9.]+)(us|ms|s|m)\b'),
            'errors': errors}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--quick', action='store_true', help='3-second measurements instead of 10 (a smoke run)')
    parser.add_argument('--out', default=os.path.join(ROOT, 'docs'), help='where benchmarks.md and benchmarks/*.png go')
    parser.add_argument('--modes', default=','.join(hosts.MODES),
                        help='process managers of figures 4 and 5, comma-separated ("" for none); default: %(default)s')
    options = parser.parse_args()
    modes = [mode for mode in options.modes.split(',') if mode]
    if set(modes) - set(hosts.MODES):
        parser.error('--modes: %s is not one of %s' % (', '.join(sorted(set(modes) - set(hosts.MODES))), ', '.join(hosts.MODES)))
    seconds = 3 if options.quick else 10
    results = {'machine': '%d CPUs' % os.cpu_count(), 'seconds': seconds, 'scaling': [], 'worker_alone': {}, 'worker_alone_fresh': {},
               'plumber_alone_fresh': {}, 'overhead': {}, 'hol': {}}
    results['hosts'] = hosts.run(modes)
    with tempfile.TemporaryDirectory() as workdir:
        bench = Bench(workdir)
        try:
            print('Starting %d R workers ...' % len(WORKERS), flush=True)
            bench.start_workers()
            for count in (1, 2, 4, 8):
                bench.front(count)
                run = wrk('http://127.0.0.1:%d/bench/wait' % FRONT, seconds, connections=2 * count)
                limit = count * 20.0
                results['scaling'].append(dict(run, workers=count, limit=limit, fraction=run['rps'] / limit))
                print('scaling %d workers: %.1f req/s of %.0f (%.3f)' % (count, run['rps'], limit, run['rps'] / limit), flush=True)
            # The same endpoint on one worker without the front: what R and plumber themselves leave of the limit,
            # over one kept-alive connection and with a new connection per request (as HAProxy asks the workers).
            alone = wrk('http://127.0.0.1:%d/wait' % WORKERS[0], seconds)
            results['worker_alone'] = dict(alone, fraction=alone['rps'] / 20.0)
            print('one worker alone, no front: %.1f req/s of 20 (%.3f)' % (alone['rps'], alone['rps'] / 20.0), flush=True)
            fresh = wrk('http://127.0.0.1:%d/wait' % WORKERS[0], seconds, headers=['Connection: close'])
            results['worker_alone_fresh'] = dict(fresh, fraction=fresh['rps'] / 20.0)
            print('one worker alone, no front, a new connection per request: %.1f req/s of 20 (%.3f)'
                  % (fresh['rps'], fresh['rps'] / 20.0), flush=True)
            bare = wrk('http://127.0.0.1:%d/wait' % BARE, seconds, headers=['Connection: close'])
            results['plumber_alone_fresh'] = dict(bare, fraction=bare['rps'] / 20.0)
            print('plumb() + pr_run() alone, a new connection per request: %.1f req/s of 20 (%.3f)'
                  % (bare['rps'], bare['rps'] / 20.0), flush=True)
            bench.front(1)
            stack = wrk('http://127.0.0.1:%d/bench/trivial' % FRONT, seconds)
            direct = wrk('http://127.0.0.1:%d/trivial' % WORKERS[0], seconds, headers=['Connection: close'])
            results['overhead'] = {'stack': stack, 'direct': direct, 'added_ms': stack['mean_ms'] - direct['mean_ms']}
            print('overhead: %.2f ms through the front, %.2f ms straight: %+.2f ms'
                  % (stack['mean_ms'], direct['mean_ms'], results['overhead']['added_ms']), flush=True)
            bench.front(4)
            bench.plain(4)
            for name, port in (('front', FRONT), ('plain nginx', PLAIN)):
                slow = subprocess.Popen(['wrk', '-t', '1', '-c', '2', '-d', '%ds' % (seconds + 4), '--timeout', '30s',
                                         'http://127.0.0.1:%d/bench/slow' % port], stdout=subprocess.DEVNULL)
                time.sleep(1)
                fast = wrk('http://127.0.0.1:%d/bench/trivial' % port, seconds)
                slow.wait()
                results['hol'][name] = fast
                print('head-of-line, %s: fast p99 %.1f ms' % (name, fast['p99_ms']), flush=True)
        finally:
            bench.close()
    report(results, options.out)


def report(results, out):
    scaling = results['scaling']
    overhead, hol = results['overhead'], results['hol']
    rows = ['| Figure | Measured | Target |', '|---|---|---|']
    for run in scaling:
        rows.append('| 1. %d worker%s, 50 ms endpoint: throughput / (workers x 20 req/s) | %.3f (%.1f req/s) | >= 0.95 |'
                    % (run['workers'], '' if run['workers'] == 1 else 's', run['fraction'], run['rps']))
    alone, fresh, bare = results['worker_alone'], results['worker_alone_fresh'], results['plumber_alone_fresh']
    rows.append('| 1. for comparison: plumber\'s own ceiling, the API under a bare plumb() + pr_run() (no code of this collection), '
                'asked straight, a new connection per request | %.3f (%.1f req/s) | |' % (bare['fraction'], bare['rps']))
    rows.append('| 1. for comparison: 1 worker (the collection\'s loader) asked straight, no front, a new connection per request '
                '| %.3f (%.1f req/s) | |' % (fresh['fraction'], fresh['rps']))
    rows.append('| 1. for comparison: 1 worker asked straight, no front, one kept-alive connection | %.3f (%.1f req/s) | |'
                % (alone['fraction'], alone['rps']))
    rows.append('| 2. trivial request: front with keep-alive minus one worker with a new connection | %+.2f ms (%.2f vs %.2f) | <= 1 ms |'
                % (overhead['added_ms'], overhead['stack']['mean_ms'], overhead['direct']['mean_ms']))
    rows.append('| 3. fast requests beside 2 s ones, p99: front / plain nginx round-robin | %.1f ms / %.1f ms | <= 10 ms |'
                % (hol['front']['p99_ms'], hol['plain nginx']['p99_ms']))
    rows += hosts.rows(results['hosts'])
    errors = (sum(run['errors'] for run in scaling) + alone['errors'] + fresh['errors'] + bare['errors'] + overhead['stack']['errors']
              + overhead['direct']['errors'] + sum(run['errors'] for run in hol.values()))
    table = '\n'.join(rows)
    print('\n' + table + '\n\nfailed requests: %d' % errors)
    os.makedirs(os.path.join(out, 'benchmarks'), exist_ok=True)
    plots(results, os.path.join(out, 'benchmarks'))
    with open(os.path.join(out, 'benchmarks.md'), 'w', encoding='utf-8') as handle:
        handle.write('# Benchmarks\n\nWritten by `benchmarks/run` (%s, %d-second wrk runs on loopback, %s); every figure '
                     'is measured in that one run. Failed requests in the wrk runs of figures 1-3: %d.\n\n%s\n\n'
                     '![worker scaling](benchmarks/scaling.png)\n![head-of-line blocking](benchmarks/hol.png)\n\n'
                     '```json\n%s\n```\n' % (time.strftime('%Y-%m-%d'), results['seconds'], results['machine'], errors, table,
                                             json.dumps(results, indent=1)))


def plots(results, out):
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    scaling = results['scaling']
    figure, axes = plt.subplots(figsize=(5, 3.2))
    axes.bar([str(run['workers']) for run in scaling], [run['fraction'] for run in scaling], color='#4c72b0')
    axes.axhline(0.95, color='#c44e52', linestyle='--', label='target 0.95')
    axes.axhline(results['plumber_alone_fresh']['fraction'], color='#555555', linestyle=':', label='plumber alone (its ceiling)')
    axes.set_ylim(0, 1.05)
    axes.set_xlabel('R workers')
    axes.set_ylabel('throughput / (workers x 20 req/s)')
    axes.set_title('Worker scaling, 50 ms endpoint')
    axes.legend(loc='lower right')
    figure.tight_layout()
    figure.savefig(os.path.join(out, 'scaling.png'), dpi=100)
    plt.close(figure)
    hol = results['hol']
    figure, axes = plt.subplots(figsize=(5, 3.2))
    axes.bar(list(hol), [run['p99_ms'] for run in hol.values()], color=['#4c72b0', '#dd8452'])
    axes.set_yscale('log')
    axes.set_ylabel('fast requests, p99 (ms, log)')
    axes.set_title('Fast requests beside 2-second ones, 4 workers')
    figure.tight_layout()
    figure.savefig(os.path.join(out, 'hol.png'), dpi=100)
    plt.close(figure)


if __name__ == '__main__':
    main()
