# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plumber.hosting.files on this machine's file system, in a temporary directory: creation, a second run that changes
nothing, check mode, diffs, secrets kept out of the results, and a failing check that changes nothing."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from ansible_collections.plumber.hosting.plugins.modules import files
from ansible_collections.plumber.hosting.tests.unit.plugins.modules.utils import AnsibleFailJson, patch_exits, run_main


@pytest.fixture(autouse=True)
def exits(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    # The module's temporary files, as AnsibleModule.tmpdir gives them on a host.
    (tmp_path / 'remote_tmp').mkdir()
    monkeypatch.setattr(files.AnsibleModule, 'tmpdir', str(tmp_path / 'remote_tmp'))


def run(entries, check=False, diff=False, expect=None):
    params = dict(files=entries, _ansible_check_mode=check, _ansible_diff=diff)
    if expect:
        return run_main(files, params, expect=expect)[0]
    return run_main(files, params)[0]


def entries(root, wrapper='print(1)\n', secret='TOKEN=s3cret\n', mode='0755'):
    return [
        {'path': str(root / 'hello'), 'state': 'directory', 'mode': '0750'},
        {'path': str(root / 'hello' / 'run.R'), 'content': wrapper, 'mode': mode},
        {'path': str(root / 'hello' / 'hello.env'), 'secret_content': secret, 'mode': '0640'},
    ]


def mode_of(path):
    return '%04o' % stat.S_IMODE(os.stat(path).st_mode)


def test_creates_every_entry_then_a_second_run_changes_nothing(tmp_path):
    result = run(entries(tmp_path))
    assert result['changed']
    assert [item['changed'] for item in result['files']] == [True, True, True]
    assert (tmp_path / 'hello' / 'run.R').read_text() == 'print(1)\n'
    assert (tmp_path / 'hello' / 'hello.env').read_text() == 'TOKEN=s3cret\n'
    assert [mode_of(tmp_path / 'hello'), mode_of(tmp_path / 'hello' / 'run.R'), mode_of(tmp_path / 'hello' / 'hello.env')] \
        == ['0750', '0755', '0640']
    # The checksum is copy's and template's: SHA-1 of the content.
    assert result['files'][1]['checksum'] == hashlib.sha1(b'print(1)\n').hexdigest()
    again = run(entries(tmp_path), diff=True)
    assert not again['changed'] and again['diff'] == []
    assert again['files'][1]['checksum'] == result['files'][1]['checksum']
    assert os.listdir(tmp_path / 'remote_tmp') == []


def test_check_mode_reports_and_changes_nothing(tmp_path):
    result = run(entries(tmp_path), check=True, diff=True)
    assert result['changed'] and not (tmp_path / 'hello').exists()
    assert result['diff'][0]['after'] == {'path': str(tmp_path / 'hello'), 'state': 'directory'}
    assert result['diff'][1]['after'] == 'print(1)\n'
    run(entries(tmp_path))
    changed = run(entries(tmp_path, wrapper='print(2)\n', mode='0700'), check=True, diff=True)
    assert [item['changed'] for item in changed['files']] == [False, True, False]
    assert (tmp_path / 'hello' / 'run.R').read_text() == 'print(1)\n' and mode_of(tmp_path / 'hello' / 'run.R') == '0755'
    assert changed['diff'][0] == {'before_header': str(tmp_path / 'hello' / 'run.R'), 'after_header': str(tmp_path / 'hello' / 'run.R'),
                                  'before': 'print(1)\n', 'after': 'print(2)\n'}
    assert changed['diff'][1]['before'] == {'mode': '0755'} and changed['diff'][1]['after'] == {'mode': '0700'}


def test_a_secret_is_in_no_result_and_no_diff(tmp_path):
    run(entries(tmp_path))
    result = run(entries(tmp_path, secret='TOKEN=other\n'), diff=True)
    assert (tmp_path / 'hello' / 'hello.env').read_text() == 'TOKEN=other\n'
    assert 'other' not in repr(result) and 's3cret' not in repr(result)
    assert result['diff'] == [{'before_header': str(tmp_path / 'hello' / 'hello.env'), 'after_header': str(tmp_path / 'hello' / 'hello.env'),
                               'before': '', 'after': '(secret content changed, not shown)\n'}]


def test_only_the_attributes_change(tmp_path):
    run(entries(tmp_path))
    os.chmod(tmp_path / 'hello', 0o755)
    result = run(entries(tmp_path), diff=True)
    assert [item['changed'] for item in result['files']] == [True, False, False]
    assert mode_of(tmp_path / 'hello') == '0750'


def test_a_failing_check_stops_at_its_file(tmp_path):
    run(entries(tmp_path))
    checker = tmp_path / 'check'
    checker.write_text('#!/bin/sh\ngrep -q ok "$1" || { echo "not ok: $1" >&2; exit 3; }\n')
    checker.chmod(0o755)
    new = entries(tmp_path, wrapper='print(2)\n', secret='TOKEN=new\n')
    new[1]['validate'] = str(checker) + ' %s'
    # The environment file comes after the wrapper, whose check fails: neither is replaced.
    failed = run(new, expect=AnsibleFailJson)
    assert failed['rc'] == 3 and 'run.R: the new content fails' in failed['msg'] and 'not ok' in failed['msg']
    assert (tmp_path / 'hello' / 'run.R').read_text() == 'print(1)\n'
    assert (tmp_path / 'hello' / 'hello.env').read_text() == 'TOKEN=s3cret\n'
    assert os.listdir(tmp_path / 'remote_tmp') == []
    # A check reads the entries before its own in place: here the checker itself, replaced by the first entry.
    new[0] = {'path': str(checker), 'content': '#!/bin/sh\ngrep -q print "$1"\n', 'mode': '0755'}
    assert run(new)['changed'] and (tmp_path / 'hello' / 'run.R').read_text() == 'print(2)\n'
    new[1]['content'] = 'print("ok")\n'
    assert run(new)['changed'] and (tmp_path / 'hello' / 'run.R').read_text() == 'print("ok")\n'


@pytest.mark.parametrize('entry, message', [
    ({'path': 'relative/file', 'content': 'x'}, 'path must be absolute'),
    ({'path': '/PLACE/f', 'content': 'x', 'secret_content': 'y'}, 'exactly one of content and secret_content'),
    ({'path': '/PLACE/f'}, 'exactly one of content and secret_content'),
    ({'path': '/PLACE', 'state': 'directory', 'content': 'x'}, 'a directory takes no content'),
    ({'path': '/PLACE/f', 'content': 'x', 'mode': 'u+rw'}, "mode must be octal digits such as '0644', got 'u+rw'"),
    ({'path': '/PLACE/f', 'content': 'x', 'owner': 'no-such-user-here'}, "owner 'no-such-user-here' does not exist"),
    ({'path': '/PLACE/missing/f', 'content': 'x'}, 'its directory /PLACE/missing does not exist'),
    ({'path': '/PLACE', 'content': 'x'}, 'exists and is not a regular file'),
    ({'path': '/PLACE/f', 'content': 'x', 'validate': 'true'}, "validate must contain %s, got 'true'"),
])
def test_bad_input_names_the_entry_and_changes_nothing(tmp_path, entry, message):
    entry = {key: value.replace('/PLACE', str(tmp_path)) for key, value in entry.items()}
    first = {'path': str(tmp_path / 'new'), 'state': 'directory'}
    failed = run([first, entry], expect=AnsibleFailJson)
    assert message.replace('/PLACE', str(tmp_path)) in failed['msg']
    assert failed['msg'].startswith('files: %s: ' % entry['path'])
    assert not (tmp_path / 'new').exists()


def test_a_file_in_a_directory_of_the_same_run(tmp_path):
    result = run([{'path': str(tmp_path / 'a' / 'b'), 'state': 'directory'}, {'path': str(tmp_path / 'a' / 'b' / 'f'), 'content': 'x'}])
    assert result['changed'] and (tmp_path / 'a' / 'b' / 'f').read_text() == 'x'


def test_removes_a_link_not_its_target(tmp_path):
    (tmp_path / 'target').write_text('keep')
    (tmp_path / 'link').symlink_to(tmp_path / 'target')
    entry = [{'path': str(tmp_path / 'link'), 'state': 'absent'}]
    check = run(entry, check=True, diff=True)
    assert check['changed'] and (tmp_path / 'link').is_symlink()
    assert check['diff'][0]['after'] == {'path': str(tmp_path / 'link'), 'state': 'absent'}
    assert run(entry)['changed'] and not (tmp_path / 'link').is_symlink() and (tmp_path / 'target').read_text() == 'keep'
    again = run(entry, diff=True)
    assert not again['changed'] and again['diff'] == []


def test_a_directory_is_not_removed(tmp_path):
    (tmp_path / 'dir').mkdir()
    failed = run([{'path': str(tmp_path / 'dir'), 'state': 'absent'}], expect=AnsibleFailJson)
    assert 'is a directory; only a file or a link is removed' in failed['msg'] and (tmp_path / 'dir').is_dir()


def test_a_mode_that_yaml_read_as_a_number(tmp_path):
    run([{'path': str(tmp_path / 'f'), 'content': 'x', 'mode': 0o640}])
    assert mode_of(tmp_path / 'f') == '0640'
