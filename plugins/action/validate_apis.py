# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate plumber_apis on the controller, before any task touches a host."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

try:  # ansible-core 2.19+: values read from a vault keep a tag through templating.
    from ansible.parsing.vault import VaultHelper
except ImportError:  # pragma: no cover
    VaultHelper = None

from ansible_collections.plumber.hosting.plugins.module_utils._apis import (
    APIError,
    find_entrypoint,
    merge_packages,
    plan,
    public_view,
    validate_apis,
    validate_packages,
    validate_process_manager,
)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False

    # The module's documented options (plugins/modules/validate_apis.py), checked as a module checks
    # its own: unknown options are errors, "yes"/"no" are booleans. The values of `apis` and
    # `packages` are checked by the schema itself, with messages naming the variable.
    ARGUMENT_SPEC = dict(
        apis=dict(type='raw', default=[]),
        apis_var=dict(type='str', default='plumber_apis'),
        packages=dict(type='raw', default=[]),
        packages_var=dict(type='str', default='packages'),
        process_manager=dict(type='str'),
        process_manager_var=dict(type='str', default='plumber_process_manager'),
        check_sources=dict(type='bool', default=True),
    )

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        checked = ArgumentSpecValidator(self.ARGUMENT_SPEC).validate(self._task.args)
        if checked.error_messages:
            raise AnsibleActionFail('plumber.hosting.validate_apis: %s' % '; '.join(checked.error_messages))
        args = checked.validated_parameters
        apis_var = args['apis_var']
        packages_var = args['packages_var']
        try:
            apis = validate_apis(args['apis'], apis_var)
            extra = validate_packages(args['packages'] or [], packages_var)
            if args['process_manager'] is not None:
                result['process_manager'] = validate_process_manager(args['process_manager'], args['process_manager_var'])
                result['plan'] = plan(result['process_manager'])
            if args['check_sources']:
                for index, api in enumerate(apis):
                    self._check_source(index, api, apis_var, task_vars or {})
        except APIError as exc:
            raise AnsibleActionFail(str(exc)) from None
        clear = clear_passwords(args['apis'], apis_var)
        if clear:
            result['warnings'] = ['%s given in clear text: keep passwords in a vaulted variable (ansible-vault encrypt_string) '
                                  'or an AWX credential' % ', '.join(clear)]
        result.update(
            changed=False,
            apis=[public_view(api) for api in apis],
            packages=merge_packages([extra] + [api['packages'] for api in apis]),
            msg='%d API(s) valid: %s' % (len(apis), ', '.join('%s (%s, %d worker(s) from port %d)' % (
                a['name'], a['path'], a['workers'], a['port']) for a in apis) or 'none'),
        )
        return result

    def _check_source(self, index, api, var, task_vars):
        if api['src'] is None:
            return
        where = '%s[%d].src %r (API %s)' % (var, index, api['src'], api['name'])
        src, looked_in = self._resolve_source(api['src'], task_vars)
        if src is None:
            raise APIError('%s is not a directory on the controller (looked in %s)' % (where, ', '.join(looked_in)))
        if find_entrypoint(src, api['entrypoint']) is None:
            if api['entrypoint'] is None:
                raise APIError('%s[%d].src %r (API %s) holds neither entrypoint.R nor plumber.R: set %s[%d].entrypoint to the file plumber loads'
                               % (var, index, api['src'], api['name'], var, index))
            raise APIError('%s[%d].entrypoint %r (API %s) does not exist in %s' % (var, index, api['entrypoint'], api['name'], src))
        api['src'] = src

    def _resolve_source(self, src, task_vars):
        """(the directory ``src`` names, or None; every path looked at, in order).

        An absolute path (after ``~`` expands) is taken as it is. A relative one is looked up where
        users keep their APIs: the directory of the inventory that defines the host, the directories
        of the other inventory sources, the playbook's directory, then as ``ansible.builtin.copy``
        looks up its sources (the role's and the playbook's ``files/``).
        """
        src = os.path.expanduser(src)
        if os.path.isabs(src):
            return (src if os.path.isdir(src) else None), [src]
        bases = [task_vars.get('inventory_dir')]
        for source in task_vars.get('ansible_inventory_sources') or []:
            # Host lists ('web1,web2,') have no directory.
            if isinstance(source, str) and ',' not in source:
                source = os.path.abspath(os.path.expanduser(source))
                bases.append(source if os.path.isdir(source) else os.path.dirname(source))
        bases.append(task_vars.get('playbook_dir'))
        looked_in = []
        for base in bases:
            if not base:
                continue
            candidate = os.path.normpath(os.path.join(os.path.abspath(os.path.expanduser(str(base))), src))
            if candidate in looked_in:
                continue
            looked_in.append(candidate)
            if os.path.isdir(candidate):
                return candidate, looked_in
        try:
            found = self._find_needle('files', src)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # AnsibleFileNotFound lists the paths it searched.
            paths = getattr(exc, 'paths', None) or ["the role's and the playbook's files/"]
            looked_in.extend(str(path) for path in paths if str(path) not in looked_in)
            return None, looked_in
        if not os.path.isdir(found):
            looked_in.append(found)
            return None, looked_in
        return found, looked_in


def clear_passwords(raw_apis, var):
    """Where basic_auth passwords were given as plain text rather than from a vault (needs ansible-core 2.19)."""
    if VaultHelper is None or not isinstance(raw_apis, list):
        return []
    found = []
    for i, api in enumerate(raw_apis):
        users = ((api.get('access') or {}).get('basic_auth') or []) if isinstance(api, dict) else []
        for j, user in enumerate(users if isinstance(users, list) else []):
            password = user.get('password') if isinstance(user, dict) else None
            if isinstance(password, str) and VaultHelper.get_ciphertext(password, with_tags=True) is None:
                found.append('%s[%d].access.basic_auth[%d].password (user %s)' % (var, i, j, user.get('user')))
    return found
