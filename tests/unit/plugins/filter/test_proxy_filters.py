"""The filters proxy_backends and proxy_config: Ansible's errors, naming the variable and the value."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.plumber.hosting.plugins.filter.proxy_backends import FilterModule as BackendsFilters
from ansible_collections.plumber.hosting.plugins.filter.proxy_config import FilterModule as ConfigFilters

proxy_backends = BackendsFilters().filters()['proxy_backends']
proxy_config = ConfigFilters().filters()['proxy_config']


def test_proxy_backends_builds_backends():
    hosts = [{'name': 'web1', 'address': '10.0.0.1', 'apis': [{'name': 'hello', 'src': '/x', 'port': 9000}], 'process_manager': 'pm2'}]
    assert proxy_backends(hosts)[0]['servers'] == ['10.0.0.1:9000']


def test_proxy_backends_fails_as_a_filter():
    with pytest.raises(AnsibleFilterError, match=r"^proxy_backends: hostvars\['web1'\].plumber_apis must be a list"):
        proxy_backends([{'name': 'web1', 'address': '10.0.0.1', 'apis': 'hello', 'process_manager': 'pm2'}])


def test_proxy_config_fails_as_a_filter_naming_the_variable():
    with pytest.raises(AnsibleFilterError, match=r"^proxy_config: my_proxy must be a dict"):
        proxy_config([], var='my_proxy')
