# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import re

DOCUMENTATION = r"""
name: loaded_record
short_description: Which configuration nginx and HAProxy loaded, and the files that record a reload
version_added: 0.1.0
description:
  - A front (plumber.hosting.proxy) and a compose stack (plumber.hosting.compose) record on the host which configuration
    each of their services loaded, as one empty file per service in a directory, named V(<service>.<checksum>), so that
    a run that fails between writing a configuration and reloading still reloads on the next run.
  - From the paths a find returned (other files among them are left out), returns the checksums loaded and the
    entries of plumber.hosting.files that bring the record to O(reloads) (none when it is already there).
author:
  - plumber.hosting contributors (@plumber-hosting)
options:
  _input:
    description: Paths of files on the host, as C(ansible.builtin.find) returns them (its C(files), by C(path)).
    type: list
    elements: str
    required: true
  directory:
    description: The directory of the record (an absolute path, without a trailing V(/)).
    type: str
    required: true
  reloads:
    description:
      - What the services load after this run, each a C(service) (lowercase letters) and the C(checksum) of its
        configuration (hexadecimal, maybe empty); other keys are ignored.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Reload nginx if its configuration changed since it loaded it
  ansible.builtin.systemd_service:
    name: nginx
    state: reloaded
  when: proxy_nginx_config.checksum != __loaded.checksums.nginx | default('')
  vars:
    __loaded: >-
      {{ __found.files | map(attribute='path')
         | plumber.hosting.loaded_record('/var/lib/plumber-hosting/front-loaded', [{'service': 'nginx', 'checksum': proxy_nginx_config.checksum}]) }}
"""

RETURN = r"""
_value:
  description: What is recorded, and how to record O(reloads).
  type: dict
  contains:
    checksums:
      description: The checksum each service loaded, by service.
      type: dict
      sample: {nginx: 3f2b0c9e5d8a41f6a7b2c1d0e9f8a7b6c5d4e3f2}
    files:
      description:
        - Entries of plumber.hosting.files (the files of O(reloads), the other records absent); V([]) when the record
          already is O(reloads).
      type: list
      elements: dict
"""

_RECORD = re.compile(r'^([a-z]+)[.]([0-9a-f]*)$')


def loaded_record(found, directory, reloads):
    prefix = directory.rstrip('/') + '/'
    records = {}
    for path in found:
        match = _RECORD.match(path[len(prefix):]) if path.startswith(prefix) else None
        if match:
            records[path] = match.groups()
    checksums = dict(records.values())
    wanted = [prefix + '%s.%s' % (item['service'], item['checksum']) for item in reloads]
    if dict((item['service'], item['checksum']) for item in reloads) == checksums:
        return {'checksums': checksums, 'files': []}
    files = [{'path': path, 'content': '', 'owner': 'root', 'group': 'root', 'mode': '0644'} for path in wanted]
    files += [{'path': path, 'state': 'absent'} for path in records if path not in wanted]
    return {'checksums': checksums, 'files': files}


class FilterModule:
    def filters(self):
        return {'loaded_record': loaded_record}
