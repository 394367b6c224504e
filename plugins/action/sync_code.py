# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Send a directory from the controller to the host: one call to compare, one archive for what differs."""

from __future__ import annotations

import os
import stat
import tarfile
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.plumber.hosting.plugins.module_utils._files import SYNC_CODE_OPTIONS, file_digest


def manifest(src):
    """({rel: {sha256, executable}}, [rel dirs]) of the tree under src, links followed as copy follows them."""
    files, dirs, seen = {}, [], set()
    for dirpath, dirnames, filenames in os.walk(src, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            raise AnsibleActionFail('src %s: the symbolic link %s loops back to a directory above it' % (src, dirpath))
        seen.add(real)
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, src).replace(os.sep, '/')
            try:
                info = os.stat(full)
            except OSError as exc:
                raise AnsibleActionFail('src %s: %s cannot be read: %s' % (src, rel, exc.strerror))
            if stat.S_ISDIR(info.st_mode):
                dirs.append(rel)
            elif stat.S_ISREG(info.st_mode):
                files[rel] = dict(sha256=file_digest(full), executable=bool(info.st_mode & stat.S_IXUSR))
            else:
                raise AnsibleActionFail('src %s: %s is neither a file nor a directory' % (src, rel))
    return files, dirs


def write_archive(src, names, fileobj):
    """The files `names` of src as a tar archive, links followed as in the manifest, no owner names."""
    def plain(info):
        info.uid = info.gid = 0
        info.uname = info.gname = ''
        return info

    with tarfile.open(fileobj=fileobj, mode='w', dereference=True) as tar:
        for rel in names:
            tar.add(os.path.join(src, rel), arcname=rel, recursive=False, filter=plain)
    fileobj.flush()


class ActionModule(ActionBase):

    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        checked = ArgumentSpecValidator(SYNC_CODE_OPTIONS).validate(self._task.args)
        if checked.error_messages:
            raise AnsibleActionFail('plumber.hosting.sync_code: %s' % '; '.join(checked.error_messages))
        args = checked.validated_parameters
        src = args['src']
        if not os.path.isabs(src):
            src = self._find_needle('files', src)
        if not os.path.isdir(src):
            raise AnsibleActionFail('src %s is not a directory on the controller' % src)
        files, dirs = manifest(src)
        module_args = dict(args, src=src, _files=files, _dirs=dirs)
        try:
            answer = self._execute_module('plumber.hosting.sync_code', module_args=module_args, task_vars=task_vars)
            if answer.get('send') and not answer.get('failed'):
                answer = self._send(src, answer['send'], module_args, task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        answer.pop('send', None)
        result.update(answer)
        return result

    def _send(self, src, names, module_args, task_vars):
        """The files `names` in one archive to the host, then the module again to put them in place."""
        with tempfile.NamedTemporaryFile(prefix='sync_code.', suffix='.tar') as archive:
            write_archive(src, names, archive)
            tmpdir = self._connection._shell.tmpdir or self._make_tmp_path()
            remote = self._connection._shell.join_path(tmpdir, 'code.tar')
            self._transfer_file(archive.name, remote)
        self._fixup_perms2((tmpdir, remote))
        return self._execute_module('plumber.hosting.sync_code', module_args=dict(module_args, _archive=remote), task_vars=task_vars)
