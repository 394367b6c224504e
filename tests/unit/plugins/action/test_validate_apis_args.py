"""The validate_apis action checks its own options as a module does: an unknown option is an error
naming it, "yes"/"no" are booleans, a wrong type is an error naming the option."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader

from ansible_collections.plumber.hosting.plugins.action.validate_apis import ActionModule


def run(**args):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = False
    connection = MagicMock()
    connection._shell.tmpdir = ''  # pylint: disable=protected-access
    templar = MagicMock()
    templar.available_variables = {}
    return ActionModule(task, connection, MagicMock(), DataLoader(), templar, MagicMock()).run(task_vars={})


def test_an_unknown_option_is_an_error_naming_it():
    with pytest.raises(AnsibleActionFail) as caught:
        run(apis=[], check_source=False)
    assert 'check_source' in str(caught.value)
    assert str(caught.value).startswith('plumber.hosting.validate_apis: ')


def test_no_is_false_and_yes_is_true():
    # check_sources "no": the src below is not looked for on the controller.
    result = run(apis=[{'name': 'hello', 'src': '/nowhere/at/all'}], check_sources='no')
    assert [api['src'] for api in result['apis']] == ['/nowhere/at/all']
    with pytest.raises(AnsibleActionFail) as caught:
        run(apis=[{'name': 'hello', 'src': '/nowhere/at/all'}], check_sources='yes')
    assert "plumber_apis[0].src '/nowhere/at/all' (API hello) is not a directory on the controller" in str(caught.value)


def test_a_value_that_is_no_boolean_is_an_error_naming_the_option():
    with pytest.raises(AnsibleActionFail) as caught:
        run(apis=[], check_sources='maybe')
    assert 'check_sources' in str(caught.value)


def test_the_variable_names_in_messages_are_the_given_ones():
    with pytest.raises(AnsibleActionFail) as caught:
        run(apis=[{'name': 'Bad Name', 'src': '/srv'}], apis_var='my_apis', check_sources=False)
    assert str(caught.value).startswith("my_apis[0].name 'Bad Name' is not a valid API name")


def test_a_clear_text_password_is_warned_about_and_never_returned():
    result = run(apis=[{'name': 'hello', 'src': '/srv', 'access': {'basic_auth': [{'user': 'ann', 'password': 'hunter2'}]}}],
                 check_sources=False)
    assert result['warnings'] == [
        'plumber_apis[0].access.basic_auth[0].password (user ann) given in clear text: keep passwords in a vaulted variable '
        '(ansible-vault encrypt_string) or an AWX credential']
    assert 'hunter2' not in repr(result)
    assert 'warnings' not in run(apis=[{'name': 'hello', 'src': '/srv'}], check_sources=False)
