"""Fixtures shared by every scenario's testinfra verifier.

`play` runs a playbook from the controller against the scenario's instance, the way a user runs
the collection, so verifiers can assert what a second run, a check run or bad input does.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

# Verifiers compute what the collection computes (default ports, for one) with its own code.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), '.collections'))


class PlayResult:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr

    @property
    def changed(self):
        """The `changed=` count of the recap (sum over hosts)."""
        return sum(int(n) for n in re.findall(r'\bchanged=(\d+)', self.output))

    def __repr__(self):
        return 'PlayResult(rc=%d)\n%s' % (self.rc, self.output[-6000:])


def instance_address(name):
    """The IPv4 address of instance `name` on its Docker network."""
    return subprocess.run(['docker', 'inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', name],
                          capture_output=True, text=True, check=True).stdout.split()[0]


@pytest.fixture(scope='session')
def address():
    """`address(name)`: the IPv4 address of instance `name` on its Docker network."""
    return instance_address


class RequestLoop:
    """GETs `url` with curl inside instance `name` until stopped, one request at a time and `pause` seconds
    apart; one line per answer, ending with its HTTP status. `curl_args`: more curl options, as shell words.

    The pause (0.05 s: about 14 requests a second through the front) keeps the loop from slowing what it
    watches: back to back, curl and one plumber worker took a whole core of a 2-core test machine (57
    requests a second), 0.28 of one with the pause. A gap in service shorter than the pause can go
    unseen: tests that look for one that short (a reload) pass `pause=0`; a request in flight while its
    worker restarts is the drained-worker test's, with a request that lasts seconds."""

    def __init__(self, name, url, curl_args='', pause=0.05):
        self.name = name
        script = ('rm -f /tmp/loop.stop; while [ ! -e /tmp/loop.stop ]; do '
                  "curl -s --max-time 60 -w ' %%{http_code}\\n' %s '%s'; sleep %s; done" % (curl_args, url, pause))
        self.proc = subprocess.Popen(['docker', 'exec', name, 'sh', '-c', script],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def stop(self):
        subprocess.run(['docker', 'exec', self.name, 'touch', '/tmp/loop.stop'], check=True, timeout=30)
        return self.proc.communicate(timeout=120)[0].splitlines()


@pytest.fixture(scope='session')
def request_loop():
    """`request_loop(instance, url, curl_args='', pause=0.05)`: a RequestLoop started (one at a time per instance)."""
    return RequestLoop


@pytest.fixture(scope='session')
def reachable_from_controller():
    """`reachable_from_controller(name, ports)`: {port: True when the controller, another host on the instance's
    network, connects to it}, a probe of what the instance's firewall lets through."""
    def probe(name, ports):
        address, reachable = instance_address(name), {}
        for port in ports:
            try:
                with socket.create_connection((address, port), timeout=2):
                    reachable[port] = True
            except OSError:
                reachable[port] = False
        return reachable
    return probe


@pytest.fixture(scope='session')
def play():
    scenario_inventory = os.environ['MOLECULE_INVENTORY_FILE']
    scenario_dir = os.environ['MOLECULE_SCENARIO_DIRECTORY']

    def run(playbook, *args, extra_vars=None, inventory=None):
        """Run `playbook` (a file in the scenario, or YAML text) and return a PlayResult.

        `inventory`: an inventory to run against instead of the scenario's (a changed copy of it,
        with the group_vars and host_vars it needs next to it)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(scenario_dir, playbook)
            if not os.path.exists(path):
                path = os.path.join(tmp, 'play.yml')
                with open(path, 'w', encoding='utf-8') as handle:
                    handle.write(textwrap.dedent(playbook))
            cmd = ['ansible-playbook', '-i', inventory or scenario_inventory, path, *args]
            for key, value in (extra_vars or {}).items():
                cmd += ['-e', json.dumps({key: value})]
            # JSON results: messages stay on one line, quotes unchanged, so tests can search them.
            env = dict(os.environ, ANSIBLE_CALLBACK_RESULT_FORMAT='json', ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
            start = time.monotonic()
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1200, env=env)
        result = PlayResult(proc)
        log = os.environ.get('PLUMBER_HOSTING_PLAY_LOG')
        if log:
            # Every play of the verifier, with its time and output (profile_tasks' slowest tasks at
            # its end): where a scenario's verify time goes, also when every test passes.
            with open(log, 'a', encoding='utf-8') as handle:
                handle.write('\n===== %.0f s rc=%d %s: ansible-playbook %s\n%s' % (
                    time.monotonic() - start, result.rc, os.environ.get('PYTEST_CURRENT_TEST', '?'),
                    ' '.join([playbook if playbook.endswith('.yml') else '(a play of the test)', *args]),
                    result.output))
        return result

    return run


@pytest.fixture(scope='session')
def plumber_vars(play, tmp_path_factory):
    """The scenario's plumber_apis, plumber_process_manager and tls_domains as the plays see them: templated by
    Ansible (scenarios build plumber_apis from the test APIs of .config/molecule/config.yml, and a
    repository URL may name the instance's address), not the raw inventory text."""
    dump = tmp_path_factory.mktemp('vars') / 'vars.json'
    result = play("""
        - name: Write the templated test variables for the verifier
          hosts: all
          gather_facts: false
          tasks:
            - name: Read the network facts a repository URL may use
              ansible.builtin.setup:
                gather_subset: [network]
            - name: Write plumber_apis, plumber_process_manager and tls_domains
              ansible.builtin.copy:
                content: >-
                  {{ {'plumber_apis': plumber_apis, 'plumber_process_manager': plumber_process_manager | default(''),
                      'tls_domains': tls_domains | default([])} | to_json }}
                dest: %s
                mode: '0600'
              delegate_to: localhost
        """ % dump)
    assert result.rc == 0, result
    return json.loads(dump.read_text(encoding='utf-8'))


@pytest.fixture(scope='session')
def plumber_apis(plumber_vars):
    return plumber_vars['plumber_apis']


@pytest.fixture(scope='session')
def converged_check(play):
    """`--check --diff` of the scenario's converge playbook on the converged instance."""
    return play('converge.yml', '--check', '--diff')


@pytest.fixture(scope='session')
def watched_rollback():
    """`watched_rollback(output, window)`: the error-rate rollback of API hello in a play's output (the proxy role's entry
    point watch, then the rescue of a worker role): (failed requests, requests, percent failed, front, release it went
    back to), or None."""
    return find_watched_rollback


def find_watched_rollback(output, window):
    found = re.search(r'The new release fails more requests than the one before: hello: (\d+) of (\d+) requests \((\d+\.\d)%\) failed '
                      r'\(5xx, or no answer\) in the ' + str(int(window)) + r' s watched, against [0-9.]+% before; more than the rise '
                      r'of 10\.0% allowed \(max_error_rise\) at (\S+)\. Rolled back: hello: release (\w+) again', output)
    return found and (int(found.group(1)), int(found.group(2)), float(found.group(3)), found.group(4), found.group(5))
