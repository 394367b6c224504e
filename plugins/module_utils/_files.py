# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files of an API's code: their SHA-256 (plumber_api's revision, sync_code's comparison) and the
options of sync_code, which its action plugin checks on the controller and its module on the host."""

from __future__ import annotations

import hashlib

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
