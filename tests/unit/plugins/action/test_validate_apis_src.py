"""Where the validate_apis action looks for a relative `src`: the inventory's directory, the other
inventory sources' directories, the playbook's directory, then the role's and playbook's files/."""

from __future__ import annotations

import os
from unittest.mock import MagicMock

import pytest

from ansible.parsing.dataloader import DataLoader

from ansible_collections.plumber.hosting.plugins.action.validate_apis import ActionModule
from ansible_collections.plumber.hosting.plugins.module_utils._apis import APIError


def make_api(tmp_path, *parts, entrypoint='plumber.R'):
    """A directory tmp_path/parts... holding an API file."""
    path = tmp_path.joinpath(*parts)
    path.mkdir(parents=True)
    path.joinpath(entrypoint).write_text('#* @get /hi\nfunction() "hi"\n')
    return str(path)


@pytest.fixture
def layout(tmp_path):
    """A user's folder (inventory and group_vars) and, elsewhere, a playbook with a role, as with an
    installed collection: the playbook's directory is not the user's."""
    user = tmp_path / 'project'
    user.mkdir()
    (user / 'inventory.ini').write_text('[plumber_servers]\nweb1\n')
    collection = tmp_path / 'collection'
    (collection / 'playbooks').mkdir(parents=True)
    (collection / 'roles' / 'api' / 'tasks').mkdir(parents=True)
    return dict(user=str(user), inventory=str(user / 'inventory.ini'),
                playbooks=str(collection / 'playbooks'), role=str(collection / 'roles' / 'api'))


def action(layout):
    loader = DataLoader()
    loader.set_basedir(layout['playbooks'])
    task = MagicMock()
    # What Task.get_search_path returns for a task of the role api: the role, the task file's directory.
    task.get_search_path.return_value = [layout['role'], layout['role'] + '/tasks']
    return ActionModule(task, MagicMock(), MagicMock(), loader, MagicMock(), MagicMock())


def task_vars(layout, **extra):
    result = dict(inventory_dir=layout['user'], inventory_file=layout['inventory'],
                  ansible_inventory_sources=[layout['inventory']], playbook_dir=layout['playbooks'])
    result.update(extra)
    return result


def check(layout, src, variables, entrypoint=None):
    api = dict(name='hello', src=src, entrypoint=entrypoint)
    action(layout)._check_source(0, api, 'plumber_apis', variables or {})
    return api['src']


def test_relative_src_is_found_next_to_the_inventory(layout, tmp_path):
    expected = make_api(tmp_path, 'project', 'apis', 'hello')
    # The playbook's directory holds one too: the inventory's wins.
    make_api(tmp_path, 'collection', 'playbooks', 'apis', 'hello')
    assert check(layout, 'apis/hello', task_vars(layout)) == expected


def test_the_action_looks_up_src_with_its_task_vars(layout, tmp_path):
    expected = make_api(tmp_path, 'project', 'apis', 'hello')
    plugin = action(layout)
    plugin._task.args = {'apis': [{'name': 'hello', 'src': 'apis/hello'}]}
    plugin._task.check_mode = False
    plugin._task.async_val = 0
    plugin._connection._shell.tmpdir = ''  # pylint: disable=protected-access
    result = plugin.run(task_vars=task_vars(layout))
    assert result['apis'][0]['src'] == expected


def test_another_inventory_source_directory_is_tried(layout, tmp_path):
    expected = make_api(tmp_path, 'shared', 'apis', 'hello')
    shared = tmp_path / 'shared' / 'hosts.yml'
    shared.write_text('{}\n')
    variables = task_vars(layout, ansible_inventory_sources=[layout['inventory'], str(shared), 'web1,web2,'])
    assert check(layout, 'apis/hello', variables) == expected


def test_an_inventory_directory_source_is_its_own_directory(layout, tmp_path):
    expected = make_api(tmp_path, 'inv', 'apis', 'hello')
    variables = task_vars(layout, inventory_dir=None, ansible_inventory_sources=[str(tmp_path / 'inv')])
    assert check(layout, 'apis/hello', variables) == expected


def test_then_the_playbook_directory(layout, tmp_path):
    expected = make_api(tmp_path, 'collection', 'playbooks', 'apis', 'hello')
    assert check(layout, 'apis/hello', task_vars(layout)) == expected


def test_then_the_role_files_directory_as_copy_looks(layout, tmp_path):
    expected = make_api(tmp_path, 'collection', 'roles', 'api', 'files', 'hello')
    assert os.path.realpath(check(layout, 'hello', task_vars(layout))) == os.path.realpath(expected)


def test_then_the_playbook_files_directory(layout, tmp_path):
    expected = make_api(tmp_path, 'collection', 'playbooks', 'files', 'hello')
    assert os.path.realpath(check(layout, 'hello', task_vars(layout))) == os.path.realpath(expected)


def test_absolute_src_is_taken_as_it_is(layout, tmp_path):
    expected = make_api(tmp_path, 'elsewhere', 'hello')
    make_api(tmp_path, 'project', 'elsewhere', 'hello')
    assert check(layout, expected, task_vars(layout)) == expected


def test_tilde_expands(layout, tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    expected = make_api(tmp_path, 'home', 'apis', 'hello')
    assert check(layout, '~/apis/hello', task_vars(layout)) == expected


def test_missing_src_names_every_place_looked_in(layout, tmp_path):
    with pytest.raises(APIError) as caught:
        check(layout, 'apis/mixed', task_vars(layout))
    message = str(caught.value)
    assert message.startswith("plumber_apis[0].src 'apis/mixed' (API hello) is not a directory on the controller (looked in "), message
    for place in (tmp_path / 'project' / 'apis' / 'mixed',
                  tmp_path / 'collection' / 'playbooks' / 'apis' / 'mixed',
                  tmp_path / 'collection' / 'roles' / 'api' / 'files' / 'apis' / 'mixed',
                  tmp_path / 'collection' / 'playbooks' / 'files' / 'apis' / 'mixed'):
        assert str(place) in message, (place, message)
    # The inventory's directory comes first.
    assert message.index(str(tmp_path / 'project')) < message.index(str(tmp_path / 'collection')), message


def test_a_file_is_not_a_directory(layout, tmp_path):
    (tmp_path / 'project' / 'apis').mkdir()
    (tmp_path / 'project' / 'apis' / 'hello').write_text('not a directory')
    with pytest.raises(APIError, match=r"src 'apis/hello' \(API hello\) is not a directory on the controller"):
        check(layout, 'apis/hello', task_vars(layout))


def test_missing_absolute_src_names_it(layout):
    with pytest.raises(APIError, match=r"src '/nonexistent-dir' \(API hello\) is not a directory on the controller \(looked in /nonexistent-dir\)"):
        check(layout, '/nonexistent-dir', task_vars(layout))


def test_entrypoint_is_checked_in_the_directory_found(layout, tmp_path):
    make_api(tmp_path, 'project', 'apis', 'hello')
    with pytest.raises(APIError, match=r"entrypoint 'nosuch.R' \(API hello\) does not exist in .*project/apis/hello"):
        check(layout, 'apis/hello', task_vars(layout), entrypoint='nosuch.R')
