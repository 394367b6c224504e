#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pm2_info
short_description: List the pm2 processes of a user, with status, restarts and memory
version_added: 0.1.0
description:
  - Reads C(pm2 jlist) of the user the module runs as (or of O(pm2_home)) and returns every process with its
    status, restart count, memory and definition. Environment values are not returned, only the names the
    M(plumber.hosting.pm2_process) module set, and the values of the variables O(env_values) names.
  - Does not start the pm2 daemon. When it is not running, the list is empty and RV(daemon_running) is false.
author:
  - plumber.hosting contributors (@plumber-hosting)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
  platform:
    support: full
    platforms: posix
options:
  pm2_bin:
    description: The pm2 executable; looked up in E(PATH) when not absolute.
    type: path
    default: pm2
  pm2_home:
    description: pm2's directory (E(PM2_HOME)); default E(PM2_HOME) or C(~/.pm2) of the user the module runs as.
    type: path
  env_values:
    description:
      - Names of environment variables whose values are returned with each process (RV(processes[].env)), among those
        M(plumber.hosting.pm2_process) set. For values that are no secret, such as a revision.
    type: list
    elements: str
    default: []
seealso:
  - module: plumber.hosting.pm2_process
"""

EXAMPLES = r"""
- name: List the workers of the plumber service user
  plumber.hosting.pm2_info:
    pm2_home: /srv/plumber/.pm2
  become: true
  become_user: plumber
  register: workers

- name: List them with the revision each one runs
  plumber.hosting.pm2_info:
    pm2_home: /srv/plumber/.pm2
    env_values: [PLUMBER_REVISION]
  become: true
  become_user: plumber
  register: revisions

- name: Show the workers that keep crashing
  ansible.builtin.debug:
    msg: "{{ item.name }} restarted {{ item.restarts }} times"
  loop: "{{ workers.processes | selectattr('restarts', 'gt', 0) }}"
"""

RETURN = r"""
daemon_running:
  description: Whether the pm2 daemon of O(pm2_home) runs.
  returned: always
  type: bool
pm2_home:
  description: The pm2 directory that was read.
  returned: always
  type: str
processes:
  description: Every pm2 process, as M(plumber.hosting.pm2_process) reports them.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Process name.
      type: str
      returned: always
    status:
      description: pm2 status (online, stopped, errored, waiting restart, ...).
      type: str
      returned: always
    restarts:
      description: How often pm2 restarted it.
      type: int
      returned: always
    memory:
      description: Resident memory in bytes.
      type: int
      returned: always
    pid:
      description: Process id (0 when not running).
      type: int
      returned: always
    env:
      description: The variables of O(env_values) that M(plumber.hosting.pm2_process) set for the process, with their values.
      type: dict
      returned: always
      sample: {PLUMBER_REVISION: 3f9a1c0b7d2e}
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plumber.hosting.plugins.module_utils._pm2 import (
    READ_ENVIRON,
    Pm2OutputError,
    daemon_running,
    managed_env_names,
    output_tail,
    parse_jlist,
    pm2_home_of,
    summarize,
)


def shown_env(proc, names):
    """The values of the variables in names that pm2_process set for the process (none for a process started otherwise)."""
    pm2_env = proc.get('pm2_env') or {}
    env = pm2_env.get('env') or {}
    managed = managed_env_names(pm2_env) or []
    return dict((name, str(env[name])) for name in names if name in managed and name in env)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pm2_bin=dict(type='path', default='pm2'),
            pm2_home=dict(type='path'),
            env_values=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    pm2_home = pm2_home_of(module.params['pm2_home'])
    result = dict(changed=False, pm2_home=pm2_home, daemon_running=daemon_running(pm2_home), processes=[])
    if not result['daemon_running']:
        module.exit_json(**result)
    pm2 = module.get_bin_path(module.params['pm2_bin'], required=True)
    cmd = [pm2, 'jlist']
    rc, stdout, stderr = module.run_command(cmd, environ_update=dict(READ_ENVIRON, PM2_HOME=pm2_home))
    if rc != 0:
        module.fail_json(msg='pm2 jlist failed (rc %s): %s' % (rc, output_tail(stderr) or output_tail(stdout)), cmd=cmd, rc=rc)
    try:
        processes, _preamble = parse_jlist(stdout)
    except Pm2OutputError as exc:
        # stdout is not returned: it holds the environment of every process, secrets included.
        module.fail_json(msg='could not parse the output of pm2 jlist: %s' % exc, cmd=cmd, rc=rc, stderr=output_tail(stderr))
    now_ms = time.time() * 1000
    result['processes'] = [dict(summarize(proc, now_ms), env=shown_env(proc, module.params['env_values'])) for proc in processes]
    module.exit_json(**result)


if __name__ == '__main__':
    main()
