"""The book's basic Docker mode through playbooks/site.yml: one image per API, one container per worker."""

from __future__ import annotations

import json

import pytest

WORKERS = {'plumber-hello-8000': 8000, 'plumber-hello-8001': 8001, 'plumber-greeter-8100': 8100}


def inspect(host, name):
    return json.loads(host.check_output('docker inspect %s' % name))[0]


@pytest.mark.parametrize('name, port', WORKERS.items())
def test_worker_container_is_locked_down_and_published_on_localhost(host, name, port):
    info = inspect(host, name)
    assert info['State']['Running'] and info['State']['Health']['Status'] in ('healthy', 'starting')
    assert info['HostConfig']['RestartPolicy']['Name'] == 'unless-stopped'
    assert info['HostConfig']['Init'] is True and info['HostConfig']['ReadonlyRootfs'] is True
    assert info['Config']['User'] not in ('', '0', 'root') and not info['Config']['User'].startswith('0:')
    assert info['HostConfig']['PortBindings'] == {'%d/tcp' % port: [{'HostIp': '127.0.0.1', 'HostPort': str(port)}]}


def test_one_image_per_api_named_after_its_inputs(host):
    images = host.check_output("docker images --format '{{.Repository}}:{{.Tag}}' 'plumber-*'").split()
    assert sorted(image.split(':')[0] for image in images) == ['plumber-greeter', 'plumber-hello']
    assert inspect(host, 'plumber-hello-8000')['Config']['Image'] in images


def test_a_failing_image_build_fails_the_play_and_keeps_the_running_containers(host, play):
    before = {name: inspect(host, name)['Id'] for name in WORKERS}
    apis = host.ansible.get_variables()['plumber_apis']
    broken = [dict(api, packages=['nosuchpkgplumberhosting']) if api['name'] == 'hello' else api for api in apis]
    result = play('converge.yml', extra_vars={'plumber_apis': broken})
    assert result.rc != 0, result
    assert "R package 'nosuchpkgplumberhosting'" in result.output, result
    assert {name: inspect(host, name)['Id'] for name in WORKERS} == before
    for port in WORKERS.values():
        assert host.run('curl -fsS http://127.0.0.1:%d/healthz' % port).rc == 0
