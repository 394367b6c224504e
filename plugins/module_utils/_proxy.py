# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The front door of plumber APIs: nginx (the router) and HAProxy (the balancer).

``plumber_proxy`` is the one variable the templates of the role plumber.hosting.proxy read. Its
options are written once, here (:data:`PROXY_OPTIONS`); the role's ``meta/argument_specs.yml``
holds a generated copy (``tests/harness/sync_schema.py``). :func:`validate_proxy` checks it with
the grammars nginx and HAProxy accept, :func:`proxy_backends` builds its backends from the
``plumber_apis`` of every host behind one front. Pure functions: no Ansible state is read.
"""

from __future__ import annotations

import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.plumber.hosting.plugins.module_utils._apis import (
    ACCESS_DEFAULTS,
    MAX_RATE,
    NAME_RE,
    NAME_RULE,
    ORIGIN_RE,
    PATH_RE,
    PROCESS_MANAGERS,
    APIError,
    argument_spec,
    ipv4_network,
    validate_apis,
)

TLS_OPTIONS = dict(
    port=dict(type='int', default=443, description='Port of the TLS listener.'),
    certificate=dict(type='str', required=True, description='Certificate file (PEM, the chain after the certificate) on the host running nginx.'),
    certificate_key=dict(type='str', required=True, description='Private key file of the certificate, on the host running nginx.'),
    redirect=dict(type='bool', default=True,
                  description='Plain HTTP answers every request with a redirect to HTTPS (ACME challenges aside); V(false) serves the APIs on both.'),
    hsts=dict(type='int', default=0,
              description='C(Strict-Transport-Security) max-age in seconds on HTTPS answers (V(63072000), two years); V(0) sends none.'),
)

ROUTER_OPTIONS = dict(
    listen=dict(type='list', elements='int', required=True, description='Ports nginx answers plain HTTP on, for example V([80]).'),
    server_name=dict(type='str', required=True,
                     description='V(_) for any host name, or the host names to answer for, separated by spaces '
                                 '(V(api.example.com), V(*.example.com)).'),
    balancer=dict(type='str', required=True,
                  description="C(host:port) of the balancer's frontend: V(haproxy:8080) (a compose service), V(127.0.0.1:8080)."),
    resolver=dict(type='str', default='',
                  description="IPv4 address of the DNS server that resolves a balancer given by name, per request (V(127.0.0.11), "
                              "Docker's), so a recreated balancer container is found again; V('') when the balancer is an address."),
    timeout=dict(type='int', required=True, description='Seconds a request may take (C(proxy_read_timeout), C(proxy_send_timeout)).'),
    client_max_body_size=dict(type='str', required=True,
                              description='Largest request body (uploads), nginx syntax: V(100m), V(1g); V(0) for no limit.'),
    tls=dict(type='dict', options=TLS_OPTIONS,
             description='A TLS listener on C(port) with these files (Mozilla\'s "intermediate" profile: TLS 1.2 and 1.3).'),
    htpasswd_dir=dict(type='str', default='',
                      description="Directory of the C(<name>.htpasswd) files of backends with C(access.basic_auth); V('') when none has it."),
    acme_webroot=dict(type='str', default='',
                      description="Directory nginx serves C(/.well-known/acme-challenge/) from on plain HTTP (certbot's C(--webroot)); V('') for none."),
    maintenance_dir=dict(type='str', default='',
                         description="The maintenance switch: while a file C(<maintenance_dir>/<name>) exists, the routes of backend C(name) "
                                     "but its health path answer 503 with the page C(<maintenance_dir>/maintenance.html); V('') for no switch."),
)

BALANCER_OPTIONS = dict(
    bind=dict(type='str', required=True,
              description='C([address]:port) of the one HAProxy frontend the router proxies to: V(:8080) (every address), V(127.0.0.1:8080).'),
    log=dict(type='str', required=True,
             description='HAProxy C(log) target and facility: V(stdout format raw local0) in a container, V(/dev/log local0) on a host.'),
    nameservers=dict(type='list', elements='str', default=[],
                     description="C(address:port) of the DNS servers that find the servers of C(server_template) backends "
                                 "(V([127.0.0.11:53]), Docker's); V([]) when every server is static."),
    timeout=dict(type='int', required=True, description='Seconds one request may take (server, client and queue timeouts).'),
    check_interval=dict(type='int', required=True, description='Seconds between two health checks of a server.'),
    check_timeout=dict(type='int', required=True,
                       description='Seconds a health check may take; a worker busy longer than this with one request counts as down '
                                   '(it gets no new requests) until it answers again.'),
    maxconn=dict(type='int', required=True, description='Requests in flight per server; V(0) for no limit.'),
    slow_start=dict(type='int', default=0,
                    description='Seconds over which a server that comes back up (restarted, or put back after a drain) '
                                'goes from a small share of the new requests to its full share; V(0) for at once.'),
    hold=dict(type='int', default=0,
              description='Seconds a request waits at HAProxy while its backend has no server in rotation (a one-worker API '
                          'restarting on a new release, every worker down), for one to come back, before the 503; V(0) answers '
                          '503 at once. Needs O(hold_script).'),
    hold_script=dict(type='str', default='',
                     description="Path, as HAProxy sees it, of the Lua action C(plumber_hold) (the proxy role's "
                                 "C(files/plumber-hold.lua), which the entry point C(configure) writes next to HAProxy's file); "
                                 "loaded when O(hold) is above 0."),
    cookie_key=dict(type='str', required=True,
                    description='Secret (letters and digits) mixed into the sticky cookies of C(server_template) backends.'),
    stats=dict(type='str', default='',
               description="C(address:port) of HAProxy's statistics page (every server's state, sessions and queue), "
                           "V(127.0.0.1:8404); V('') for none. Keep it on a loopback address: it has no password."),
    stats_socket=dict(type='str', default='',
                      description="Path of HAProxy's admin socket (C(show stat), C(disable server)), for root only; V('') for none."),
    user=dict(type='str', default='',
              description="System user (and group of the same name) HAProxy's workers drop to, V(haproxy); V('') to keep "
                          "the user it starts as (the upstream image's)."),
)

SERVER_TEMPLATE_OPTIONS = dict(
    host=dict(type='str', required=True, description='Name the nameservers answer with every server (a compose service name).'),
    port=dict(type='int', required=True, description='Port every server listens on.'),
    count=dict(type='int', required=True, description='Server slots: at most this many servers; a changed number of servers within them needs no reload.'),
)

BACKEND_ACCESS_OPTIONS = dict(
    allow=dict(type='list', elements='str', default=[], description='Client IPv4 addresses or networks let in; the others get 403. V([]) for all.'),
    basic_auth=dict(type='bool', default=False,
                    description='HTTP basic authentication with the users of C(<router.htpasswd_dir>/<name>.htpasswd); 401 without.'),
    rate_limit=dict(type='int', default=0, description='Requests per second per client address (bursts of as many); more get 429. V(0) for none.'),
    cors_origins=dict(type='list', elements='str', default=[],
                      description='Origins allowed across origins (V(https://app.example.com)), or V(["*"]); preflights answered by nginx.'),
    cors_credentials=dict(type='bool', default=False, description='C(Access-Control-Allow-Credentials: true) for the allowed origins.'),
)

BACKEND_OPTIONS = dict(
    name=dict(type='str', required=True,
              description='The API name: backend name, server names C(<name>1..N), sticky cookie C(plumber_<name>); nginx routes '
                          'to it with the request header C(X-Plumber-Backend).'),
    path=dict(type='str', required=True, description='Public URL prefix, stripped by nginx: V(/hello); V(/) serves the API at the root.'),
    health=dict(type='str', default='/healthz', description='Path every server answers with 200 when it is up.'),
    docs=dict(type='bool', default=False, description='C(<path>/__docs__) redirects to C(<path>/__docs__/) (the Swagger UI).'),
    sticky=dict(type='bool', default=False, description='A cookie keeps a client on one server while that server is up.'),
    server_template=dict(type='dict', options=SERVER_TEMPLATE_OPTIONS,
                         description='Servers found by DNS through C(balancer.nameservers) (the replicas of a compose service). '
                                     'Exclusive with C(servers).'),
    servers=dict(type='list', elements='str',
                 description='Static servers, C(host:port) each: V(["127.0.0.1:8000", "127.0.0.1:8001"]). Exclusive with C(server_template).'),
    access=dict(type='dict', options=BACKEND_ACCESS_OPTIONS,
                description="Who may call the API, checked by nginx (the API's C(access) in C(plumber_apis)); none when absent."),
)

PROXY_OPTIONS = dict(
    router=dict(type='dict', required=True, options=ROUTER_OPTIONS, description='How nginx answers.'),
    balancer=dict(type='dict', required=True, options=BALANCER_OPTIONS, description='How HAProxy runs.'),
    backends=dict(type='list', elements='dict', required=True, options=BACKEND_OPTIONS,
                  mutually_exclusive=[['server_template', 'servers']], required_one_of=[['server_template', 'servers']],
                  description='One per API, in the order they are rendered.'),
)

# Each grammar ends in \Z, not $: Python's $ also matches before a final newline.
_LABEL = r'[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
# A host name of at most 253 characters (DNS's limit); labels of at most 63.
HOST_NAME_RE = re.compile(r'^(?=.{1,253}\Z)%s(\.%s)*\Z' % (_LABEL, _LABEL))
SERVER_NAME_RE = re.compile(r'^(\*\.)?%s(\.%s)*\Z' % (_LABEL, _LABEL))
IPV4_RE = re.compile(r'^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\Z')
SIZE_RE = re.compile(r'^[0-9]+[kKmMgG]?\Z')
# An absolute path other than /: no spaces, no '.' or '..' segment, no empty segment, no trailing '/'.
FILE_RE = re.compile(r'^(/(?![.][.]?(/|\Z))[A-Za-z0-9._-]+)+\Z')
COOKIE_KEY_RE = re.compile(r'^[A-Za-z0-9]+\Z')
USER_RE = re.compile(r'^[a-z_][a-z0-9_-]{0,31}\Z')
_FACILITIES = 'kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|auth2|ftp|ntp|audit|alert|cron2|local[0-7]'
_LEVELS = 'emerg|alert|crit|err|warning|notice|info|debug'
LOG_RE = re.compile(r'^(?P<target>\S+)( len [0-9]+)?( format (raw|short|local|priority|timed|iso|rfc3164|rfc5424))? (%s)( (%s)( (%s))?)?\Z'
                    % (_FACILITIES, _LEVELS, _LEVELS))
NUMBERS = {
    'router.timeout': (1, 86400), 'router.tls.port': (1, 65535), 'router.tls.hsts': (0, 63072000),
    'balancer.timeout': (1, 86400), 'balancer.check_interval': (1, 3600), 'balancer.check_timeout': (1, 86400),
    'balancer.maxconn': (0, 10000), 'balancer.slow_start': (0, 3600), 'balancer.hold': (0, 3600),
}
MAX_SLOTS = 1024


class ProxyError(Exception):
    """Bad input: the message names the variable and the value."""


def plain(value):
    """The value as plain dicts, lists, strings and numbers.

    Filters get Ansible's lazily templated containers, which must not be deep-copied (as argument
    spec validation does): copies of them copy Ansible's plugin loaders.
    """
    if isinstance(value, dict):
        return dict((plain(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def _port(value):
    return value.isascii() and value.isdigit() and 1 <= int(value) <= 65535


def host_port(value, address_only=False):
    """True for C(host:port): an IPv4 address, or a host name unless address_only."""
    if not isinstance(value, str) or ':' not in value:
        return False
    host, port = value.rsplit(':', 1)
    return _port(port) and (IPV4_RE.match(host) is not None or (not address_only and HOST_NAME_RE.match(host) is not None))


def _log_target(target):
    return (target in ('stdout', 'stderr') or FILE_RE.match(target) is not None
            or IPV4_RE.match(target) is not None or host_port(target, address_only=True))


def _check(ok, where, value, rule):
    if not ok:
        raise ProxyError('%s %r %s' % (where, value, rule))


def validate_proxy(proxy, var='plumber_proxy'):
    """Validate and normalise ``plumber_proxy``; raise ProxyError naming the variable and the value.

    Returns it with the types converted and the defaults filled in; an absent C(tls),
    C(server_template) or C(servers) stays absent (the templates test whether they are defined).
    """
    if not isinstance(proxy, dict):
        raise ProxyError('%s must be a dict with router, balancer and backends, got %s: %r' % (var, type(proxy).__name__, proxy))
    _shape(proxy, PROXY_OPTIONS, var)
    result = ArgumentSpecValidator(argument_spec(PROXY_OPTIONS)).validate(proxy)
    if result.error_messages:
        raise ProxyError('%s: %s' % (var, '; '.join(result.error_messages)))
    checked = result.validated_parameters
    router, balancer, backends = checked['router'], checked['balancer'], checked['backends']
    if router['tls'] is None:
        del router['tls']
    for backend in backends:
        for key in ('server_template', 'servers'):
            if backend[key] is None:
                del backend[key]

    def where(key):
        return '%s.%s' % (var, key)

    for key, (low, high) in NUMBERS.items():
        section, _dot, name = key.partition('.')
        values = checked[section]
        if name.startswith('tls.'):
            values, name = values.get('tls') or {}, name[4:]
        if name in values:
            _check(low <= values[name] <= high, where(key), values[name], 'must be a whole number from %d to %d' % (low, high))
    _check(router['listen'], where('router.listen'), router['listen'], 'must list at least one port')
    for port in router['listen']:
        _check(1 <= port <= 65535, where('router.listen'), port, 'is not a port (1-65535)')
    _check(len(set(router['listen'])) == len(router['listen']), where('router.listen'), router['listen'], 'lists a port twice')
    names = router['server_name'].split(' ')
    _check(names == ['_'] or all(SERVER_NAME_RE.match(name) for name in names), where('router.server_name'), router['server_name'],
           "must be '_' (any host name) or host names separated by single spaces, like 'api.example.com *.example.org'")
    _check(host_port(router['balancer']), where('router.balancer'), router['balancer'],
           "must be host:port, the host an IPv4 address or a host name ('haproxy:8080', '127.0.0.1:8080')")
    _check(router['resolver'] == '' or IPV4_RE.match(router['resolver']), where('router.resolver'), router['resolver'],
           "must be an IPv4 address ('127.0.0.11'), or '' when the balancer is given by address")
    _check(SIZE_RE.match(router['client_max_body_size']), where('router.client_max_body_size'), router['client_max_body_size'],
           'is not an nginx size like 100m, 1g or 0 (no limit)')
    tls = router.get('tls') or {}
    for key in ('certificate', 'certificate_key'):
        if key in tls:
            _check(FILE_RE.match(tls[key]), where('router.tls.' + key), tls[key],
                   "must be an absolute file path (letters, digits, '.', '_', '-' and '/')")
    for key in ('htpasswd_dir', 'acme_webroot', 'maintenance_dir'):
        _check(router[key] == '' or FILE_RE.match(router[key]), where('router.' + key), router[key],
               "must be an absolute directory path (letters, digits, '.', '_', '-' and '/'), or '' for none")
    if tls:
        _check(tls['port'] not in router['listen'], where('router.tls.port'), tls['port'], 'is already a plain-HTTP port in router.listen')

    bind_host, _colon, bind_port = balancer['bind'].rpartition(':')
    _check(_colon and _port(bind_port) and (bind_host in ('', '*') or IPV4_RE.match(bind_host)), where('balancer.bind'), balancer['bind'],
           "must be [address]:port, the address an IPv4 address, '*' or empty for every address (':8080', '127.0.0.1:8080')")
    log = LOG_RE.match(balancer['log'])
    _check(log and _log_target(log.group('target')), where('balancer.log'), balancer['log'],
           "is not an HAProxy log target and facility like 'stdout format raw local0', '/dev/log local0' or '127.0.0.1:514 local0 info'")
    for nameserver in balancer['nameservers']:
        _check(host_port(nameserver, address_only=True), where('balancer.nameservers'), nameserver,
               "must be an IPv4 address and port ('127.0.0.11:53')")
    if balancer['stats']:
        _check(host_port(balancer['stats'], address_only=True), where('balancer.stats'), balancer['stats'],
               "must be an IPv4 address and port ('127.0.0.1:8404'), or '' for no statistics page")
    _check(balancer['stats_socket'] == '' or FILE_RE.match(balancer['stats_socket']), where('balancer.stats_socket'),
           balancer['stats_socket'], "must be an absolute file path ('/run/haproxy/admin.sock'), or '' for no socket")
    _check(balancer['hold'] == 0 or FILE_RE.match(balancer['hold_script']), where('balancer.hold_script'), balancer['hold_script'],
           "must be the absolute path of the Lua file plumber-hold.lua when balancer.hold is above 0 ('/etc/haproxy/plumber-hold.lua')")
    _check(balancer['user'] == '' or USER_RE.match(balancer['user']), where('balancer.user'), balancer['user'],
           "must be a system user name ('haproxy'), or '' to keep the user HAProxy starts as")
    _check(COOKIE_KEY_RE.match(balancer['cookie_key']), where('balancer.cookie_key'), balancer['cookie_key'],
           'must be letters and digits only')

    seen = {}
    for i, backend in enumerate(backends):
        at = where('backends[%d]' % i)
        _check(NAME_RE.match(backend['name']), at + '.name', backend['name'],
               'is not a backend name: ' + NAME_RULE)
        _check(PATH_RE.match(backend['path']), at + '.path', backend['path'],
               "is not a URL path prefix like '/hello' or '/' (leading '/', no trailing '/', no spaces or query)")
        _check(PATH_RE.match(backend['health']) and backend['health'] != '/', at + '.health', backend['health'],
               "must be a URL path like '/healthz' (leading '/', letters, digits, '.', '_', '~', '-')")
        for key in ('name', 'path'):
            other = seen.get((key, backend[key]))
            _check(other is None, '%s.%s' % (at, key), backend[key], 'is already used by %s[%s]' % (where('backends'), other))
            seen[(key, backend[key])] = i
        _check_access(at + '.access', backend, router)
        template = backend.get('server_template')
        if template is not None:
            _check(HOST_NAME_RE.match(template['host']), at + '.server_template.host', template['host'], 'is not a host name')
            _check(1 <= template['port'] <= 65535, at + '.server_template.port', template['port'], 'is not a port (1-65535)')
            _check(1 <= template['count'] <= MAX_SLOTS, at + '.server_template.count', template['count'],
                   'must be a whole number from 1 to %d' % MAX_SLOTS)
            _check(balancer['nameservers'], where('balancer.nameservers'), balancer['nameservers'],
                   'must list a DNS server: backend %r finds its servers by DNS (server_template)' % backend['name'])
        else:
            _check(backend['servers'], at + '.servers', backend['servers'], 'must list at least one server')
            for server in backend['servers']:
                _check(host_port(server), at + '.servers', server,
                       "must be host:port, the host an IPv4 address or a host name ('127.0.0.1:8000')")
    return checked


def _check_access(at, backend, router):
    access = backend.get('access')
    if access is None:
        backend.pop('access', None)
        return
    for i, entry in enumerate(access['allow']):
        _check(ipv4_network(entry) is not None, '%s.allow[%d]' % (at, i), entry,
               'is not an IPv4 address or network like 10.0.0.0/8 (no host bits set)')
    _check(0 <= access['rate_limit'] <= MAX_RATE, at + '.rate_limit', access['rate_limit'],
           'must be a whole number from 0 (no limit) to %d' % MAX_RATE)
    for i, origin in enumerate(access['cors_origins']):
        _check(origin == '*' or ORIGIN_RE.match(origin), '%s.cors_origins[%d]' % (at, i), origin,
               "is not an origin like 'https://app.example.com' or '*'")
    _check(not access['basic_auth'] or router['htpasswd_dir'], at.rsplit('.backends[', 1)[0] + '.router.htpasswd_dir',
           router['htpasswd_dir'], 'must name the directory of the users files: backend %r has access.basic_auth' % backend['name'])


def _shape(value, options, where):
    """Dicts and lists of dicts where the options say so (the argument spec validator trips over others)."""
    for key, option in options.items():
        if 'options' not in option or value.get(key) is None:
            continue
        items = value[key] if option['type'] == 'list' else [value[key]]
        if option['type'] == 'list' and not isinstance(items, list):
            raise ProxyError('%s.%s must be a list of dicts, got %r' % (where, key, items))
        for i, item in enumerate(items):
            at = '%s.%s' % (where, key) + ('[%d]' % i if option['type'] == 'list' else '')
            if not isinstance(item, dict):
                raise ProxyError('%s must be a dict, got %s: %r' % (at, type(item).__name__, item))
            _shape(item, option['options'], at)


def _host_entry(i, host, var):
    at = '%s[%d]' % (var, i)
    if not isinstance(host, dict):
        raise ProxyError('%s must be a dict with name, address, apis and process_manager, got %r' % (at, host))
    unknown = sorted(set(host) - {'name', 'address', 'apis', 'process_manager'})
    if unknown:
        raise ProxyError('%s has unknown keys %s (allowed: name, address, apis, process_manager)' % (at, ', '.join(unknown)))
    name = host.get('name')
    if not isinstance(name, str) or not name:
        raise ProxyError('%s.name %r must be the inventory name of the host' % (at, name))
    at = '%s (host %s)' % (at, name)
    if host.get('process_manager') not in PROCESS_MANAGERS:
        raise ProxyError('%s.process_manager %r is not a known process manager: choose one of %s'
                         % (at, host.get('process_manager'), ', '.join(PROCESS_MANAGERS)))
    address = host.get('address')
    if not isinstance(address, str) or not (IPV4_RE.match(address) or HOST_NAME_RE.match(address)):
        raise ProxyError('%s.address %r must be the IPv4 address or host name the front reaches the host at' % (at, address))
    return name, address, host['process_manager'], host.get('apis')


def _whole(value, var, low, high):
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if isinstance(value, bool) or number is None or str(number) != str(value).strip() or not low <= number <= high:
        raise ProxyError('%s %r must be a whole number from %d to %d' % (var, value, low, high))
    return number


def proxy_backends(hosts, sticky_all=False, compose_port=None, slots=None, var='hosts'):
    """The backends of ``plumber_proxy`` for every API of the hosts behind one front.

    ``hosts``: ``[{name, address, apis, process_manager}]``, ``apis`` the raw ``plumber_apis`` of
    that host. One backend per API name, in the order the APIs are listed, hosts taken by name: an
    API on pm2/systemd/docker hosts gets static servers (one per worker port, at the host's
    address, every host's), an API on a compose host a server_template (the replicas of its
    compose service, C(slots) server slots or twice its workers, whichever is more).
    """
    if not isinstance(hosts, list):
        raise ProxyError('%s must be a list of hosts, got %s: %r' % (var, type(hosts).__name__, hosts))
    try:
        sticky_all = boolean(sticky_all, strict=True)
    except TypeError:
        raise ProxyError('sticky_all %r is not a boolean' % (sticky_all,)) from None
    entries = sorted((_host_entry(i, host, var) for i, host in enumerate(hosts)), key=lambda entry: entry[0])
    for before, after in zip(entries, entries[1:]):
        if before[0] == after[0]:
            raise ProxyError('%s lists host %r twice' % (var, after[0]))
    if any(entry[2] == 'compose' for entry in entries):
        compose_port = _whole(compose_port, 'compose_port', 1, 65535)
        slots = _whole(slots, 'slots', 1, MAX_SLOTS)

    backends, owners, paths = {}, {}, {}
    for name, address, manager, raw in entries:
        try:
            apis = validate_apis(raw, var='hostvars[%r].plumber_apis' % name)
        except APIError as exc:
            raise ProxyError(str(exc)) from None
        for api in apis:
            backend = {'name': api['name'], 'path': api['path'], 'health': api['health'], 'docs': api['docs'],
                       'sticky': api['sticky'] or sticky_all}
            if api['access'] != ACCESS_DEFAULTS:
                # The users' passwords stay out: the role that writes the users files reads them from the APIs.
                backend['access'] = dict(api['access'], basic_auth=bool(api['access']['basic_auth']))
            if manager == 'compose':
                backend['server_template'] = {'host': api['name'], 'port': compose_port, 'count': max(2 * api['workers'], slots)}
            else:
                host = '[%s]' % address if ':' in address else address
                backend['servers'] = ['%s:%d' % (host, port) for port in api['ports']]
            _merge(backends, owners, paths, backend, name, manager)
    return list(backends.values())


def _merge(backends, owners, paths, backend, host, manager):
    """Add the backend of one API on one host: merged with the same API on earlier hosts."""
    name = backend['name']
    other = paths.get(backend['path'])
    if other is not None and other[1] != name:
        raise ProxyError("hostvars[%r].plumber_apis: API %r has path %r, which API %r of host %r has too "
                         "(paths must be unique across every host behind one front)" % (host, name, backend['path'], other[1], other[0]))
    paths.setdefault(backend['path'], (host, name))
    if name not in backends:
        backends[name], owners[name] = backend, (host, manager)
        return
    first, first_manager = owners[name]
    merged = backends[name]
    if 'compose' in (manager, first_manager):
        raise ProxyError("API %r is on host %r (%s) and on host %r (%s): an API of a compose host behind a front shared with "
                         "other hosts is not supported yet" % (name, first, first_manager, host, manager))
    for key in ('path', 'health', 'docs', 'sticky', 'access'):
        if merged.get(key) != backend.get(key):
            raise ProxyError('API %r has %s %r on host %r but %r on host %r: an API on several hosts behind one front must '
                             'have the same path, health, docs, sticky and access on each'
                             % (name, key, merged.get(key), first, backend.get(key), host))
    merged['servers'] = merged['servers'] + backend['servers']
