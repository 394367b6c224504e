#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: connect_deploy
short_description: Publish a plumber API to Posit Connect
version_added: 0.1.0
description:
  - Publishes the plumber API in directory O(src) as the content named O(name) on the Posit Connect server O(url), through
    Posit's own Python SDK for Connect (C(posit-sdk)).
  - Builds the bundle as Posit's tools write it for a plumber API (rsconnect's C(writeManifest)) - the files of O(src)
    with their MD5 checksums, and a C(manifest.json) with app mode C(api), the R version, and every R package the API
    needs with the fields of its C(DESCRIPTION) - from the R library of the host the module runs on. The packages are
    O(packages), those the code loads (C(library()), C(pkg::fn), ...), plumber, and what they need, recursively.
  - Finds the content by name or creates it; uploads the bundle and deploys it only when its manifest differs from the
    one of the bundle Connect serves (an unchanged API is not deployed again), follows the deployment task to its end,
    and fails with Connect's own log lines when it fails. The API keeps serving its previous bundle then.
  - Sets the runtime settings given (processes, connections, timeouts) and the environment variables O(env). Connect
    never returns the values of environment variables; the module records which values it set in the name of one extra
    variable (C(PLUMBER_HOSTING_ENV_<digest>)), so an unchanged O(env) changes nothing.
  - When O(src) holds a C(manifest.json) (rsconnect's C(writeManifest()), as for Connect's git-backed publishing), its R
    version and packages are used as they are and R is not needed; its file list and checksums are made anew.
  - Runs where the code is, usually the controller (C(delegate_to=localhost)). That host needs C(posit-sdk), and R with the
    API's packages installed unless O(src) holds a C(manifest.json).
author:
  - plumber.hosting contributors (@plumber-hosting)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The settings that would change, the variables that would be set, and the files of the bundle that would be added
        (C(+)), changed (C(~)) and removed (C(-)).
  platform:
    platforms: posix
requirements:
  - posit-sdk (Python)
  - R, with the API's packages installed, on the host the module runs on (unless O(src) holds a C(manifest.json))
options:
  url:
    description:
      - The Connect server, with its scheme (C(https://connect.example.com)). The environment variable C(CONNECT_SERVER)
        when unset.
    type: str
  api_key:
    description:
      - A Connect API key of a publisher. The environment variable C(CONNECT_API_KEY) when unset. Never logged; keep it in
        an Ansible Vault or an AWX credential.
    type: str
  name:
    description: The content's name on Connect (letters, digits, C(-) and C(_), at most 64), unique per owner.
    type: str
    required: true
  src:
    description:
      - Directory of the API, with C(plumber.R) or C(entrypoint.R) at its root. Version control and editor state,
        C(rsconnect/), C(packrat/) and renv's library are left out of the bundle.
    type: path
    required: true
  title:
    description: The content's title on Connect. Unset, left as it is (Connect shows the name).
    type: str
  description:
    description: The content's description on Connect. Unset, left as it is.
    type: str
  access_type:
    description: Who may call the API. Unset, left as it is (Connect's default for new content is C(acl)).
    type: str
    choices: [all, logged_in, acl]
  packages:
    description:
      - R packages the API needs besides those its code loads visibly (a package used through C(get()) or a string). Names
        only; the versions are those installed where the module runs.
    type: list
    elements: str
    default: []
  repository:
    description: The CRAN-like repository Connect installs the packages from (the manifest's C(Repository) of each).
    type: str
    default: https://cloud.r-project.org
  env:
    description:
      - Environment variables of the API (names as for R's C(Sys.getenv()); values are strings). Variables not listed are
        left alone unless O(purge_env). Never logged.
    type: dict
    default: {}
  purge_env:
    description: Remove the content's environment variables that O(env) does not list.
    type: bool
    default: false
  min_processes:
    description: Processes Connect keeps running. Unset, left as it is.
    type: int
  max_processes:
    description: Processes Connect may start. Unset, left as it is.
    type: int
  max_conns_per_process:
    description: Connections each process serves at once. Unset, left as it is.
    type: int
  load_factor:
    description: How eagerly Connect starts another process, from C(0.0) to C(1.0). Unset, left as it is.
    type: float
  idle_timeout:
    description: Seconds an idle process lives. Unset, left as it is.
    type: int
  init_timeout:
    description: Seconds a process may take to start. Unset, left as it is.
    type: int
  connection_timeout:
    description: Seconds a connection may go without data either way. Unset, left as it is.
    type: int
  read_timeout:
    description: Seconds a connection may go without data from the client. Unset, left as it is.
    type: int
  deploy_timeout:
    description: Seconds to wait for the deployment task to end.
    type: int
    default: 900
  r_executable:
    description: The Rscript that reads the installed packages' C(DESCRIPTION) files.
    type: str
    default: Rscript
  validate_certs:
    description: Verify Connect's TLS certificate.
    type: bool
    default: true
  ca_path:
    description: A PEM file of the CA that signed Connect's certificate, when it is not one the system trusts.
    type: path
seealso:
  - name: Posit Connect API reference
    description: The endpoints posit-sdk calls (content, bundles, deploy, tasks, environment).
    link: https://docs.posit.co/connect/api/
"""

EXAMPLES = r"""
- name: Publish the API to Connect
  plumber.hosting.connect_deploy:
    url: https://connect.example.com
    api_key: "{{ vault_connect_api_key }}"
    name: hello
    title: Hello API
    src: apis/hello
    access_type: logged_in
    min_processes: 1
    max_processes: 4
    env:
      GREETING: Howdy
  delegate_to: localhost
  register: hello_on_connect

- name: Show where it answers
  ansible.builtin.debug:
    msg: "{{ hello_on_connect.content_url }}"
"""

RETURN = r"""
guid:
  description: The content's GUID on Connect (empty in check mode for content that does not exist yet).
  returned: always
  type: str
content_url:
  description: Where the API answers.
  returned: always
  type: str
dashboard_url:
  description: The content's page in Connect's dashboard.
  returned: always
  type: str
bundle_id:
  description: The bundle Connect serves after this run.
  returned: always
  type: str
deployed:
  description: Whether a new bundle was deployed.
  returned: always
  type: bool
task_id:
  description: The deployment task, when one ran.
  returned: when deployed
  type: str
log:
  description: The deployment task's output lines.
  returned: when deployed, or when the deployment failed
  type: list
  elements: str
packages:
  description: The R packages of the bundle, as name and version.
  returned: always
  type: dict
"""

import os
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.plumber.hosting.plugins.module_utils._connect import (
    CONTENT_NAME_RE, ENV_DIGEST_PREFIX, ENV_NAME_RE, PACKAGES_RECORDS, PACKAGES_SCRIPT, URL_RE, BundleError, archive,
    bundle_files, env_digest_name, files_diff, manifest, manifest_from_file, manifest_of_archive, parse_dcf)
from ansible_collections.plumber.hosting.plugins.module_utils._r import R_ENVIRON, ROutputError, output_tail, parse_records
from ansible_collections.plumber.hosting.plugins.module_utils._rdeps import scan_tree

try:
    from posit.connect import Client
    from posit.connect.errors import ClientError
    import requests
except ImportError:
    HAS_POSIT_SDK, POSIT_SDK_ERROR = False, traceback.format_exc()
else:
    HAS_POSIT_SDK, POSIT_SDK_ERROR = True, None

SETTINGS = ('title', 'description', 'access_type', 'min_processes', 'max_processes', 'max_conns_per_process',
            'load_factor', 'idle_timeout', 'init_timeout', 'connection_timeout', 'read_timeout')


class Deployer:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.changed = False
        self.diff = []
        self.connect = None

    def fail(self, msg, **extra):
        self.module.fail_json(msg=msg, **extra)

    # --- input ----------------------------------------------------------------------------------

    def check_input(self):
        params = self.params
        if not params['url']:
            self.fail('url is not set and neither is CONNECT_SERVER: name the Connect server, as https://connect.example.com')
        if not URL_RE.match(params['url']):
            self.fail('url %r must be the Connect server with its scheme, as https://connect.example.com (letters, digits, '
                      '. and - in the host, an optional port and path)' % params['url'])
        if not params['api_key']:
            self.fail('api_key is not set and neither is CONNECT_API_KEY: give a Connect API key of a publisher')
        if not CONTENT_NAME_RE.match(params['name']):
            self.fail('name %r must be 1 to 64 letters, digits, - and _ (Connect\'s content names)' % params['name'])
        if not os.path.isdir(params['src']):
            self.fail('src %r is not a directory' % params['src'])
        for key, value in params['env'].items():
            if not ENV_NAME_RE.match(key) or key.startswith(ENV_DIGEST_PREFIX):
                self.fail('env: %r is not a variable name (letters, digits and _, not starting with a digit, not %s...)'
                          % (key, ENV_DIGEST_PREFIX))
            if not isinstance(value, str):
                self.fail('env.%s must be a string, got %s: quote it' % (key, type(value).__name__))
        if params['load_factor'] is not None and not 0.0 <= params['load_factor'] <= 1.0:
            self.fail('load_factor %r must be between 0.0 and 1.0' % params['load_factor'])
        for key in ('min_processes', 'max_processes', 'max_conns_per_process', 'idle_timeout', 'init_timeout',
                    'connection_timeout', 'read_timeout'):
            if params[key] is not None and params[key] < (0 if key == 'min_processes' else 1):
                self.fail('%s %r must be a positive number' % (key, params[key]))
        if params['min_processes'] is not None and params['max_processes'] is not None \
                and params['min_processes'] > params['max_processes']:
            self.fail('min_processes %d is more than max_processes %d' % (params['min_processes'], params['max_processes']))

    # --- the bundle -----------------------------------------------------------------------------

    def bundle(self):
        """(files, manifest) of src."""
        try:
            files = bundle_files(self.params['src'])
        except BundleError as exc:
            self.fail('src: %s' % exc)
        given = os.path.join(self.params['src'], 'manifest.json')
        if os.path.isfile(given):
            try:
                return files, manifest_from_file(given, files)
            except ValueError as exc:
                self.fail('src: %s' % exc)
        used = scan_tree(self.params['src'])
        wanted = sorted(set(['plumber'] + self.params['packages'] + [use['name'] for use in used]))
        rscript = self.module.get_bin_path(self.params['r_executable'], required=False) or self.params['r_executable']
        cmd = [rscript, '--vanilla', '-e', PACKAGES_SCRIPT] + wanted
        try:
            rc, stdout, stderr = self.module.run_command(cmd, environ_update=R_ENVIRON, expand_user_and_vars=False)
        except OSError as exc:
            self.fail('could not run %s to read the R packages of the bundle: %s' % (self.params['r_executable'], exc))
        if rc != 0:
            self.fail('%s could not read the installed R packages (rc %d): %s' % (rscript, rc, output_tail(stderr) or 'no output'))
        try:
            records = parse_records(stdout, PACKAGES_RECORDS)
        except ROutputError as exc:
            self.fail('could not parse the output of Rscript: %s' % exc, stdout=stdout, stderr=stderr)
        missing = [values[0] for key, values in records if key == 'missing']
        if missing:
            where = dict((use['name'], '%s:%d' % (use['file'], use['line'])) for use in used)
            self.fail('R packages the API needs are not installed where this module runs (%s), so their versions are '
                      'unknown: %s' % (rscript, ', '.join(name + (' (used at %s)' % where[name] if name in where else '')
                                                          for name in missing)))
        descriptions = {}
        for key, values in records:
            if key == 'package':
                descriptions[values[0]] = parse_dcf(bytes.fromhex(values[1]).decode('utf-8', errors='replace'))
        r_version = [values[0] for key, values in records if key == 'r'][-1]
        try:
            document = manifest(files, r_version, descriptions, self.params['repository'])
        except ValueError as exc:
            self.fail(to_native(exc))
        return files, document

    # --- Connect --------------------------------------------------------------------------------

    def client(self):
        client = Client(url=self.params['url'], api_key=self.params['api_key'])
        client.session.verify = self.params['ca_path'] or self.params['validate_certs']
        return client

    def call(self, what, function, *args, **kwargs):
        """function(*args, **kwargs), its failures as the module's: what it was doing and Connect's answer."""
        try:
            return function(*args, **kwargs)
        except ClientError as exc:
            self.fail('Connect refused to %s: %s (HTTP %s, error code %s)' % (what, exc.error_message, exc.http_status, exc.error_code))
        except requests.exceptions.RequestException as exc:
            self.fail('could not reach Connect at %s to %s: %s' % (self.params['url'], what, to_native(exc)))

    def settings_wanted(self, content):
        wanted = {}
        for key in SETTINGS:
            value = self.params[key]
            if value is not None and (content is None or content.get(key) != value):
                wanted[key] = value
        return wanted

    def active_manifest(self, content):
        if not content or not content.get('bundle_id'):
            return None
        response = self.call('download the bundle it serves', self.connect.get,
                             'v1/content/%s/bundles/%s/download' % (content['guid'], content['bundle_id']))
        return manifest_of_archive(response.content)

    def env_changes(self, content):
        """{name: value or None (delete)} to send, or {} when env is as this module last set it."""
        env = self.params['env']
        names = set(self.call('list its environment variables', content.environment_variables.find)) if content else set()
        digest = env_digest_name(content['guid'] if content else '', env)
        ours = set(name for name in names if name.startswith(ENV_DIGEST_PREFIX))
        extra = names - ours - set(env)
        if (not env or (digest in names and set(env) <= names)) and not (self.params['purge_env'] and extra):
            return {}
        changes = dict(env)
        changes.update((name, None) for name in ours if name != digest)
        if env:
            changes[digest] = '1'
        if self.params['purge_env']:
            changes.update((name, None) for name in extra)
        return changes

    def follow(self, task):
        """The output lines of the deployment task, once it ended; fails the module when it failed."""
        lines, first = [], 0
        deadline = time.monotonic() + self.params['deploy_timeout']
        while True:
            self.call('report the deployment', task.update, first=first, wait=1)
            output = task.get('output') or []
            lines.extend(output)
            first = task.get('last', first + len(output))
            if task.get('finished'):
                break
            if time.monotonic() > deadline:
                self.fail('the deployment of %s did not end within deploy_timeout (%d s); its log so far:\n%s'
                          % (self.params['name'], self.params['deploy_timeout'], '\n'.join(lines[-30:])), log=lines)
        if task.get('code'):
            self.fail('Connect could not deploy %s: %s\n%s' % (self.params['name'], task.get('error') or 'code %s' % task.get('code'),
                                                               '\n'.join(lines[-30:])), log=lines, task_id=task['id'])
        return lines

    def run(self):
        self.check_input()
        files, document = self.bundle()
        self.connect = client = self.client()
        content = self.call('find the content named %s' % self.params['name'], client.content.find_one, name=self.params['name'])
        result = dict(changed=False, deployed=False, guid='', content_url='', dashboard_url='', bundle_id='',
                      packages=dict((name, entry['description'].get('Version')) for name, entry in document['packages'].items()))

        settings = self.settings_wanted(content)
        if content is None:
            self.diff.append('+ content %s' % self.params['name'])
        for key, value in sorted(settings.items()):
            self.diff.append('~ %s: %r -> %r' % (key, content.get(key) if content else None, value))
        before = self.active_manifest(content)
        bundle_lines = files_diff(before, document) if before != document else []
        if before is not None and before != document and not bundle_lines:
            bundle_lines = ['~ manifest.json (R or packages)']
        env = self.env_changes(content) if content else (dict(self.params['env']) if self.params['env'] else {})
        for name in sorted(env):
            if not name.startswith(ENV_DIGEST_PREFIX):
                self.diff.append('%s env %s' % ('-' if env[name] is None else '~', name))
        self.diff.extend(bundle_lines if before is not None else ['+ ' + path for path in sorted(files)])
        deploy = before != document
        self.changed = content is None or bool(settings) or bool(env) or deploy

        if not self.module.check_mode:
            if content is None:
                content = self.call('create the content %s' % self.params['name'], client.content.create,
                                    name=self.params['name'], **settings)
                env = self.env_changes(content)
            elif settings:
                self.call('change the settings of %s' % self.params['name'], content.update, **settings)
            if env:
                self.call('set the environment variables of %s' % self.params['name'],
                          content.environment_variables.update, env)
            if deploy:
                bundle = self.call('take the bundle of %s' % self.params['name'], content.bundles.create, archive(files, document))
                task = self.call('deploy the bundle of %s' % self.params['name'], bundle.deploy)
                result['log'] = self.follow(task)
                result['task_id'] = task['id']
                result['deployed'] = True
                content = self.call('read the content %s' % self.params['name'], client.content.get, content['guid'])
        if content is not None:
            result.update(guid=content['guid'], content_url=content.get('content_url', ''),
                          dashboard_url=content.get('dashboard_url', ''), bundle_id=content.get('bundle_id') or '')
        result['changed'] = self.changed
        if self.module._diff:
            result['diff'] = dict(prepared='\n'.join(self.diff) + ('\n' if self.diff else ''))
        self.module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type='str', fallback=(env_fallback, ['CONNECT_SERVER'])),
            api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['CONNECT_API_KEY'])),
            name=dict(type='str', required=True),
            src=dict(type='path', required=True),
            title=dict(type='str'),
            description=dict(type='str'),
            access_type=dict(type='str', choices=['all', 'logged_in', 'acl']),
            packages=dict(type='list', elements='str', default=[]),
            repository=dict(type='str', default='https://cloud.r-project.org'),
            env=dict(type='dict', default={}, no_log=True),
            purge_env=dict(type='bool', default=False),
            min_processes=dict(type='int'),
            max_processes=dict(type='int'),
            max_conns_per_process=dict(type='int'),
            load_factor=dict(type='float'),
            idle_timeout=dict(type='int'),
            init_timeout=dict(type='int'),
            connection_timeout=dict(type='int'),
            read_timeout=dict(type='int'),
            deploy_timeout=dict(type='int', default=900),
            r_executable=dict(type='str', default='Rscript'),
            validate_certs=dict(type='bool', default=True),
            ca_path=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    if not HAS_POSIT_SDK:
        module.fail_json(msg=missing_required_lib('posit-sdk'), exception=POSIT_SDK_ERROR)
    Deployer(module).run()


if __name__ == '__main__':
    main()
