#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_domain_record
short_description: Point a name of a domain on DigitalOcean's DNS at an address
version_added: 0.1.0
description:
  - Makes sure the domain O(domain), whose DNS DigitalOcean serves, has one record of type O(type) for O(name) with the
    value O(data) (O(state=present)), or none (O(state=absent)), through DigitalOcean's official Python client C(pydo).
  - The record of that type and name is updated in place when its value or TTL differ; it is never duplicated.
  - The domain itself must already be on the account (added in the control panel, its registrar pointing at
    DigitalOcean's name servers); the module does not add it, so that a typo cannot create a zone nobody serves.
  - Options are named as in C(digitalocean.cloud.domain_record).
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
      - V(present) creates or updates the record; V(absent) removes every record of that type and name.
    type: str
    choices: [present, absent]
    default: present
  domain:
    description:
      - The domain, for example V(example.com).
    type: str
    required: true
  name:
    description:
      - The name inside the domain, V(api) for C(api.example.com); V(@) for the domain itself.
    type: str
    default: '@'
  type:
    description:
      - The record type.
    type: str
    choices: [A, AAAA, CNAME, TXT]
    default: A
  data:
    description:
      - The value, for example the droplet's public address. Required with O(state=present).
    type: str
  ttl:
    description:
      - Seconds resolvers may keep the record.
    type: int
    default: 1800
"""

EXAMPLES = r"""
- name: api.example.com points at the droplet
  plumber.hosting.do_domain_record:
    domain: example.com
    name: api
    data: "{{ droplet.public_ipv4 }}"
"""

RETURN = r"""
record:
  description: The record as DigitalOcean describes it; empty when there is none.
  returned: always
  type: dict
  sample: {"id": 28448433, "type": "A", "name": "api", "data": "203.0.113.10", "ttl": 1800}
fqdn:
  description: The full name of the record.
  returned: always
  type: str
  sample: api.example.com
"""

import ipaddress
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.plumber.hosting.plugins.module_utils._digitalocean import DigitalOcean, common_argument_spec

LABELS_RE = re.compile(r'^(?=.{1,253}\Z)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\Z')


def summary(record):
    return dict((key, record.get(key)) for key in ('type', 'name', 'data', 'ttl')) if record else {}


def check(module):
    params = module.params
    domain = params['domain'].rstrip('.').lower()
    if not LABELS_RE.match(domain) or '.' not in domain:
        module.fail_json(msg='domain %r is not a domain name' % params['domain'])
    name = params['name'].rstrip('.')
    if name.lower().endswith('.' + domain):
        name = name[:-len(domain) - 1]
    if name != '@' and not LABELS_RE.match(name):
        module.fail_json(msg='name %r is not a name inside %s: give "@" for the domain itself, or labels such as "api"'
                             % (params['name'], domain))
    if params['state'] == 'present':
        data = params['data']
        if not data:
            module.fail_json(msg='state=present needs data')
        try:
            if params['type'] == 'A':
                ipaddress.IPv4Address(data)
            elif params['type'] == 'AAAA':
                ipaddress.IPv6Address(data)
        except ValueError:
            module.fail_json(msg='data %r is not an IPv%s address, as a record of type %s needs'
                                 % (data, 4 if params['type'] == 'A' else 6, params['type']))
    return domain, name


def run(module):
    params = module.params
    domain, name = check(module)
    fqdn = domain if name == '@' else '%s.%s' % (name, domain)
    do = DigitalOcean(module)
    what = 'reading the %s records of %s' % (params['type'], fqdn)
    if do.call(what, do.client.domains.get, domain) is None:
        module.fail_json(msg='domain %s is not on this DigitalOcean account: add it in the control panel (Networking, Domains) '
                             'and point its registrar at ns1/ns2/ns3.digitalocean.com first' % domain)
    records = [record for record in do.all(what, do.client.domains.list_records, 'domain_records', domain, name=fqdn,
                                           type=params['type'])
               if record.get('type') == params['type'] and record.get('name', '').lower() == name.lower()]
    changed, after = False, None
    if params['state'] == 'absent':
        changed = bool(records)
        if not module.check_mode:
            for record in records:
                do.call('removing the %s record %s' % (params['type'], fqdn), do.client.domains.delete_record, domain, record['id'])
        before = records[0] if records else None
    else:
        before = do.one(what, records, '%s records exist for %s' % (params['type'], fqdn))
        # DigitalOcean takes a CNAME's target with its final dot and shows it without.
        data, sent = params['data'], params['data']
        if params['type'] == 'CNAME' and data != '@':
            data = data.rstrip('.')
            sent = data + '.'
        wanted = dict(type=params['type'], name=name, data=sent, ttl=params['ttl'])
        after = before
        if before is None:
            changed, after = True, wanted
            if not module.check_mode:
                after = do.call('adding the %s record %s' % (params['type'], fqdn), do.client.domains.create_record, domain,
                                body=wanted)['domain_record']
        elif (before.get('data'), before.get('ttl')) != (data, params['ttl']):
            changed, after = True, dict(before, data=data, ttl=params['ttl'])
            if not module.check_mode:
                after = do.call('updating the %s record %s' % (params['type'], fqdn), do.client.domains.update_record, domain,
                                before['id'], body=wanted)['domain_record']
    result = dict(changed=changed, record=after or {}, fqdn=fqdn)
    if module._diff:
        result['diff'] = dict(before=summary(before), after=summary(after))
    module.exit_json(**result)


def main():
    argument_spec = common_argument_spec()
    argument_spec.update(
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        domain=dict(type='str', required=True),
        name=dict(type='str', default='@'),
        type=dict(type='str', choices=['A', 'AAAA', 'CNAME', 'TXT'], default='A'),
        data=dict(type='str'),
        ttl=dict(type='int', default=1800),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module)


if __name__ == '__main__':
    main()
