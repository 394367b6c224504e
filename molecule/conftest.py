"""Fixtures shared by every scenario's testinfra verifier.

`play` runs a playbook from the controller against the scenario's instance, the way a user runs
the collection, so verifiers can assert what a second run, a check run or bad input does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap

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


@pytest.fixture(scope='session')
def play():
    inventory = os.environ['MOLECULE_INVENTORY_FILE']
    scenario_dir = os.environ['MOLECULE_SCENARIO_DIRECTORY']

    def run(playbook, *args, extra_vars=None):
        """Run `playbook` (a file in the scenario, or YAML text) and return a PlayResult."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(scenario_dir, playbook)
            if not os.path.exists(path):
                path = os.path.join(tmp, 'play.yml')
                with open(path, 'w', encoding='utf-8') as handle:
                    handle.write(textwrap.dedent(playbook))
            cmd = ['ansible-playbook', '-i', inventory, path, *args]
            for key, value in (extra_vars or {}).items():
                cmd += ['-e', json.dumps({key: value})]
            # JSON results: messages stay on one line, quotes unchanged, so tests can search them.
            env = dict(os.environ, ANSIBLE_CALLBACK_RESULT_FORMAT='json', ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1200, env=env)
        return PlayResult(proc)

    return run


@pytest.fixture(scope='session')
def converged_check(play):
    """`--check --diff` of the scenario's converge playbook on the converged instance."""
    return play('converge.yml', '--check', '--diff')
