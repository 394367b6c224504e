"""The book's basic Docker mode through playbooks/site.yml: one image per API, one container per worker; the roles
plumber.hosting.api_image and plumber.hosting.docker_workers alone: their preflight, their checks of what other roles set."""

from __future__ import annotations

import json

import pytest
from ansible_collections.plumber.hosting.plugins.module_utils._apis import default_port

# hello takes the default ports (a block chosen by its name), greeter sets port: 8100.
HELLO = default_port('hello')
WORKERS = {'plumber-hello-%d' % HELLO: HELLO, 'plumber-hello-%d' % (HELLO + 1): HELLO + 1, 'plumber-greeter-8100': 8100}


def inspect(host, name):
    return json.loads(host.check_output('docker inspect %s' % name))[0]


@pytest.mark.parametrize('name, port', WORKERS.items())
def test_worker_container_is_locked_down_on_the_hosts_network_on_localhost(host, name, port):
    info = inspect(host, name)
    assert info['State']['Running'] and info['State']['Health']['Status'] in ('healthy', 'starting')
    assert info['HostConfig']['RestartPolicy']['Name'] == 'unless-stopped'
    assert info['HostConfig']['Init'] is True and info['HostConfig']['ReadonlyRootfs'] is True
    assert info['Config']['User'] not in ('', '0', 'root') and not info['Config']['User'].startswith('0:')
    # The host's network, no port published through Docker's proxy: R itself listens on 127.0.0.1 only.
    assert info['HostConfig']['NetworkMode'] == 'host' and not info['HostConfig']['PortBindings'], info['HostConfig']
    assert host.socket('tcp://127.0.0.1:%d' % port).is_listening and not host.socket('tcp://0.0.0.0:%d' % port).is_listening


def test_one_image_per_api_named_after_its_inputs(host):
    images = host.check_output("docker images --format '{{.Repository}}:{{.Tag}}' 'plumber-*'").split()
    assert sorted(image.split(':')[0] for image in images) == ['plumber-greeter', 'plumber-hello']
    assert inspect(host, 'plumber-hello-%d' % HELLO)['Config']['Image'] in images


def test_a_failing_image_build_fails_the_play_and_keeps_the_running_containers(host, play, plumber_apis):
    before = {name: inspect(host, name)['Id'] for name in WORKERS}
    broken = [dict(api, packages=['nosuchpkgplumberhosting']) if api['name'] == 'hello' else api for api in plumber_apis]
    result = play('converge.yml', extra_vars={'plumber_apis': broken})
    assert result.rc != 0, result
    assert "R package 'nosuchpkgplumberhosting'" in result.output, result
    assert {name: inspect(host, name)['Id'] for name in WORKERS} == before
    for port in WORKERS.values():
        assert host.run('curl -fsS http://127.0.0.1:%d/healthz' % port).rc == 0


def role_play(*roles, tasks_from='main', gather_facts='false'):
    """A play of the given roles alone, each through include_role, in order."""
    steps = ''.join('''
    - ansible.builtin.include_role:
        name: plumber.hosting.%s
        tasks_from: %s
''' % (role, tasks_from) for role in roles)
    return '''
- hosts: all
  gather_facts: %s
  tasks:%s''' % (gather_facts, steps)


def test_every_preflight_passes_before_any_role_ran(play):
    result = play(role_play('docker_engine', 'api_image', 'docker_workers', tasks_from='preflight'))
    assert result.rc == 0, result
    assert result.changed == 0, result


def test_api_image_run_twice_lists_each_api_once(play):
    result = play(role_play('api', 'api_image', 'api_image', gather_facts='true') + '''
    - name: Show the published images
      ansible.builtin.debug:
        msg: "API_IMAGES {{ api_images | map(attribute='name') | join(',') }}"
''')
    assert result.rc == 0, result
    assert '"API_IMAGES hello,greeter"' in result.output, result


@pytest.mark.parametrize('roles, extra_vars, fragments', [
    (['api_image'], {}, ['api_deployments', 'plumber.hosting.api before plumber.hosting.api_image']),
    (['docker_workers'], {}, ['api_images', 'plumber.hosting.api_image']),
    (['api_image'], {'api_image_r_repos': ['ftp://mirror.example.org/cran']}, ['api_image_r_repos', 'ftp://mirror.example.org/cran']),
    (['docker_workers'], {'docker_workers_ready_timeout': 'soon'}, ['docker_workers_ready_timeout', 'soon']),
], ids=['image-without-api', 'workers-without-images', 'image-bad-repos', 'workers-bad-timeout'])
def test_bad_input_fails_before_any_change(host, play, roles, extra_vars, fragments):
    before = {name: inspect(host, name)['Id'] for name in WORKERS}
    result = play(role_play(*roles), extra_vars=extra_vars)
    assert result.rc != 0, result
    assert all(fragment in result.output for fragment in fragments), result
    assert result.changed == 0, result
    assert {name: inspect(host, name)['Id'] for name in WORKERS} == before
