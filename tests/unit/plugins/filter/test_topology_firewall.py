# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters plumber.hosting.topology (who fronts whom) and plumber.hosting.firewall_rules (what ufw holds)."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.plumber.hosting.plugins.filter.firewall_rules import firewall_rules
from ansible_collections.plumber.hosting.plugins.filter.topology import topology

HELLO = [{'name': 'hello', 'src': '/x', 'workers': 2}]


def host(manager='systemd', address=None, **more):
    variables = {'plumber_process_manager': manager, 'plumber_apis': HELLO}
    if address:
        variables['ansible_facts'] = {'default_ipv4': {'address': address}}
    variables.update(more)
    return variables


def test_without_fronts_each_plain_host_is_its_own_front_on_loopback():
    groups = {'plumber_servers': ['a', 'b', 'c']}
    hostvars = {'a': host(), 'b': host('compose'), 'c': host('pm2', plumber_front=False)}
    a = topology(groups, hostvars, 'a')
    assert a['workers'] and a['front'] and a['worker_address'] == '127.0.0.1' and a['fronts'] == []
    assert a['app_hosts'] == [{'name': 'a', 'address': '127.0.0.1', 'apis': HELLO, 'process_manager': 'systemd'}]
    # Compose hosts carry their own front; plumber_front: false leaves a host without one.
    assert topology(groups, hostvars, 'b')['front'] is False
    c = topology(groups, hostvars, 'c')
    assert c['front'] is False and c['worker_address'] == '127.0.0.1'


def test_fronts_balance_every_app_host_on_its_private_address():
    groups = {'plumber_servers': ['app2', 'app1'], 'plumber_fronts': ['front']}
    hostvars = {'front': host(address='10.0.0.2'), 'app1': host(address='10.0.0.11'),
                'app2': host('pm2', plumber_private_address='10.0.1.12')}
    front = topology(groups, hostvars, 'front')
    assert front['front'] and not front['workers']
    assert [(h['name'], h['address'], h['process_manager']) for h in front['app_hosts']] == [
        ('app1', '10.0.0.11', 'systemd'), ('app2', '10.0.1.12', 'pm2')]
    app1 = topology(groups, hostvars, 'app1')
    assert app1['workers'] and not app1['front']
    assert app1['worker_address'] == '10.0.0.11' and app1['fronts'] == [{'name': 'front', 'address': '10.0.0.2'}]


def test_a_docker_host_behind_a_front_runs_its_workers_on_its_private_address():
    groups = {'plumber_servers': ['a'], 'plumber_fronts': ['f']}
    hostvars = {'a': host('docker', address='10.0.0.1'), 'f': host(address='10.0.0.2')}
    a = topology(groups, hostvars, 'a')
    assert a['worker_address'] == '10.0.0.1' and a['fronts'] == [{'name': 'f', 'address': '10.0.0.2'}]
    assert topology(groups, hostvars, 'f')['app_hosts'][0]['process_manager'] == 'docker'


def test_a_host_both_front_and_app_reaches_itself_privately_and_lets_the_other_front_in():
    groups = {'plumber_servers': ['a', 'b'], 'plumber_fronts': ['a', 'f']}
    hostvars = {'a': host(address='10.0.0.1'), 'b': host(address='10.0.0.2'), 'f': host(address='10.0.0.9')}
    a = topology(groups, hostvars, 'a')
    assert a['front'] and a['workers'] and a['worker_address'] == '10.0.0.1'
    assert a['fronts'] == [{'name': 'f', 'address': '10.0.0.9'}]
    assert [h['address'] for h in a['app_hosts']] == ['10.0.0.1', '10.0.0.2']


@pytest.mark.parametrize('groups, hostvars, message', [
    ({'plumber_servers': [], 'plumber_fronts': ['f']}, {'f': host()}, 'a front needs at least one app host'),
    ({'plumber_servers': ['a'], 'plumber_fronts': ['f']}, {'a': host('compose'), 'f': host()}, 'a runs compose'),
    ({'plumber_servers': ['a'], 'plumber_fronts': ['a']}, {'a': host('compose')}, 'a is in plumber_fronts and runs compose'),
    ({'plumber_servers': ['a'], 'plumber_fronts': ['f']}, {'a': host(), 'f': host(address='10.0.0.2')},
     'a has no private address: set plumber_private_address'),
    ({'plumber_servers': ['a'], 'plumber_fronts': ['f']}, {'a': host(plumber_private_address='10.0.0.1;'), 'f': host(address='10.0.0.2')},
     "hostvars['a'].plumber_private_address '10.0.0.1;' is not an IPv4 address"),
    ({'plumber_servers': ['a'], 'plumber_fronts': ['f']}, {'a': host(plumber_private_address='127.0.0.1'), 'f': host(address='10.0.0.2')},
     'is not an IPv4 address other hosts can reach'),
    ({'plumber_servers': ['a']}, {'a': host('supervisord')}, "hostvars['a'].plumber_process_manager 'supervisord'"),
])
def test_topologies_refused_name_the_host_and_the_value(groups, hostvars, message):
    with pytest.raises(AnsibleFilterError, match='topology: .*' + message.replace('[', r'\[').replace(']', r'\]')):
        for name in hostvars:
            topology(groups, hostvars, name)


def variables(**more):
    values = {'firewall_ssh_port': 22, 'firewall_public_ports': [], 'firewall_allow': [], 'firewall_front_ports': [],
              'firewall_worker_ports': [], 'firewall_fronts': []}
    values.update(more)
    return values


def test_rules_ssh_first_then_public_then_workers_from_each_front_then_extras():
    rules = firewall_rules(variables(
        firewall_ssh_port='2222', firewall_front_ports=[80], firewall_public_ports=[80, '443', '6000:6010'],
        firewall_worker_ports=[{'name': 'hello', 'port': 8000, 'workers': 2}, {'port': 8100, 'workers': 1}],
        firewall_fronts=['10.0.0.2', '10.0.0.3'],
        firewall_allow=[{'port': 9100, 'from': '192.168.0.0/16'}, {'port': 53, 'proto': 'udp'}]))
    assert [rule['key'] for rule in rules] == [
        'tcp 2222 any', 'tcp 80 any', 'tcp 443 any', 'tcp 6000:6010 any',
        'tcp 8000:8001 10.0.0.2', 'tcp 8000:8001 10.0.0.3', 'tcp 8100 10.0.0.2', 'tcp 8100 10.0.0.3',
        'tcp 9100 192.168.0.0/16', 'udp 53 any']


@pytest.mark.parametrize('more, message', [
    ({'firewall_ssh_port': 0}, 'firewall_ssh_port 0 is not a port'),
    ({'firewall_public_ports': ['80; reboot']}, r"firewall_public_ports\[0\] '80; reboot' is not a port"),
    ({'firewall_public_ports': ['9000:8000']}, 'is not a port'),
    ({'firewall_public_ports': [True]}, 'is not a port'),
    ({'firewall_fronts': ['10.0.0.0/33']}, r"firewall_fronts\[0\] '10.0.0.0/33' is not 'any'"),
    ({'firewall_allow': [{'port': 22, 'from': '10.0.0.1/24'}]}, r"firewall_allow\[0\].from '10.0.0.1/24' is not 'any'.*no host bits"),
    ({'firewall_allow': [{'port': 22, 'from': 'example.com'}]}, r"firewall_allow\[0\].from 'example.com'"),
    ({'firewall_allow': [{'port': 22, 'proto': 'icmp'}]}, r"firewall_allow\[0\].proto 'icmp' must be tcp or udp"),
    ({'firewall_allow': [{'port': 22, 'to': 'x'}]}, r'firewall_allow\[0\] .* must be a dict with port'),
    ({'firewall_allow': 'port 22'}, 'firewall_allow must be a list'),
])
def test_bad_rules_name_the_variable_and_the_value(more, message):
    with pytest.raises(AnsibleFilterError, match=message):
        firewall_rules(variables(**more))


def test_parse_reads_only_the_rules_with_the_comment():
    text = """Added user rules (see 'ufw status' for running firewall):
ufw allow 22/tcp comment 'plumber.hosting'
ufw allow 8000:8001/tcp comment 'plumber.hosting'
ufw allow from 10.0.0.2 to any port 8100 proto tcp comment 'plumber.hosting'
ufw allow from 10.0.0.0/24 to any port 9000 proto tcp comment 'mine'
ufw allow 5432/tcp
"""
    assert [rule['key'] for rule in firewall_rules(text, parse=True)] == ['tcp 22 any', 'tcp 8000:8001 any', 'tcp 8100 10.0.0.2']
