#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_ssh_key
short_description: Add an SSH public key to a DigitalOcean account, or remove it
version_added: 0.1.0
description:
  - Makes sure the account holds the public key O(public_key) under the name O(name) (O(state=present)), or not
    (O(state=absent)), through DigitalOcean's official Python client C(pydo). New droplets get the keys named in
    M(plumber.hosting.do_droplet)'s C(ssh_keys) for C(root).
  - A key is found by its fingerprint, so a key already on the account under another name is renamed, not added twice.
  - Options are named as in C(digitalocean.cloud.ssh_key).
author:
  - plumber.hosting contributors (@plumber-hosting)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - plumber.hosting.digitalocean
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  state:
    description:
      - V(present) adds (or renames) the key; V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - The key's name on the account. With O(state=absent) and no O(public_key), the key of that name is removed.
    type: str
  public_key:
    description:
      - The public key, one OpenSSH line (C(ssh-ed25519 AAAA... comment)), for example
        C({{ lookup('file', '~/.ssh/id_ed25519.pub') }}). Required with O(state=present).
    type: str
"""

EXAMPLES = r"""
- name: The deploy key of this controller on the account
  plumber.hosting.do_ssh_key:
    name: plumber-deploy
    public_key: "{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}"
  register: ssh_key

- name: Remove it
  plumber.hosting.do_ssh_key:
    name: plumber-deploy
    state: absent
"""

RETURN = r"""
ssh_key:
  description: The key as DigitalOcean describes it; empty when there is none.
  returned: always
  type: dict
  sample: {"id": 512189, "fingerprint": "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa", "name": "plumber-deploy",
           "public_key": "ssh-ed25519 AAAA... me@laptop"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.plumber.hosting.plugins.module_utils._digitalocean import (
    DigitalOcean, common_argument_spec, public_key_fingerprint)


def summary(key):
    return dict(name=key.get('name'), fingerprint=key.get('fingerprint')) if key else {}


def run(module):
    params = module.params
    fingerprint = None
    if params['public_key'] is not None:
        fingerprint = public_key_fingerprint(params['public_key'])
        if fingerprint is None:
            module.fail_json(msg='public_key %r is not an OpenSSH public key line ("ssh-ed25519 AAAA... comment"): give the '
                                 'content of the .pub file, not its path or the private key' % params['public_key'][:60])
    if params['state'] == 'present' and not (params['name'] and fingerprint):
        module.fail_json(msg='state=present needs name and public_key')
    if not (params['name'] or fingerprint):
        module.fail_json(msg='state=absent needs name or public_key')
    do = DigitalOcean(module)
    keys = do.all('reading the SSH keys of the account', do.client.ssh_keys.list, 'ssh_keys')
    if fingerprint:
        found = [key for key in keys if key.get('fingerprint') == fingerprint]
    else:
        found = do.one('reading the SSH keys of the account', [key for key in keys if key.get('name') == params['name']],
                       'keys are named %s' % params['name'])
        found = [found] if found else []
    before = found[0] if found else None
    after, changed = before, False
    if params['state'] == 'absent':
        changed, after = bool(before), None
        if before and not module.check_mode:
            do.call('removing SSH key %s' % before.get('name'), do.client.ssh_keys.delete, before['id'])
    elif before is None:
        changed = True
        after = dict(name=params['name'], fingerprint=fingerprint, public_key=params['public_key'])
        if not module.check_mode:
            after = do.call('adding SSH key %s' % params['name'], do.client.ssh_keys.create,
                            body=dict(name=params['name'], public_key=params['public_key']))['ssh_key']
    elif before.get('name') != params['name']:
        changed = True
        after = dict(before, name=params['name'])
        if not module.check_mode:
            after = do.call('renaming SSH key %s to %s' % (before.get('name'), params['name']), do.client.ssh_keys.update,
                            before['id'], body=dict(name=params['name']))['ssh_key']
    result = dict(changed=changed, ssh_key=after or {})
    if module._diff:
        result['diff'] = dict(before=summary(before), after=summary(after))
    module.exit_json(**result)


def main():
    argument_spec = common_argument_spec()
    argument_spec.update(
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        name=dict(type='str'),
        public_key=dict(type='str', no_log=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module)


if __name__ == '__main__':
    main()
