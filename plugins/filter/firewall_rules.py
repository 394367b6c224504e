# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: firewall_rules
short_description: The ufw rules of a plumber host, checked
version_added: 0.1.0
description:
  - Turns the variables of plumber.hosting.firewall into the list of rules ufw should hold, each checked (ports
    V(1)-V(65535) or a range V(8000:8003), protocols V(tcp) and V(udp), sources V(any) or an IPv4 address or network
    such as V(10.0.0.0/24)). Each error names the variable and the value.
  - With O(parse=true), reads instead the output of C(ufw show added) and returns the rules in it that carry O(comment),
    in the same shape, so that stale ones can be deleted.
author:
  - plumber.hosting contributors (@plumber-hosting)
options:
  _input:
    description:
      - A dict of the role's variables (C(firewall_ssh_port), C(firewall_public_ports), C(firewall_allow),
        C(firewall_front_ports), C(firewall_worker_ports), C(firewall_fronts)), or with O(parse=true) the text of
        C(ufw show added). An item of C(firewall_worker_ports) may also be an API as M(plumber.hosting.validate_apis)
        returns it (C(port) and C(workers)), meaning the range of its workers' ports.
    type: raw
    required: true
  parse:
    description: Read the output of C(ufw show added) instead.
    type: bool
    default: false
  comment:
    description: With O(parse=true), only the rules with this comment.
    type: str
    default: plumber.hosting
"""

EXAMPLES = r"""
- name: The rules wanted
  ansible.builtin.set_fact:
    my_rules: >-
      {{ {'firewall_ssh_port': 22, 'firewall_public_ports': [80, 443], 'firewall_allow': [],
          'firewall_front_ports': [], 'firewall_worker_ports': ['8000:8001'], 'firewall_fronts': ['10.0.0.2']}
         | plumber.hosting.firewall_rules }}
"""

RETURN = r"""
_value:
  description: >-
    One rule per port (or range), protocol and source, in order, without duplicates.
  type: list
  elements: dict
  contains:
    port:
      description: A port or a range C(first:last).
      type: str
    proto:
      description: V(tcp) or V(udp).
      type: str
    from:
      description: V(any), or an IPv4 address or network.
      type: str
    key:
      description: C(<proto> <port> <from>), to compare rules.
      type: str
"""

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.plumber.hosting.plugins.module_utils._apis import ipv4_network

PORT_RE = re.compile(r'^([0-9]{1,5})(:([0-9]{1,5}))?\Z')
ADDED_RE = re.compile(r"^ufw allow (?:from (?P<from>\S+) to any port (?P<port>\S+) proto (?P<proto>tcp|udp)"
                      r"|(?P<port2>[0-9:]+)/(?P<proto2>tcp|udp)) comment '(?P<comment>[^']*)'\s*\Z")


class _Bad(Exception):
    pass


def _port(value, where):
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    match = PORT_RE.match(text or '')
    if not match or not 1 <= int(match.group(1)) <= 65535 or (
            match.group(3) and not int(match.group(1)) < int(match.group(3)) <= 65535):
        raise _Bad('%s %r is not a port (1-65535) or a range of ports like 8000:8003' % (where, value))
    return str(int(match.group(1))) + (':%d' % int(match.group(3)) if match.group(3) else '')


def _source(value, where):
    if value == 'any':
        return value
    network = ipv4_network(value)
    if network is None:
        raise _Bad("%s %r is not 'any', an IPv4 address or an IPv4 network like 10.0.0.0/24 (no host bits set)" % (where, value))
    return network


def _rule(port, proto, source):
    return {'port': port, 'proto': proto, 'from': source, 'key': '%s %s %s' % (proto, port, source)}


def _list(value, where):
    if not isinstance(value, (list, tuple)):
        raise _Bad('%s must be a list, got %r' % (where, value))
    return list(value)


def _worker_ports(variables):
    for i, port in enumerate(_list(variables.get('firewall_worker_ports', []), 'firewall_worker_ports')):
        where = 'firewall_worker_ports[%d]' % i
        if isinstance(port, dict):
            # An API as plumber.hosting.validate_apis returns it: its workers' ports, one range.
            first, count = port.get('port'), port.get('workers', 1)
            if not isinstance(first, int) or not isinstance(count, int) or count < 1:
                raise _Bad('%s %r must have a port and a number of workers' % (where, port))
            port = '%d:%d' % (first, first + count - 1) if count > 1 else first
        yield _port(port, where)


def _fronts(variables):
    return [_source(front, 'firewall_fronts[%d]' % i) for i, front in enumerate(_list(variables.get('firewall_fronts', []), 'firewall_fronts'))]


def wanted(variables):
    rules = [_rule(_port(variables.get('firewall_ssh_port', 22), 'firewall_ssh_port'), 'tcp', 'any')]
    for name in ('firewall_front_ports', 'firewall_public_ports'):
        for i, port in enumerate(_list(variables.get(name, []), name)):
            rules.append(_rule(_port(port, '%s[%d]' % (name, i)), 'tcp', 'any'))
    fronts = _fronts(variables)
    for port in _worker_ports(variables):
        rules.extend(_rule(port, 'tcp', front) for front in fronts)
    for i, item in enumerate(_list(variables.get('firewall_allow', []), 'firewall_allow')):
        where = 'firewall_allow[%d]' % i
        if not isinstance(item, dict) or 'port' not in item or set(item) - {'port', 'proto', 'from'}:
            raise _Bad('%s %r must be a dict with port, and optionally proto (tcp, udp) and from (an address or network)' % (where, item))
        proto = item.get('proto', 'tcp')
        if proto not in ('tcp', 'udp'):
            raise _Bad('%s.proto %r must be tcp or udp' % (where, proto))
        rules.append(_rule(_port(item['port'], where + '.port'), proto, _source(item.get('from', 'any'), where + '.from')))
    seen, result = set(), []
    for rule in rules:
        if rule['key'] not in seen:
            seen.add(rule['key'])
            result.append(rule)
    return result


def added(text, comment):
    rules = []
    for line in str(text).splitlines():
        match = ADDED_RE.match(line.strip())
        if match and match.group('comment') == comment:
            rules.append(_rule(match.group('port') or match.group('port2'), match.group('proto') or match.group('proto2'),
                               match.group('from') or 'any'))
    return rules


def firewall_rules(value, parse=False, comment='plumber.hosting'):
    try:
        if parse:
            return added(value, comment)
        if not isinstance(value, dict):
            raise _Bad('firewall_rules expects a dict of the firewall variables, got %r' % (value,))
        return wanted(value)
    except _Bad as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {'firewall_rules': firewall_rules}
