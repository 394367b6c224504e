#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_firewall
short_description: A DigitalOcean cloud firewall, found by its name
version_added: 0.1.0
description:
  - Makes sure the cloud firewall named O(name) exists with exactly the rules, droplets and tags given
    (O(state=present)), or that it does not (O(state=absent)), through DigitalOcean's official Python client C(pydo).
  - A cloud firewall filters traffic before it reaches the droplet, in front of the host's own firewall (ufw, which
    plumber.hosting configures on the host too).
  - An existing firewall whose rules, droplets or tags differ is updated in place (DigitalOcean replaces the whole
    definition); rules compare without regard to order.
  - Options are named as in C(digitalocean.cloud.firewall).
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
      - V(present) creates or updates the firewall; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - The firewall's name.
    type: str
    required: true
  droplet_ids:
    description:
      - Ids of the droplets it protects.
    type: list
    elements: int
    default: []
  tags:
    description:
      - Tags of the droplets it protects.
    type: list
    elements: str
    default: []
  inbound_rules:
    description:
      - Allowed incoming traffic, as DigitalOcean's API writes it; everything else is dropped.
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description: V(tcp), V(udp) or V(icmp).
        type: str
        required: true
        choices: [tcp, udp, icmp]
      ports:
        description: A port (V(22)), a range (V(8000-9000)), or V(0) or V(all) for every port.
        type: str
        default: '0'
      sources:
        description: 'Where the traffic may come from, for example C({"addresses": ["0.0.0.0/0", "::/0"]}).'
        type: dict
        required: true
  outbound_rules:
    description:
      - Allowed outgoing traffic, as DigitalOcean's API writes it; everything else is dropped.
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description: V(tcp), V(udp) or V(icmp).
        type: str
        required: true
        choices: [tcp, udp, icmp]
      ports:
        description: A port (V(22)), a range (V(8000-9000)), or V(0) or V(all) for every port.
        type: str
        default: '0'
      destinations:
        description: 'Where the traffic may go, for example C({"addresses": ["0.0.0.0/0", "::/0"]}).'
        type: dict
        required: true
"""

EXAMPLES = r"""
- name: Only SSH, HTTP and HTTPS reach the plumber droplets; they may reach anything
  plumber.hosting.do_firewall:
    name: plumber
    tags: [plumber]
    inbound_rules:
      - {protocol: tcp, ports: "22", sources: {addresses: ["0.0.0.0/0", "::/0"]}}
      - {protocol: tcp, ports: "80", sources: {addresses: ["0.0.0.0/0", "::/0"]}}
      - {protocol: tcp, ports: "443", sources: {addresses: ["0.0.0.0/0", "::/0"]}}
    outbound_rules:
      - {protocol: tcp, ports: "0", destinations: {addresses: ["0.0.0.0/0", "::/0"]}}
      - {protocol: udp, ports: "0", destinations: {addresses: ["0.0.0.0/0", "::/0"]}}
      - {protocol: icmp, destinations: {addresses: ["0.0.0.0/0", "::/0"]}}
"""

RETURN = r"""
firewall:
  description: The firewall as DigitalOcean describes it; empty when there is none.
  returned: always
  type: dict
  sample: {"id": "bb4b2611-3d72-467b-8602-280330ecd65c", "name": "plumber", "status": "succeeded", "tags": ["plumber"]}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.plumber.hosting.plugins.module_utils._digitalocean import DigitalOcean, common_argument_spec

TARGET_KEYS = ('addresses', 'droplet_ids', 'tags', 'load_balancer_uids', 'kubernetes_ids')


def normal_target(target):
    return dict((key, sorted(target[key], key=str)) for key in TARGET_KEYS if (target or {}).get(key))


def normal_rules(rules, side):
    normal = []
    for rule in rules or []:
        ports = str(rule.get('ports') or '0')
        normal.append(dict(protocol=rule['protocol'], ports='0' if ports == 'all' or rule['protocol'] == 'icmp' else ports,
                           **{side: normal_target(rule.get(side))}))
    return sorted(normal, key=lambda rule: (rule['protocol'], rule['ports'], repr(rule[side])))


def definition(source):
    return dict(name=source.get('name'), droplet_ids=sorted(source.get('droplet_ids') or []), tags=sorted(source.get('tags') or []),
                inbound_rules=normal_rules(source.get('inbound_rules'), 'sources'),
                outbound_rules=normal_rules(source.get('outbound_rules'), 'destinations'))


def body_of(wanted):
    """The request body: icmp rules without ports, as DigitalOcean takes them."""
    body = dict(wanted)
    for key in ('inbound_rules', 'outbound_rules'):
        body[key] = [dict((name, value) for name, value in rule.items() if not (name == 'ports' and rule['protocol'] == 'icmp'))
                     for rule in wanted[key]]
    return body


def run(module):
    params = module.params
    for key, side in (('inbound_rules', 'sources'), ('outbound_rules', 'destinations')):
        for index, rule in enumerate(params[key]):
            if not normal_target(rule.get(side)):
                module.fail_json(msg='%s[%d].%s names no address, droplet, tag or load balancer: %r'
                                     % (key, index, side, rule.get(side)))
    do = DigitalOcean(module)
    what = 'reading the firewalls of the account'
    before = do.one(what, [firewall for firewall in do.all(what, do.client.firewalls.list, 'firewalls')
                           if firewall.get('name') == params['name']], 'firewalls are named %s' % params['name'])
    wanted = definition(params)
    after, changed = before, False
    if params['state'] == 'absent':
        changed, after = bool(before), None
        if before and not module.check_mode:
            do.call('deleting firewall %s' % params['name'], do.client.firewalls.delete, before['id'])
    elif before is None:
        changed, after = True, wanted
        if not module.check_mode:
            after = do.call('creating firewall %s' % params['name'], do.client.firewalls.create, body=body_of(wanted))['firewall']
    elif definition(before) != wanted:
        changed, after = True, dict(before, **wanted)
        if not module.check_mode:
            after = do.call('updating firewall %s' % params['name'], do.client.firewalls.update, before['id'],
                            body=body_of(wanted))['firewall']
    result = dict(changed=changed, firewall=after or {})
    if module._diff:
        result['diff'] = dict(before=definition(before) if before else {}, after=definition(after) if after else {})
    module.exit_json(**result)


def rules_option(side):
    """The argument spec of inbound_rules (side 'sources') or outbound_rules ('destinations')."""
    return dict(type='list', elements='dict', default=[], options={
        'protocol': dict(type='str', required=True, choices=['tcp', 'udp', 'icmp']),
        'ports': dict(type='str', default='0'),
        side: dict(type='dict', required=True),
    })


def main():
    argument_spec = common_argument_spec()
    argument_spec.update(
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        name=dict(type='str', required=True),
        droplet_ids=dict(type='list', elements='int', default=[]),
        tags=dict(type='list', elements='str', default=[]),
        inbound_rules=rules_option('sources'),
        outbound_rules=rules_option('destinations'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module)


if __name__ == '__main__':
    main()
