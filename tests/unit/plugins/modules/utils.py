# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the module tests share: exit_json and fail_json that raise instead of exiting, running a module's
main() with the task's parameters, substituting strings in nested test data, and the real HAProxy of the test
image with stand-in servers (haproxy_drain, haproxy_errors). Each test keeps its own fakes (command runners,
clocks), which differ from module to module."""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import subprocess
import threading
import time

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args


class AnsibleExitJson(Exception):
    """AnsibleModule.exit_json was called (see patch_exits); args[0] is the result."""


class AnsibleFailJson(Exception):
    """AnsibleModule.fail_json was called (see patch_exits); args[0] is the result."""


def patch_exits(monkeypatch):
    """Make AnsibleModule.exit_json raise AnsibleExitJson and fail_json raise AnsibleFailJson."""
    def exit_json(module, **kwargs):
        raise AnsibleExitJson(kwargs)

    def fail_json(module, **kwargs):
        raise AnsibleFailJson(kwargs)

    monkeypatch.setattr(AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(AnsibleModule, 'fail_json', fail_json)


def run_main(module, params, expect=AnsibleExitJson):
    """Run module.main() with params as the task's parameters (patch_exits in place); the test fails unless
    it exits by raising expect (a class, or a tuple of classes). Returns (result, the class it raised)."""
    with patch_module_args(params):
        with pytest.raises(expect) as caught:
            module.main()
    return caught.value.args[0], caught.type


def substitute(value, replace):
    """value with replace(text) in place of every string text in it, through nested lists, tuples and dicts
    (dict keys are kept as they are)."""
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, list):
        return [substitute(item, replace) for item in value]
    if isinstance(value, tuple):
        return tuple(substitute(item, replace) for item in value)
    if isinstance(value, dict):
        return dict((key, substitute(item, replace)) for key, item in value.items())
    return value


HAPROXY_IMAGE = 'plumber-hosting-test/haproxy:latest'


def haproxy_ready():
    """Docker and the test image of HAProxy are there (tests/run setup images)."""
    return bool(shutil.which('docker')) and subprocess.run(['docker', 'image', 'inspect', HAPROXY_IMAGE], capture_output=True,
                                                           check=False).returncode == 0


HAPROXY_CONFIG = '''global
    stats socket /run/test/admin.sock mode 600 level admin
defaults
    mode http
    option http-server-close
    timeout connect 3s
    timeout client 30s
    timeout server 30s
frontend plumber
    bind 127.0.0.1:%d
    default_backend hello
backend hello
    balance %s
%s
'''


@contextlib.contextmanager
def haproxy(run, front, servers, handler, balance='leastconn'):
    """HTTP servers answering with `handler` at each {name: (address, port)} of `servers`, and HAProxy on the host
    network balancing them as backend hello, its frontend on 127.0.0.1:`front` and its admin socket at
    /run/test/admin.sock mounted from directory `run`: the socket's path on this host."""
    config = HAPROXY_CONFIG % (front, balance, '\n'.join('    server %s %s:%d' % (name, address, port)
                                                         for name, (address, port) in servers.items()))
    servers = [http.server.ThreadingHTTPServer(address, handler) for address in servers.values()]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    (run / 'haproxy.cfg').write_text(config, encoding='utf-8')
    os.chmod(run, 0o777)
    name = 'plumber-hosting-unit-%s-%d' % (run.name, os.getpid())
    subprocess.run(['docker', 'run', '-d', '--name', name, '--network', 'host', '--user', 'root', '-v', '%s:/run/test' % run,
                    HAPROXY_IMAGE, 'haproxy', '-db', '-f', '/run/test/haproxy.cfg'], check=True, capture_output=True)
    try:
        deadline = time.monotonic() + 30
        while not (run / 'admin.sock').exists():
            assert time.monotonic() < deadline, subprocess.run(['docker', 'logs', name], capture_output=True, text=True, check=False).stderr
            time.sleep(0.2)
        yield str(run / 'admin.sock')
    finally:
        subprocess.run(['docker', 'rm', '-f', name], check=False, capture_output=True)
        for server in servers:
            server.shutdown()
            server.server_close()
