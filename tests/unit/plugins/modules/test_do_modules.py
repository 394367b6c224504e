# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DigitalOcean modules (do_ssh_key, do_droplet, do_firewall, do_domain_record) with DigitalOcean's own client,
pydo, against the stand-in of DigitalOcean's API (tests/standins/digitalocean.py, HTTPS with a CA made for the test):
idempotence, check mode, diff, DigitalOcean's 422 messages, a 429 retried, and bad input refused before any call."""
# Parameters are written as **dict(BASE, key=changed value), which pylint takes for repeated keywords.
# pylint: disable=repeated-keyword

from __future__ import annotations

import base64
import json
import ssl
import urllib.request

import pytest

from ansible_collections.plumber.hosting.plugins.module_utils._digitalocean import public_key_fingerprint
from ansible_collections.plumber.hosting.plugins.modules import do_domain_record, do_droplet, do_firewall, do_ssh_key
from ansible_collections.plumber.hosting.tests.standins.digitalocean import serve
from ansible_collections.plumber.hosting.tests.unit.plugins.modules.utils import AnsibleExitJson, AnsibleFailJson, patch_exits, run_main

TOKEN = 'dop_v1_t0ken-that-must-not-leak'
PUBLIC_KEY = 'ssh-ed25519 %s me@laptop' % base64.b64encode(b'\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20' + bytes(range(32))).decode()
EVERYWHERE = {'addresses': ['0.0.0.0/0', '::/0']}


@pytest.fixture(autouse=True)
def exits(monkeypatch):
    patch_exits(monkeypatch)
    monkeypatch.setattr(do_droplet, 'POLL_SECONDS', 0.05)
    for name in ('DIGITALOCEAN_ACCESS_TOKEN', 'DIGITALOCEAN_TOKEN', 'DO_API_TOKEN', 'DO_API_KEY', 'DO_OAUTH_TOKEN', 'OAUTH_TOKEN'):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def api(tmp_path, monkeypatch):
    server, state = serve(TOKEN, directory=str(tmp_path))
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', state.ca)
    yield state
    server.shutdown()
    server.server_close()


def standin(api, path, body=None):
    """GET (or POST body to) the stand-in, with the token."""
    request = urllib.request.Request(api.base + path, data=None if body is None else json.dumps(body).encode(),
                                     headers={'Content-Type': 'application/json', 'Authorization': 'Bearer ' + TOKEN},
                                     method='GET' if body is None else 'POST')
    with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=api.ca)) as response:
        return json.loads(response.read() or b'null')


def calls(api, method=None):
    return [call for call in standin(api, '/__standin__/state')['calls'] if method is None or call[0] == method]


def run(module, api, expect=AnsibleExitJson, **params):
    params.setdefault('token', TOKEN)
    params.setdefault('client_override_options', {'endpoint': api.base})
    result, _raised = run_main(module, params, expect=expect)
    assert TOKEN not in json.dumps(result)
    return result


DROPLET = dict(name='plumber-1', region='fra1', size='s-1vcpu-2gb', image='debian-12-x64', tags=['plumber'])


# --- do_ssh_key ---

def test_a_key_is_added_once_found_by_its_fingerprint_and_renamed_in_place(api):
    check = run(do_ssh_key, api, name='deploy', public_key=PUBLIC_KEY, _ansible_check_mode=True, _ansible_diff=True)
    assert check['changed'] and not calls(api, 'POST')
    assert check['diff'] == {'before': {}, 'after': {'name': 'deploy', 'fingerprint': public_key_fingerprint(PUBLIC_KEY)}}
    added = run(do_ssh_key, api, name='deploy', public_key=PUBLIC_KEY)
    assert added['changed'] and added['ssh_key']['fingerprint'] == public_key_fingerprint(PUBLIC_KEY)
    again = run(do_ssh_key, api, name='deploy', public_key=PUBLIC_KEY)
    assert not again['changed'] and again['ssh_key']['id'] == added['ssh_key']['id']
    assert len(calls(api, 'POST')) == 1
    renamed = run(do_ssh_key, api, name='plumber-deploy', public_key=PUBLIC_KEY)
    assert renamed['changed'] and renamed['ssh_key']['name'] == 'plumber-deploy' and len(calls(api, 'POST')) == 1
    removed = run(do_ssh_key, api, name='plumber-deploy', state='absent')
    assert removed['changed'] and standin(api, '/__standin__/state')['ssh_keys'] == []
    assert not run(do_ssh_key, api, name='plumber-deploy', state='absent')['changed']


@pytest.mark.parametrize('public_key', ['~/.ssh/id_ed25519.pub', '-----BEGIN OPENSSH PRIVATE KEY-----', 'ssh-ed25519 not-base64!'])
def test_what_is_not_a_public_key_line_is_refused_before_any_call(api, public_key):
    result = run(do_ssh_key, api, expect=AnsibleFailJson, name='deploy', public_key=public_key)
    assert 'is not an OpenSSH public key line' in result['msg'] and public_key[:20] in result['msg']
    assert calls(api) == []


def test_no_token_names_the_option_and_the_variables(api):
    result, _raised = run_main(do_ssh_key, dict(name='deploy', public_key=PUBLIC_KEY, client_override_options={'endpoint': api.base}),
                               expect=AnsibleFailJson)
    assert 'no DigitalOcean API token' in result['msg'] and 'DIGITALOCEAN_TOKEN' in result['msg']
    assert calls(api) == []


def test_the_token_comes_from_the_environment_and_a_wrong_one_shows_digitaloceans_answer(api, monkeypatch):
    monkeypatch.setenv('DIGITALOCEAN_TOKEN', TOKEN)
    params = dict(name='deploy', public_key=PUBLIC_KEY, client_override_options={'endpoint': api.base})
    assert run_main(do_ssh_key, params)[0]['changed']
    monkeypatch.setenv('DIGITALOCEAN_TOKEN', 'dop_v1_wrong')
    result, _raised = run_main(do_ssh_key, params, expect=AnsibleFailJson)
    assert result['status'] == 401 and 'Unable to authenticate you' in result['msg'], result
    assert 'dop_v1_wrong' not in json.dumps(result)


# --- do_droplet ---

def test_a_droplet_is_created_waited_for_and_found_again_by_name(api):
    check = run(do_droplet, api, _ansible_check_mode=True, _ansible_diff=True, **DROPLET)
    assert check['changed'] and check['droplet'] == {} and not calls(api, 'POST')
    assert check['diff']['after']['size'] == 's-1vcpu-2gb'
    created = run(do_droplet, api, **DROPLET)
    assert created['changed'] and created['droplet']['status'] == 'active'
    assert created['public_ipv4'].startswith('203.0.113.') and created['private_ipv4'].startswith('10.110.')
    again = run(do_droplet, api, _ansible_diff=True, **DROPLET)
    assert not again['changed'] and again['public_ipv4'] == created['public_ipv4']
    assert again['diff']['before'] == again['diff']['after']
    assert len(calls(api, 'POST')) == 1
    assert not run(do_droplet, api, _ansible_check_mode=True, **DROPLET)['changed']


def test_a_droplet_of_that_name_with_another_size_is_not_resized(api):
    run(do_droplet, api, **DROPLET)
    result = run(do_droplet, api, expect=AnsibleFailJson, **dict(DROPLET, size='s-2vcpu-4gb'))
    assert 'has size s-1vcpu-2gb, not s-2vcpu-4gb' in result['msg'] and 'does not resize' in result['msg']
    assert len(calls(api, 'POST')) == 1 and not [call for call in calls(api) if 'actions' in call[1] and call[0] == 'POST']


@pytest.mark.parametrize('change, words', [
    ({'region': 'xyz9'}, 'region'),
    ({'size': 's-64vcpu-1tb'}, 'size'),
    ({'image': 'windows-2022'}, 'image'),
])
def test_digitaloceans_422_reaches_the_user(api, change, words):
    result = run(do_droplet, api, expect=AnsibleFailJson, **dict(DROPLET, **change))
    assert result['status'] == 422 and result['error_id'] == 'unprocessable_entity', result
    asked = dict(DROPLET, **change)
    assert result['msg'].startswith('creating droplet plumber-1 (region %(region)s, size %(size)s, image %(image)s): '
                                    'DigitalOcean answered 422 ' % asked), result
    assert words in result['msg'].split(': ', 1)[1].lower(), result
    assert standin(api, '/__standin__/state')['droplets'] == []


@pytest.mark.parametrize('change, message', [
    ({'name': 'plumber_1'}, "name 'plumber_1' is not a droplet name"),
    ({'region': 'Frankfurt 1'}, "region 'Frankfurt 1' is not a DigitalOcean slug"),
    ({'size': None}, 'state=present needs size'),
])
def test_bad_input_is_refused_before_any_call(api, change, message):
    result = run(do_droplet, api, expect=AnsibleFailJson, **dict(DROPLET, **change))
    assert message in result['msg'], result
    assert calls(api) == []


def test_a_rate_limit_is_waited_out(api):
    standin(api, '/__standin__/rate-limit', {'count': 1})
    created = run(do_droplet, api, **DROPLET)
    assert created['changed'] and created['public_ipv4']


def test_two_droplets_of_one_name_are_not_guessed_between(api):
    run(do_droplet, api, **DROPLET)
    run(do_droplet, api, **dict(DROPLET, region='ams3'))
    # Without a region, both match.
    result = run(do_droplet, api, expect=AnsibleFailJson, name='plumber-1', state='absent')
    assert '2 droplets are named plumber-1' in result['msg'], result
    assert len(standin(api, '/__standin__/state')['droplets']) == 2


def test_absent_deletes_the_droplet_of_that_region_once(api):
    run(do_droplet, api, **DROPLET)
    assert run(do_droplet, api, name='plumber-1', region='fra1', state='absent', _ansible_check_mode=True)['changed']
    assert len(standin(api, '/__standin__/state')['droplets']) == 1
    assert run(do_droplet, api, name='plumber-1', region='fra1', state='absent')['changed']
    assert len(standin(api, '/__standin__/state')['droplets']) == 0
    assert not run(do_droplet, api, name='plumber-1', region='fra1', state='absent')['changed']


def test_many_droplets_are_read_over_several_pages(api, monkeypatch):
    from ansible_collections.plumber.hosting.plugins.module_utils import _digitalocean  # pylint: disable=import-outside-toplevel
    monkeypatch.setattr(_digitalocean, 'PAGE_SIZE', 3)
    for number in range(7):
        run(do_droplet, api, wait=False, **dict(DROPLET, name='other-%d' % number))
    created = run(do_droplet, api, **DROPLET)
    assert created['changed']
    assert not run(do_droplet, api, **DROPLET)['changed']


# --- do_firewall ---

FIREWALL = dict(name='plumber', tags=['plumber'],
                inbound_rules=[{'protocol': 'tcp', 'ports': '22', 'sources': EVERYWHERE},
                               {'protocol': 'tcp', 'ports': '80', 'sources': EVERYWHERE},
                               {'protocol': 'tcp', 'ports': '443', 'sources': EVERYWHERE}],
                outbound_rules=[{'protocol': 'tcp', 'ports': 'all', 'destinations': EVERYWHERE},
                                {'protocol': 'udp', 'ports': '0', 'destinations': EVERYWHERE},
                                {'protocol': 'icmp', 'destinations': EVERYWHERE}])


def test_a_firewall_is_created_then_left_alone_and_updated_when_its_rules_change(api):
    created = run(do_firewall, api, **FIREWALL)
    assert created['changed'] and created['firewall']['id']
    reordered = dict(FIREWALL, inbound_rules=list(reversed(FIREWALL['inbound_rules'])))
    assert not run(do_firewall, api, **reordered)['changed']
    fewer = dict(FIREWALL, inbound_rules=FIREWALL['inbound_rules'][:2])
    diff = run(do_firewall, api, _ansible_check_mode=True, _ansible_diff=True, **fewer)
    assert diff['changed'] and len(diff['diff']['before']['inbound_rules']) == 3 and len(diff['diff']['after']['inbound_rules']) == 2
    assert not calls(api, 'PUT')
    updated = run(do_firewall, api, **fewer)
    assert updated['changed'] and len(calls(api, 'PUT')) == 1
    assert not run(do_firewall, api, **fewer)['changed']
    assert run(do_firewall, api, name='plumber', state='absent')['changed']
    assert standin(api, '/__standin__/state')['firewalls'] == []


def test_a_rule_without_a_source_is_refused_before_any_call(api):
    bad = dict(FIREWALL, inbound_rules=[{'protocol': 'tcp', 'ports': '22', 'sources': {}}])
    result = run(do_firewall, api, expect=AnsibleFailJson, **bad)
    assert 'inbound_rules[0].sources names no address' in result['msg']
    assert calls(api) == []


def test_digitalocean_refuses_a_bad_port_with_its_own_words(api):
    bad = dict(FIREWALL, inbound_rules=[{'protocol': 'tcp', 'ports': '99999', 'sources': EVERYWHERE}])
    result = run(do_firewall, api, expect=AnsibleFailJson, **bad)
    assert result['status'] == 422 and 'creating firewall plumber' in result['msg'], result


# --- do_domain_record ---

def test_a_record_is_added_once_and_updated_in_place(api):
    missing = run(do_domain_record, api, expect=AnsibleFailJson, domain='example.com', name='api', data='203.0.113.10')
    assert 'domain example.com is not on this DigitalOcean account' in missing['msg']
    # The domain added as a user adds it in the control panel.
    standin(api, '/v2/domains', {'name': 'example.com'})
    created = run(do_domain_record, api, domain='example.com', name='api', data='203.0.113.10')
    assert created['changed'] and created['fqdn'] == 'api.example.com' and created['record']['id']
    assert not run(do_domain_record, api, domain='example.com', name='api.example.com.', data='203.0.113.10')['changed']
    moved = run(do_domain_record, api, domain='example.com', name='api', data='203.0.113.11', _ansible_diff=True)
    assert moved['changed'] and moved['record']['id'] == created['record']['id']
    assert moved['diff']['before']['data'] == '203.0.113.10' and moved['diff']['after']['data'] == '203.0.113.11'
    cname = run(do_domain_record, api, domain='example.com', name='www', type='CNAME', data='api.example.com')
    assert cname['changed'] and cname['record']['data'] == 'api.example.com'
    assert not run(do_domain_record, api, domain='example.com', name='www', type='CNAME', data='api.example.com.')['changed']
    assert run(do_domain_record, api, domain='example.com', name='api', state='absent')['changed']
    assert not run(do_domain_record, api, domain='example.com', name='api', state='absent')['changed']


@pytest.mark.parametrize('params, message', [
    ({'domain': 'example.com', 'name': 'api', 'data': 'not-an-ip'}, "data 'not-an-ip' is not an IPv4 address"),
    ({'domain': 'example.com', 'name': 'a b', 'data': '203.0.113.10'}, "name 'a b' is not a name inside example.com"),
    ({'domain': 'localhost', 'name': 'api', 'data': '203.0.113.10'}, "domain 'localhost' is not a domain name"),
])
def test_bad_records_are_refused_before_any_call(api, params, message):
    result = run(do_domain_record, api, expect=AnsibleFailJson, **params)
    assert message in result['msg'], result
    assert calls(api) == []
