"""The filter api_names: the APIs a playbook's extra variable names, checked against the grammar and the inventory."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.plumber.hosting.plugins.filter.api_names import FilterModule

api_names = FilterModule().filters()['api_names']
GROUPS = {'plumber_servers': ['web1', 'web2'], 'plumber_fronts': ['lb']}
HOSTVARS = {'web1': {'plumber_apis': [{'name': 'sales'}, {'name': 'hello'}]}, 'web2': {'plumber_apis': [{'name': 'forecast'}]},
            'lb': {'plumber_apis': [{'name': 'frontonly'}]}}


@pytest.mark.parametrize('value, names', [
    ('sales', ['sales']),
    (' sales , forecast,,sales ', ['sales', 'forecast']),
    (['forecast', 'hello'], ['forecast', 'hello']),
])
def test_names_from_a_string_or_a_list(value, names):
    assert api_names(value, 'remove_apis', GROUPS, HOSTVARS) == names


@pytest.mark.parametrize('value', ['', ' , ', None, []])
def test_none_named_fails_unless_optional(value):
    with pytest.raises(AnsibleFilterError, match=r'^api_names: remove_apis .* must name APIs of plumber_apis, comma-separated '
                                                 r'\(-e remove_apis=sales,forecast\)$'):
        api_names(value, 'remove_apis', GROUPS, HOSTVARS)
    assert api_names(value, 'maintenance_off', GROUPS, HOSTVARS, required=False) == []


@pytest.mark.parametrize('value, shown', [
    ('sales,Bad_Name', "'Bad_Name' is not an API name"),
    ('../x,a b', "'../x', 'a b' are not API names"),
    ({'name': 'sales'}, 'must name APIs'),
    ([1, 2], 'must name APIs'),
])
def test_what_is_not_a_name_fails_naming_the_variable_and_the_value(value, shown):
    with pytest.raises(AnsibleFilterError) as error:
        api_names(value, 'rollback_apis', GROUPS, HOSTVARS)
    assert str(error.value).startswith('api_names: rollback_apis ') and shown in str(error.value)


def test_an_api_no_app_host_lists_fails():
    with pytest.raises(AnsibleFilterError, match=r'^api_names: rollback_apis names nosuch, frontonly, which no host of plumber_servers '
                                                 r'lists in plumber_apis$'):
        api_names('sales,nosuch,frontonly', 'rollback_apis', GROUPS, HOSTVARS)


def test_hosts_without_plumber_apis_host_nothing():
    assert api_names('sales', 'remove_apis', {'plumber_servers': ['web1', 'web3']}, dict(HOSTVARS, web3={})) == ['sales']
    with pytest.raises(AnsibleFilterError, match='names sales, which'):
        api_names('sales', 'remove_apis', {}, HOSTVARS)
