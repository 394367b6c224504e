# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files of an API's code: their SHA-256 (plumber_api's revision, api_release's release names,
sync_code's comparison) and the options of sync_code, which its action plugin checks on the
controller and its module on the host."""

from __future__ import annotations

import hashlib
import os
import stat

SYNC_CODE_OPTIONS = dict(
    src=dict(type='path', required=True),
    dest=dict(type='path', required=True),
    owner=dict(type='str'),
    group=dict(type='str'),
    mode=dict(type='str', default='0644'),
    directory_mode=dict(type='str', default='0755'),
)


def file_digest(path):
    """The SHA-256 of the file at path, in hex."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


# Not part of an API's code: a git checkout's repository.
SKIPPED_DIRS = ('.git',)


def tree_revision(root):
    """SHA-256 over the relative path and content of every file under root, in path order (.git left out)."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=_raise):
        dirnames[:] = [name for name in dirnames if name not in SKIPPED_DIRS]
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, '/')
            if os.path.islink(full) and not os.path.isfile(full):
                # A symlinked directory (not walked) or a dangling link: its target.
                entries.append((rel, 'link', hashlib.sha256(os.readlink(full).encode('utf-8', 'surrogateescape')).hexdigest()))
            elif name in filenames and stat.S_ISREG(os.stat(full).st_mode):
                entries.append((rel, 'file', file_digest(full)))
    revision = hashlib.sha256()
    for rel, kind, digest in sorted(entries):
        revision.update(b'%s\0%s\0%s\n' % (rel.encode('utf-8', 'surrogateescape'), kind.encode(), digest.encode()))
    return revision.hexdigest()


def _raise(error):
    raise error
