# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SHA-256 of a file, read in blocks: how plumber_api's revision and sync_code compare code."""

from __future__ import annotations

import hashlib


def file_digest(path):
    """The SHA-256 of the file at path, in hex."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()
