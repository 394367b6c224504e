#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: files
short_description: Write a set of files and directories on the host in one module run
version_added: 0.2.0
description:
  - Makes each entry of O(files) a directory, or a file with the given content, owner, group and mode, the way
    M(ansible.builtin.file) with O(ansible.builtin.file#module:state=directory) and M(ansible.builtin.copy) with
    O(ansible.builtin.copy#module:content) do, but for every entry in one module run. A host that already has them
    all costs one round trip, where a template or copy task per file costs two, and a directory per loop item one.
  - Nothing is changed before every entry's input is checked (an unknown owner, a missing directory, a bad mode
    fail the task with no change). Then the entries are handled in the order of O(files); a file whose content changes
    is written to a temporary file with its owner, group and mode, checked with its O(files[].validate) command, and
    renamed into place, so that a later entry's check can read an earlier entry (a configuration that includes
    another file). A failing check stops there; that file and the later entries stay as they were, as with one task
    per file.
  - The content is rendered on the controller, for example with P(ansible.builtin.template#lookup) in the task.
author:
  - plumber.hosting contributors (@plumber-hosting)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports what would change; the O(files[].validate) commands do not run.
  diff_mode:
    support: full
    details:
      - The content before and after of each file that changes, except a O(files[].secret_content); the owner, group
        and mode of each entry whose attributes change; the directories created.
  platform:
    platforms: posix
options:
  files:
    description:
      - The directories and files, handled in this order. A file's directory must exist or be an earlier entry.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - Absolute path of the directory or file. A symbolic link is followed.
        type: path
        required: true
      state:
        description:
          - V(directory) creates the directory (with its missing parents) when it does not exist. V(file) writes
            O(files[].content) or O(files[].secret_content). V(absent) removes a file or a symbolic link (not followed);
            a directory is refused.
        type: str
        choices: [file, directory, absent]
        default: file
      content:
        description:
          - The file's content, shown in the diff. Exactly one of O(files[].content) and O(files[].secret_content) for
            O(files[].state=file).
        type: str
      secret_content:
        description:
          - The file's content when it holds secrets (an environment file with passwords). Never logged and never in
            the diff or the results.
        type: str
      owner:
        description:
          - Owner's name or uid. Unchanged when not set (root for a new entry).
        type: str
      group:
        description:
          - Group's name or gid. Unchanged when not set (root's group for a new entry).
        type: str
      mode:
        description:
          - Octal permissions as a string, for example V('0644') (an unquoted C(0644) that YAML read as a number is taken
            as that number). Unchanged when not set (the umask's for a new entry).
        type: raw
      validate:
        description:
          - Command that checks a new content before it replaces the file, the temporary file's path in place of
            C(%s), as in M(ansible.builtin.copy). Its exit status other than 0 fails the task; the file and the later
            entries stay as they were.
        type: str
"""

EXAMPLES = r"""
- name: Write the wrapper and the environment file of API hello
  plumber.hosting.files:
    files:
      - path: /srv/plumber/hello
        state: directory
        owner: root
        group: plumber
        mode: "0755"
      - path: /srv/plumber/hello/run-hello.R
        content: "{{ lookup('ansible.builtin.template', 'run-api.R.j2') }}"
        owner: root
        group: root
        mode: "0755"
      - path: /etc/plumber/hello.env
        secret_content: "{{ lookup('ansible.builtin.template', 'api.env.j2') }}"
        owner: root
        group: plumber
        mode: "0640"
  register: written

- name: Install a unit, checked before it replaces the one in place
  plumber.hosting.files:
    files:
      - path: /etc/systemd/system/plumber-hello@.service
        content: "{{ lookup('ansible.builtin.template', 'plumber@.service.j2') }}"
        mode: "0644"
        validate: systemd-analyze verify %s
"""

RETURN = r"""
files:
  description: One item per entry of O(files), in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The entry's path.
      type: str
    state:
      description: V(file), V(directory) or V(absent).
      type: str
    changed:
      description: Whether the entry was (or, in check mode, would be) created or changed.
      type: bool
    checksum:
      description: SHA-1 of the file's content, as M(ansible.builtin.copy) returns it. Files only.
      type: str
  sample:
    - {path: /srv/plumber/hello, state: directory, changed: false}
    - {path: /srv/plumber/hello/run-hello.R, state: file, changed: true, checksum: 9d3c0c8e2a4b0b0bd4f6f8e1a2c3d4e5f6a7b8c9}
"""

import grp
import hashlib
import os
import pwd
import re
import shlex
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

MODE = re.compile(r'^0?[0-7]{3,4}$')


class Entry:
    """One entry of `files`: what it is on the host and what it should be."""

    def __init__(self, module, spec):
        self.module, self.spec = module, spec
        self.state = spec['state']
        follow = self.state != 'absent' and os.path.islink(spec['path'])
        self.path = os.path.realpath(spec['path']) if follow else spec['path']
        self.data = None
        self.before = b''
        self.uid = self.gid = self.mode = None
        self.exists = False
        self.content_changes = False
        self.attributes_before = {}
        self.tmp = None

    def fail(self, msg):
        self.module.fail_json(msg='files: %s: %s' % (self.spec['path'], msg))

    def check(self, planned_dirs):
        spec = self.spec
        if not os.path.isabs(spec['path']):
            self.fail('path must be absolute')
        if self.state == 'file':
            given = [key for key in ('content', 'secret_content') if spec[key] is not None]
            if len(given) != 1:
                self.fail('a file needs exactly one of content and secret_content')
            self.data = to_bytes(spec[given[0]], errors='surrogate_or_strict')
            if spec['validate'] and '%s' not in spec['validate']:
                self.fail('validate must contain %%s, got %r' % spec['validate'])
        elif spec['content'] is not None or spec['secret_content'] is not None or spec['validate']:
            self.fail('a %s takes no content, secret_content or validate' % ('directory' if self.state == 'directory' else 'removal'))
        if self.state == 'absent':
            if any(spec[key] is not None for key in ('owner', 'group', 'mode')):
                self.fail('a removal takes no owner, group or mode')
            self.exists = os.path.lexists(to_bytes(self.path, errors='surrogate_or_strict'))
            if self.exists and not os.path.islink(self.path) and os.path.isdir(self.path):
                self.fail('is a directory; only a file or a link is removed')
            return
        if isinstance(spec['mode'], int) and not isinstance(spec['mode'], bool) and 0 <= spec['mode'] <= 0o7777:
            # An unquoted 0644 in YAML is already the number.
            self.mode = spec['mode']
        elif spec['mode'] is not None:
            if not MODE.match(str(spec['mode'])):
                self.fail("mode must be octal digits such as '0644', got %r" % spec['mode'])
            self.mode = int(spec['mode'], 8)
        if spec['owner'] is not None:
            self.uid = self.lookup(spec['owner'], pwd.getpwnam, 'owner')
        if spec['group'] is not None:
            self.gid = self.lookup(spec['group'], grp.getgrnam, 'group')
        b_path = to_bytes(self.path, errors='surrogate_or_strict')
        self.exists = os.path.lexists(b_path)
        if self.exists:
            info = os.stat(b_path)
            wanted = stat.S_ISDIR if self.state == 'directory' else stat.S_ISREG
            if not wanted(info.st_mode):
                self.fail('exists and is not a %s' % ('directory' if self.state == 'directory' else 'regular file'))
            self.attributes_before = {'owner': info.st_uid, 'group': info.st_gid, 'mode': stat.S_IMODE(info.st_mode)}
            if self.state == 'file':
                with open(b_path, 'rb') as handle:
                    self.before = handle.read()
                self.content_changes = self.before != self.data
        elif self.state == 'file':
            parent = os.path.dirname(self.path)
            if not os.path.isdir(parent) and parent not in planned_dirs:
                self.fail('its directory %s does not exist' % parent)
            self.content_changes = True

    def lookup(self, name, by_name, what):
        if name.isdigit():
            return int(name)
        try:
            return by_name(name)[2]
        except KeyError:
            if self.module.check_mode:
                # Created by an earlier task of the same check run, which changed nothing.
                return -2
            self.fail('%s %r does not exist on the host' % (what, name))

    def wanted_attributes(self):
        wanted = {'owner': self.uid, 'group': self.gid, 'mode': self.mode}
        return {key: value for key, value in wanted.items() if value is not None}

    def attributes_change(self):
        return any(self.attributes_before.get(key) != value for key, value in self.wanted_attributes().items())

    @property
    def changed(self):
        if self.state == 'absent':
            return self.exists
        return not self.exists or self.content_changes or self.attributes_change()

    def prepare(self):
        """A file whose content changes: its new content in a temporary file with the wanted attributes, checked."""
        if self.state != 'file' or not self.content_changes:
            return
        handle, self.tmp = tempfile.mkstemp(prefix='.plumber-hosting-', dir=self.module.tmpdir)
        with os.fdopen(handle, 'wb') as out:
            out.write(self.data)
        self.set_attributes(self.tmp)
        if self.spec['validate']:
            rc, out, err = self.module.run_command(self.spec['validate'] % shlex.quote(self.tmp), use_unsafe_shell=False)
            if rc != 0:
                self.module.fail_json(msg='files: %s: the new content fails %r (exit %d): %s' % (
                    self.spec['path'], self.spec['validate'], rc, (err or out).strip()), rc=rc, stdout=out, stderr=err)

    def set_attributes(self, path):
        wanted = self.wanted_attributes()
        if 'owner' in wanted or 'group' in wanted:
            os.chown(path, wanted.get('owner', -1), wanted.get('group', -1))
        if 'mode' in wanted:
            os.chmod(path, wanted['mode'])

    def apply(self):
        if not self.changed:
            return
        if self.state == 'absent':
            os.unlink(self.path)
            return
        if self.state == 'directory' and not self.exists:
            os.makedirs(self.path)
        if self.tmp:
            self.module.atomic_move(self.tmp, self.path, keep_dest_attrs=False)
        self.set_attributes(self.path)

    def result(self):
        result = {'path': self.spec['path'], 'state': self.state, 'changed': self.changed}
        if self.state == 'file':
            result['checksum'] = hashlib.sha1(self.data).hexdigest()
        return result

    def diff(self):
        """The entry's diffs: content (not for secret_content), attributes, creation of a directory."""
        diffs = []
        if self.state == 'absent':
            if self.exists:
                diffs.append({'before_header': self.path, 'after_header': self.path,
                              'before': {'path': self.path, 'state': 'file'}, 'after': {'path': self.path, 'state': 'absent'}})
            return diffs
        if self.state == 'directory' and not self.exists:
            diffs.append({'before_header': self.path, 'after_header': self.path,
                          'before': {'path': self.path, 'state': 'absent'}, 'after': {'path': self.path, 'state': 'directory'}})
        elif self.content_changes:
            if self.spec['secret_content'] is not None:
                diffs.append({'before_header': self.path, 'after_header': self.path,
                              'before': '', 'after': '(secret content changed, not shown)\n'})
            else:
                diffs.append({'before_header': self.path, 'after_header': self.path,
                              'before': to_native(self.before, errors='surrogate_or_strict'),
                              'after': to_native(self.data, errors='surrogate_or_strict')})
        if self.exists and self.attributes_change():
            shown = {'owner': str, 'group': str, 'mode': lambda value: '%04o' % value}
            before = {key: shown[key](self.attributes_before[key]) for key in self.wanted_attributes()}
            after = {key: shown[key](value) for key, value in self.wanted_attributes().items()}
            diffs.append({'before_header': self.path + ' (owner, group, mode)', 'after_header': self.path + ' (owner, group, mode)',
                          'before': before, 'after': after})
        return diffs


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type='list', elements='dict', required=True, options=dict(
                path=dict(type='path', required=True),
                state=dict(type='str', choices=['file', 'directory', 'absent'], default='file'),
                content=dict(type='str'),
                secret_content=dict(type='str', no_log=True),
                owner=dict(type='str'),
                group=dict(type='str'),
                mode=dict(type='raw'),
                validate=dict(type='str'),
            )),
        ),
        supports_check_mode=True,
    )
    entries, planned_dirs = [], set()
    for spec in module.params['files']:
        entry = Entry(module, spec)
        entry.check(planned_dirs)
        if entry.state == 'directory':
            planned_dirs.add(entry.path)
        entries.append(entry)
    if not module.check_mode:
        try:
            for entry in entries:
                entry.prepare()
                entry.apply()
        finally:
            for entry in entries:
                if entry.tmp and os.path.exists(entry.tmp):
                    os.unlink(entry.tmp)
    result = dict(changed=any(entry.changed for entry in entries), files=[entry.result() for entry in entries])
    if module._diff:
        result['diff'] = [diff for entry in entries for diff in entry.diff()]
    module.exit_json(**result)


if __name__ == '__main__':
    main()
