# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one data model of plumber.hosting: an API to host, and the host's process manager.

Every role reads ``plumber_apis`` through :func:`validate_apis` (via the action plugin
``plumber.hosting.validate_apis``), so the schema, its defaults and its cross-field rules live here
and nowhere else. ``tests/unit/test_schema_copies.py`` keeps the roles' argument_specs in step.
"""

from __future__ import annotations

import os
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.plumber.hosting.plugins.module_utils._r import (
    RConstraintError,
    parse_constraint,
    valid_package_name,
)

PROCESS_MANAGERS = ('pm2', 'systemd', 'docker', 'compose')

# A unix user/unit name and a URL segment and a DNS label at once.
NAME_RE = re.compile(r'^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$')
PATH_RE = re.compile(r'^/([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?$')
ENTRYPOINT_RE = re.compile(r'^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*[.][Rr]$')
REPO_URL_RE = re.compile(r'^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|file://)(/[A-Za-z0-9._~%!$&()*+,;=:@/-]*)?$')
ENV_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
FIRST_PORT = 8000
PORT_MIN, PORT_MAX = 1024, 65535
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

API_OPTIONS = dict(
    name=dict(type='str', required=True,
              description='Unique name: lower-case letters, digits and V(-), at most 32 characters. '
                          'Used as unix user suffix, unit/process name, compose service and default URL prefix.'),
    src=dict(type='path', description='Directory on the controller holding the API code (relative paths are looked up like M(ansible.builtin.copy) sources).'),
    git=dict(type='dict', options=GIT_OPTIONS, description='Git repository holding the API code, at a pinned ref. Exclusive with C(src).'),
    entrypoint=dict(type='str',
                    description='The file plumber loads, relative to the code directory. A file named C(entrypoint.R) is sourced '
                                'and must return the router, as C(plumb) does for a directory; any other file is an annotated '
                                'plumber file. Default: what C(plumb) finds in the directory, C(entrypoint.R) first, else C(plumber.R).'),
    path=dict(type='str', description='URL path prefix at the proxy, for example V(/sales). Default V(/<name>).'),
    workers=dict(type='int', default=1, description='Number of R worker processes (one port each).'),
    port=dict(type='int', description='First port; worker C(n) listens on C(port + n). '
                   'Default: the next free block after the APIs listed before it, starting at 8000.'),
    packages=dict(type='list', elements='raw', default=[],
                  description='R packages the API needs: names, or dicts with name, version, repos.'),
    env=dict(type='dict', default={}, no_log=True,
             description='Environment variables for the workers. Values are secrets: never logged, never returned.'),
    docs=dict(type='bool', default=False, description='Serve the Swagger/OpenAPI docs (off unless asked).'),
    health=dict(type='str', default='/healthz', description='Health-check path, answered by every worker.'),
    sticky=dict(type='bool', default=False,
                description='Sticky sessions at the load balancer: a cookie keeps a client on one worker (for APIs that keep state per process).'),
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
        raise APIError("%s.name %r is not a valid API name: use lower-case letters, digits and '-', "
                       "starting with a letter, at most 32 characters (no '/', spaces or '_')" % (where, name))
    if api['path'] is None:
        api['path'] = '/' + name
    if not PATH_RE.match(api['path']):
        raise APIError("%s.path %r is not a URL path prefix like '/%s' (leading '/', no trailing '/', "
                       "no spaces or query)" % (where, api['path'], name))
    if not 1 <= api['workers'] <= MAX_WORKERS:
        raise APIError('%s.workers %r must be between 1 and %d' % (where, api['workers'], MAX_WORKERS))
    entrypoint = api['entrypoint']
    if entrypoint is not None and (not ENTRYPOINT_RE.match(entrypoint) or '..' in entrypoint.split('/')):
        raise APIError('%s.entrypoint %r must be a relative path of an R file inside the code directory '
                       "(letters, digits, '.', '_', '-' and '/', ending in .R)" % (where, entrypoint))
    if not PATH_RE.match(api['health']) or api['health'] == '/':
        raise APIError("%s.health %r must be a URL path like '/healthz' (leading '/', letters, digits, '.', '_', '~', '-')"
                       % (where, api['health']))
    for key in api['env']:
        if not ENV_NAME_RE.match(str(key)):
            raise APIError('%s.env has an invalid variable name %r' % (where, key))
    api['env'] = dict((k, '' if v is None else str(v)) for k, v in api['env'].items())
    for key, value in api['env'].items():
        if '\x00' in value:
            # Only the name: values are secrets.
            raise APIError('%s.env.%s holds a NUL character, which no environment variable can hold' % (where, key))
    api['packages'] = [_validate_package('%s.packages[%d]' % (where, i), p) for i, p in enumerate(api['packages'])]
    return api


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

    next_port = FIRST_PORT
    taken = []
    for i, api in enumerate(result):
        if api['port'] is None:
            api['port'] = next_port
            while any(_overlap(api, other) for other in result[:i] + [a for a in result[i + 1:] if a['port'] is not None]):
                api['port'] += 1
        if not PORT_MIN <= api['port'] or api['port'] + api['workers'] - 1 > PORT_MAX:
            raise APIError('%s[%d].port %r: ports %d-%d must lie within %d-%d' % (
                var, i, api['port'], api['port'], api['port'] + api['workers'] - 1, PORT_MIN, PORT_MAX))
        for j, other in taken:
            if _overlap(api, other):
                raise APIError('%s[%d] (%s) ports %d-%d overlap %s[%d] (%s) ports %d-%d' % (
                    var, i, api['name'], api['port'], api['port'] + api['workers'] - 1,
                    var, j, other['name'], other['port'], other['port'] + other['workers'] - 1))
        taken.append((i, api))
        next_port = max(next_port, api['port'] + api['workers'])
        api['ports'] = list(range(api['port'], api['port'] + api['workers']))
    return result


def _overlap(a, b):
    return a['port'] < b['port'] + b['workers'] and b['port'] < a['port'] + a['workers']


def public_view(api):
    """The API as it may be shown and returned: environment values are secrets, only names leave."""
    view = dict((k, v) for k, v in api.items() if k != 'env')
    view['env_names'] = sorted(api['env'])
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
