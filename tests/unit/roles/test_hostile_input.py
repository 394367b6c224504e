"""Hostile values in every string the collection writes into a file.

Every string field of the plumber_apis schema (taken from API_OPTIONS, its git options, and
PACKAGE_OPTIONS, so a new field is covered, or this test asks where it belongs), every string of
plumber_proxy (PROXY_OPTIONS) and the role variables that reach a file get each hostile value
below: alone, after a valid value, before it, and as a path segment after it. Then:

1. the schema (validate_apis, validate_proxy) or the role's preflight refuses it, naming the field
   and the value, exactly where the tables below say it must;
2. what is accepted is rendered into every template the roles write, by Ansible's template lookup
   in this process (the collection's filters and lookups as in the roles), and each file is
   read back in its own language: R files parse (one Rscript for all of them) and give the value
   back, the environment file gives it back through the loader's read_env, compose.yaml through a
   YAML parser; unit files, the Dockerfile, logrotate, nginx and HAProxy keep the shape of a file
   rendered with plain values (the same lines, directives, words and quoting characters).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess

import jinja2
import pytest
import yaml
# The collection's filters and tests resolve through the plugin loader tests/unit/conftest.py starts.
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import lookup_loader
from ansible.template import Templar, trust_as_template

from ansible_collections.plumber.hosting.plugins.module_utils._apis import (
    API_OPTIONS,
    PACKAGE_OPTIONS,
    APIError,
    public_view,
    validate_apis,
)
from ansible_collections.plumber.hosting.plugins.module_utils._loader import LOADER_R
from ansible_collections.plumber.hosting.plugins.module_utils._proxy import (
    PROXY_OPTIONS,
    ProxyError,
    proxy_backends,
    validate_proxy,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES = os.path.join(ROOT, 'roles')

HOSTILE = {
    'squote': "'", 'dquote': '"', 'backslash': '\\', 'newline': '\n', 'directive': '\nX=1', 'cr': '\r', 'braces': '{}',
    'jinja': '{{ 7 * 7 }}', 'jinja_block': '{% if true %}x{% endif %}', 'semicolon': ';', 'hash': '#', 'dollar': '$HOME',
    'dollar_brace': '${HOME}', 'backtick': '`id`', 'percent': '%i', 'dot': '.', 'dotdot': '..', 'dotdot_x': '../x',
    'nul': '\x00', 'space': ' ', 'tab': '\t', 'unicode': 'é€😀', 'line_separator': '\u2028', 'option': '--upload-pack=x',
    'long': 'a' * 10000, 'empty': '',
}
VARIANTS = ('alone', 'suffix', 'prefix', 'segment')


def variants(base):
    """(label, variant, value) for every hostile value around a valid one."""
    for label, hostile in HOSTILE.items():
        for variant in VARIANTS:
            if variant != 'alone' and hostile == '':
                continue
            yield label, variant, {'alone': hostile, 'suffix': base + hostile, 'prefix': hostile + base,
                                   'segment': base + '/' + hostile}[variant]


CONTROL = re.compile('[\x00-\x1f\x7f]')
# Characters no grammar of a value that reaches nginx, HAProxy, a unit file or a Dockerfile unquoted lets through.
DANGEROUS = re.compile('[\x00-\x1f\x7f\'"\\\\{};#$`%\u0080-\U0010ffff]')


# ---------------------------------------------------------------------------------------------
# The schema of plumber_apis: every string field, what must be refused.

BASE_API = {
    'name': 'hello', 'src': '/srv/hello', 'entrypoint': 'plumber.R', 'path': '/hello', 'health': '/healthz',
    'packages': [{'name': 'jsonlite', 'version': '>= 1.0', 'repos': ['https://cloud.r-project.org']}],
    'env': {'TOKEN': 's3cret'}, 'docs': True, 'sticky': True, 'workers': 2, 'port': 9000,
}
BASE_GIT = {'repo': 'https://example.org/hello.git', 'version': 'v1.0'}


def string_fields():
    """Every string of an API, as 'key', 'git.repo', 'packages[].name', 'packages[].repos[]', 'env name', 'env value'."""
    def walk(options, prefix):
        for key, option in options.items():
            if option['type'] in ('str', 'path'):
                yield prefix + key
            elif option['type'] == 'list' and option.get('elements') == 'str':
                yield prefix + key + '[]'
            elif option['type'] == 'dict' and 'options' in option:
                yield from walk(option['options'], prefix + key + '.')
            elif option['type'] == 'dict':
                yield prefix + key + ' name'
                yield prefix + key + ' value'
    yield from walk(API_OPTIONS, '')
    # packages: list of raw (a name or a dict of PACKAGE_OPTIONS).
    yield from walk(PACKAGE_OPTIONS, 'packages[].')


def base_value(field):
    return {'git.repo': BASE_GIT['repo'], 'git.version': BASE_GIT['version'], 'packages[].name': 'jsonlite',
            'packages[].version': '>= 1.0', 'packages[].repos[]': 'https://cloud.r-project.org',
            'env name': 'TOKEN', 'env value': 's3cret', 'access.allow[]': '10.0.0.0/8',
            'access.cors_origins[]': 'https://app.example.com'}.get(field, BASE_API.get(field))


def api_with(field, value):
    """The base API (a copy) with `value` in `field`."""
    raw = json.loads(json.dumps(BASE_API))
    if field.startswith('git.'):
        del raw['src']
        raw['git'] = dict(BASE_GIT, **{field[4:]: value})
    elif field.startswith('packages[].'):
        key = field[len('packages[].'):]
        if key == 'repos[]':
            raw['packages'][0]['repos'] = [value]
        else:
            raw['packages'][0][key] = value
    elif field.startswith('access.'):
        raw['access'] = {field[len('access.'):-2]: [value]}
    elif field == 'env name':
        raw['env'] = {value: 's3cret'}
    elif field == 'env value':
        raw['env'] = {'TOKEN': value}
    else:
        raw[field] = value
    return raw


def field_in_message(field):
    """How an error names the field: plumber_apis[0].path, plumber_apis[0].packages[0].repos, plumber_apis[0].env ..."""
    return {'packages[].name': 'plumber_apis[0].packages[0].name', 'packages[].version': 'plumber_apis[0].packages[0].version',
            'packages[].repos[]': 'plumber_apis[0].packages[0].repos', 'env name': 'plumber_apis[0].env',
            'env value': 'plumber_apis[0].env.TOKEN', 'access.allow[]': 'plumber_apis[0].access.allow[0]',
            'access.cors_origins[]': 'plumber_apis[0].access.cors_origins[0]'}.get(field, 'plumber_apis[0].' + field)


# What each field accepts of the hostile values: (label, variant) pairs, or a rule for free text.
# Everything else must be refused with an error naming the field.
ACCEPTED = {
    # [a-z0-9-], at most 32 characters.
    'name': set(),
    # A directory on the controller, any name: refused only with control characters (it reaches no file).
    'src': lambda value: not CONTROL.search(value),
    # https/ssh/git/file URL, user@host:path or an absolute path; never a leading '-'; no shell characters.
    'git.repo': {('dotdot', 'suffix'), ('dotdot_x', 'suffix'), ('dot', 'suffix'), ('long', 'suffix'), ('percent', 'suffix'),
                 ('option', 'suffix'), ('dotdot', 'segment'), ('dotdot_x', 'segment'), ('dot', 'segment'), ('long', 'segment'),
                 ('percent', 'segment'), ('option', 'segment')},
    # A git ref: no '..', no component starting with '.', no leading '-', at most 255 characters.
    'git.version': set(),
    # A relative .R file inside the code directory: no '..' component; escaped in R (r_literal).
    'entrypoint': {('dot', 'prefix'), ('dotdot', 'prefix'), ('long', 'prefix')},
    # A URL path: no '.' or '..' segment, at most 200 characters.
    'path': {('dot', 'suffix'), ('dotdot', 'suffix'), ('dotdot_x', 'suffix')},
    'health': {('dot', 'suffix'), ('dotdot', 'suffix'), ('dotdot_x', 'suffix')},
    # R's grammar of package names (escaped in R anyway).
    'packages[].name': {('long', 'alone'), ('long', 'suffix'), ('long', 'prefix')},
    # Digits, '.', '-', operators, ',' and spaces.
    'packages[].version': {('space', 'suffix'), ('space', 'prefix')},
    # http(s)/file URLs; '$', ';', '%' in the path are URL characters, escaped in R.
    'packages[].repos[]': {('dotdot', 'suffix'), ('dotdot_x', 'suffix'), ('dot', 'suffix'), ('long', 'suffix'),
                           ('dotdot', 'segment'), ('dotdot_x', 'segment'), ('dot', 'segment'), ('long', 'segment'),
                           ('dollar', 'segment'), ('semicolon', 'segment'), ('percent', 'segment'), ('option', 'segment')},
    # At most 255 characters (R cannot set a longer name).
    'env name': set(),
    # Free text (secrets): everything but NUL, escaped as JSON strings in the environment file.
    'env value': lambda value: '\x00' not in value,
    # IPv4 addresses and networks (Python's ipaddress), written into nginx's allow lines.
    'access.allow[]': set(),
    # scheme://host[:port], written into an nginx map key.
    'access.cors_origins[]': set(),
}


def accepted(field, label, variant, value):
    rule = ACCEPTED[field]
    return rule(value) if callable(rule) else (label, variant) in rule


def api_cases():
    for field in string_fields():
        for label, variant, value in variants(base_value(field)):
            yield field, label, variant, value


def test_every_string_field_has_a_rule():
    assert sorted(string_fields()) == sorted(ACCEPTED), 'a string field of the schema without a rule in ACCEPTED'


@pytest.mark.parametrize('field', sorted(ACCEPTED))
def test_the_schema_refuses_what_each_field_must_refuse(field):
    wrong = []
    for _field, label, variant, value in (case for case in api_cases() if case[0] == field):
        try:
            validate_apis([api_with(field, value)])
        except APIError as exc:
            if accepted(field, label, variant, value):
                wrong.append('%s %s: refused (%s)' % (label, variant, exc))
            elif not str(exc).startswith(field_in_message(field)):
                wrong.append('%s %s: the message does not name %s: %s' % (label, variant, field_in_message(field), exc))
            elif field != 'env value' and field != 'env name' and repr(value)[:40] not in str(exc):
                wrong.append('%s %s: the message does not show the value: %s' % (label, variant, exc))
            elif field == 'env value' and value in str(exc):
                wrong.append('%s %s: the message shows a secret: %s' % (label, variant, exc))
        else:
            if not accepted(field, label, variant, value):
                wrong.append('%s %s: accepted %r' % (label, variant, value[:60]))
    assert not wrong, '\n'.join(wrong)


# ---------------------------------------------------------------------------------------------
# The role variables that reach a file: refused by the role's preflight unless plain.

ROLE_VARS = {
    'api': {'api_user': 'plumber', 'api_group': 'plumber', 'api_home': '/srv/plumber', 'api_config_dir': '/etc/plumber',
            'api_bind_address': '127.0.0.1'},
    'systemd': {'systemd_memory_max': '1G', 'systemd_restart_sec': '1'},
    'pm2': {'pm2_log_retention_days': '14'},
    'api_image': {'api_image_base': 'rstudio/plumber:v1.2.0', 'api_image_r_repos[]': 'https://cloud.r-project.org'},
    'compose': {'compose_project_name': 'plumber', 'compose_project_dir': '/opt/plumber-compose',
                'compose_listen_address': '0.0.0.0', 'compose_http_port': '80', 'compose_client_max_body_size': '100m',
                'compose_nginx_image': 'nginx:1.27', 'compose_haproxy_image': 'haproxy:2.8',
                'compose_acme_webroot': '/var/lib/plumber-hosting/acme',
                'compose_tls.certificate': '/etc/plumber-hosting/tls/x/fullchain.pem',
                'compose_tls.certificate_key': '/etc/plumber-hosting/tls/x/privkey.pem', 'compose_tls.directories[]': '/etc/letsencrypt'},
    'proxy': {'proxy_http_port': '80', 'proxy_client_max_body_size': '100m', 'proxy_maintenance_dir': '/var/lib/plumber-hosting/maintenance'},
    # tls_reload_command has spaces by nature: test_tls_reload_command_is_one_plain_command.
    'tls': {'tls_domains[]': 'api.example.com', 'tls_acme_email': 'ops@example.com',
            'tls_acme_directory': 'https://acme-v02.api.letsencrypt.org/directory', 'tls_acme_webroot': '/var/lib/plumber-hosting/acme',
            'tls_compose_project_dir': '/opt/plumber-compose'},
}


def load_yaml(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle) or {}


def trusted(value):
    """A role's own YAML as Ansible reads it from a role: its strings are templates."""
    if isinstance(value, dict):
        return dict((key, trusted(item)) for key, item in value.items())
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return trust_as_template(value) if isinstance(value, str) else value


class Preflight:
    """The assert tasks of a role's tasks/preflight.yml, evaluated by Ansible's templar."""

    def __init__(self):
        self.loader = DataLoader()
        self.roles, self.verdicts = {}, {}

    def role(self, role):
        if role not in self.roles:
            base = {}
            for part in ('defaults', 'vars'):
                path = os.path.join(ROLES, role, part, 'main.yml')
                if os.path.exists(path):
                    base.update(trusted(load_yaml(path)))
            self.roles[role] = base, self.tasks(role, 'preflight.yml')
        return self.roles[role]

    def tasks(self, role, name, imported_vars=None):
        """The tasks of tasks/<name>, with the files it imports in their place (and the import's vars)."""
        tasks = []
        for task in trusted(load_yaml(os.path.join(ROLES, role, 'tasks', name))):
            task = dict(task, vars=dict(imported_vars or {}, **task.get('vars', {})))
            imported = task.get('ansible.builtin.import_tasks')
            tasks += self.tasks(role, imported, task['vars']) if imported else [task]
        return tasks

    def passes(self, role, variables, reads=None):
        """Whether the role's assert tasks pass (only those that mention `reads`, when given)."""
        key = (role, json.dumps(variables, sort_keys=True), reads)
        if key not in self.verdicts:
            self.verdicts[key] = self._passes(role, variables, reads)
        return self.verdicts[key]

    def _passes(self, role, variables, reads):
        base, tasks = self.role(role)
        base = dict(base, **variables)
        for task in tasks:
            check = task.get('ansible.builtin.assert')
            if check is None or (reads is not None and reads not in json.dumps([check['that'], task.get('loop')])):
                continue
            conditions = check['that'] if isinstance(check['that'], list) else [check['that']]
            scope = dict(base, **task.get('vars', {}))
            templar = Templar(loader=self.loader, variables=scope)
            when = task.get('when', [])
            if not all(templar.evaluate_expression(condition) for condition in (when if isinstance(when, list) else [when])):
                continue
            items = templar.template(task['loop']) if 'loop' in task else [None]
            for item in items:
                templar = Templar(loader=self.loader, variables=dict(scope, item=item))
                if not all(templar.evaluate_expression(condition) for condition in conditions):
                    return False
        return True


@pytest.fixture(scope='module')
def preflight():
    return Preflight()


def role_context_vars():
    """What the other preflight checks read (the APIs published by plumber.hosting.api)."""
    return {'api_service_account': {'user': 'plumber', 'group': 'plumber', 'home': '/srv/plumber'},
            'api_images': [{'name': 'hello', 'image': 'plumber-hello:0123456789ab'}], 'api_deployments': [],
            'tls_domains': ['api.example.com'], 'tls_acme_email': 'ops@example.com'}


def role_cases():
    for role, names in ROLE_VARS.items():
        for name, base in names.items():
            for label, variant, value in variants(base):
                yield role, name, label, variant, value


# Role variables whose being set adds lines (a port, mounts): their files are read back by the parsers.
LINES_ADDED_BY = ('compose_tls', 'compose_acme_webroot')
# The other keys of the dict variables, for 'variable.key' above; a list key gets the value appended.
ROLE_DICTS = {'compose_tls': {'certificate': '/etc/plumber-hosting/tls/x/fullchain.pem',
                              'certificate_key': '/etc/plumber-hosting/tls/x/privkey.pem',
                              'directories': ['/etc/plumber-hosting/tls/x']}}


def role_value(name, value):
    """The variables for one role variable set to value (a list for the list variables, a key of a dict
    variable for 'variable.key')."""
    if '.' in name:
        variable, key = name.split('.', 1)
        whole = dict(ROLE_DICTS[variable])
        if key.endswith('[]'):
            whole[key[:-2]] = whole.get(key[:-2], []) + [value]
        else:
            whole[key] = value
        return {variable: whole}
    return {name[:-2]: [value]} if name.endswith('[]') else {name: value}


def test_role_preflights_refuse_what_would_break_a_file(preflight):  # pylint: disable=redefined-outer-name
    wrong = []
    for role, name, label, variant, value in role_cases():
        # Repository URLs reach R only, escaped: '$', ';' and '%' are URL characters there.
        dangerous = DANGEROUS.search(value.replace('$', '').replace(';', '').replace('%', '') if name == 'api_image_r_repos[]' else value)
        if dangerous or ' ' in value:
            if preflight.passes(role, dict(role_context_vars(), **role_value(name, value)), name.rstrip('[]')):
                wrong.append('%s %s %s: accepted %r' % (name, label, variant, value[:60]))
    # The defaults pass.
    for role in ROLE_VARS:
        if not preflight.passes(role, role_context_vars()):
            wrong.append('the defaults of %s fail its preflight' % role)
    assert not wrong, '\n'.join(wrong)


# ---------------------------------------------------------------------------------------------
# plumber_proxy: every string, refused by validate_proxy unless plain.

BASE_PROXY = {
    'router': {'listen': [80], 'server_name': 'api.example.com', 'balancer': 'haproxy:8080', 'resolver': '127.0.0.11',
               'timeout': 300, 'client_max_body_size': '100m',
               'tls': {'port': 443, 'certificate': '/certs/cert.pem', 'certificate_key': '/certs/key.pem'},
               'acme_webroot': '/var/lib/plumber-hosting/acme', 'htpasswd_dir': '/etc/nginx/plumber-users',
               'maintenance_dir': '/var/lib/plumber-hosting/maintenance'},
    'balancer': {'bind': ':8080', 'log': 'stdout format raw local0', 'nameservers': ['127.0.0.11:53'], 'timeout': 300,
                 'check_interval': 2, 'check_timeout': 30, 'maxconn': 1, 'cookie_key': 'k' * 32,
                 'stats': '127.0.0.1:8404', 'stats_socket': '/run/haproxy/admin.sock', 'user': 'haproxy',
                 'hold': 10, 'hold_script': '/usr/local/etc/haproxy/plumber-hold.lua'},
    'backends': [
        {'name': 'hello', 'path': '/hello', 'health': '/healthz', 'docs': True, 'sticky': True,
         'servers': ['10.0.0.1:9000', '10.0.0.1:9001'],
         'access': {'allow': ['10.0.0.0/8'], 'basic_auth': True, 'rate_limit': 5, 'cors_origins': ['https://app.example.com'],
                    'cors_credentials': True}},
        {'name': 'tmpl', 'path': '/tmpl', 'health': '/healthz', 'docs': True, 'sticky': True,
         'server_template': {'host': 'tmpl', 'port': 8000, 'count': 8}},
    ],
}


def proxy_fields():
    """Every string of plumber_proxy: 'router.server_name', 'balancer.nameservers[]', 'backends[].servers[]' ..."""
    def walk(options, prefix):
        for key, option in options.items():
            if option['type'] == 'str':
                yield prefix + key
            elif option['type'] == 'list' and option.get('elements') == 'str':
                yield prefix + key + '[]'
            elif 'options' in option:
                yield from walk(option['options'], prefix + key + ('[].' if option['type'] == 'list' else '.'))
    return list(walk(PROXY_OPTIONS, ''))


def proxy_slot(proxy, field):
    """(container, key) of a field in the proxy: a backend's in the first backend that has it, a list's first item."""
    parts = field.split('.')
    node = proxy
    for part in parts[:-1]:
        if part == 'backends[]':
            node = proxy['backends'][1 if 'server_template' in parts else 0]
        else:
            node = node[part]
    if parts[-1].endswith('[]'):
        return node[parts[-1][:-2]], 0
    return node, parts[-1]


def proxy_base_value(field):
    container, key = proxy_slot(json.loads(json.dumps(BASE_PROXY)), field)
    return container[key]


def proxy_with(field, value):
    proxy = json.loads(json.dumps(BASE_PROXY))
    container, key = proxy_slot(proxy, field)
    container[key] = value
    return proxy


def proxy_cases():
    for field in proxy_fields():
        for label, variant, value in variants(proxy_base_value(field)):
            yield field, label, variant, value


def proxy_field_in_message(field):
    parts = field.split('.')
    if field.startswith('backends[]'):
        index = 1 if 'server_template' in field else 0
        return 'plumber_proxy.backends[%d].%s' % (index, '.'.join(parts[1:]).replace('[]', ''))
    return 'plumber_proxy.' + field.replace('[]', '')


def test_the_proxy_schema_refuses_what_would_break_out():
    wrong = []
    for field, label, variant, value in proxy_cases():
        try:
            validate_proxy(proxy_with(field, value))
        except ProxyError as exc:
            if not str(exc).startswith(proxy_field_in_message(field)) and not str(exc).startswith('plumber_proxy: '):
                wrong.append('%s %s %s: the message does not name %s: %s' % (field, label, variant, proxy_field_in_message(field), exc))
        else:
            if DANGEROUS.search(value) or (' ' in value and field not in ('router.server_name', 'balancer.log')):
                wrong.append('%s %s %s: accepted %r' % (field, label, variant, value[:60]))
    assert not wrong, '\n'.join(wrong)


# ---------------------------------------------------------------------------------------------
# Rendering: every accepted value, every template, one playbook run.

TEMPLATES = {
    'env': 'api/templates/api.env.j2',
    'wrapper': 'api/templates/run-api.R.j2',
    'unit': 'systemd/templates/plumber-api@.service.j2',
    'pm2_unit': 'pm2/templates/pm2.service.j2',
    'logrotate': 'pm2/templates/logrotate.j2',
    'dockerfile': 'api_image/templates/Dockerfile.j2',
    'packages': 'api_image/templates/packages.R.j2',
    'dockerignore': 'api_image/templates/.dockerignore.j2',
    'compose': 'compose/templates/compose.yaml.j2',
    'nginx': 'proxy/templates/plumber-nginx.conf.j2',
    'haproxy': 'proxy/templates/plumber-haproxy.cfg.j2',
}
PROXY_TEMPLATES = ('nginx', 'haproxy')
ROLE_FILES = [os.path.join(ROLES, role, part, 'main.yml') for role in ('api', 'systemd', 'pm2', 'api_image', 'compose', 'proxy')
              for part in ('defaults', 'vars') if os.path.exists(os.path.join(ROLES, role, part, 'main.yml'))]


class Setting:
    """One rendering context: an API (raw and validated) and the role variables, as the roles pass them."""

    def __init__(self, raw_api, overrides=None, proxy=None, plain_shape=True):
        # False for an empty value, which may leave a line out (systemd_memory_max '', router.resolver '').
        self.plain_shape = plain_shape
        self.raw = raw_api
        self.api = validate_apis([raw_api])[0]
        self.vars = {'api_user': 'plumber', 'api_group': 'plumber', 'api_home': '/srv/plumber', 'api_config_dir': '/etc/plumber',
                     'api_bind_address': '127.0.0.1', 'api_r_options': {}, 'systemd_memory_max': '1G', 'systemd_restart_sec': 1,
                     'pm2_log_retention_days': 14, 'api_image_base': 'rstudio/plumber:v1.2.0',
                     'api_image_r_repos': ['https://cloud.r-project.org'],
                     # Published by plumber.hosting.proxy's entry point maintenance; compose mounts it.
                     'proxy_maintenance': {'path': '/var/lib/plumber-hosting/maintenance'}}
        self.vars.update(overrides or {})
        self.proxy = proxy

    @property
    def deployment(self):
        """An item of api_deployments (plumber.hosting.api, tasks/deploy.yml)."""
        home, name = self.vars['api_home'], self.api['name']
        deployment = public_view(self.api)
        deployment.update(workdir='%s/%s/current' % (home, name), env_file='%s/%s.env' % (self.vars['api_config_dir'], name),
                          wrapper='%s/%s/run-%s.R' % (home, name, name), routes=[], undeclared_packages=[],
                          install_undeclared_packages=True, release='3f9a1c0b7d2e', previous_release='8be41d09c5a7',
                          config_checksum='0123-4567', revision=hashlib.sha1(b'revision').hexdigest())
        return deployment

    def template_vars(self, template):
        account = {'user': self.vars['api_user'], 'group': self.vars['api_group'], 'home': self.vars['api_home']}
        common = dict(self.vars, api_service_account=account)
        if template == 'env':
            return dict(common, api=public_view(self.api), _api_env=self.raw.get('env', {}))
        if template == 'wrapper':
            return dict(common, api=public_view(self.api))
        if template in ('unit', 'pm2_unit', 'logrotate', 'dockerfile', 'packages', 'dockerignore'):
            return dict(common, api=self.deployment)
        if template == 'compose':
            return dict(common, _compose_apis=[dict(self.deployment, image='plumber-%s:0123456789ab' % self.api['name'])],
                        _compose_uid='999', _compose_gid='998')
        return dict(common, plumber_proxy=self.plumber_proxy)

    @property
    def plumber_proxy(self):
        if self.proxy is not None:
            return validate_proxy(self.proxy)
        backends = proxy_backends([{'name': 'web1', 'address': '10.0.0.1', 'apis': [self.raw], 'process_manager': 'systemd'}])
        return validate_proxy(dict(BASE_PROXY, backends=backends))


@pytest.fixture(autouse=True, scope='module')
def jinja_compiles_once():
    """Ansible compiles a template's source again each time it renders it, the role defaults' templates
    included: thousands of compilations in this module, about half of its rendering time. In this module,
    a source is compiled once per set of environment settings that shape the code; the code is not changed."""
    original, cache = jinja2.Environment.compile, {}

    def compile_(env, source, name=None, filename=None, raw=False, defer_init=False):
        if not isinstance(source, str):
            return original(env, source, name, filename, raw, defer_init)
        key = (type(env), env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
               env.comment_start_string, env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
               env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline, env.optimized,
               env.is_async, env.autoescape, env.finalize, tuple(env.extensions), str(source), name, filename, raw, defer_init)
        if key not in cache:
            cache[key] = original(env, source, name, filename, raw, defer_init)
        return cache[key]

    jinja2.Environment.compile = compile_
    try:
        yield
    finally:
        jinja2.Environment.compile = original


def render_all(settings):
    """{(setting id, template): text} for every setting and template, rendered as a role's template task
    renders them: by Ansible's template lookup, with the roles' defaults and vars as templates and the
    setting's values as data."""
    loader = DataLoader()
    role_vars = {}
    for path in ROLE_FILES:
        role_vars.update(trusted(load_yaml(path)))
    lookup = lookup_loader.get('ansible.builtin.template', loader=loader, templar=Templar(loader=loader, variables=role_vars))
    # plumber_proxy reaches nginx's and HAProxy's files only: its settings render those two.
    return dict(((key, template), lookup.run([os.path.join(ROLES, path)], variables=role_vars,
                                             template_vars=setting.template_vars(template))[0])
                for key, setting in settings.items() for template, path in TEMPLATES.items()
                if template in PROXY_TEMPLATES or not key.startswith('proxy-'))


# --- the checks of each language ---

LINE_BREAKS = re.compile('[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]')
QUOTING = ';{}"\'#$%`\\'


def directive(word):
    """The directive or key a line starts with (`listen`, `User` of `User=plumber`); None for a value."""
    match = re.match(r'^([A-Za-z][A-Za-z0-9_-]*)(=|\Z)', word)
    return match.group(1) if match else None


def same_shape(text, baseline, ignore=''):
    """Problems when text has other lines, words or quoting characters than the baseline rendering."""
    lines, base = text.split('\n'), baseline.split('\n')
    if len(lines) != len(base):
        return ['%d lines, %d with plain values' % (len(lines), len(base))]
    problems = []
    for number, (line, expected) in enumerate(zip(lines, base), 1):
        if [directive(word) for word in line.split()[:1]] != [directive(word) for word in expected.split()[:1]] \
                or len(line.split()) != len(expected.split()):
            problems.append('line %d %r: other words than %r' % (number, line[:120], expected[:120]))
        for char in QUOTING:
            if char not in ignore and line.count(char) != expected.count(char):
                problems.append('line %d %r: %r %d times, %d with plain values' % (number, line[:120], char, line.count(char),
                                                                                   expected.count(char)))
    return problems


def common_problems(text, baseline):
    problems = []
    if '\x00' in text:
        problems.append('NUL in the file')
    if len(LINE_BREAKS.findall(text)) != len(LINE_BREAKS.findall(baseline)):
        problems.append('a line break other than \\n: %r' % LINE_BREAKS.findall(text))
    if text.count('\n') != baseline.count('\n'):
        problems.append('%d lines, %d with plain values' % (text.count('\n'), baseline.count('\n')))
    return problems


UNIT_LINE = re.compile(r'^(|[#;].*|\[[A-Za-z]+\]|[A-Za-z][A-Za-z0-9]*=.*)\Z')


def unit_problems(text, baseline, expected):
    problems = same_shape(text, baseline, ignore='%')
    keys = []
    for line in text.split('\n'):
        if not UNIT_LINE.match(line) or line.endswith('\\'):
            problems.append('not a unit file line: %r' % line[:120])
        elif '=' in line and not line.startswith(('#', ';')):
            keys.append(line.split('=', 1)[0])
            if '%' in line.split('=', 1)[1].replace('%i', ''):
                problems.append('a systemd specifier other than %%i: %r' % line[:120])
    base_keys = [line.split('=', 1)[0] for line in baseline.split('\n')
                 if UNIT_LINE.match(line) and '=' in line and not line.startswith('#')]
    if keys != base_keys:
        problems.append('keys %s, not %s' % (keys, base_keys))
    values = dict(line.split('=', 1) for line in text.split('\n') if '=' in line and not line.startswith('#'))
    for key, value in expected.items():
        if values.get(key) != value:
            problems.append('%s=%r, not %r' % (key, values.get(key), value))
    return problems


def dockerfile_problems(text, baseline, setting):
    problems = same_shape(text, baseline)
    instructions = [line.split()[0] for line in text.split('\n') if line.strip() and not line.startswith('#') and not line.startswith(' ')]
    expected = [line.split()[0] for line in baseline.split('\n') if line.strip() and not line.startswith('#') and not line.startswith(' ')]
    if instructions != expected:
        problems.append('instructions %s, not %s' % (instructions, expected))
    deployment = setting.deployment
    for line in text.split('\n'):
        if line.startswith('ENTRYPOINT '):
            if json.loads(line[len('ENTRYPOINT '):]) != ['Rscript', deployment['wrapper']]:
                problems.append('ENTRYPOINT %r' % line)
        if line.startswith('  CMD '):
            command = json.loads(line[len('  CMD '):])
            if "'%s'" % deployment['health'] not in command[-1]:
                problems.append('HEALTHCHECK without the health path %r: %r' % (deployment['health'], line))
        if line.startswith('FROM ') and line != 'FROM ' + setting.vars['api_image_base']:
            problems.append('FROM %r' % line)
    return problems


def env_problems(text, setting):
    """The environment file as the loader reads it: NAME="JSON string" per line."""
    problems, found = [], {}
    for line in text.split('\n'):
        if not line or line.startswith('#'):
            continue
        match = re.match(r'^([A-Za-z_][A-Za-z0-9_]*)=(".*")\Z', line)
        if not match:
            problems.append('not NAME="value": %r' % line[:120])
            continue
        found[match.group(1)] = json.loads(match.group(2))
    if found != setting.api['env']:
        problems.append('read back %r, not %r' % (sorted(found)[:5], sorted(setting.api['env'])[:5]))
    return problems


def compose_problems(text, setting):
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return ['not YAML: %s' % exc]
    problems = []
    deployment = setting.deployment
    name = deployment['name']
    if list(data['services']) != [name, 'haproxy', 'nginx']:
        problems.append('services %r' % list(data['services']))
        return problems
    service = data['services'][name]
    data_dir = os.path.dirname(deployment['workdir']) + '/data'
    expected = {'image': 'plumber-%s:0123456789ab' % name, 'labels': {'plumber.hosting.api': name},
                'volumes': [{'type': 'bind', 'source': data_dir, 'target': data_dir},
                            {'type': 'bind', 'source': deployment['env_file'], 'target': deployment['env_file'], 'read_only': True}]}
    for key, value in expected.items():
        if service.get(key) != value:
            problems.append('%s: %r, not %r' % (key, service.get(key), value))
    if data['name'] != setting.vars.get('compose_project_name', 'plumber'):
        problems.append('name %r' % data['name'])
    router = data['services']['nginx']
    address, tls = setting.vars.get('compose_listen_address', '0.0.0.0'), setting.vars.get('compose_tls') or {}
    ports = ['%s:%s:80' % (address, setting.vars.get('compose_http_port', 80))] + (['%s:443:443' % address] if tls else [])
    if router['ports'] != ports:
        problems.append('ports %r' % router['ports'])
    project_dir = setting.vars.get('compose_project_dir', '/opt/plumber-compose')
    if router['volumes'][0]['source'] != project_dir + '/nginx':
        problems.append('nginx volume %r' % router['volumes'])
    # The users files, the maintenance switch, the certificate's directories, the ACME challenges: each at its own path, read-only.
    mounts = [project_dir + '/users', setting.vars['proxy_maintenance']['path']]
    if tls:
        mounts += tls.get('directories') or list(dict.fromkeys(os.path.dirname(tls[key]) for key in ('certificate', 'certificate_key')))
    mounts += [setting.vars['compose_acme_webroot']] if setting.vars.get('compose_acme_webroot') else []
    if router['volumes'][1:] != [{'type': 'bind', 'source': path, 'target': path, 'read_only': True} for path in mounts]:
        problems.append('nginx mounts %r, not %r' % (router['volumes'][1:], mounts))
    return problems


def proxy_problems(kind, text, baseline):
    problems = same_shape(text, baseline, ignore='\\' if kind == 'nginx' else '')
    if text.count('{') != text.count('}'):
        problems.append('unbalanced braces')
    return problems


# --- R: one Rscript for every R file and environment file ---

R_CHECK = LOADER_R + r'''
hex <- function(x) if (is.character(x) && length(x) == 1L) paste(as.character(charToRaw(enc2utf8(x))), collapse = "") else x
signature <- function(exprs) vapply(as.list(exprs), function(e) {
  if (!is.call(e)) return(class(e)[[1L]])
  head <- paste(deparse(e[[1L]]), collapse = "")
  if (head %in% c("<-", "=")) paste(head, paste(deparse(e[[2L]]), collapse = "")) else head
}, character(1L))
jobs <- jsonlite::fromJSON(commandArgs(trailingOnly = TRUE)[[1L]], simplifyVector = FALSE)
results <- list()
for (job in jobs) {
  results[[job$id]] <- tryCatch({
    if (job$kind == "env") {
      Sys.unsetenv(unlist(job$names))
      .plumber_hosting$read_env(job$file)
      list(values = lapply(job$names, function(name) hex(Sys.getenv(name, unset = NA))))
    } else {
      exprs <- parse(job$file, keep.source = FALSE, encoding = "UTF-8")
      found <- list()
      for (e in as.list(exprs)) {
        if (is.call(e) && identical(e[[1L]], as.name("<-")) && identical(e[[2L]], as.name("env_file"))) found$env_file <- hex(eval(e[[3L]], baseenv()))
        if (is.call(e) && identical(e[[1L]], as.name("<-")) && identical(e[[2L]], as.name("pr"))) {
          args <- as.list(e[[3L]])[-1L]
          for (key in setdiff(names(args), c("worker", "options"))) found[[key]] <- hex(eval(args[[key]], baseenv()))
        }
        if (is.call(e) && identical(e[[1L]], as.name("ph_install_packages"))) {
          packages <- eval(e[[2L]], baseenv())
          found$packages <- lapply(packages, function(p) list(name = hex(p$name), version = hex(p$version), repos = lapply(p$repos, hex)))
          found$repos <- lapply(eval(e[[3L]], baseenv()), hex)
        }
      }
      list(signature = signature(exprs), found = found)
    }
  }, error = function(e) list(error = conditionMessage(e)))
}
writeLines(jsonlite::toJSON(results, auto_unbox = TRUE, null = "null"), commandArgs(trailingOnly = TRUE)[[2L]])
'''


def hexed(text):
    return text.encode('utf-8').hex()


def r_expectations(kind, setting):
    """What the R file gives back, hex-encoded as R_CHECK writes it."""
    api, deployment = setting.api, setting.deployment
    home, name = setting.vars['api_home'], api['name']
    if kind == 'env':
        return {'values': [hexed(api['env'][key]) for key in sorted(api['env'])]}
    if kind == 'wrapper':
        return {'env_file': hexed(deployment['env_file']), 'dir': hexed(deployment['workdir']),
                'entrypoint': hexed(api['entrypoint'] or ''), 'health': hexed(api['health']), 'docs': api['docs'],
                'name': hexed(name), 'data': hexed('%s/%s/data' % (home, name))}
    repos = [hexed(repo) for repo in setting.vars['api_image_r_repos']]
    return {'packages': [{'name': hexed(p['name']), 'version': hexed(p['version'] or ''),
                          'repos': [hexed(r) for r in (p['repos'] or setting.vars['api_image_r_repos'])]} for p in api['packages']],
            'repos': repos}


def r_problems(tmp_path, rendered, settings):
    """Parse and evaluate every R file and environment file in one Rscript: {(key, template): [problem]}."""
    jobs, files = [], tmp_path / 'files'
    files.mkdir()
    for number, ((key, template), text) in enumerate(sorted(rendered.items())):
        if template in ('env', 'wrapper', 'packages'):
            path = files / ('%d.%s' % (number, template))
            path.write_bytes(text.encode('utf-8'))
            job = {'id': '%s|%s' % (key, template), 'kind': template, 'file': str(path)}
            if template == 'env':
                job['names'] = sorted(settings[key].api['env'])
            jobs.append(job)
    (tmp_path / 'check.R').write_text(R_CHECK, encoding='utf-8')
    (tmp_path / 'jobs.json').write_text(json.dumps(jobs), encoding='utf-8')
    cmd = subprocess.run(['Rscript', '--vanilla', str(tmp_path / 'check.R'), str(tmp_path / 'jobs.json'), str(tmp_path / 'r.json')],
                         capture_output=True, text=True, check=False, timeout=300)
    assert cmd.returncode == 0, cmd.stderr[-5000:]
    results = json.loads((tmp_path / 'r.json').read_text(encoding='utf-8'))
    problems = {}
    for job in jobs:
        key, template = job['id'].split('|')
        result, found = results[job['id']], []
        baseline = results.get('baseline|' + template, {})
        if 'error' in result:
            found.append('R: %s' % result['error'])
        elif template == 'env':
            if result['values'] != r_expectations('env', settings[key])['values']:
                found.append('read_env gives other values than the API has')
        else:
            if result['signature'] != baseline.get('signature'):
                found.append('other R expressions than with plain values: %s' % result['signature'])
            for name, value in r_expectations(template, settings[key]).items():
                if result['found'].get(name) != value:
                    found.append('R gives %s = %r, not %r' % (name, result['found'].get(name), value))
        problems[(key, template)] = found
    return problems


def rendering_settings():
    """Every accepted hostile value in its own setting, and the baseline."""
    settings = {'baseline': Setting(BASE_API)}
    for number, (field, label, variant, value) in enumerate(api_cases()):
        # Free text: its prefix and segment variants render as its suffix does.
        if callable(ACCEPTED[field]) and variant in ('prefix', 'segment'):
            continue
        if accepted(field, label, variant, value):
            settings['api-%d %s %s %s' % (number, field, label, variant)] = Setting(api_with(field, value))
    return settings


@pytest.mark.skipif(not shutil.which('Rscript'), reason='needs R (Rscript) with jsonlite')
def test_accepted_values_reach_every_file_escaped(tmp_path, preflight):  # pylint: disable=redefined-outer-name
    settings = rendering_settings()
    # Role variables: every hostile value their preflight lets through.
    for number, (role, name, label, variant, value) in enumerate(role_cases()):
        if preflight.passes(role, dict(role_context_vars(), **role_value(name, value)), name.rstrip('[]')):
            plain_shape = bool(value) and not name.startswith(LINES_ADDED_BY)
            settings['var-%d %s %s %s' % (number, name, label, variant)] = Setting(BASE_API, role_value(name, value), plain_shape=plain_shape)
    # plumber_proxy: every hostile value validate_proxy lets through.
    for number, (field, label, variant, value) in enumerate(proxy_cases()):
        proxy = proxy_with(field, value)
        try:
            validate_proxy(proxy)
        except ProxyError:
            continue
        settings['proxy-%d %s %s %s' % (number, field, label, variant)] = Setting(BASE_API, proxy=proxy, plain_shape=bool(value))
    settings['proxy-baseline'] = Setting(BASE_API, proxy=BASE_PROXY)

    rendered = render_all(settings)
    from_r = r_problems(tmp_path, rendered, settings)
    wrong = []
    for (key, template), text in sorted(rendered.items()):
        setting = settings[key]
        base_key = 'proxy-baseline' if key.startswith('proxy-') else 'baseline'
        # An empty value may leave a line out: its file is its own baseline, read by the parsers only.
        baseline = rendered[(base_key, template)] if setting.plain_shape else text
        problems = common_problems(text, baseline) + from_r.get((key, template), [])
        deployment = setting.deployment
        if template == 'env':
            problems += env_problems(text, setting)
        elif template == 'unit':
            problems += unit_problems(text, baseline, {
                'User': setting.vars['api_user'], 'Group': setting.vars['api_group'], 'WorkingDirectory': deployment['workdir'],
                'ExecStart': '/usr/bin/Rscript %s %%i' % deployment['wrapper'],
                'ReadWritePaths': os.path.dirname(deployment['workdir']) + '/data'})
        elif template == 'pm2_unit':
            problems += unit_problems(text, baseline, {'User': setting.vars['api_user'],
                                                       'PIDFile': setting.vars['api_home'] + '/.pm2/pm2.pid'})
        elif template in ('logrotate', 'dockerignore'):
            problems += same_shape(text, baseline)
        elif template == 'dockerfile':
            problems += dockerfile_problems(text, baseline, setting)
        elif template == 'compose':
            problems += compose_problems(text, setting)
        elif template in ('nginx', 'haproxy'):
            problems += proxy_problems(template, text, baseline)
        wrong.extend('%s, %s: %s' % (key, TEMPLATES[template], problem) for problem in problems)
    assert not wrong, '\n'.join(wrong[:60])


@pytest.mark.parametrize('command, accepted', [
    ('', True),
    ('systemctl reload nginx', True),
    ('docker compose --project-directory /opt/plumber-compose exec -T nginx nginx -s reload', True),
    ('systemctl reload nginx; rm -rf /', False),
    ('systemctl reload nginx && curl x', False),
    ('systemctl reload $(id)', False),
    ('systemctl reload nginx\nreboot', False),
    ("systemctl reload 'nginx'", False),
])
def test_tls_reload_command_is_one_plain_command(preflight, command, accepted):  # pylint: disable=redefined-outer-name
    variables = dict(role_context_vars(), tls_reload_command=command.replace('\\n', '\n'))
    assert preflight.passes('tls', variables, 'tls_reload_command') is accepted
