"""The benchmarks of plumber.hosting on whole hosts: a local container plays the server (Debian 12 booting systemd,
the tests' instance), playbooks/site.yml hosts two APIs on it in one mode, and a client on this machine asks one of
them through the front all along. Each figure is measured in this one run:

4. faults under load: failed requests while deploy.yml rolls new code out, while it rolls a broken release back
   (its workers never answer their health path), and while one worker is killed with SIGKILL, two workers per API;
5. deploy cost: a cold site.yml, a no-op re-run (the median of three) and a code-only deploy.yml, as times and as the
   ratio no-op / cold.

Every mode starts from plain Debian 12, and its cold deploy is what a new server needs: systemd and pm2 install R,
plumber, nginx, HAProxy and ufw from Debian's repositories; docker and compose (on the Docker-in-Docker instance)
install the Docker engine and get the images, copied from this machine by playbooks/images_from_controller.yml where
a server would pull them from a registry, then site.yml builds the API images on the base image (R and plumber).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ('systemd', 'pm2', 'docker', 'compose')
CONTAINER = 'plumber-bench-host'
API = '''#* @serializer unboxedJSON
#* @get /whoami
function() list(api = Sys.getenv("PLUMBER_API"), worker = as.integer(Sys.getenv("PLUMBER_WORKER")), release = "%s")
'''
# A release whose workers load but never answer their health path (a database that is down).
UNHEALTHY = API + '''
#* @get /healthz
function(res) { res$status <- 503; list(database = "unreachable") }
'''
IMAGES = {'api_image_base': 'plumber-hosting-test/plumber-r:latest', 'compose_nginx_image': 'plumber-hosting-test/nginx:latest',
          'compose_haproxy_image': 'plumber-hosting-test/haproxy:latest'}


def platform(mode):
    """The tests' instance for a mode (.config/molecule): systemd, or systemd with a Docker engine inside."""
    name = 'docker-in-docker.yml' if mode in ('docker', 'compose') else 'config.yml'
    with open(os.path.join(ROOT, '.config', 'molecule', name), encoding='utf-8') as handle:
        return yaml.safe_load(handle)['platforms'][0]


def start(mode):
    spec = platform(mode)
    subprocess.run(['docker', 'rm', '-f', '-v', CONTAINER], capture_output=True, check=False)
    cmd = ['docker', 'run', '-d', '--name', CONTAINER, '--cgroupns', spec['cgroupns_mode'], '--stop-signal', spec['stop_signal']]
    for capability in spec['capabilities']:
        cmd += ['--cap-add', capability]
    for option in spec['security_opts']:
        cmd += ['--security-opt', option]
    for volume in spec['volumes']:
        cmd += ['-v', volume]
    for tmpfs in spec['tmpfs']:
        cmd += ['--tmpfs', tmpfs]
    for key, value in spec.get('env', {}).items():
        cmd += ['-e', '%s=%s' % (key, value)]
    subprocess.run(cmd + [spec['image'].replace('${PLUMBER_HOSTING_IMAGE:-debian12-systemd}', 'debian12-systemd'), spec['command']],
                   capture_output=True, check=True)
    deadline = time.monotonic() + 60
    while subprocess.run(['docker', 'exec', CONTAINER, 'systemctl', 'is-system-running', '--wait'], capture_output=True,
                         check=False).returncode not in (0, 1) and time.monotonic() < deadline:
        time.sleep(1)
    return subprocess.run(['docker', 'inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', CONTAINER],
                          capture_output=True, text=True, check=True).stdout.split()[0]


class Project:
    """An inventory for the container, two APIs (one, two) with two workers each, and playbook runs."""

    def __init__(self, workdir, mode):
        self.workdir, self.mode, self.slowest = workdir, mode, []
        self.write_api('one', API % 'first')
        self.write_api('two', API % 'first')
        host = {'ansible_connection': 'community.docker.docker', 'plumber_process_manager': mode,
                'plumber_apis': [{'name': name, 'src': os.path.join(workdir, name), 'workers': 2} for name in ('one', 'two')]}
        if mode in ('docker', 'compose'):
            host.update(IMAGES, images_from_controller=list(IMAGES.values()))
        with open(os.path.join(workdir, 'inventory.yml'), 'w', encoding='utf-8') as handle:
            yaml.safe_dump({'plumber_servers': {'hosts': {CONTAINER: host}}}, handle)
        with open(os.path.join(workdir, 'ansible.cfg'), 'w', encoding='utf-8') as handle:
            # profile_tasks: the slowest tasks of each run, where a no-op run's time goes.
            handle.write('[defaults]\ncollections_path = %s\ninterpreter_python = auto_silent\ncallbacks_enabled = ansible.posix.profile_tasks\n'
                         '[callback_profile_tasks]\ntask_output_limit = 8\n[connection]\npipelining = True\n' % os.path.join(ROOT, '.collections'))

    def write_api(self, name, code):
        os.makedirs(os.path.join(self.workdir, name), exist_ok=True)
        with open(os.path.join(self.workdir, name, 'plumber.R'), 'w', encoding='utf-8') as handle:
            handle.write(code)

    def play(self, playbook, **extra_vars):
        """Seconds the playbook took, and whether it succeeded; its slowest tasks in self.slowest."""
        cmd = ['ansible-playbook', '-i', 'inventory.yml', os.path.join(ROOT, 'playbooks', playbook)]
        for key, value in extra_vars.items():
            cmd += ['-e', json.dumps({key: value})]
        started = time.monotonic()
        done = subprocess.run(cmd, cwd=self.workdir, capture_output=True, text=True, check=False,
                              env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(self.workdir, 'ansible.cfg')))
        seconds = time.monotonic() - started
        self.slowest = re.findall(r'^(.+?) -+ ([0-9.]+s)$', done.stdout, re.M)
        with open(os.path.join(self.workdir, 'plays.log'), 'a', encoding='utf-8') as log:
            log.write(done.stdout + done.stderr)
        return seconds, done.returncode == 0


class Load:
    """Clients asking `url` one request at a time each, a new connection per request, until stopped."""

    def __init__(self, url, clients=4):
        self.url, self.stopping = url, threading.Event()
        self.answers, self.failures = 0, []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _client in range(clients)]
        for thread in self.threads:
            thread.start()

    def run(self):
        while not self.stopping.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=30) as answer:
                    outcome = answer.status
            except urllib.error.HTTPError as error:
                outcome = error.code
            except OSError as error:
                outcome = type(error).__name__
            with self.lock:
                self.answers += 1
                if outcome != 200:
                    self.failures.append(outcome)
            time.sleep(0.02)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join()
        return {'requests': self.answers, 'failed': len(self.failures), 'failures': sorted(set(map(str, self.failures)))}


def kill_one_worker():
    """SIGKILL to the oldest R process of API one, seen from the server (workers in containers included)."""
    subprocess.run(['docker', 'exec', CONTAINER, 'pkill', '-9', '-o', '-f', 'run-one[.]R'], capture_output=True, check=True)


def measure(mode, workdir):
    address = start(mode)
    project = Project(workdir, mode)
    result = {'mode': mode}
    try:
        # The engine and the images first (docker, compose): part of the cold deploy, as a pull would be.
        # The no-op re-run three times, its median kept (one run varies by a few seconds here).
        plays = (['images_from_controller.yml'] if mode in ('docker', 'compose') else []) + ['site.yml']
        for name, playbooks in [('cold', plays)] + [('noop', ['site.yml'])] * 3:
            seconds = 0
            for playbook in playbooks:
                took, ok = project.play(playbook)
                if not ok:
                    raise SystemExit('benchmarks: %s %s failed (%s); see %s/plays.log' % (mode, name, playbook, workdir))
                seconds += took
            result.setdefault(name + '_runs', []).append(seconds)
        result['cold'], result['noop'] = result.pop('cold_runs')[0], sorted(result['noop_runs'])[1]
        result['noop_slowest'] = [' '.join(task) for task in project.slowest]
        url = 'http://%s/one/whoami' % address
        load = Load(url)
        project.write_api('one', API % 'second')
        seconds, ok = project.play('deploy.yml')
        result['code'] = seconds
        result['rolling_update'] = load.stop()
        if not ok:
            raise SystemExit('benchmarks: %s code-only deploy failed; see %s/plays.log' % (mode, workdir))
        load = Load(url)
        project.write_api('one', UNHEALTHY % 'broken')
        _seconds, ok = project.play('deploy.yml', **{'%s_ready_timeout' % ('docker_workers' if mode == 'docker' else mode): 15})
        result['rollback'] = dict(load.stop(), failed_play=not ok)
        load = Load(url)
        time.sleep(2)
        kill_one_worker()
        time.sleep(10)
        result['kill'] = load.stop()
    finally:
        subprocess.run(['docker', 'rm', '-f', '-v', CONTAINER], capture_output=True, check=False)
    faults = [result[name][key] for name in ('rolling_update', 'rollback', 'kill') for key in ('failed', 'requests')]
    print('%s: cold %.0f s, no-op %.0f s (%.2f), code-only %.0f s; failed requests: rolling update %d of %d, rollback %d of %d, '
          'kill -9 %d of %d' % tuple([mode, result['cold'], result['noop'], result['noop'] / result['cold'], result['code']] + faults), flush=True)
    return result


def run(modes):
    results = []
    for mode in modes:
        with tempfile.TemporaryDirectory() as workdir:
            print('%s: a server container, site.yml cold and three times again, deploy.yml three times under load ...' % mode, flush=True)
            results.append(measure(mode, workdir))
    return results


def rows(results):
    lines = []
    for result in results:
        lines.append('| 4. %s: failed requests during a rolling update / a rollback / a kill -9 (2 workers) | %d of %d / %d of %d / '
                     '%d of %d | 0 |' % (result['mode'], result['rolling_update']['failed'], result['rolling_update']['requests'],
                                         result['rollback']['failed'], result['rollback']['requests'], result['kill']['failed'],
                                         result['kill']['requests']))
    for result in results:
        lines.append('| 5. %s, 2 APIs: cold site.yml / no-op re-run / code-only deploy.yml; no-op / cold | %.0f s / %.0f s / %.0f s; '
                     '%.2f | <= 0.25 |' % (result['mode'], result['cold'], result['noop'], result['code'], result['noop'] / result['cold']))
    return lines
