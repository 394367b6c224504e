# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plumber.hosting.api_release on this machine: releases made from a staging directory, the `current` link, the history a
rollback walks back along, pruning, the layout before releases, check mode."""

from __future__ import annotations

import os

import pytest

from ansible_collections.plumber.hosting.plugins.module_utils._files import tree_revision
from ansible_collections.plumber.hosting.plugins.modules import api_release
from ansible_collections.plumber.hosting.tests.unit.plugins.modules.utils import AnsibleFailJson, patch_exits, run_main


@pytest.fixture(autouse=True)
def exits(monkeypatch):
    patch_exits(monkeypatch)


@pytest.fixture
def api(tmp_path):
    (tmp_path / 'hello').mkdir()
    return tmp_path / 'hello'


def code(api, text):
    """incoming/ with a plumber.R holding `text` (and a .git directory, which no release gets); its release name."""
    incoming = api / 'incoming'
    (incoming / '.git').mkdir(parents=True, exist_ok=True)
    (incoming / '.git' / 'HEAD').write_text('ref: refs/heads/main\n')
    (incoming / 'plumber.R').write_text(text)
    return tree_revision(str(incoming))[:12]


def release(api, check=False, **params):
    params.setdefault('src', str(api / 'incoming'))
    return run_main(api_release, dict(path=str(api), _ansible_check_mode=check, _ansible_diff=True, **params))[0]


def current(api):
    return os.readlink(str(api / 'current'))


def test_new_code_becomes_a_release_that_current_links_to_and_a_rerun_changes_nothing(api):
    first = code(api, 'a')
    result = release(api)
    assert result['changed'] and result['release'] == first and result['previous'] == ''
    assert current(api) == 'releases/' + first
    assert (api / 'current' / 'plumber.R').read_text() == 'a'
    assert not (api / 'releases' / first / '.git').exists()
    assert (api / 'releases' / 'history').read_text() == first + '\n'
    assert not [name for name in os.listdir(str(api / 'releases')) if name.startswith('.')]
    again = release(api)
    assert not again['changed'] and again['release'] == again['previous'] == first


def test_rollback_walks_back_along_the_history_and_the_release_left_goes_at_the_next_run(api):
    names = []
    for text in 'abc':
        names.append(code(api, text))
        assert release(api)['release'] == names[-1]
    assert release(api, state='rollback', src=None) == dict(
        changed=True, release=names[1], previous=names[2], history=names[:2], removed=[],
        diff=dict(before='current: %s\n' % names[2], after='current: %s\n' % names[1]))
    assert (api / 'current' / 'plumber.R').read_text() == 'b'
    # Workers may still run c: it stays until the next run.
    assert (api / 'releases' / names[2]).is_dir()
    assert release(api, state='rollback', src=None)['release'] == names[0]
    assert not (api / 'releases' / names[2]).exists()
    with pytest.raises(AnsibleFailJson) as failed:
        release(api, state='rollback', src=None)
    assert 'no release before %s to go back to (releases: %s)' % (names[0], names[0]) in failed.value.args[0]['msg']
    assert current(api) == 'releases/' + names[0]


def test_code_deployed_again_reuses_its_release(api):
    first = code(api, 'a')
    release(api)
    code(api, 'b')
    release(api)
    code(api, 'a')
    result = release(api)
    assert result['release'] == first and result['history'][-1] == first and len(result['history']) == 2


def test_only_the_last_releases_are_kept(api):
    names = []
    for text in 'abcd':
        names.append(code(api, text))
        result = release(api, keep=2)
    # a went at the third run; at the fourth b goes, although only c, the release current when it started, is spared.
    assert result['removed'] == [names[1]] and result['history'] == names[2:]
    assert sorted(os.listdir(str(api / 'releases'))) == sorted(names[2:] + ['history'])


def test_a_release_changed_by_hand_is_made_whole_again(api):
    first = code(api, 'a')
    release(api)
    (api / 'releases' / first / 'plumber.R').write_text('edited')
    code(api, 'b')
    release(api)
    code(api, 'a')
    assert release(api)['release'] == first
    assert (api / 'current' / 'plumber.R').read_text() == 'a'


def test_the_current_release_changed_by_hand_is_a_change_and_made_whole_again(api):
    first = code(api, 'a')
    release(api)
    (api / 'releases' / first / 'plumber.R').write_text('edited')
    planned = release(api, check=True)
    assert planned['changed'] and planned['release'] == planned['previous'] == first
    assert (api / 'current' / 'plumber.R').read_text() == 'edited'
    result = release(api)
    assert result['changed'] and (api / 'current' / 'plumber.R').read_text() == 'a'
    assert not release(api)['changed']


def test_a_current_directory_of_the_layout_before_releases_becomes_the_first_release(api):
    (api / 'current').mkdir()
    (api / 'current' / 'plumber.R').write_text('old')
    old = tree_revision(str(api / 'current'))[:12]
    new = code(api, 'new')
    result = release(api)
    assert result['previous'] == old and result['release'] == new and result['history'] == [old, new]
    assert (api / 'releases' / old / 'plumber.R').read_text() == 'old'
    assert release(api, state='rollback', src=None)['release'] == old


def test_check_mode_reports_and_changes_nothing(api):
    code(api, 'a')
    release(api)
    before = sorted(os.listdir(str(api / 'releases')))
    second = code(api, 'b')
    result = release(api, check=True)
    assert result['changed'] and result['release'] == second
    assert sorted(os.listdir(str(api / 'releases'))) == before
    # A new host: no code there yet.
    fresh = api.parent / 'fresh'
    result = run_main(api_release, dict(path=str(fresh), src=str(fresh / 'incoming'), _ansible_check_mode=True))[0]
    assert result['changed'] and result['release'] is None and not fresh.exists()


@pytest.mark.parametrize('params, message', [
    (dict(keep=1), 'keep is 1; it must be at least 2'),
    (dict(src=None), 'state=present needs src'),
])
def test_bad_parameters_fail_before_any_change(api, params, message):
    code(api, 'a')
    with pytest.raises(AnsibleFailJson) as failed:
        release(api, **params)
    assert message in failed.value.args[0]['msg']
    assert not (api / 'releases').exists()


def test_a_current_link_that_is_not_a_release_is_refused(api):
    code(api, 'a')
    os.symlink('/etc', str(api / 'current'))
    with pytest.raises(AnsibleFailJson) as failed:
        release(api)
    assert 'links to /etc, which is not a release' in failed.value.args[0]['msg']
