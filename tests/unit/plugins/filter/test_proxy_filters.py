"""The filters proxy_backends and proxy_config (Ansible's errors, naming the variable and the value), new_releases and loaded_record."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.plumber.hosting.plugins.filter.loaded_record import FilterModule as RecordFilters
from ansible_collections.plumber.hosting.plugins.filter.proxy_backends import FilterModule as BackendsFilters
from ansible_collections.plumber.hosting.plugins.filter.new_releases import FilterModule as ReleasesFilters
from ansible_collections.plumber.hosting.plugins.filter.proxy_config import FilterModule as ConfigFilters

proxy_backends = BackendsFilters().filters()['proxy_backends']
proxy_config = ConfigFilters().filters()['proxy_config']
new_releases = ReleasesFilters().filters()['new_releases']
loaded_record = RecordFilters().filters()['loaded_record']


def test_proxy_backends_builds_backends():
    hosts = [{'name': 'web1', 'address': '10.0.0.1', 'apis': [{'name': 'hello', 'src': '/x', 'port': 9000}], 'process_manager': 'pm2'}]
    assert proxy_backends(hosts)[0]['servers'] == ['10.0.0.1:9000']


def test_proxy_backends_fails_as_a_filter():
    with pytest.raises(AnsibleFilterError, match=r"^proxy_backends: hostvars\['web1'\].plumber_apis must be a list"):
        proxy_backends([{'name': 'web1', 'address': '10.0.0.1', 'apis': 'hello', 'process_manager': 'pm2'}])


def test_proxy_config_fails_as_a_filter_naming_the_variable():
    with pytest.raises(AnsibleFilterError, match=r"^proxy_config: my_proxy must be a dict"):
        proxy_config([], var='my_proxy')


def test_new_releases_are_the_apis_this_run_switched_with_their_servers():
    deployments = [
        {'name': 'hello', 'ports': [8000, 8001], 'release': 'b', 'previous_release': 'a'},
        {'name': 'first', 'ports': [8100], 'release': 'c', 'previous_release': ''},
        {'name': 'same', 'ports': [8200], 'release': 'd', 'previous_release': 'd'},
        {'name': 'back', 'ports': [8300], 'release': 'e', 'previous_release': 'f', 'rolled_back': True},
    ]
    assert new_releases(deployments, '127.0.0.1') == [{'name': 'hello', 'servers': ['127.0.0.1:8000', '127.0.0.1:8001']}]
    assert new_releases(deployments) == [{'name': 'hello', 'servers': []}]
    assert new_releases([]) == []


def test_loaded_record_reads_the_checksums_and_leaves_other_files_out():
    found = ['/var/lib/p/front-loaded/nginx.ab12', '/var/lib/p/front-loaded/haproxy.', '/var/lib/p/front-loaded/notes.txt',
             '/var/lib/p/front-loaded-old/nginx.ffff', '/etc/users/hello.htpasswd']
    reloads = [{'service': 'nginx', 'checksum': 'ab12'}, {'service': 'haproxy', 'checksum': '', 'signal': 'USR2'}]
    assert loaded_record(found, '/var/lib/p/front-loaded', reloads) == {'checksums': {'nginx': 'ab12', 'haproxy': ''}, 'files': []}


def test_loaded_record_writes_the_new_record_and_removes_the_old_one():
    found = ['/r/nginx.ab12', '/r/haproxy.cd34', '/r/haproxy.0000']
    reloads = [{'service': 'nginx', 'checksum': 'ab12'}, {'service': 'haproxy', 'checksum': 'ef56'}]
    record = loaded_record(found, '/r', reloads)
    assert record['checksums']['nginx'] == 'ab12'
    assert record['files'] == [
        {'path': '/r/nginx.ab12', 'content': '', 'owner': 'root', 'group': 'root', 'mode': '0644'},
        {'path': '/r/haproxy.ef56', 'content': '', 'owner': 'root', 'group': 'root', 'mode': '0644'},
        {'path': '/r/haproxy.cd34', 'state': 'absent'},
        {'path': '/r/haproxy.0000', 'state': 'absent'},
    ]


def test_loaded_record_of_a_new_host_writes_every_service():
    record = loaded_record([], '/r', [{'service': 'nginx', 'checksum': 'ab12'}])
    assert record == {'checksums': {}, 'files': [{'path': '/r/nginx.ab12', 'content': '', 'owner': 'root', 'group': 'root', 'mode': '0644'}]}
