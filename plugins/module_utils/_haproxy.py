# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy's admin socket (`stats socket ... level admin`): one command and its answer, and the
statistics of a backend's servers (`show stat`). Used by haproxy_drain and haproxy_errors."""

from __future__ import annotations

import csv
import io
import socket

# The options of every module that talks to HAProxy (doc fragment plumber.hosting.haproxy).
HAPROXY_OPTIONS = dict(
    socket=dict(type='path', required=True),
    backend=dict(type='str', required=True),
)


def command(path, line):
    """One command on the admin socket, its whole answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        conn.connect(path)
        conn.sendall(line.encode() + b'\n')
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b''.join(chunks).decode(errors='replace')


def stats(path, backend):
    """{svname: row} of `show stat` for the backend: its servers by name, and the row BACKEND."""
    text = command(path, 'show stat').lstrip('# ')
    return {row['svname']: row for row in csv.DictReader(io.StringIO(text)) if row.get('pxname') == backend}


def counter(row, field):
    """A counter of a `show stat` row as an int (an empty field, one the row does not have, is 0)."""
    return int(row.get(field) or 0)


def valid_backend(name):
    """A name that can be sent on the admin socket as one word."""
    return bool(name) and not any(c.isspace() or c in '/;' for c in name)
