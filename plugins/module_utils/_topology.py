# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which hosts run workers, which run the front door (nginx + HAProxy), and how they reach each other.

Two inventory groups decide it. ``plumber_servers`` run the R workers of their ``plumber_apis``;
``plumber_fronts`` run nginx and HAProxy for the workers of every host of ``plumber_servers``. A
host may be in both. Without a ``plumber_fronts`` group (or with an empty one), each pm2, systemd
or docker host of ``plumber_servers`` is its own front (unless its ``plumber_front`` is false), and
its workers listen on 127.0.0.1 only. Compose hosts carry their front inside their stack.

When a front balances workers of another host, those workers listen on the app host's private
address (``plumber_private_address``, by default the address of its default IPv4 route), and the
app host's firewall opens their ports to the fronts only. Pure functions: the caller passes the
groups and the variables of each host.
"""

from __future__ import annotations

import ipaddress

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.plumber.hosting.plugins.module_utils._apis import APIError, validate_process_manager

SERVERS_GROUP = 'plumber_servers'
FRONTS_GROUP = 'plumber_fronts'
LOOPBACK = '127.0.0.1'


class TopologyError(Exception):
    """A topology the collection cannot deploy; the message names the group or variable."""


def _process_manager(name, hostvars):
    try:
        return validate_process_manager(hostvars.get('plumber_process_manager', 'systemd'),
                                        "hostvars[%r].plumber_process_manager" % name)
    except APIError as exc:
        raise TopologyError(str(exc)) from None


def private_address(name, hostvars):
    """The IPv4 address other hosts reach ``name`` at: plumber_private_address, else its default route's."""
    value = hostvars.get('plumber_private_address')
    where = "hostvars[%r].plumber_private_address" % name
    if value is None:
        value = ((hostvars.get('ansible_facts') or {}).get('default_ipv4') or {}).get('address')
        where = "hostvars[%r].ansible_facts.default_ipv4.address (no plumber_private_address set)" % name
        if value is None:
            raise TopologyError(
                "%s has no private address: set plumber_private_address for it, or gather its facts in the same run "
                "(a --limit that leaves it out needs the first)" % name)
    try:
        address = ipaddress.ip_address(value) if isinstance(value, str) and value == value.strip() else None
    except ValueError:
        address = None
    if address is None or address.version != 4 or address.is_loopback or address.is_unspecified:
        raise TopologyError('%s %r is not an IPv4 address other hosts can reach' % (where, value))
    return str(address)


def topology(groups, hostvars, host):
    """What ``host`` does and whom it talks to.

    ``groups``: the inventory's groups (name -> host names); ``hostvars``: host name -> its variables
    (plumber_process_manager, plumber_apis, plumber_front, plumber_private_address, ansible_facts).
    Returns a dict:

    - ``workers``: the host runs workers (it is in plumber_servers);
    - ``front``: the host runs nginx and HAProxy for plain workers;
    - ``worker_address``: where its workers listen (127.0.0.1 when only the host itself fronts them);
    - ``fronts``: ``[{name, address}]`` of the other hosts whose HAProxy reaches its workers;
    - ``app_hosts``: for a front, ``[{name, address, apis, process_manager}]`` of the hosts it balances
      (the input of the filter plumber.hosting.proxy_backends), by host name.
    """
    servers = list(groups.get(SERVERS_GROUP) or [])
    fronts = list(groups.get(FRONTS_GROUP) or [])
    managers = {name: _process_manager(name, hostvars[name]) for name in sorted(set(servers + fronts) | {host})
                if name in servers}
    plain = sorted(name for name, manager in managers.items() if manager != 'compose')

    if fronts:
        for name in fronts:
            if managers.get(name) == 'compose':
                raise TopologyError('%s is in %s and runs compose, whose stack has its own front on port 80: '
                                    'a host is a front or a compose host, not both' % (name, FRONTS_GROUP))
        composed = sorted(name for name, manager in managers.items() if manager == 'compose')
        if composed:
            raise TopologyError('%s %s: the fronts of %s balance pm2, systemd and docker workers only; compose hosts '
                                'serve through their own stack (take them out of %s, or out of the inventory of '
                                'this front)' % (', '.join(composed), 'runs compose' if len(composed) == 1 else 'run compose',
                                                 FRONTS_GROUP, SERVERS_GROUP))
        if not plain:
            raise TopologyError('%s lists %s, but %s has no host: a front needs at least one app host to balance'
                                % (FRONTS_GROUP, ', '.join(fronts), SERVERS_GROUP))
        front_of = {name: sorted(fronts) for name in plain}
        balances = {name: plain for name in fronts}
    else:
        own = [name for name in plain if boolean(hostvars[name].get('plumber_front', True), strict=False)]
        front_of = {name: ([name] if name in own else []) for name in plain}
        balances = {name: [name] for name in own}

    def address(name):
        # Compose hosts (no entry) and hosts fronted by themselves only keep their workers on loopback.
        return LOOPBACK if front_of.get(name, []) in ([], [name]) else private_address(name, hostvars[name])

    result = dict(
        workers=host in servers,
        front=host in balances,
        worker_address=address(host) if host in managers else LOOPBACK,
        fronts=[dict(name=name, address=private_address(name, hostvars[name]))
                for name in front_of.get(host, []) if name != host],
        app_hosts=[dict(name=name, address=address(name), apis=hostvars[name].get('plumber_apis') or [],
                        process_manager=managers[name]) for name in balances.get(host, [])],
    )
    return result
