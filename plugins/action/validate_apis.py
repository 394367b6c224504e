# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate plumber_apis on the controller, before any task touches a host."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.plumber.hosting.plugins.module_utils._apis import (
    APIError,
    find_entrypoint,
    merge_packages,
    public_view,
    validate_apis,
    validate_packages,
    validate_process_manager,
)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False

    _VALID_ARGS = frozenset(('apis', 'apis_var', 'packages', 'packages_var', 'process_manager', 'process_manager_var', 'check_sources'))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        apis_var = args.get('apis_var', 'plumber_apis')
        packages_var = args.get('packages_var', 'packages')
        try:
            apis = validate_apis(args.get('apis'), apis_var)
            extra = validate_packages(args.get('packages') or [], packages_var)
            if args.get('process_manager') is not None:
                result['process_manager'] = validate_process_manager(
                    args['process_manager'], args.get('process_manager_var', 'plumber_process_manager'))
            if args.get('check_sources', True):
                for index, api in enumerate(apis):
                    self._check_source(index, api, apis_var)
        except APIError as exc:
            raise AnsibleActionFail(str(exc)) from None
        result.update(
            changed=False,
            apis=[public_view(api) for api in apis],
            packages=merge_packages([extra] + [api['packages'] for api in apis]),
            msg='%d API(s) valid: %s' % (len(apis), ', '.join('%s (%s, %d worker(s) from port %d)' % (
                a['name'], a['path'], a['workers'], a['port']) for a in apis) or 'none'),
        )
        return result

    def _check_source(self, index, api, var):
        if api['src'] is None:
            return
        try:
            src = self._find_needle('files', api['src'])
        except Exception:  # pylint: disable=broad-exception-caught
            raise APIError('%s[%d].src %r (API %s) is not a directory on the controller' % (var, index, api['src'], api['name'])) from None
        if not os.path.isdir(src):
            raise APIError('%s[%d].src %r (API %s) is not a directory on the controller' % (var, index, api['src'], api['name']))
        if find_entrypoint(src, api['entrypoint']) is None:
            if api['entrypoint'] is None:
                raise APIError('%s[%d].src %r (API %s) holds neither entrypoint.R nor plumber.R: set %s[%d].entrypoint to the file plumber loads'
                               % (var, index, api['src'], api['name'], var, index))
            raise APIError('%s[%d].entrypoint %r (API %s) does not exist in %s' % (var, index, api['entrypoint'], api['name'], src))
        api['src'] = src
