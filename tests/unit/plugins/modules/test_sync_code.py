# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plumber.hosting.sync_code end to end on this machine: the action plugin's manifest and archive, and the
module's two calls (compare, then put the archive in place), with src and dest in temporary directories."""

from __future__ import annotations

import os
import stat

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.plumber.hosting.plugins.action.sync_code import manifest, write_archive
from ansible_collections.plumber.hosting.plugins.modules import sync_code
from ansible_collections.plumber.hosting.tests.unit.plugins.modules.utils import AnsibleFailJson, patch_exits, run_main


@pytest.fixture(autouse=True)
def exits(monkeypatch):
    patch_exits(monkeypatch)


def write(root, files):
    for rel, content in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(content)


def tree(root):
    """{rel: content} of the files under root, and the directories as {rel/: None}."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            found[os.path.relpath(os.path.join(dirpath, name), root) + '/'] = None
        for name in filenames:
            with open(os.path.join(dirpath, name), encoding='utf-8') as handle:
                found[os.path.relpath(os.path.join(dirpath, name), root)] = handle.read()
    return found


def sync(src, dest, tmp_path, check=False, diff=False, **options):
    """What the action plugin does: the manifest, the first call, and the archive with a second call when asked.
    Returns (result, number of module calls)."""
    files, dirs = manifest(str(src))
    params = dict(src=str(src), dest=str(dest), _files=files, _dirs=dirs, _ansible_check_mode=check, _ansible_diff=diff, **options)
    result = run_main(sync_code, params)[0]
    if not result.get('send'):
        return result, 1
    archive = tmp_path / 'code.tar'
    with open(archive, 'wb') as handle:
        write_archive(str(src), result['send'], handle)
    return run_main(sync_code, dict(params, _archive=str(archive)))[0], 2


def test_first_run_sends_every_file_and_a_second_changes_nothing(tmp_path):
    src, dest = tmp_path / 'src', tmp_path / 'host' / 'incoming'
    write(src, {'plumber.R': '#* @get /x\nfunction() 1\n', 'static/index.html': '<h1>hi</h1>', 'R/util.R': 'f <- 1'})
    result, calls = sync(src, dest, tmp_path)
    assert result['changed'] and calls == 2
    assert result['sent'] == ['R/util.R', 'plumber.R', 'static/index.html'] and result['files'] == 3
    assert tree(dest) == tree(src)
    again, calls = sync(src, dest, tmp_path)
    assert not again['changed'] and calls == 1 and again['sent'] == [] and again['removed'] == []


def test_only_changed_files_travel_and_what_src_lacks_is_removed(tmp_path):
    src, dest = tmp_path / 'src', tmp_path / 'dest'
    write(src, {'plumber.R': 'a', 'keep.R': 'k', 'old/gone.R': 'g', 'old.R': 'o'})
    sync(src, dest, tmp_path)
    (src / 'old' / 'gone.R').unlink()
    (src / 'old').rmdir()
    (src / 'old.R').unlink()
    write(src, {'plumber.R': 'b', 'new/file.R': 'n'})
    result, calls = sync(src, dest, tmp_path, diff=True)
    assert result['changed'] and calls == 2
    assert result['sent'] == ['new/file.R', 'plumber.R'] and result['removed'] == ['old', 'old.R']
    assert result['diff']['prepared'] == '- old\n- old.R\n+ new/file.R\n~ plumber.R\n'
    assert tree(dest) == tree(src)


def test_removals_alone_need_one_call(tmp_path):
    src, dest = tmp_path / 'src', tmp_path / 'dest'
    write(src, {'plumber.R': 'a'})
    sync(src, dest, tmp_path)
    write(dest, {'stray.R': 's', 'cache/x': 'y'})
    os.symlink('/etc/passwd', str(dest / 'link'))
    result, calls = sync(src, dest, tmp_path)
    assert result['changed'] and calls == 1 and result['removed'] == ['cache', 'link', 'stray.R']
    assert tree(dest) == tree(src)


def test_a_file_and_a_directory_trade_places(tmp_path):
    src, dest = tmp_path / 'src', tmp_path / 'dest'
    write(src, {'a': 'file', 'b/inner': 'x'})
    sync(src, dest, tmp_path)
    (src / 'a').unlink()
    (src / 'b' / 'inner').unlink()
    (src / 'b').rmdir()
    write(src, {'a/inner': 'now a directory', 'b': 'now a file'})
    sync(src, dest, tmp_path)
    assert tree(dest) == tree(src)


def test_check_mode_reports_and_changes_nothing(tmp_path):
    src, dest = tmp_path / 'src', tmp_path / 'dest'
    write(src, {'plumber.R': 'a'})
    result, calls = sync(src, dest, tmp_path, check=True, diff=True)
    assert result['changed'] and calls == 1 and result['diff']['prepared'] == '+ plumber.R\n'
    assert not dest.exists()
    sync(src, dest, tmp_path)
    write(src, {'plumber.R': 'b'})
    result, calls = sync(src, dest, tmp_path, check=True)
    assert result['changed'] and calls == 1
    assert (dest / 'plumber.R').read_text(encoding='utf-8') == 'a'


def test_modes_follow_the_options_and_the_executable_bit(tmp_path):
    src, dest = tmp_path / 'src', tmp_path / 'dest'
    write(src, {'run.sh': '#!/bin/sh\n', 'plumber.R': 'a', 'sub/x.R': 'x'})
    os.chmod(src / 'run.sh', 0o700)
    sync(src, dest, tmp_path, mode='0640', directory_mode='0750')
    modes = dict((rel, stat.S_IMODE(os.stat(dest / rel).st_mode)) for rel in ('run.sh', 'plumber.R', 'sub', '.'))
    assert modes == {'run.sh': 0o750, 'plumber.R': 0o640, 'sub': 0o750, '.': 0o750}
    os.chmod(dest / 'plumber.R', 0o666)
    result, calls = sync(src, dest, tmp_path, mode='0640', directory_mode='0750')
    assert result['changed'] and calls == 1 and stat.S_IMODE(os.stat(dest / 'plumber.R').st_mode) == 0o640


def test_links_in_src_are_followed(tmp_path):
    src, dest, elsewhere = tmp_path / 'src', tmp_path / 'dest', tmp_path / 'elsewhere'
    write(elsewhere, {'shared.R': 'shared'})
    write(src, {'plumber.R': 'a'})
    os.symlink(str(elsewhere / 'shared.R'), str(src / 'shared.R'))
    os.symlink(str(elsewhere), str(src / 'lib'))
    sync(src, dest, tmp_path)
    assert tree(dest) == {'plumber.R': 'a', 'shared.R': 'shared', 'lib/': None, 'lib/shared.R': 'shared'}
    assert not os.path.islink(dest / 'shared.R')


def test_a_link_loop_in_src_is_refused(tmp_path):
    src = tmp_path / 'src'
    write(src, {'plumber.R': 'a'})
    os.symlink(str(src), str(src / 'loop'))
    with pytest.raises(AnsibleActionFail, match='loops back'):
        manifest(str(src))


@pytest.mark.parametrize('params, message', [
    ({'mode': '0999'}, "mode '0999' is not an octal file mode"),
    ({'directory_mode': 'rwx'}, "directory_mode 'rwx' is not an octal file mode"),
    ({'owner': 'no-such-user-here'}, "owner 'no-such-user-here' does not exist"),
    ({'group': 'no-such-group-here'}, "group 'no-such-group-here' does not exist"),
    ({'_files': {'../escape': {'sha256': '0', 'executable': False}}}, "not a path inside dest: '../escape'"),
])
def test_bad_options_fail_before_any_change(tmp_path, params, message):
    dest = tmp_path / 'dest'
    result = run_main(sync_code, dict(dict(src='/nowhere', dest=str(dest)), **params), expect=AnsibleFailJson)[0]
    assert message in result['msg'] and not dest.exists()


def test_an_archive_with_files_not_asked_for_is_refused(tmp_path):
    src, dest = tmp_path / 'src', tmp_path / 'dest'
    write(src, {'plumber.R': 'a', 'other.R': 'b'})
    files, dirs = manifest(str(src))
    archive = tmp_path / 'code.tar'
    with open(archive, 'wb') as handle:
        write_archive(str(src), ['other.R'], handle)
    params = dict(src=str(src), dest=str(dest), _files={'plumber.R': files['plumber.R']}, _dirs=dirs, _archive=str(archive))
    result = run_main(sync_code, params, expect=AnsibleFailJson)[0]
    assert "'other.R', which was not asked for" in result['msg']


def test_dest_that_is_a_file_fails(tmp_path):
    (tmp_path / 'dest').write_text('x', encoding='utf-8')
    result = run_main(sync_code, dict(src='/nowhere', dest=str(tmp_path / 'dest')), expect=AnsibleFailJson)[0]
    assert 'exists and is not a directory' in result['msg']
