"""The README's own-server example, run the way a new user runs it.

The collection is built into a tarball and installed from it into a temporary collections
directory; the README's files (each a fenced block after a line `File \\`<path>\\`:`) are written
into a fresh folder; its inventory.ini is pointed at this instance over SSH as the user `deploy`
(passwordless sudo, added by prepare.yml) with a key generated here; then, from that folder,
`ansible-playbook -i inventory.ini plumber.hosting.site`, with no ansible.cfg and with Ansible
seeing only the installed tarball and the collections bundled with the `ansible` package (never
this checkout's .collections).

The example installs systemd workers and the r_runtime role's default settings on this instance
(R's repository option among them), so conftest.py runs this module after every other test.
"""

from __future__ import annotations

import glob
import json
import os
import pathlib
import re
import shlex
import ssl
import subprocess
import urllib.request

import ansible
import pytest
import yaml
from ansible_collections.plumber.hosting.tests.standins.digitalocean import serve

ROOT = pathlib.Path(os.environ.get('MOLECULE_PROJECT_DIRECTORY') or pathlib.Path(__file__).resolve().parents[3])
# A line "File `path`:" and the fenced block right after it.
FILE_BLOCK_RE = re.compile(r'^File `([^`]+)`:\n```[a-z]*\n(.*?)^```$', re.M | re.S)
INSTALL = 'ansible-galaxy collection install plumber-hosting-%s.tar.gz'
RUN = 'ansible-playbook -i inventory.ini plumber.hosting.site'
# The bundled collections (community.docker, community.general, community.crypto, ansible.posix).
BUNDLED = os.path.dirname(os.path.dirname(ansible.__file__))


def readme_files():
    text = (ROOT / 'README.md').read_text(encoding='utf-8')
    files = dict(FILE_BLOCK_RE.findall(text))
    assert set(files) == {'inventory.ini', 'group_vars/plumber_servers.yml', 'apis/hello/plumber.R'}, files
    version = yaml.safe_load((ROOT / 'galaxy.yml').read_text(encoding='utf-8'))['version']
    # The commands the test runs below, as the README shows them.
    assert '\n%s\n' % (INSTALL % version) in text
    assert '\n%s\n' % RUN in text
    return files


def user_env(collections):
    """The environment of a user's shell: none of molecule's Ansible settings (its ANSIBLE_CONFIG
    has pipelining, roles and collection paths), only the installed tarball and the bundled collections."""
    env = dict((k, v) for k, v in os.environ.items()
               if not k.startswith(('ANSIBLE_', 'MOLECULE_')) and k not in ('PYTHONPATH',))
    env.update(ANSIBLE_COLLECTIONS_PATH='%s:%s' % (collections, BUNDLED), ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
               ANSIBLE_CALLBACK_RESULT_FORMAT='json')
    return env


def run(cmd, cwd, env, timeout=300):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=timeout)
    output = proc.stdout + proc.stderr
    return proc.returncode, output


def recap_changed(output):
    return sum(int(n) for n in re.findall(r'\bchanged=(\d+)', output))


@pytest.fixture(scope='module')
def instance_address(host):
    name = host.backend.get_hostname()
    proc = subprocess.run(['docker', 'inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', name],
                          capture_output=True, text=True, check=True)
    addresses = proc.stdout.split()
    assert addresses, 'no address for %s' % name
    return addresses[0]


@pytest.fixture(scope='module')
def ssh_key(host, tmp_path_factory):
    """A key pair made on the controller, authorized for deploy on the instance."""
    key = tmp_path_factory.mktemp('ssh') / 'id_ed25519'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'readme-example', '-f', str(key)], check=True)
    public = key.with_suffix('.pub').read_text(encoding='utf-8').strip()
    cmd = host.run(
        'install -d -m 0700 -o deploy -g deploy ~deploy/.ssh && printf "%%s\\n" %s > ~deploy/.ssh/authorized_keys'
        ' && chown deploy:deploy ~deploy/.ssh/authorized_keys && chmod 0600 ~deploy/.ssh/authorized_keys'
        % shlex.quote(public))
    assert cmd.rc == 0, cmd.stderr
    return str(key)


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """The collection built from this checkout and installed from its tarball, as a user installs it."""
    tmp = tmp_path_factory.mktemp('galaxy')
    dist, collections = tmp / 'dist', tmp / 'collections'
    env = user_env(collections)
    rc, output = run(['ansible-galaxy', 'collection', 'build', str(ROOT), '--output-path', str(dist)], tmp, env)
    assert rc == 0, output
    tarball, = glob.glob(str(dist / 'plumber-hosting-*.tar.gz'))
    # The dependencies are already installed (bundled with `ansible`), so Galaxy is not asked.
    rc, output = run(['ansible-galaxy', 'collection', 'install', tarball, '-p', str(collections)], tmp, env)
    assert rc == 0, output
    rc, output = run(['ansible-galaxy', 'collection', 'list', 'plumber.hosting', '--format', 'yaml'], tmp, env)
    assert rc == 0, output
    # Found once, in the installed copy only.
    assert list(yaml.safe_load(output)) == [str(collections / 'ansible_collections')], output
    return collections


@pytest.fixture(scope='module')
def user_folder(tmp_path_factory, instance_address, ssh_key):
    """The README's files in a folder of their own, inventory.ini pointed at this instance."""
    folder = tmp_path_factory.mktemp('my-apis')
    for name, content in readme_files().items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name == 'inventory.ini':
            # The README's one server line becomes this instance (host key unchecked: a new
            # instance each run). Everything else stays as the README has it.
            lines = content.splitlines()
            servers = [i for i, line in enumerate(lines) if re.match(r'^[a-z0-9.-]+\.example\.com\b', line)]
            assert len(servers) == 1, content
            lines[servers[0]] = ' '.join([
                'readme-example', 'ansible_host=%s' % instance_address, 'ansible_user=deploy',
                'ansible_ssh_private_key_file=%s' % ssh_key,
                "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'"])
            content = '\n'.join(lines) + '\n'
        path.write_text(content, encoding='utf-8')
    return folder


def test_readme_example_over_ssh_from_the_installed_tarball(host, installed, user_folder):
    apis = yaml.safe_load((user_folder / 'group_vars/plumber_servers.yml').read_text(encoding='utf-8'))['plumber_apis']
    api, = apis
    # A relative src, found next to the inventory (the playbook lives in the installed collection).
    assert api['src'] == 'apis/%s' % api['name'] and (user_folder / api['src']).is_dir()
    env = user_env(installed)
    cmd = shlex.split(RUN)

    rc, output = run(cmd, user_folder, env, timeout=1200)
    assert rc == 0, output[-8000:]
    assert 'readme-example' in output and 'ok=' in output, output[-8000:]
    # The play names each worker's unit, plumber-<name>@<port>, as the README says.
    ports = sorted(set(int(p) for p in re.findall(r'\bplumber-%s@(\d+)' % api['name'], output)))
    assert len(ports) == api['workers'], output[-8000:]

    deployed = host.file('/srv/plumber/%s/current/plumber.R' % api['name'])
    assert deployed.content_string == (user_folder / api['src'] / 'plumber.R').read_text(encoding='utf-8')
    for port in ports:
        answer = host.run('curl -fsS --max-time 10 http://127.0.0.1:%d/hello' % port)
        assert answer.rc == 0, (port, answer.stderr)
        assert 'hello from plumber.hosting' in answer.stdout, (port, answer.stdout)

    rc, output = run(cmd, user_folder, env, timeout=1200)
    assert rc == 0, output[-8000:]
    assert recap_changed(output) == 0, output[-8000:]


# The DigitalOcean path (docs/digitalocean.md), against the stand-in of DigitalOcean's API
# (tests/standins/digitalocean.py): its droplet "readme-example" is this instance, which the README's
# example above has made a plumber server reached over SSH. The playbooks run as a user runs them,
# from a folder of their own with the installed tarball; only the API's URL and its CA are the test's.
PROVISION = 'ansible-playbook -i inventory.ini plumber.hosting.provision_digitalocean'
DESTROY = 'ansible-playbook -i inventory.ini plumber.hosting.destroy_digitalocean'
DO_TOKEN = 'dop_v1_readme-example-token'


@pytest.fixture(scope='module')
def digitalocean(instance_address, tmp_path_factory):
    server, state = serve(DO_TOKEN, directory=str(tmp_path_factory.mktemp('digitalocean')),
                          on_create=lambda droplet: {'public': instance_address, 'private': instance_address})
    yield state
    server.shutdown()
    server.server_close()


def standin_state(state):
    with urllib.request.urlopen(state.base + '/__standin__/state', context=ssl.create_default_context(cafile=state.ca)) as answer:
        return json.loads(answer.read())


def test_the_digitalocean_path_provisions_configures_and_destroys(user_folder, installed, ssh_key, instance_address, digitalocean):
    for name in ('DIGITALOCEAN_TOKEN', 'DIGITALOCEAN_ACCESS_TOKEN'):
        assert name not in os.environ
    folder = user_folder.parent / 'droplets'
    folder.mkdir()
    for name in ('group_vars', 'apis'):
        os.symlink(user_folder / name, folder / name)
    # The README's inventory, its server line the droplet's name: the playbook finds the address.
    lines = (user_folder / 'inventory.ini').read_text(encoding='utf-8').splitlines()
    lines = [' '.join(field for field in line.split(' ') if not field.startswith('ansible_host='))
             if line.startswith('readme-example ') else line for line in lines]
    (folder / 'inventory.ini').write_text('\n'.join(lines) + '\n', encoding='utf-8')
    env = dict(user_env(installed), REQUESTS_CA_BUNDLE=digitalocean.ca)
    extra = ['-e', 'digitalocean_api_url=%s' % digitalocean.base, '-e', 'digitalocean_ssh_public_key_file=%s.pub' % ssh_key]

    # No token: refused before anything is made.
    rc, output = run(shlex.split(PROVISION) + extra, folder, env)
    assert rc != 0 and 'no DigitalOcean API token' in output, output[-4000:]
    assert standin_state(digitalocean)['calls'] == []

    env['DIGITALOCEAN_TOKEN'] = DO_TOKEN
    rc, output = run(shlex.split(PROVISION) + extra, folder, env, timeout=1200)
    assert rc == 0, output[-8000:]
    assert DO_TOKEN not in output
    assert 'readme-example: %s' % instance_address in output and 'http://%s/hello/' % instance_address in output, output[-4000:]
    state = standin_state(digitalocean)
    droplet, = state['droplets']
    assert (droplet['name'], droplet['region']['slug'], droplet['size_slug'], droplet['tags']) == \
        ('readme-example', 'fra1', 's-1vcpu-2gb', ['plumber'])
    key, = state['ssh_keys']
    assert key['public_key'].strip() == pathlib.Path(ssh_key + '.pub').read_text(encoding='utf-8').strip()
    firewall, = state['firewalls']
    assert sorted(rule['ports'] for rule in firewall['inbound_rules'] if 'addresses' in rule['sources']) == ['22', '443', '80']
    # The API answers at the printed URL, through the droplet's front.
    answer = subprocess.run(['curl', '-fsS', '--max-time', '10', 'http://%s/hello/hello' % instance_address],
                            capture_output=True, text=True, check=False)
    assert 'hello from plumber.hosting' in answer.stdout, answer.stdout + answer.stderr

    rc, output = run(shlex.split(PROVISION) + extra, folder, env, timeout=1200)
    assert rc == 0 and recap_changed(output) == 0, output[-8000:]
    assert len(standin_state(digitalocean)['droplets']) == 1

    # Destroying needs the droplets' names as confirmation.
    rc, output = run(shlex.split(DESTROY) + extra + ['-e', 'digitalocean_destroy=other'], folder, env)
    assert rc != 0 and 'digitalocean_destroy=readme-example' in output, output[-4000:]
    assert len(standin_state(digitalocean)['droplets']) == 1
    rc, output = run(shlex.split(DESTROY) + extra + ['-e', 'digitalocean_destroy=readme-example'], folder, env)
    assert rc == 0, output[-4000:]
    state = standin_state(digitalocean)
    assert (state['droplets'], state['firewalls'], state['ssh_keys']) == ([], [], []), state
