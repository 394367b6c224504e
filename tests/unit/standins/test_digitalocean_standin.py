# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DigitalOcean stand-in (tests/standins/digitalocean.py) driven by pydo, DigitalOcean's own client, as the
modules will drive it: the shapes, status codes, errors and pagination as pydo and azure-core hand them over.

What pydo does with an answer depends on the status codes DigitalOcean's specification lists for the call: a
listed one is returned (a 404 of droplets.get, ssh_keys.delete, domains.get_record... comes back as the error body,
not raised), any other raises azure.core's HttpResponseError (ClientAuthenticationError for a 401), whose
err.error.message is DigitalOcean's message; DigitalOcean's id is only in err.response.json()["id"]."""

from __future__ import annotations

import ipaddress
import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pydo
import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from ansible_collections.plumber.hosting.tests.standins.digitalocean import serve

# pylint: disable=redefined-outer-name

TOKEN = 'dop_v1_5f4dcc3b5aa765d61d8327deb882cf99c0ffee0123456789abcdef0123456789'
# Made with ssh-keygen; the fingerprints are those `ssh-keygen -l -E md5` prints.
KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEVdUSOLk08uNfA1flSIpsFY5AgTbP4pQAJ8BvjQig+V tester@example'
KEY_MD5 = 'c8:9b:3f:f8:cf:8d:81:cb:56:a9:90:8f:87:30:09:a6'
OTHER_KEY = ('ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDENYh5wMcFo11mHw/4rVvZ67dSngBOAayYsPByiMRzoKpgd27Qdd1+j4uqdnT5okuEIYuqrxVnr9tFba'
             'syhADLd51deLwM7ynGScBNKJtH0aitHGa+862JQfJwtcomfZsDcsnM+ZkUSKpqvMwXCQQL/u3diasCLNwBcPLggzhiMQ== other@example')
OTHER_MD5 = 'b4:5e:7c:62:43:d5:d1:81:51:80:f8:62:62:ac:f7:0f'
DROPLET = {'region': 'fra1', 'size': 's-1vcpu-1gb', 'image': 'debian-12-x64'}
DROPLET_FIELDS = {'id', 'name', 'memory', 'vcpus', 'disk', 'locked', 'status', 'created_at', 'features', 'backup_ids', 'next_backup_window',
                  'snapshot_ids', 'image', 'volume_ids', 'size', 'size_slug', 'networks', 'region', 'tags', 'vpc_uuid'}
NAME_MESSAGE = 'Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -)'


def start(monkeypatch, tmp_path, **options):
    server, state = serve(TOKEN, directory=str(tmp_path), **options)
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', state.ca)
    return server, state


@pytest.fixture
def standin(monkeypatch, tmp_path):
    server, state = start(monkeypatch, tmp_path)
    yield state
    server.shutdown()
    server.server_close()


def client(state, token=TOKEN):
    return pydo.Client(token=token, endpoint=state.base)


def raw(state, path, payload=None, token=None):
    """(status, headers, JSON) of a request made without pydo (the test controls need no token)."""
    request = urllib.request.Request(state.base + path, data=None if payload is None else json.dumps(payload).encode(),
                                     method='GET' if payload is None else 'POST')
    if token:
        request.add_header('Authorization', 'Bearer %s' % token)
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=state.ca)) as answer:
            status, headers, body = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as exc:
        status, headers, body = exc.code, exc.headers, exc.read()
    return status, headers, json.loads(body) if body else None


def refused(call, status=422):
    with pytest.raises(HttpResponseError) as caught:
        call()
    assert caught.value.status_code == status
    return caught.value


def public_address(droplet):
    return [network['ip_address'] for network in droplet['networks']['v4'] if network['type'] == 'public'][0]


def test_account_and_rate_limit_headers(standin):
    # cls receives (pipeline response, body, response headers); pydo's default returns the body alone.
    body, headers = client(standin).account.get(cls=lambda *answer: answer[1:])
    account = body['account']
    assert {'droplet_limit', 'floating_ip_limit', 'email', 'uuid', 'email_verified', 'status', 'status_message'} <= set(account)
    assert account['status'] == 'active' and account['droplet_limit'] == 25
    # pydo reads DigitalOcean's rate-limit headers as integers.
    assert headers['ratelimit-limit'] == 5000 and 0 < headers['ratelimit-remaining'] < 5000
    assert headers['ratelimit-reset'] > time.time()


def test_ssh_keys(standin):
    do = client(standin)
    key = do.ssh_keys.create({'name': 'tester', 'public_key': KEY})['ssh_key']
    assert key == {'id': key['id'], 'fingerprint': KEY_MD5, 'public_key': KEY, 'name': 'tester'}
    assert do.ssh_keys.get(KEY_MD5) == do.ssh_keys.get(key['id']) == {'ssh_key': key}
    assert do.ssh_keys.update(KEY_MD5, {'name': 'renamed'})['ssh_key']['name'] == 'renamed'
    assert refused(lambda: do.ssh_keys.create({'name': 'again', 'public_key': KEY})).error.message == 'SSH Key is already in use on your account'
    err = refused(lambda: do.ssh_keys.create({'name': 'bad', 'public_key': 'ssh-ed25519 bm90IGEga2V5 x'}))
    assert err.error.message == 'Key invalid, key should be of the format `type key [comment]`'
    other = do.ssh_keys.create({'name': 'other', 'public_key': OTHER_KEY})['ssh_key']
    assert other['fingerprint'] == OTHER_MD5
    assert do.ssh_keys.list() == {'ssh_keys': [dict(key, name='renamed'), other], 'links': {}, 'meta': {'total': 2}}
    assert do.ssh_keys.delete(key['id']) is None
    # A 404 is among the answers pydo expects here: it returns DigitalOcean's error body instead of raising.
    assert do.ssh_keys.get(key['id'])['id'] == 'not_found'
    gone = do.ssh_keys.delete(KEY_MD5)
    assert (gone['id'], gone['message']) == ('not_found', 'The resource you were accessing could not be found.')


def test_droplet_lifecycle(standin):
    do = client(standin)
    do.ssh_keys.create({'name': 'tester', 'public_key': KEY})
    answer = do.droplets.create(dict(DROPLET, name='web-1', ssh_keys=[KEY_MD5], ipv6=True, monitoring=True, tags=['plumber'],
                                     user_data='#cloud-config\n'))
    droplet = answer['droplet']
    assert DROPLET_FIELDS <= set(droplet)
    assert droplet['status'] == 'new' and droplet['networks'] == {'v4': [], 'v6': []}
    assert (droplet['size_slug'], droplet['memory'], droplet['vcpus'], droplet['disk']) == ('s-1vcpu-1gb', 1024, 1, 25)
    assert droplet['region']['slug'] == 'fra1' and 's-1vcpu-1gb' in droplet['region']['sizes']
    assert droplet['image']['slug'] == 'debian-12-x64' and droplet['image']['distribution'] == 'Debian'
    assert {'ipv6', 'monitoring'} <= set(droplet['features']) and droplet['tags'] == ['plumber']
    [link] = answer['links']['actions']
    assert link['rel'] == 'create' and link['href'] == '%s/v2/actions/%d' % (standin.base, link['id'])
    assert do.actions.get(link['id'])['action']['status'] == 'in-progress'
    polls = 1
    while droplet['status'] == 'new':
        droplet = do.droplets.get(droplet['id'])['droplet']
        polls += 1
        assert polls < 10
    assert polls == 3  # active_after=2: the third request that shows it finds it active
    assert ipaddress.ip_address(public_address(droplet)) in ipaddress.ip_network('203.0.113.0/24')
    private = [network for network in droplet['networks']['v4'] if network['type'] == 'private'][0]
    assert ipaddress.ip_address(private['ip_address']) in ipaddress.ip_network('10.110.0.0/20')
    assert len(droplet['networks']['v6']) == 1 and droplet['networks']['v6'][0]['netmask'] == 64
    action = do.actions.get(link['id'])['action']
    assert action['status'] == 'completed' and action['resource_id'] == droplet['id'] and action['type'] == 'create'
    assert do.droplet_actions.list(droplet['id'])['actions'] == [action]
    assert do.droplets.list(name='WEB-1')['droplets'] == [droplet]
    assert do.droplets.destroy(droplet['id']) is None
    assert do.droplets.get(droplet['id'])['id'] == 'not_found'
    assert do.droplets.list() == {'droplets': [], 'links': {}, 'meta': {'total': 0}}


def test_hooks_make_the_machine(monkeypatch, tmp_path):
    made, deleted, release = [], [], threading.Event()

    def on_create(droplet):
        made.append(droplet)
        release.wait(10)
        return {'public': '172.30.0.7', 'private': '10.5.0.7'}

    server, state = start(monkeypatch, tmp_path, on_create=on_create, on_delete=deleted.append, active_after=0)
    try:
        do = client(state)
        do.ssh_keys.create({'name': 'tester', 'public_key': KEY})
        droplet = do.droplets.create(dict(DROPLET, name='machine', ssh_keys=[KEY_MD5], user_data='#!/bin/sh\n'))['droplet']
        # New until the hook returns, however often it is polled.
        assert [do.droplets.get(droplet['id'])['droplet']['status'] for poll in range(3)] == ['new'] * 3
        release.set()
        deadline = time.time() + 5
        while droplet['status'] == 'new' and time.time() < deadline:
            droplet = do.droplets.get(droplet['id'])['droplet']
        assert public_address(droplet) == '172.30.0.7'
        assert [network['ip_address'] for network in droplet['networks']['v4']] == ['10.5.0.7', '172.30.0.7']
        assert made[0]['name'] == 'machine' and made[0]['user_data'] == '#!/bin/sh\n' and made[0]['ssh_public_keys'] == [KEY]
        do.droplets.destroy(droplet['id'])
        assert [item['id'] for item in deleted] == [droplet['id']]  # before the 204
        assert raw(state, '/__standin__/state')[2]['hook_errors'] == []
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_pagination(standin):
    do = client(standin)
    for first, count in ((1, 10), (11, 10), (21, 5)):
        answer = do.droplets.create(dict(DROPLET, names=['node-%d' % number for number in range(first, first + count)],
                                         tags=['batch-%d' % first]))
        assert len(answer['droplets']) == len(answer['links']['actions']) == count
    assert refused(lambda: do.droplets.create(dict(DROPLET, name='one-too-many'))).error.message == \
        'creating this/these droplet(s) will exceed your droplet limit'
    names, page, links = [], 1, []
    while page:
        answer = do.droplets.list(per_page=10, page=page)
        assert answer['meta'] == {'total': 25}
        names += [droplet['name'] for droplet in answer['droplets']]
        links.append(answer['links'].get('pages', {}))
        following = links[-1].get('next')
        page = int(parse_qs(urlsplit(following).query)['page'][0]) if following else None
    assert names == ['node-%d' % number for number in range(1, 26)]
    url = standin.base + '/v2/droplets?page=%d&per_page=10'
    assert links == [{'next': url % 2, 'last': url % 3},
                     {'first': url % 1, 'prev': url % 1, 'next': url % 3, 'last': url % 3},
                     {'first': url % 1, 'prev': url % 2}]
    assert [item['name'] for item in do.droplets.list(tag_name='batch-21')['droplets']] == ['node-%d' % number for number in range(21, 26)]
    assert do.droplets.list(name='node-7')['meta'] == {'total': 1}
    assert len(do.droplets.list(per_page=500)['droplets']) == 25
    assert do.droplets.destroy_by_tag(tag_name='batch-1') is None
    assert do.droplets.list()['meta'] == {'total': 15}


@pytest.mark.parametrize('change, message', [
    ({'region': 'xyz1'}, 'Region is not available'),
    ({'size': 's-64vcpu-256gb'}, 'You specified an invalid size for Droplet creation.'),
    ({'region': 'tor1', 'size': 's-1vcpu-512mb-10gb'}, 'Size is not available in this region.'),
    ({'image': 'centos-6-x64'}, 'You specified an invalid image for Droplet creation.'),
    ({'name': 'web_1'}, NAME_MESSAGE),
    ({'name': 'web-'}, NAME_MESSAGE),
    ({'ssh_keys': [OTHER_MD5, 12345]}, '%s, 12345 are invalid key identifiers for Droplet creation.' % OTHER_MD5),
])
def test_droplet_validation(standin, change, message):
    err = refused(lambda: client(standin).droplets.create(dict(DROPLET, **dict({'name': 'web-1'}, **change))))
    # What the modules rely on: DigitalOcean's message is err.error.message (azure-core reads the body as OData:
    # {"message"} is found, DigitalOcean's "id" is not its "code"); err.message is azure-core's rendering of it.
    assert err.error.message == message and err.error.code is None
    assert err.message == '(None) %s\nCode: None\nMessage: %s' % (message, message)
    assert err.reason == 'Unprocessable Entity'
    body = err.response.json()
    assert body['id'] == 'unprocessable_entity' and body['message'] == message and body['request_id']
    assert raw(standin, '/__standin__/state')[2]['droplets'] == []


def test_wrong_token(standin):
    with pytest.raises(ClientAuthenticationError) as caught:
        client(standin, token='dop_v1_wrong').droplets.list()
    err = caught.value
    assert err.status_code == 401 and err.error.message == 'Unable to authenticate you'
    assert err.response.json()['id'] == 'unauthorized'
    assert TOKEN not in json.dumps(raw(standin, '/__standin__/state')[2])


def test_rate_limit(standin):
    assert raw(standin, '/__standin__/rate-limit', {'count': 1})[0] == 204
    status, headers, body = raw(standin, '/v2/account', token=TOKEN)
    assert status == 429 and headers['Retry-After'] == '1' and headers['ratelimit-remaining'] == '0'
    assert (body['id'], body['message']) == ('too_many_requests', 'API Rate limit exceeded.')
    raw(standin, '/__standin__/rate-limit', {'count': 1})
    began = time.monotonic()
    # azure-core's RetryPolicy in pydo's pipeline retries after Retry-After (POSTs too), up to 3 times for a status.
    assert client(standin).account.get()['account']['status'] == 'active'
    assert time.monotonic() - began >= 1
    assert raw(standin, '/__standin__/state')[2]['calls'][-3:] == [['GET', '/v2/account']] * 3


def test_firewalls(standin):
    do = client(standin)
    droplet = do.droplets.create(dict(DROPLET, name='web-1'))['droplet']
    everywhere = {'addresses': ['0.0.0.0/0', '::/0']}
    firewall = do.firewalls.create({
        'name': 'plumber-web', 'droplet_ids': [droplet['id']], 'tags': ['plumber'],
        'inbound_rules': [{'protocol': 'tcp', 'ports': '22', 'sources': everywhere}, {'protocol': 'icmp', 'sources': everywhere}],
        'outbound_rules': [{'protocol': 'tcp', 'ports': 'all', 'destinations': everywhere}]})['firewall']
    assert firewall['status'] == 'succeeded' and firewall['pending_changes'] == [] and firewall['created_at']
    assert [rule['ports'] for rule in firewall['inbound_rules'] + firewall['outbound_rules']] == ['22', '0', '0']
    assert firewall['inbound_rules'][0] == {'protocol': 'tcp', 'ports': '22', 'sources': everywhere}
    assert (firewall['droplet_ids'], firewall['tags']) == ([droplet['id']], ['plumber'])
    # PUT replaces the whole firewall: what is left out is reset.
    updated = do.firewalls.update(firewall['id'], {
        'name': 'plumber-web', 'droplet_ids': [droplet['id']],
        'inbound_rules': [{'protocol': 'tcp', 'ports': '8000-9000', 'sources': {'tags': ['plumber'], 'addresses': ['10.0.0.0/8']}}],
        'outbound_rules': [{'protocol': 'udp', 'ports': '53', 'destinations': everywhere}]})['firewall']
    assert updated['id'] == firewall['id'] and updated['tags'] == [] and updated['created_at'] == firewall['created_at']
    assert updated['inbound_rules'] == [{'protocol': 'tcp', 'ports': '8000-9000', 'sources': {'addresses': ['10.0.0.0/8'], 'tags': ['plumber']}}]
    assert do.firewalls.get(firewall['id']) == {'firewall': updated}
    assert do.firewalls.list()['firewalls'] == [updated]
    assert do.firewalls.add_tags(firewall['id'], {'tags': ['plumber']}) is None
    assert do.firewalls.delete_droplets(firewall['id'], {'droplet_ids': [droplet['id']]}) is None
    updated = do.firewalls.get(firewall['id'])['firewall']
    assert (updated['tags'], updated['droplet_ids']) == (['plumber'], [])
    assert do.firewalls.assign_droplets(firewall['id'], {'droplet_ids': [droplet['id']]}) is None
    updated = do.firewalls.get(firewall['id'])['firewall']
    for rule, message in (({'protocol': 'tcp', 'ports': '70000', 'sources': everywhere}, 'You must specify a valid range for ports.'),
                          ({'protocol': 'tcp', 'ports': '9000-8000', 'sources': everywhere}, 'You must specify a valid range for ports.'),
                          ({'protocol': 'tcp', 'ports': '22', 'sources': {'addresses': ['10.0.0.300']}}, 'invalid address'),
                          ({'protocol': 'sctp', 'ports': '22', 'sources': everywhere}, 'You specified an invalid protocol: sctp.')):
        err = refused(lambda rule=rule: do.firewalls.update(firewall['id'], {'name': 'plumber-web', 'inbound_rules': [rule]}))
        assert err.error.message == message
    assert do.firewalls.get(firewall['id']) == {'firewall': updated}
    do.droplets.destroy(droplet['id'])
    assert do.firewalls.get(firewall['id'])['firewall']['droplet_ids'] == []
    assert do.firewalls.delete(firewall['id']) is None
    assert do.firewalls.get(firewall['id'])['id'] == 'not_found'


def test_domain_records(standin):
    do = client(standin)
    assert do.domains.create({'name': 'example.com', 'ip_address': '203.0.113.10'}) == \
        {'domain': {'name': 'example.com', 'ttl': 1800, 'zone_file': None}}
    records = do.domains.list_records('example.com')['domain_records']
    assert [(record['type'], record['name'], record['data']) for record in records] == [
        ('SOA', '@', '1800'), ('NS', '@', 'ns1.digitalocean.com'), ('NS', '@', 'ns2.digitalocean.com'),
        ('NS', '@', 'ns3.digitalocean.com'), ('A', '@', '203.0.113.10')]
    www = do.domains.create_record('example.com', {'type': 'A', 'name': 'www', 'data': '203.0.113.20', 'ttl': 300})['domain_record']
    assert www == {'id': www['id'], 'type': 'A', 'name': 'www', 'data': '203.0.113.20', 'priority': None, 'port': None, 'ttl': 300,
                   'weight': None, 'flags': None, 'tag': None}
    blog = do.domains.create_record('example.com', {'type': 'CNAME', 'name': 'blog', 'data': 'www.example.com.'})['domain_record']
    assert (blog['data'], blog['ttl']) == ('www.example.com', 1800)  # taken with its final dot, shown without it
    mail = do.domains.create_record('example.com', {'type': 'MX', 'data': 'mail.example.com.', 'priority': 10})['domain_record']
    assert (mail['name'], mail['priority']) == ('@', 10)
    assert do.domains.list_records('example.com', name='www.example.com', type='A')['domain_records'] == [www]
    assert [record['data'] for record in do.domains.list_records('example.com', name='example.com', type='A')['domain_records']] == ['203.0.113.10']
    assert do.domains.list_records('example.com', type='NS')['meta'] == {'total': 3}
    assert do.domains.list_records('example.com', name='blog.example.com')['domain_records'] == [blog]
    www = do.domains.update_record('example.com', www['id'], {'type': 'A', 'data': '203.0.113.30'})['domain_record']
    assert (www['data'], www['ttl']) == ('203.0.113.30', 300)
    www = do.domains.patch_record('example.com', www['id'], {'ttl': 600})['domain_record']
    assert do.domains.get_record('example.com', www['id']) == {'domain_record': www} and www['data'] == '203.0.113.30'
    assert 'www.example.com. 600 IN A 203.0.113.30' in do.domains.get('example.com')['domain']['zone_file'].splitlines()
    refused(lambda: do.domains.create_record('example.com', {'type': 'A', 'name': 'bad', 'data': '203.0.113.300'}))
    err = refused(lambda: do.domains.create_record('example.com', {'type': 'CNAME', 'name': 'docs', 'data': 'www.example.com'}))
    assert err.error.message == 'Data needs to end with a dot (.)'
    refused(lambda: do.domains.create_record('example.com', {'type': 'MX', 'data': 'mail.example.com.'}))
    refused(lambda: do.domains.create({'name': 'example.com'}))
    assert do.domains.delete_record('example.com', blog['id']) is None
    assert do.domains.get_record('example.com', blog['id'])['id'] == 'not_found'
    assert [domain['name'] for domain in do.domains.list()['domains']] == ['example.com']
    assert do.domains.delete('example.com') is None
    assert do.domains.get('example.com')['id'] == 'not_found'
