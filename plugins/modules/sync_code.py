#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sync_code
short_description: Make a directory on the host hold exactly the files of a directory on the controller
version_added: 0.1.0
description:
  - Compares the files of O(src) on the controller with O(dest) on the host by their SHA-256 in one call, sends the files
    that differ in one archive, and removes from O(dest) what O(src) does not have. A run with nothing to change makes one
    call to the host, whatever the number of files; M(ansible.builtin.copy) makes one per file and removes nothing.
  - Works over any connection Ansible has (SSH, C(docker exec), an execution environment), with C(become); it needs no
    C(rsync) on either side, unlike M(ansible.posix.synchronize).
  - Each file is written to a temporary file next to it and renamed into place, so a reader sees the old or the new
    content of a file, never a part. The tree as a whole is not switched at once; plumber.hosting copies into a staging
    directory (C(incoming)) and loads the code there before the workers see it.
  - Symbolic links in O(src) are followed, as M(ansible.builtin.copy) follows them; O(dest) holds regular files and
    directories only.
author:
  - plumber.hosting contributors (@plumber-hosting)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff lists the files that would be added (C(+)), changed (C(~)) and removed (C(-)).
  platform:
    platforms: posix
options:
  src:
    description:
      - Directory on the controller whose files O(dest) gets. A relative path is looked up as M(ansible.builtin.copy) looks
        up its O(ansible.builtin.copy#module:src) (the role's or the playbook's C(files) directory).
    type: path
    required: true
  dest:
    description:
      - Directory on the host. Created when missing, with its parents.
      - Everything in it that O(src) does not have is removed.
    type: path
    required: true
  owner:
    description:
      - Owner of O(dest) and of every file and directory in it. When unset, the user the module runs as.
    type: str
  group:
    description:
      - Group of O(dest) and of every file and directory in it. When unset, the primary group of the user the module runs as.
    type: str
  mode:
    description:
      - Mode of the files, in octal. A file executable by its owner on the controller also gets the execute bits where
        this mode has read bits (C(0644) becomes C(0755)).
    type: str
    default: '0644'
  directory_mode:
    description:
      - Mode of O(dest) and of the directories in it, in octal.
    type: str
    default: '0755'
  _files:
    description:
      - Internal, set by the action plugin from O(src); not for tasks.
    type: dict
    default: {}
  _dirs:
    description:
      - Internal, set by the action plugin from O(src); not for tasks.
    type: list
    elements: str
    default: []
  _archive:
    description:
      - Internal, set by the action plugin; not for tasks.
    type: path
notes:
  - The comparison reads every file of O(src) and O(dest) once per run; for code directories (kilobytes to a few megabytes)
    this takes milliseconds.
seealso:
  - module: ansible.builtin.copy
  - module: ansible.posix.synchronize
"""

EXAMPLES = r"""
- name: Send the code of the sales API to its staging directory
  plumber.hosting.sync_code:
    src: "{{ playbook_dir }}/apis/sales/"
    dest: /srv/plumber/sales/incoming
    owner: root
    group: root

- name: Static files readable by everyone, scripts executable
  plumber.hosting.sync_code:
    src: site
    dest: /var/www/site
    mode: '0644'
    directory_mode: '0755'
"""

RETURN = r"""
dest:
  description: The directory on the host.
  returned: always
  type: str
  sample: /srv/plumber/sales/incoming
files:
  description: Number of files O(src) holds.
  returned: success
  type: int
  sample: 12
sent:
  description: The files sent to the host (new or with a different content), relative to O(dest).
  returned: success
  type: list
  elements: str
  sample: [plumber.R, static/index.html]
removed:
  description: What was removed from O(dest) because O(src) does not have it, relative to O(dest).
  returned: success
  type: list
  elements: str
  sample: [old.R]
"""

import grp
import os
import pwd
import shutil
import stat
import tarfile
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plumber.hosting.plugins.module_utils._files import SYNC_CODE_OPTIONS, file_digest

# The module's internal options, set by the action plugin (plugins/action/sync_code.py): the files
# of src with their digests and modes, its directories, and the archive it sent (second call only).
INTERNAL_OPTIONS = dict(
    _files=dict(type='dict', default={}),
    _dirs=dict(type='list', elements='str', default=[]),
    _archive=dict(type='path'),
)


def safe_relative(rel):
    """A path relative to dest that stays inside it."""
    parts = rel.split('/')
    return bool(rel) and not rel.startswith('/') and all(part not in ('', '.', '..') for part in parts) and '\0' not in rel


class SyncCode:
    def __init__(self, module):
        self.module = module
        params = module.params
        self.dest = os.path.abspath(params['dest'])
        self.files = params['_files']
        self.dirs = sorted(params['_dirs'])
        for rel in list(self.files) + self.dirs:
            if not safe_relative(rel):
                module.fail_json(msg='not a path inside dest: %r' % rel)
        self.uid, self.gid = self.owner_ids(params['owner'], params['group'])
        self.file_mode = self.octal('mode', params['mode'])
        self.dir_mode = self.octal('directory_mode', params['directory_mode'])
        self.removed = []
        self.changed = False

    def octal(self, name, value):
        try:
            mode = int(str(value), 8)
        except ValueError:
            mode = -1
        if not 0 <= mode <= 0o7777:
            self.module.fail_json(msg="%s '%s' is not an octal file mode such as 0644" % (name, value))
        return mode

    def owner_ids(self, owner, group):
        uid, gid = os.geteuid(), os.getegid()
        if owner is not None:
            try:
                uid = pwd.getpwnam(owner).pw_uid
            except KeyError:
                self.module.fail_json(msg="owner '%s' does not exist on the host" % owner)
        if group is not None:
            try:
                gid = grp.getgrnam(group).gr_gid
            except KeyError:
                self.module.fail_json(msg="group '%s' does not exist on the host" % group)
        elif owner is not None:
            gid = pwd.getpwnam(owner).pw_gid
        return uid, gid

    def wanted_mode(self, rel):
        executable = self.files[rel]['executable']
        return self.file_mode | ((self.file_mode & 0o444) >> 2 if executable else 0)

    def survey(self):
        """What dest holds: {rel: 'dir' | 'file' | 'other'}, without following links."""
        found = {}
        for dirpath, dirnames, filenames in os.walk(self.dest):
            for name in dirnames + filenames:
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, self.dest).replace(os.sep, '/')
                mode = os.lstat(full).st_mode
                found[rel] = 'dir' if stat.S_ISDIR(mode) else 'file' if stat.S_ISREG(mode) else 'other'
            # os.walk does not descend into symlinked directories: they are 'other' and removed.
        return found

    def plan(self):
        """(to_send, to_remove, found): the files whose content differs or is missing, the entries src
        does not have (a file where src has a directory counts as both), and what dest holds."""
        found = self.survey() if os.path.isdir(self.dest) else {}
        wanted = dict((rel, 'file') for rel in self.files)
        wanted.update((rel, 'dir') for rel in self.dirs)
        to_remove = sorted(rel for rel, kind in found.items() if wanted.get(rel) != kind)
        # What sits inside a removed directory goes with it.
        to_remove = [rel for rel in to_remove if not any(rel.startswith(top + '/') for top in to_remove)]
        to_send = sorted(rel for rel in self.files
                         if found.get(rel) != 'file' or file_digest(os.path.join(self.dest, rel)) != self.files[rel]['sha256'])
        return to_send, to_remove, found

    def set_attributes(self, path, mode):
        info = os.lstat(path)
        if (info.st_uid, info.st_gid) != (self.uid, self.gid):
            if not self.module.check_mode:
                os.chown(path, self.uid, self.gid)
            self.changed = True
        if stat.S_IMODE(info.st_mode) != mode:
            if not self.module.check_mode:
                os.chmod(path, mode)
            self.changed = True

    def make_dir(self, path):
        if not os.path.isdir(path):
            self.changed = True
            if self.module.check_mode:
                return
            os.makedirs(path, self.dir_mode)
        self.set_attributes(path, self.dir_mode)

    def remove(self, to_remove):
        for rel in to_remove:
            self.removed.append(rel)
            self.changed = True
            if self.module.check_mode:
                continue
            full = os.path.join(self.dest, rel)
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            else:
                os.unlink(full)

    def extract(self, archive, to_send):
        """Write each file of the archive that was asked for, through a temporary file renamed into place."""
        expected = set(to_send)
        with tarfile.open(archive, 'r') as tar:
            for member in tar.getmembers():
                if member.name not in expected or not member.isfile():
                    self.module.fail_json(msg='the archive holds %r, which was not asked for' % member.name)
                source = tar.extractfile(member)
                target = os.path.join(self.dest, member.name)
                handle, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix='.sync_code.')
                try:
                    with os.fdopen(handle, 'wb') as out:
                        shutil.copyfileobj(source, out)
                    os.chown(tmp, self.uid, self.gid)
                    os.chmod(tmp, self.wanted_mode(member.name))
                    os.replace(tmp, target)
                except BaseException:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                    raise
                expected.discard(member.name)
        if expected:
            self.module.fail_json(msg='the archive lacks %s' % ', '.join(sorted(expected)))

    def run(self):
        if os.path.lexists(self.dest) and not os.path.isdir(self.dest):
            self.module.fail_json(msg='dest %s exists and is not a directory' % self.dest)
        to_send, to_remove, found = self.plan()
        archive = self.module.params['_archive']
        result = dict(changed=False, dest=self.dest, files=len(self.files), sent=to_send, removed=[])
        if to_send and archive is None and not self.module.check_mode:
            # The action plugin sends these files in one archive and calls again; nothing changed yet.
            result['send'] = to_send
            return result
        self.make_dir(self.dest)
        self.remove(to_remove)
        for rel in self.dirs:
            self.make_dir(os.path.join(self.dest, rel))
        if to_send:
            self.changed = True
            if not self.module.check_mode:
                self.extract(archive, to_send)
        for rel in self.files:
            if rel not in to_send:
                self.set_attributes(os.path.join(self.dest, rel), self.wanted_mode(rel))
        result.update(changed=self.changed, removed=self.removed)
        if self.changed and self.module._diff:
            lines = ['- %s' % rel for rel in self.removed]
            lines += ['%s %s' % ('~' if found.get(rel) == 'file' else '+', rel) for rel in to_send]
            result['diff'] = dict(prepared=''.join(line + '\n' for line in lines))
        return result


def main():
    argument_spec = dict(SYNC_CODE_OPTIONS)
    argument_spec.update(INTERNAL_OPTIONS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**SyncCode(module).run())


if __name__ == '__main__':
    main()
