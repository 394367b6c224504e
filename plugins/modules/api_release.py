#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: api_release
short_description: Keep the releases of an API's code on the host, and switch which one the workers run
version_added: 0.1.0
description:
  - The code of an API lives in one directory per version, C(<path>/releases/<release>), and C(<path>/current) is a
    symbolic link to one of them. The workers run C(current); the link is replaced in one rename, so a worker that
    starts sees one whole version, never a mix.
  - A release is named after the first 12 hex digits of the SHA-256 of its files, the
    RV(plumber.hosting.plumber_api#module:revision) of the same files. The same code is the same release, so a deploy of
    unchanged code changes nothing.
  - The order in which releases became current is kept in C(<path>/releases/history), one release per line, the current
    one last. O(state=rollback) goes back along it.
  - A release directory whose files were changed on the host is made whole again, and that counts as a change.
  - Keeps the O(keep) releases that were current most recently and removes the other directories under C(releases),
    except the one that was current when the module started (workers may still run it; the next run removes it).
  - A C(current) that is a directory (the layout of plumber.hosting before releases) becomes the first release.
author:
  - plumber.hosting contributors (@plumber-hosting)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports the release that would become current. When O(src) does not exist yet (a new host in check mode), the
        release is unknown and the run counts as a change.
  diff_mode:
    support: full
    details:
      - The current release before and after, and the releases that would be removed.
  platform:
    platforms: posix
options:
  path:
    description:
      - The API's directory, which holds C(current) and C(releases).
    type: path
    required: true
  state:
    description:
      - V(present) makes the files of O(src) a release (copied once; a release with the same files is reused) and makes
        it current.
      - V(rollback) makes the release that was current before the current one current again, and takes the current one
        out of the history, so that a second rollback goes one more release back. Fails when there is no such release.
    type: str
    choices: [present, rollback]
    default: present
  src:
    description:
      - Directory on the host with the code of the new release, for O(state=present). A C(.git) directory in it is left out.
    type: path
  keep:
    description:
      - How many releases to keep, the current one included. At least 2, so that there is one to go back to.
    type: int
    default: 5
"""

EXAMPLES = r"""
- name: Make the loaded code the current release of API hello
  plumber.hosting.api_release:
    path: /srv/plumber/hello
    src: /srv/plumber/hello/incoming
    keep: 5
  register: release

- name: Go back to the release that was current before
  plumber.hosting.api_release:
    path: /srv/plumber/hello
    state: rollback
"""

RETURN = r"""
release:
  description: The current release once the module ran; null in check mode when O(src) does not exist yet.
  returned: always
  type: str
  sample: 3f9a1c0b7d2e
previous:
  description: The release that was current when the module started; an empty string when there was none.
  returned: always
  type: str
  sample: 8be41d09c5a7
history:
  description: The releases in the order they became current, the current one last, as the module left them.
  returned: always
  type: list
  elements: str
removed:
  description: The release directories removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
"""

import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plumber.hosting.plugins.module_utils._files import SKIPPED_DIRS, tree_revision

RELEASE_RE = re.compile(r'^[0-9a-f]{12}$')


def release_name(directory):
    """The name of the release holding the files under directory."""
    return tree_revision(directory)[:12]


class ApiRelease(object):
    def __init__(self, module):
        self.module = module
        self.path = module.params['path']
        self.releases = os.path.join(self.path, 'releases')
        self.current = os.path.join(self.path, 'current')
        self.history_file = os.path.join(self.releases, 'history')
        self.check = module.check_mode
        # A release directory whose files were changed by hand, made whole again.
        self.repaired = False

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def current_release(self):
        """The release `current` links to; '' when there is no `current`."""
        if os.path.islink(self.current):
            target = os.readlink(self.current)
            name = os.path.basename(target.rstrip('/'))
            if os.path.dirname(target.rstrip('/')) != 'releases' or not RELEASE_RE.match(name):
                self.fail('%s links to %s, which is not a release of releases/: fix or remove the link' % (self.current, target))
            return name
        if os.path.exists(self.current):
            self.fail('%s is neither a release link nor a directory' % self.current)
        return ''

    def read_history(self):
        try:
            with open(self.history_file, encoding='utf-8') as handle:
                lines = [line.strip() for line in handle]
        except FileNotFoundError:
            return []
        return [line for line in lines if RELEASE_RE.match(line) and os.path.isdir(os.path.join(self.releases, line))]

    def listed_releases(self):
        try:
            return sorted(name for name in os.listdir(self.releases) if RELEASE_RE.match(name))
        except FileNotFoundError:
            return []

    def run(self):
        params = self.module.params
        if params['keep'] < 2:
            self.fail('keep is %d; it must be at least 2 (the current release and one to go back to)' % params['keep'])
        if params['state'] == 'present' and not params['src']:
            self.fail('state=present needs src, the directory with the code of the new release')
        if not os.path.isdir(self.path) and not self.check:
            self.fail('%s does not exist: the API has no directory on this host' % self.path)

        # The layout before releases: `current` a directory of its own. It becomes the first release.
        legacy = os.path.isdir(self.current) and not os.path.islink(self.current)
        if legacy:
            previous = release_name(self.current)
        else:
            previous = self.current_release()
        stored = self.read_history()
        history = stored
        if previous and (not history or history[-1] != previous):
            history = [name for name in history if name != previous] + [previous]

        if params['state'] == 'present':
            release = self.present(params['src'])
            if release:
                history = [name for name in history if name != release] + [release]
        else:
            if len(history) < 2:
                self.fail('API directory %s has no release before %s to go back to (releases: %s)'
                          % (self.path, previous or 'none', ', '.join(history) or 'none'))
            history = history[:-1]
            release = history[-1]

        keep = set(history[-params['keep']:])
        history = [name for name in history if name in keep]
        # The release current at the start stays: workers may still run it until they restart.
        removed = [name for name in self.listed_releases() if name not in keep and name != previous]
        changed = legacy or self.repaired or release != previous or bool(removed) or history != stored
        if changed and not self.check:
            self.apply(legacy, previous, release, history, removed)
        diff = dict(before='current: %s\n' % (previous or '(none)'),
                    after='current: %s\n%s' % (release or '(new)', ''.join('removed: %s\n' % name for name in removed)))
        return dict(changed=changed, release=release, previous=previous, history=history, removed=removed, diff=diff)

    def present(self, src):
        """The name of the release with the files of src, created (off to the side, then renamed) when missing."""
        if not os.path.isdir(src):
            if self.check:
                return None
            self.fail('src %s is not a directory' % src)
        release = release_name(src)
        target = os.path.join(self.releases, release)
        if os.path.isdir(target):
            if release_name(target) == release:
                return release
            self.repaired = True
        if not self.check:
            os.makedirs(self.releases, mode=0o755, exist_ok=True)
            staging = tempfile.mkdtemp(prefix='.new-', dir=self.releases)
            try:
                os.chmod(staging, 0o755)
                copy = os.path.join(staging, 'code')
                shutil.copytree(src, copy, symlinks=True, ignore=shutil.ignore_patterns(*SKIPPED_DIRS))
                if os.path.isdir(target):
                    # Changed by hand: replaced by the files it should have.
                    shutil.rmtree(target)
                os.rename(copy, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return release

    def apply(self, legacy, previous, release, history, removed):
        os.makedirs(self.releases, mode=0o755, exist_ok=True)
        if legacy:
            # A rename: workers running in the old directory keep their working directory.
            if os.path.isdir(os.path.join(self.releases, previous)):
                shutil.rmtree(self.current)
            else:
                os.rename(self.current, os.path.join(self.releases, previous))
        if legacy or release != previous:
            link = os.path.join(self.path, '.current.new')
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(os.path.join('releases', release), link)
            os.rename(link, self.current)
        fd, tmp = tempfile.mkstemp(prefix='.history-', dir=self.releases)
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.write(''.join('%s\n' % name for name in history))
        os.chmod(tmp, 0o644)
        os.rename(tmp, self.history_file)
        for name in removed:
            shutil.rmtree(os.path.join(self.releases, name))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            state=dict(type='str', choices=['present', 'rollback'], default='present'),
            src=dict(type='path'),
            keep=dict(type='int', default=5),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**ApiRelease(module).run())


if __name__ == '__main__':
    main()
