#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_droplet
short_description: Create or delete a DigitalOcean droplet, found by its name
version_added: 0.1.0
description:
  - Makes sure the droplet named O(name) exists in O(region) (O(state=present)), or that it does not (O(state=absent)),
    through DigitalOcean's official Python client C(pydo).
  - A droplet is found by its name (and region, when given). A new droplet is waited for until it is active and has a
    public IPv4 address, which the module returns, ready for M(ansible.builtin.add_host).
  - An existing droplet is left as it is; it is never resized, because a resize powers the droplet off. When its size
    differs from O(size), the task fails and says so. Its image, tags, SSH keys and user data are only used at creation.
  - Options are named as in C(digitalocean.cloud.droplet), built on the same client, so a playbook can move between the
    two. Unlike it, the droplet's name is always its identity (C(unique_name=true) there).
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
      - V(present) creates the droplet when there is none of that name; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - The droplet's name, also its host name. Letters, digits, C(.) and C(-).
    type: str
    required: true
  region:
    description:
      - Slug of the region, for example V(fra1). Required with O(state=present). With O(state=absent), only a droplet of
        that region is deleted.
    type: str
  size:
    description:
      - Slug of the size, for example V(s-1vcpu-2gb). Required with O(state=present).
    type: str
  image:
    description:
      - Slug or id of the image, for example V(debian-12-x64). Required to create a droplet.
    type: str
  ssh_keys:
    description:
      - Ids or fingerprints of SSH keys of the account to install for C(root) (see M(plumber.hosting.do_ssh_key)).
    type: list
    elements: str
    default: []
  tags:
    description:
      - Tags of the new droplet.
    type: list
    elements: str
    default: []
  vpc_uuid:
    description:
      - The VPC of the new droplet; the region's default VPC when unset.
    type: str
  user_data:
    description:
      - Cloud-init user data for the first boot (up to 64 KiB).
    type: str
  ipv6:
    description:
      - Give the droplet an IPv6 address.
    type: bool
    default: false
  monitoring:
    description:
      - Install DigitalOcean's monitoring agent.
    type: bool
    default: false
  backups:
    description:
      - Turn on DigitalOcean's weekly backups (billed).
    type: bool
    default: false
  wait:
    description:
      - Wait until a new droplet is active and has its public address, at most O(timeout) seconds.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: A Debian droplet for the plumber APIs, its token from DIGITALOCEAN_TOKEN
  plumber.hosting.do_droplet:
    name: plumber-1
    region: fra1
    size: s-1vcpu-2gb
    image: debian-12-x64
    ssh_keys: ["{{ ssh_key.ssh_key.fingerprint }}"]
    tags: [plumber]
  register: droplet

- name: Reach it over SSH in the next play
  ansible.builtin.add_host:
    name: plumber-1
    groups: plumber_servers
    ansible_host: "{{ droplet.public_ipv4 }}"
    ansible_user: root

- name: Delete it
  plumber.hosting.do_droplet:
    name: plumber-1
    region: fra1
    state: absent
"""

RETURN = r"""
droplet:
  description: The droplet as DigitalOcean describes it; empty when there is none (O(state=absent), or created in check mode).
  returned: always
  type: dict
  sample: {"id": 3164444, "name": "plumber-1", "status": "active", "size_slug": "s-1vcpu-2gb", "region": {"slug": "fra1"},
           "networks": {"v4": [{"ip_address": "203.0.113.10", "type": "public"}]}}
public_ipv4:
  description: The droplet's public IPv4 address.
  returned: when the droplet exists and has one
  type: str
  sample: 203.0.113.10
private_ipv4:
  description: The droplet's address in its VPC.
  returned: when the droplet exists and has one
  type: str
  sample: 10.110.0.2
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.plumber.hosting.plugins.module_utils._digitalocean import (
    DROPLET_NAME_RE, SLUG_RE, DigitalOcean, common_argument_spec)

POLL_SECONDS = 3


def address(droplet, kind):
    for network in ((droplet or {}).get('networks') or {}).get('v4') or []:
        if network.get('type') == kind and network.get('ip_address'):
            return network['ip_address']
    return None


def summary(droplet):
    """What the diff shows of a droplet."""
    if not droplet:
        return {}
    return dict(name=droplet.get('name'), region=(droplet.get('region') or {}).get('slug'), size=droplet.get('size_slug'),
                image=(droplet.get('image') or {}).get('slug') or (droplet.get('image') or {}).get('id'),
                tags=sorted(droplet.get('tags') or []), status=droplet.get('status'))


class Droplet:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check()
        self.do = DigitalOcean(module)

    def check(self):
        params = self.params
        if not DROPLET_NAME_RE.match(params['name']):
            self.module.fail_json(msg='name %r is not a droplet name: letters, digits, "." and "-", starting and ending with a '
                                  'letter or digit' % params['name'])
        for option in ('region', 'size'):
            if params[option] is not None and not SLUG_RE.match(params[option]):
                self.module.fail_json(msg='%s %r is not a DigitalOcean slug (lower-case letters, digits and "-")'
                                      % (option, params[option]))
        if params['state'] == 'present':
            missing = [option for option in ('region', 'size') if not params[option]]
            if missing:
                self.module.fail_json(msg='state=present needs %s' % ' and '.join(missing))

    def find(self):
        what = 'reading the droplets named %s' % self.params['name']
        droplets = [droplet for droplet in self.do.all(what, self.do.client.droplets.list, 'droplets', name=self.params['name'])
                    if droplet.get('name') == self.params['name']
                    and (not self.params['region'] or (droplet.get('region') or {}).get('slug') == self.params['region'])]
        where = ' in %s' % self.params['region'] if self.params['region'] else ''
        return self.do.one(what, droplets, 'droplets are named %s%s' % (self.params['name'], where))

    def result(self, changed, droplet, before):
        result = dict(changed=changed, droplet=droplet or {})
        if self.module._diff:
            after = summary(droplet)
            if not droplet and self.params['state'] == 'present':
                after = dict(name=self.params['name'], region=self.params['region'], size=self.params['size'],
                             image=self.params['image'], tags=sorted(self.params['tags']), status='new')
            result['diff'] = dict(before=summary(before), after=after)
        for kind in ('public', 'private'):
            if address(droplet, kind):
                result['%s_ipv4' % kind] = address(droplet, kind)
        self.module.exit_json(**result)

    def run(self):
        droplet = self.find()
        if self.params['state'] == 'absent':
            if droplet and not self.module.check_mode:
                self.do.call('deleting droplet %s (%s)' % (self.params['name'], droplet['id']), self.do.client.droplets.destroy,
                             droplet['id'])
            return self.result(bool(droplet), None, droplet)
        if droplet:
            if droplet.get('size_slug') != self.params['size']:
                self.module.fail_json(
                    msg='droplet %s (%s) has size %s, not %s: plumber.hosting does not resize droplets, because a resize powers '
                        'the droplet off. Resize it in the control panel (or with digitalocean.cloud.droplet_action_resize), '
                        'or set size to %s' % (self.params['name'], droplet['id'], droplet.get('size_slug'), self.params['size'],
                                               droplet.get('size_slug')),
                    droplet=droplet)
            if droplet.get('status') == 'new' and self.params['wait']:
                droplet = self.wait(droplet)
            return self.result(False, droplet, droplet)
        if not self.params['image']:
            self.module.fail_json(msg='there is no droplet named %s in %s, and image is needed to create one'
                                  % (self.params['name'], self.params['region']))
        if self.module.check_mode:
            return self.result(True, None, None)
        body = dict(name=self.params['name'], region=self.params['region'], size=self.params['size'], image=self.image(),
                    ssh_keys=[int(key) if key.isdigit() else key for key in self.params['ssh_keys']], tags=self.params['tags'],
                    ipv6=self.params['ipv6'], monitoring=self.params['monitoring'], backups=self.params['backups'])
        for option in ('vpc_uuid', 'user_data'):
            if self.params[option]:
                body[option] = self.params[option]
        created = self.do.call('creating droplet %s (region %s, size %s, image %s)' % (
            self.params['name'], self.params['region'], self.params['size'], self.params['image']), self.do.client.droplets.create, body=body)
        droplet = created['droplet']
        if self.params['wait']:
            droplet = self.wait(droplet)
        return self.result(True, droplet, None)

    def image(self):
        image = self.params['image']
        return int(image) if image.isdigit() else image

    def wait(self, droplet):
        """The droplet once active with a public IPv4 address; fails after `timeout` seconds."""
        deadline = time.monotonic() + self.params['timeout']
        while True:
            if droplet.get('status') == 'active' and address(droplet, 'public'):
                return droplet
            if time.monotonic() > deadline:
                self.module.fail_json(msg='droplet %s (%s) is still %s after %d seconds' % (
                    self.params['name'], droplet['id'], droplet.get('status'), self.params['timeout']), droplet=droplet)
            time.sleep(POLL_SECONDS)
            answer = self.do.call('reading droplet %s (%s)' % (self.params['name'], droplet['id']), self.do.client.droplets.get,
                                  droplet['id'])
            if answer is None:
                self.module.fail_json(msg='droplet %s (%s) disappeared while it was being created' % (self.params['name'], droplet['id']))
            droplet = answer['droplet']


def main():
    argument_spec = common_argument_spec()
    argument_spec.update(
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        name=dict(type='str', required=True),
        region=dict(type='str'),
        size=dict(type='str'),
        image=dict(type='str'),
        ssh_keys=dict(type='list', elements='str', default=[], no_log=False),
        tags=dict(type='list', elements='str', default=[]),
        vpc_uuid=dict(type='str'),
        user_data=dict(type='str'),
        ipv6=dict(type='bool', default=False),
        monitoring=dict(type='bool', default=False),
        backups=dict(type='bool', default=False),
        wait=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    Droplet(module).run()


if __name__ == '__main__':
    main()
