# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one data model of plumber.hosting: an API to host, and the host's process manager.

Every role reads ``plumber_apis`` through :func:`validate_apis` (via the action plugin
``plumber.hosting.validate_apis``), so the schema, its defaults and its cross-field rules live here
and nowhere else. ``tests/unit/test_schema_copies.py`` keeps the roles' argument_specs in step.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.plumber.hosting.plugins.module_utils._r import (
    RConstraintError,
    parse_constraint,
    valid_package_name,
)

# The process managers a host can run its workers with, and what each needs. Every playbook and
# role asks this table (through plumber.hosting.validate_apis' `plan`) instead of listing them.
#   role        the role that runs the workers; it has a `retire` entry point that stops and
#               removes them, a no-op on a host where the role never ran
#   r_on_host   R runs on the host (plumber.hosting.r_runtime installs it, the code is loaded there
#               before it goes live); else R runs in one image per API (plumber.hosting.api_image),
#               built on the host's Docker engine (plumber.hosting.docker_engine)
PROCESS_MANAGERS = {
    'pm2': dict(role='plumber.hosting.pm2', r_on_host=True),
    'systemd': dict(role='plumber.hosting.systemd', r_on_host=True),
    'docker': dict(role='plumber.hosting.docker_workers', r_on_host=False),
    'compose': dict(role='plumber.hosting.compose', r_on_host=False),
}

# The grammars of the strings that reach the files the roles write (R code, unit files, nginx and
# HAProxy configuration, Dockerfiles, compose files). Each ends in \Z, not $: Python's $ also matches
# before a final newline.
# A unix user/unit name and a URL segment and a DNS label at once.
NAME_RE = re.compile(r'^[a-z]([a-z0-9-]{0,30}[a-z0-9])?\Z')
# NAME_RE in words, for the error messages.
NAME_RULE = "lower-case letters, digits and '-', starting with a letter, at most 32 characters"
# A URL path: segments of unreserved characters, none of them '.' or '..', at most MAX_PATH characters.
MAX_PATH = 200
_SEGMENT = r'(?!\.\.?(?:/|\Z))[A-Za-z0-9._~-]+'
PATH_RE = re.compile(r'^(?=.{1,%d}\Z)/(%s(/%s)*)?\Z' % (MAX_PATH, _SEGMENT, _SEGMENT))
ENTRYPOINT_RE = re.compile(r'^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*[.][Rr]\Z')
REPO_URL_RE = re.compile(r'^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|file://)(/[A-Za-z0-9._~%!$&()*+,;=:@/-]*)?\Z')
# At most 255 characters: R cannot set longer names.
ENV_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]{0,254}\Z')
# What git clone takes as a repository (never an option: no leading '-'), and a ref as git check-ref-format allows it.
_GIT_CHARS = r'[A-Za-z0-9._~%+,=:@/-]'
GIT_REPO_RE = re.compile(r'^((https?|ssh|git|file)://%s+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:%s+|/%s*)\Z' % (_GIT_CHARS, _GIT_CHARS, _GIT_CHARS))
GIT_REF_RE = re.compile(r'^(?![-/.])(?!.*(\.\.|//|/\.))[A-Za-z0-9._/+-]{1,255}(?<![./])(?<!\.lock)\Z')
# A version constraint's characters (parse_constraint checks its clauses).
CONSTRAINT_RE = re.compile(r'^[0-9.<>=!, -]{1,200}\Z')
PORT_MIN, PORT_MAX = 1024, 65535
# Default ports: a block of DEFAULT_PORT_BLOCK ports per API, where a hash of its name puts it, in
# DEFAULT_PORT_FIRST + DEFAULT_PORT_BLOCK * (0 .. DEFAULT_PORT_SLOTS - 1) (10000-29999, below the
# kernel's ephemeral ports). An API keeps its ports when others are added or removed.
DEFAULT_PORT_FIRST = 10000
DEFAULT_PORT_BLOCK = 8
DEFAULT_PORT_SLOTS = 2500
MAX_WORKERS = 64

PACKAGE_OPTIONS = dict(
    name=dict(type='str', required=True, description='R package name.'),
    version=dict(type='str', description="Version constraint: V(1.2.3) (exact) or clauses like V(>= 1.0, < 2.0)."),
    repos=dict(type='list', elements='str', description='CRAN-like repositories; default C(r_runtime_repos).'),
)

GIT_OPTIONS = dict(
    repo=dict(type='str', required=True, description='Git URL the server can clone.'),
    version=dict(type='str', required=True, description='Pinned ref: tag, branch or commit.'),
)

ACCESS_USER_OPTIONS = dict(
    user=dict(type='str', required=True, description="User name: letters, digits, V(.), V(_) and V(-)."),
    password=dict(type='str', required=True, no_log=True,
                  description='Password, from a vaulted variable. Stored on the front as a salted hash (apr1, as htpasswd writes it); '
                              'never logged, never returned.'),
)

ACCESS_OPTIONS = dict(
    allow=dict(type='list', elements='str', default=[],
               description='Client addresses or networks (V(10.0.0.0/8), V(192.0.2.7)) the front lets in; the others get 403. '
                           'V([]) lets every client in.'),
    basic_auth=dict(type='list', elements='dict', options=ACCESS_USER_OPTIONS, default=[],
                    description='HTTP basic authentication at the front: a request without the user and password of one of '
                                'these gets 401. V([]) for none.'),
    rate_limit=dict(type='int', default=0,
                    description='Requests per second one client address may send (bursts of as many pass at once); more get 429. '
                                'V(0) for no limit.'),
    cors_origins=dict(type='list', elements='str', default=[],
                      description='Browser origins (V(https://app.example.com)) allowed to call the API across origins, or V(["*"]) '
                                  'for any: the front answers preflight C(OPTIONS) requests itself and adds the '
                                  'C(Access-Control-Allow-*) headers. V([]) for none.'),
    cors_credentials=dict(type='bool', default=False,
                          description='Let allowed origins send cookies and credentials (C(Access-Control-Allow-Credentials)); '
                                      'not with V(*).'),
)
ACCESS_DEFAULTS = dict((key, option['default']) for key, option in ACCESS_OPTIONS.items())
ACCESS_USER_RE = re.compile(r'^[A-Za-z0-9._-]{1,64}\Z')
ORIGIN_RE = re.compile(r'^https?://[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?\Z')
MAX_RATE = 100000

RECYCLE_OPTIONS = dict(
    memory_mb=dict(type='int', default=0,
                   description='Resident memory (MiB) past which a worker is recycled, measured after each request. V(0) for no limit.'),
    requests=dict(type='int', default=0, description='Requests a worker answers before it is recycled. V(0) for no limit.'),
)
RECYCLE_DEFAULTS = dict((key, option['default']) for key, option in RECYCLE_OPTIONS.items())
MAX_RECYCLE_MB = 1048576
MAX_RECYCLE_REQUESTS = 1000000000

API_OPTIONS = dict(
    name=dict(type='str', required=True,
              description='Unique name: lower-case letters, digits and V(-), at most 32 characters. '
                          'Used as unix user suffix, unit/process name, compose service and default URL prefix.'),
    src=dict(type='path',
             description='Directory on the controller holding the API code. A relative path is looked up in the directory of '
                         'the inventory that defines the host (and of the other inventory sources), then in the playbook\'s '
                         'directory, then like M(ansible.builtin.copy) sources (the role\'s and the playbook\'s C(files/)); '
                         'C(~) expands.'),
    git=dict(type='dict', options=GIT_OPTIONS, description='Git repository holding the API code, at a pinned ref. Exclusive with C(src).'),
    entrypoint=dict(type='str',
                    description='The file plumber loads, relative to the code directory. A file named C(entrypoint.R) is sourced '
                                'and must return the router, as C(plumb) does for a directory; any other file is an annotated '
                                'plumber file. Default: what C(plumb) finds in the directory, C(entrypoint.R) first, else C(plumber.R).'),
    path=dict(type='str', description='URL path prefix at the proxy, for example V(/sales). Default V(/<name>).'),
    workers=dict(type='int', default=1, description='Number of R worker processes (one port each).'),
    port=dict(type='int', description='First port; worker C(n) (from 0) listens on C(port + n). '
                   'Default: a block of 8 ports between 10000 and 29999 chosen by a hash of the name, so an API keeps '
                   'its ports when other APIs are added or removed (two names whose blocks meet: set C(port) on one).'),
    packages=dict(type='list', elements='raw', default=[],
                  description='R packages the API needs: names, or dicts with name, version, repos.'),
    env=dict(type='dict', default={}, no_log=True,
             description='Environment variables for the workers. Values are secrets: never logged, never returned.'),
    docs=dict(type='bool', default=False, description='Serve the Swagger/OpenAPI docs (off unless asked).'),
    health=dict(type='str', default='/healthz', description='Health-check path, answered by every worker.'),
    sticky=dict(type='bool', default=False,
                description='Sticky sessions at the load balancer: a cookie keeps a client on one worker (for APIs that keep state per process).'),
    access=dict(type='dict', options=ACCESS_OPTIONS,
                description='Who may call the API, checked at the front (nginx) before a worker is asked; off unless set.'),
    recycle=dict(type='dict', options=RECYCLE_OPTIONS,
                 description='Restart a worker past a memory size or a number of requests (R processes grow over days), without '
                             'losing a request: it fails its health checks until the balancers stop sending it requests, '
                             'finishes the ones it has, exits, and its process manager starts a new one. Off unless set.'),
)
API_RULES = dict(
    mutually_exclusive=[['src', 'git']],
    required_one_of=[['src', 'git']],
)


def argument_spec(options):
    """The options as an argument_spec: the documentation keys removed, sub-options kept."""
    spec = {}
    for key, option in options.items():
        spec[key] = dict((k, argument_spec(v) if k == 'options' else v) for k, v in option.items() if k != 'description')
    return spec


class APIError(Exception):
    """Bad input: the message names the variable and the value."""


def _validate_one(index, raw, var):
    where = '%s[%d]' % (var, index)
    if not isinstance(raw, dict):
        raise APIError('%s must be a dict, got %s: %r' % (where, type(raw).__name__, raw))
    validator = ArgumentSpecValidator(argument_spec(API_OPTIONS), **API_RULES)
    result = validator.validate(raw)
    if result.error_messages:
        raise APIError('%s (name %r): %s' % (where, raw.get('name'), '; '.join(result.error_messages)))
    api = result.validated_parameters
    name = api['name']
    if not NAME_RE.match(name):
        raise APIError("%s.name %r is not a valid API name: use %s (no '/', spaces or '_')" % (where, name, NAME_RULE))
    if api['src'] is not None and any(ord(char) < 0x20 or ord(char) == 0x7f for char in api['src']):
        raise APIError('%s.src %r must be a directory path without control characters (newline, tab, NUL)' % (where, api['src']))
    if api['git'] is not None:
        if not GIT_REPO_RE.match(api['git']['repo']):
            raise APIError("%s.git.repo %r is not a Git URL: https://, ssh://, git:// or file:// URL, user@host:path or an "
                           "absolute path, without spaces, quotes or shell characters" % (where, api['git']['repo']))
        if not GIT_REF_RE.match(api['git']['version']):
            raise APIError("%s.git.version %r is not a Git ref (tag, branch or commit): letters, digits, '.', '_', '-', '+' "
                           "and '/', not starting with '-', '.' or '/', without '..' or '//'" % (where, api['git']['version']))
    if api['path'] is None:
        api['path'] = '/' + name
    if not PATH_RE.match(api['path']):
        raise APIError("%s.path %r is not a URL path prefix like '/%s' (leading '/', no trailing '/', "
                       "no spaces or query, no '.' or '..' segment, at most %d characters)" % (where, api['path'], name, MAX_PATH))
    if not 1 <= api['workers'] <= MAX_WORKERS:
        raise APIError('%s.workers %r must be between 1 and %d' % (where, api['workers'], MAX_WORKERS))
    entrypoint = api['entrypoint']
    if entrypoint is not None and (not ENTRYPOINT_RE.match(entrypoint) or '..' in entrypoint.split('/')):
        raise APIError('%s.entrypoint %r must be a relative path of an R file inside the code directory '
                       "(letters, digits, '.', '_', '-' and '/', ending in .R)" % (where, entrypoint))
    if not PATH_RE.match(api['health']) or api['health'] == '/':
        raise APIError("%s.health %r must be a URL path like '/healthz' (leading '/', letters, digits, '.', '_', '~', '-', "
                       "no '.' or '..' segment, at most %d characters)" % (where, api['health'], MAX_PATH))
    for key in api['env']:
        if not ENV_NAME_RE.match(str(key)):
            raise APIError("%s.env has an invalid variable name %r (letters, digits and '_', not starting with a digit, "
                           'at most 255 characters)' % (where, key))
    api['env'] = dict((k, '' if v is None else str(v)) for k, v in api['env'].items())
    for key, value in api['env'].items():
        if '\x00' in value:
            # Only the name: values are secrets.
            raise APIError('%s.env.%s holds a NUL character, which no environment variable can hold' % (where, key))
    api['packages'] = [_validate_package('%s.packages[%d]' % (where, i), p) for i, p in enumerate(api['packages'])]
    api['access'] = _validate_access(where + '.access', api['access'])
    api['recycle'] = dict(api['recycle'] or RECYCLE_DEFAULTS)
    for key, top in (('memory_mb', MAX_RECYCLE_MB), ('requests', MAX_RECYCLE_REQUESTS)):
        if not 0 <= api['recycle'][key] <= top:
            raise APIError('%s.recycle.%s %r must be a whole number from 0 (no limit) to %d' % (where, key, api['recycle'][key], top))
    return api


def ipv4_network(value):
    """``value`` as an IPv4 address (V(192.0.2.7)) or network without host bits (V(10.0.0.0/8)),
    written the way nginx and ufw take it; None when it is neither (or has spaces around it)."""
    try:
        network = ipaddress.IPv4Network(value) if isinstance(value, str) and value == value.strip() else None
    except ValueError:
        return None
    if network is None:
        return None
    return str(network.network_address) if network.prefixlen == 32 else str(network)


def _validate_access(where, access):
    if access is None:
        return dict(ACCESS_DEFAULTS, allow=[], basic_auth=[], cors_origins=[])
    allow = []
    for i, entry in enumerate(access['allow']):
        network = ipv4_network(entry)
        if network is None:
            raise APIError('%s.allow[%d] %r is not an IPv4 address or network like 10.0.0.0/8 (no host bits set)' % (where, i, entry))
        allow.append(network)
    users = []
    for i, entry in enumerate(access['basic_auth']):
        if not ACCESS_USER_RE.match(entry['user']):
            # The user only: the password is a secret.
            raise APIError("%s.basic_auth[%d].user %r is not a user name (letters, digits, '.', '_', '-', at most 64)"
                           % (where, i, entry['user']))
        if entry['user'] in [user['user'] for user in users]:
            raise APIError('%s.basic_auth[%d].user %r is listed twice' % (where, i, entry['user']))
        if not entry['password'] or '\x00' in entry['password']:
            raise APIError('%s.basic_auth[%d].password (user %s) must not be empty or hold a NUL character' % (where, i, entry['user']))
        users.append(dict(user=entry['user'], password=str(entry['password'])))
    if not 0 <= access['rate_limit'] <= MAX_RATE:
        raise APIError('%s.rate_limit %r must be a whole number of requests per second from 0 (no limit) to %d'
                       % (where, access['rate_limit'], MAX_RATE))
    origins = access['cors_origins']
    for i, origin in enumerate(origins):
        if origin != '*' and not ORIGIN_RE.match(origin):
            raise APIError("%s.cors_origins[%d] %r is not an origin like 'https://app.example.com' (scheme, host, port; "
                           "no path) or '*'" % (where, i, origin))
    if '*' in origins and (len(origins) > 1 or access['cors_credentials']):
        raise APIError("%s.cors_origins %r: '*' stands alone and without cors_credentials (browsers refuse credentials "
                       "for any origin)" % (where, origins))
    return dict(allow=allow, basic_auth=users, rate_limit=access['rate_limit'], cors_origins=list(origins),
                cors_credentials=access['cors_credentials'])


def _validate_package(where, raw):
    if isinstance(raw, str):
        raw = dict(name=raw)
    if not isinstance(raw, dict):
        raise APIError('%s must be a package name or a dict with name, version, repos; got %r' % (where, raw))
    unknown = sorted(set(raw) - set(PACKAGE_OPTIONS))
    if unknown:
        raise APIError('%s has unknown keys %s (allowed: %s)' % (where, ', '.join(unknown), ', '.join(PACKAGE_OPTIONS)))
    name = raw.get('name')
    if not isinstance(name, str) or not valid_package_name(name):
        raise APIError('%s.name %r is not a valid R package name' % (where, name))
    version = raw.get('version')
    if version is not None:
        version = str(version)
        try:
            if not CONSTRAINT_RE.match(version):
                raise RConstraintError("only digits, '.', '-', the operators == != >= <= > <, ',' and spaces")
            parse_constraint(version)
        except RConstraintError as exc:
            raise APIError('%s.version %r (package %s) is not a version constraint: %s' % (where, version, name, exc))
    repos = raw.get('repos')
    if repos is not None and (not isinstance(repos, list) or not all(isinstance(r, str) for r in repos)):
        raise APIError('%s.repos %r must be a list of repository URLs' % (where, repos))
    for repo in repos or []:
        if not REPO_URL_RE.match(repo):
            raise APIError('%s.repos: %r (package %s) is not a repository URL (http://, https:// or file://, '
                           'without spaces, quotes or backslashes)' % (where, repo, name))
    return dict(name=name, version=version, repos=repos)


def find_entrypoint(directory, entrypoint):
    """The file plumber loads from ``directory`` (relative), as plumb(dir = ...) finds it when entrypoint is None; or None."""
    if entrypoint is not None:
        return entrypoint if os.path.isfile(os.path.join(directory, entrypoint)) else None
    names = sorted(os.listdir(directory))
    for wanted in ('entrypoint.r', 'plumber.r'):
        found = [name for name in names if name.lower() == wanted and os.path.isfile(os.path.join(directory, name))]
        if found:
            return found[0]
    return None


def validate_packages(packages, var):
    """Validate a list of R package requirements (names or dicts) outside an API."""
    if not isinstance(packages, list):
        raise APIError('%s must be a list, got %r' % (var, packages))
    return [_validate_package('%s[%d]' % (var, i), p) for i, p in enumerate(packages)]


def validate_apis(apis, var='plumber_apis'):
    """Validate and normalise the list of APIs; raise APIError naming the variable and the value.

    Returns the APIs with every default filled in and the ports assigned.
    """
    if apis is None:
        return []
    if not isinstance(apis, list):
        raise APIError('%s must be a list of APIs, got %s: %r' % (var, type(apis).__name__, apis))
    result = [_validate_one(i, raw, var) for i, raw in enumerate(apis)]

    seen = {}
    for i, api in enumerate(result):
        for key in ('name', 'path'):
            other = seen.get((key, api[key]))
            if other is not None:
                raise APIError('%s[%d].%s %r is already used by %s[%d]' % (var, i, key, api[key], var, other))
            seen[(key, api[key])] = i

    for api in result:
        if api['port'] is None:
            api['port'] = default_port(api['name'])
            api['default_port'] = True
    taken = []
    for i, api in enumerate(result):
        if not PORT_MIN <= api['port'] or api['port'] + api['workers'] - 1 > PORT_MAX:
            raise APIError('%s[%d].port %r: ports %d-%d must lie within %d-%d' % (
                var, i, api['port'], api['port'], api['port'] + api['workers'] - 1, PORT_MIN, PORT_MAX))
        for j, other in taken:
            if _overlap(api, other):
                free = _free_port(result)
                raise APIError('%s[%d] (%s) %sports %d-%d overlap %s[%d] (%s) %sports %d-%d; set %s[%d].port to a free port%s' % (
                    var, i, api['name'], _default_word(api), api['port'], api['port'] + api['workers'] - 1,
                    var, j, other['name'], _default_word(other), other['port'], other['port'] + other['workers'] - 1,
                    var, i if api.get('default_port') or not other.get('default_port') else j,
                    '' if free is None else ', for example %d' % free))
        taken.append((i, api))
    for api in result:
        api.pop('default_port', None)
        api['ports'] = list(range(api['port'], api['port'] + api['workers']))
    return result


def default_port(name):
    """The first port of API ``name`` when it sets none: stable, whatever other APIs the host has."""
    slot = int.from_bytes(hashlib.sha256(name.encode('utf-8')).digest()[:4], 'big') % DEFAULT_PORT_SLOTS
    return DEFAULT_PORT_FIRST + DEFAULT_PORT_BLOCK * slot


def _default_word(api):
    return 'default ' if api.get('default_port') else ''


def _free_port(apis):
    """A free block start for the error message, or None."""
    for slot in range(DEFAULT_PORT_SLOTS):
        candidate = dict(port=DEFAULT_PORT_FIRST + DEFAULT_PORT_BLOCK * slot, workers=DEFAULT_PORT_BLOCK)
        if not any(_overlap(candidate, api) for api in apis):
            return candidate['port']
    return None


def _overlap(a, b):
    return a['port'] < b['port'] + b['workers'] and b['port'] < a['port'] + a['workers']


def public_view(api):
    """The API as it may be shown and returned: environment values and passwords are secrets, only names leave."""
    view = dict((k, v) for k, v in api.items() if k != 'env')
    view['env_names'] = sorted(api['env'])
    view['access'] = dict(api['access'], basic_auth=[dict(user=entry['user']) for entry in api['access']['basic_auth']])
    return view


def merge_packages(package_lists):
    """One requirement per R package: constraints from every list are combined, the first repos win."""
    merged = {}
    for packages in package_lists:
        for package in packages:
            current = merged.setdefault(package['name'], dict(name=package['name'], version=None, repos=None))
            if package['version'] and package['version'] not in (current['version'] or '').split(', '):
                current['version'] = ', '.join(filter(None, [current['version'], package['version']]))
            if current['repos'] is None:
                current['repos'] = package['repos']
    return list(merged.values())


def validate_process_manager(value, var='plumber_process_manager'):
    if value not in PROCESS_MANAGERS:
        raise APIError('%s %r is not a known process manager: choose one of %s' % (var, value, ', '.join(PROCESS_MANAGERS)))
    return value


def plan(process_manager):
    """The roles a host with this process manager runs, in order, and those whose workers it retires.

    ``roles``: what comes before the workers (R on the host, or Docker and the images; the code in
    any case); ``workers``: the role that runs them; ``retire``: the other process managers' roles,
    whose workers stop first when a host switches (their `retire` entry point).
    """
    traits = PROCESS_MANAGERS[process_manager]
    if traits['r_on_host']:
        roles = ['plumber.hosting.r_runtime', 'plumber.hosting.api']
    else:
        roles = ['plumber.hosting.api', 'plumber.hosting.docker_engine', 'plumber.hosting.api_image']
    return dict(
        process_manager=process_manager,
        r_on_host=traits['r_on_host'],
        roles=roles,
        workers=traits['role'],
        retire=[other['role'] for name, other in PROCESS_MANAGERS.items() if name != process_manager],
    )
