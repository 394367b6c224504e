#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pm2_process
short_description: Manage one pm2 process, such as an R plumber worker
version_added: 0.1.0
description:
  - Starts, stops, restarts or deletes one process of the L(pm2,https://pm2.keymetrics.io/) process manager, idempotently,
    for the user the module runs as (use C(become_user)), in that user's C($HOME/.pm2) or in O(pm2_home).
  - Reads the current process list with C(pm2 jlist) first, also in check mode, and compares the process named O(name)
    with the definition given (O(script), O(interpreter), O(args), O(cwd), O(env) and the restart and log options).
  - A process whose definition differs is deleted and started again (C(pm2 delete) then C(pm2 start)), since
    C(pm2 restart) keeps the old script, interpreter and arguments and cannot remove a variable from the environment.
    Only that process is touched; the others keep running.
  - Starts a process from an ecosystem file with exactly one app, written to a private temporary directory and removed
    afterwards, so every option (the environment included) reaches pm2 without appearing on a command line.
  - Without O(script), the module manages the state of an existing process only (start, stop, restart, delete)
    and compares nothing else.
author:
  - plumber.hosting contributors (@plumber-hosting)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the process list and reports what would change. When the pm2 daemon is not running (judged from
        C($PM2_HOME/pm2.pid), since any pm2 command would start it), the process list counts as empty.
  diff_mode:
    support: full
    details:
      - Shows the definition and status before and after; of the environment only the names, and which values change.
  platform:
    platforms: posix
requirements:
  - pm2 on the target (C(npm install -g pm2)), with Node.js.
  - The interpreter of the script on the target, for example C(Rscript) from Debian's C(r-base-core) package.
options:
  name:
    description:
      - Name of the pm2 process.
      - V(all) and names made only of digits are refused, since pm2 commands read them as every process or a process id.
    type: str
    required: true
  state:
    description:
      - V(started) starts the process when it is missing or not running (status C(stopped), C(errored)), and recreates
        it when its definition differs. A process that pm2 is restarting after a crash (C(waiting restart)) counts as started.
      - V(stopped) stops the process when it runs. A missing process is created without being started
        (pm2's C(autostart) false), so that the worker never runs; O(state=started) later recreates it with C(autostart).
      - V(restarted) always restarts the process (C(pm2 restart)), or recreates it when its definition differs.
      - V(absent) deletes the process from pm2 when it exists.
    type: str
    choices: [started, stopped, restarted, absent]
    default: started
  script:
    description:
      - The script pm2 runs, an absolute path or a path relative to O(cwd). It must exist on the target.
      - Required to create the process. When set, the process is compared with the whole definition; every option
        left unset takes pm2's default, and a process that differs is recreated.
      - Paths that contain a space are refused, since pm2 would run them through C(bash -c).
    type: path
  interpreter:
    description:
      - The program that runs O(script), for example V(Rscript). A bare name is looked up in E(PATH) on the target
        and stored as an absolute path, so that the pm2 daemon does not depend on its own E(PATH).
      - V(none) runs O(script) itself (its shebang line).
      - Required for R scripts (C(.R)), for which pm2 has no interpreter of its own (it would run them with Node.js).
      - When unset, pm2 chooses by the extension of O(script) and the interpreter is not compared.
    type: str
  args:
    description:
      - Arguments passed to O(script), one list item per argument.
    type: list
    elements: str
  cwd:
    description:
      - Working directory of the process.
      - Defaults to the directory of O(script) (pm2's own default, the directory pm2 is called from, would change with
        the way the task is run). It must exist.
    type: path
  env:
    description:
      - Environment variables of the process, set on top of the environment the C(pm2 start) command runs in.
      - Values are converted to strings. They never appear in the result, the diff or on a command line.
      - The module records the names it set, so removing a variable from O(env) recreates the process. For a process
        started otherwise, only the variables in O(env) are compared.
    type: dict
  max_memory_restart:
    description:
      - pm2 restarts the process when it uses more memory than this, for example V(300M), V(1G), V(512K) or a
        number of bytes. Unset or V(0) disables the check.
    type: str
  restart_delay:
    description:
      - Milliseconds pm2 waits before restarting the process after it exited. pm2's default is V(0).
    type: int
  exp_backoff_restart_delay:
    description:
      - Enables pm2's exponential back-off restart delay, starting at this many milliseconds and growing up to 15 seconds
        while the process keeps crashing (status C(waiting restart) in between).
    type: int
  max_restarts:
    description:
      - Number of quick consecutive crashes (each one sooner than O(min_uptime) after the start) after which pm2 stops
        restarting the process (status C(errored)). pm2's default is V(16).
    type: int
  min_uptime:
    description:
      - Uptime after which a start counts as stable, for O(max_restarts). Milliseconds, or a number followed by
        C(s), C(m) or C(h), for example V(5s). pm2's default is 1000 ms.
    type: str
  autorestart:
    description:
      - Whether pm2 restarts the process when it exits or crashes. pm2's default is V(true).
    type: bool
  kill_timeout:
    description:
      - Milliseconds pm2 waits after SIGINT before it kills the process with SIGKILL. pm2's default is V(1600).
    type: int
  log_date_format:
    description:
      - Prefix every log line with the time in this format (L(day.js format,https://day.js.org/docs/en/display/format)),
        for example V(YYYY-MM-DD HH:mm:ss Z).
    type: str
  out_file:
    description:
      - File the process's standard output goes to, V(/dev/null) to discard it. Defaults to
        C($PM2_HOME/logs/<name>-out.log).
      - With O(merge_logs=false), pm2 inserts C(-<pm_id>) before a final C(.log).
    type: path
  error_file:
    description:
      - File the process's standard error goes to. Defaults to C($PM2_HOME/logs/<name>-error.log).
    type: path
  merge_logs:
    description:
      - When false, pm2 appends the process id to the log file names. pm2's default in fork mode is V(true).
    type: bool
  pm2_bin:
    description:
      - The pm2 executable, a name looked up in E(PATH) or a full path.
    type: path
    default: pm2
  pm2_home:
    description:
      - pm2's directory (E(PM2_HOME)) with its daemon's pid file and sockets, its logs and its C(dump.pm2).
      - Defaults to E(PM2_HOME) of the task's environment, else C($HOME/.pm2) of the user the module runs as.
    type: path
  save:
    description:
      - Run C(pm2 save --force) after a change, so that C(pm2 resurrect) (the boot service written by C(pm2 startup))
        restores the process list; also when the daemon runs and C($PM2_HOME/dump.pm2) does not exist yet.
      - The dump holds the environment of every process, O(env) included; the module makes C(dump.pm2) and
        C(dump.pm2.bak) readable by their owner only (pm2 writes them world-readable by default).
    type: bool
    default: false
notes:
  - The process inherits the environment of the C(pm2 start) command, which is the module's, plus O(env). The module
    runs C(pm2 start) without the C(LC_ALL=C) it uses for reading, so that the locale of the worker is the user's.
  - Only the process named O(name) is changed. pm2 commands are given its numeric id, so a name that is also the name
    of a pm2 namespace cannot affect other processes.
  - pm2 runs R workers in fork mode (cluster mode is for Node.js only), so one process serves one port.
seealso:
  - name: pm2 ecosystem file
    description: The application options pm2 accepts.
    link: https://pm2.keymetrics.io/docs/usage/application-declaration/
  - name: pm2 startup
    description: Resurrecting the saved process list at boot.
    link: https://pm2.keymetrics.io/docs/usage/startup/
"""

EXAMPLES = r"""
- name: Run a plumber worker on port 8101
  plumber.hosting.pm2_process:
    name: sales-8101
    script: /srv/plumber/sales/run.R
    interpreter: Rscript
    args: ["8101"]
    env:
      DB_PASSWORD: "{{ vault_sales_db_password }}"
    max_memory_restart: 300M
    exp_backoff_restart_delay: 100
    save: true
  become: true
  become_user: plumber

- name: Stop a worker, keeping it in pm2's list
  plumber.hosting.pm2_process:
    name: sales-8101
    state: stopped
  become: true
  become_user: plumber

- name: Restart a worker after a deployment
  plumber.hosting.pm2_process:
    name: sales-8101
    state: restarted
  become: true
  become_user: plumber

- name: Remove a worker and save the process list
  plumber.hosting.pm2_process:
    name: sales-8102
    state: absent
    save: true
  become: true
  become_user: plumber

- name: Report workers that crash-loop
  plumber.hosting.pm2_process:
    name: sales-8101
    script: /srv/plumber/sales/run.R
    interpreter: Rscript
    args: ["8101"]
  become: true
  become_user: plumber
  register: __worker

- name: Show the restart counts
  ansible.builtin.debug:
    msg: "{{ __worker.processes | items2dict(key_name='name', value_name='restarts') }}"
"""

RETURN = r"""
process:
  description:
    - The process after the task (in check mode, before it), V(null) when it does not exist.
    - Same fields as each item of RV(processes).
  returned: always
  type: dict
  sample:
    name: sales-8101
    pm_id: 0
    status: online
    restarts: 2
    unstable_restarts: 0
    exit_code: null
    memory: 101531648
    cpu: 0.3
    uptime: 53211
    pid: 17732
    script: /srv/plumber/sales/run.R
    interpreter: /usr/bin/Rscript
    args: ["8101"]
    cwd: /srv/plumber/sales
    env_names: [DB_PASSWORD]
processes:
  description:
    - Every pm2 process of the user after the task (in check mode, before it), in pm2's order.
    - Empty when the pm2 daemon is not running.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the process.
      type: str
    pm_id:
      description: pm2's numeric id of the process.
      type: int
    status:
      description: pm2's status, such as C(online), C(stopped), C(errored), C(launching) or C(waiting restart).
      type: str
    restarts:
      description: How often pm2 restarted the process since it was created (pm2's C(restart_time)); a worker that crash-loops shows here.
      type: int
    unstable_restarts:
      description: Restarts that came sooner than C(min_uptime) after the start.
      type: int
    exit_code:
      description: Exit code of the last exit, V(null) when it never exited.
      type: int
    memory:
      description: Resident memory in bytes.
      type: int
    cpu:
      description: CPU use in percent.
      type: float
    uptime:
      description: Milliseconds since the last start, V(0) when the process is not online.
      type: int
    pid:
      description: Process id of the running script, V(0) when it is not running.
      type: int
    script:
      description: Absolute path of the script.
      type: str
    interpreter:
      description: Interpreter pm2 runs the script with.
      type: str
    args:
      description: Arguments of the script.
      type: list
      elements: str
    cwd:
      description: Working directory.
      type: str
    env_names:
      description: Names of the environment variables set by this module (never their values); V(null) for a process started otherwise.
      type: list
      elements: str
  sample:
    - name: sales-8101
      pm_id: 0
      status: online
      restarts: 0
      unstable_restarts: 0
      exit_code: null
      memory: 101531648
      cpu: 0.3
      uptime: 53211
      pid: 17732
      script: /srv/plumber/sales/run.R
      interpreter: /usr/bin/Rscript
      args: ["8101"]
      cwd: /srv/plumber/sales
      env_names: [DB_PASSWORD]
actions:
  description: The pm2 commands run (in check mode, those that would run), in order.
  returned: always
  type: list
  elements: str
  sample: [delete, start, save]
differences:
  description: The fields of the definition in which the existing process differs from the task (never values).
  returned: always
  type: list
  elements: str
  sample: [args, env]
pm2_home:
  description: The pm2 directory used.
  returned: always
  type: str
  sample: /home/plumber/.pm2
"""

import json
import os
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plumber.hosting.plugins.module_utils._pm2 import (
    HIDDEN_CHANGED,
    READ_ENVIRON,
    RUNNING_STATUSES,
    Definition,
    Pm2OutputError,
    daemon_running,
    differences,
    env_differences,
    output_tail,
    parse_duration,
    parse_jlist,
    parse_size,
    pm2_home_of,
    running_view,
    summarize,
)

DEFINITION_OPTIONS = ('interpreter', 'args', 'cwd', 'env', 'max_memory_restart', 'restart_delay', 'exp_backoff_restart_delay',
                      'max_restarts', 'min_uptime', 'autorestart', 'kill_timeout', 'log_date_format', 'out_file',
                      'error_file', 'merge_logs')
R_EXTENSIONS = ('.R', '.r')


class Pm2Process:
    def __init__(self, module):
        self.module = module
        params = module.params
        self.name = params['name']
        self.state = params['state']
        self.pm2_home = pm2_home_of(params['pm2_home'])
        # Passed to pm2 only when asked for: otherwise pm2 finds its home the same way pm2_home_of() does.
        self.environ = {'PM2_HOME': params['pm2_home']} if params['pm2_home'] else {}
        self.pm2 = self.find_executable(params['pm2_bin'], 'pm2', ' (install it with "npm install -g pm2", or set pm2_bin)')
        self.definition = self.read_definition() if params['script'] and self.state != 'absent' else None

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, name=self.name, **kwargs)

    # --- the definition ----------------------------------------------------------------------

    def find_executable(self, program, what, hint=''):
        if '/' in program:
            if os.path.isfile(program) and os.access(program, os.X_OK):
                return program
            self.fail('%s not found: %s does not exist or is not executable%s' % (what, program, hint))
        found = self.module.get_bin_path(program)
        if not found:
            self.fail("%s not found: looked for '%s' in PATH %s%s" % (what, program, os.environ.get('PATH', ''), hint))
        return found

    def read_definition(self):
        params = self.module.params
        script = params['script']
        if not os.path.isabs(script):
            if not params['cwd']:
                self.fail('script %s is a relative path: give an absolute path, or set cwd' % script)
            script = os.path.join(params['cwd'], script)
        script = os.path.normpath(script)
        if ' ' in script:
            self.fail('script %s contains a space: pm2 would run it through "bash -c"; use a path without spaces' % script)
        if not os.path.isfile(script):
            self.fail('script %s does not exist' % script)
        cwd = os.path.normpath(params['cwd']) if params['cwd'] else os.path.dirname(script)
        if not os.path.isdir(cwd):
            # pm2 would list the process as online without a pid.
            self.fail('cwd %s does not exist' % cwd)
        interpreter = params['interpreter']
        if interpreter is None:
            if script.endswith(R_EXTENSIONS):
                self.fail('script %s is an R script: set interpreter (for example Rscript), or pm2 runs it with Node.js' % script)
        elif interpreter != 'none':
            interpreter = self.find_executable(interpreter, 'interpreter')
        try:
            max_memory_restart = parse_size(params['max_memory_restart']) if params['max_memory_restart'] else None
        except ValueError as exc:
            self.fail('max_memory_restart: %s' % exc)
        try:
            min_uptime = parse_duration(params['min_uptime']) if params['min_uptime'] else None
        except ValueError as exc:
            self.fail('min_uptime: %s' % exc)
        for key in ('restart_delay', 'exp_backoff_restart_delay', 'max_restarts', 'kill_timeout'):
            if params[key] is not None and params[key] < 0:
                self.fail('%s must not be negative, got %d' % (key, params[key]))

        def log_path(path):
            return os.path.normpath(os.path.join(cwd, path)) if path else None

        return Definition(
            name=self.name, script=script, cwd=cwd, interpreter=interpreter, args=params['args'], env=params['env'],
            max_memory_restart=max_memory_restart, restart_delay=params['restart_delay'],
            exp_backoff_restart_delay=params['exp_backoff_restart_delay'], max_restarts=params['max_restarts'],
            min_uptime=min_uptime, autorestart=params['autorestart'], kill_timeout=params['kill_timeout'],
            log_date_format=params['log_date_format'], out_file=log_path(params['out_file']),
            error_file=log_path(params['error_file']), merge_logs=params['merge_logs'])

    # --- running pm2 -------------------------------------------------------------------------

    def run(self, args, c_locale=True):
        """Run pm2 with LC_ALL=C, except pm2 start: the process inherits the environment of that command."""
        cmd = [self.pm2] + args
        environ = dict(READ_ENVIRON, **self.environ) if c_locale else dict(self.environ)
        rc, stdout, stderr = self.module.run_command(cmd, environ_update=environ)
        if rc != 0:
            self.fail('pm2 %s failed (rc %s): %s' % (args[0], rc, output_tail(stderr) or output_tail(stdout)),
                      cmd=cmd, rc=rc, stdout=output_tail(stdout), stderr=output_tail(stderr))
        return stdout

    def read(self):
        cmd = [self.pm2, 'jlist']
        rc, stdout, stderr = self.module.run_command(cmd, environ_update=dict(READ_ENVIRON, **self.environ))
        if rc != 0:
            self.fail('pm2 jlist failed (rc %s): %s' % (rc, output_tail(stderr) or output_tail(stdout)),
                      cmd=cmd, rc=rc, stderr=output_tail(stderr))
        try:
            processes, preamble = parse_jlist(stdout)
        except Pm2OutputError as exc:
            # stdout is not returned: it holds the environment of every process, secrets included.
            self.fail('could not parse the output of pm2 jlist (rc %s): %s; stderr: %s' % (rc, exc, output_tail(stderr, 5) or '(empty)'),
                      cmd=cmd, rc=rc, stderr=output_tail(stderr))
        if any('out-of-date' in line for line in preamble):
            self.module.warn('the running pm2 daemon is older than the pm2 installed: run "pm2 update" as this user')
        return processes

    def start(self, autostart):
        """pm2 start with an ecosystem file holding the one app (the environment stays off the command line)."""
        directory = tempfile.mkdtemp(prefix='pm2-', dir=self.module.tmpdir)
        try:
            path = os.path.join(directory, 'ecosystem.json')
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'w') as ecosystem:
                json.dump(dict(apps=[self.definition.app(autostart=autostart)]), ecosystem)
            self.run(['start', path], c_locale=False)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def restrict_dump(self):
        """Make pm2's dump readable by its user only: it holds the environment of every process, and pm2
        writes it with the umask (usually world-readable). pm2 rewrites the files in place, keeping the mode."""
        for dump in ('dump.pm2', 'dump.pm2.bak'):
            path = os.path.join(self.pm2_home, dump)
            try:
                if os.stat(path).st_mode & 0o077:
                    os.chmod(path, 0o600)
            except OSError:
                pass

    # --- deciding ----------------------------------------------------------------------------

    def plan(self, matches):
        """The pm2 actions to take, as (action, argument), and the fields that differ."""
        ids = [str(proc['pm2_env'].get('pm_id', proc.get('pm_id'))) for proc in matches]
        if self.state == 'absent':
            return [('delete', pm_id) for pm_id in ids], []
        autostart = self.state != 'stopped'
        if not matches:
            if self.definition is None:
                self.fail('pm2 process %s does not exist: set script to create it' % self.name)
            return [('start', autostart)], []
        found = []
        if self.definition is not None:
            if len(matches) > 1:
                found = ['instances']
            else:
                found = differences(self.definition, matches[0], self.pm2_home, autostart=True if autostart else None)
        if found:
            return [('delete', pm_id) for pm_id in ids] + [('start', autostart)], found
        actions = []
        for pm_id, proc in zip(ids, matches):
            running = proc['pm2_env'].get('status') in RUNNING_STATUSES
            if self.state == 'restarted' or (self.state == 'started' and not running):
                actions.append(('restart', pm_id))
            elif self.state == 'stopped' and running:
                actions.append(('stop', pm_id))
        return actions, []

    def views(self, matches, after_proc, status_after, recreated):
        """Diff before/after: definition and status, env names only."""
        before = {}
        env_marks = {}
        wanted_env = sorted(self.definition.env) if self.definition else []
        if matches:
            before = running_view(matches[0], wanted_env)
            before['status'] = matches[0]['pm2_env'].get('status')
            if len(matches) > 1:
                before['instances'] = len(matches)
            if self.definition is not None:
                changed, dummy = env_differences(self.definition, matches[0]['pm2_env'])
                env_marks = dict((name, HIDDEN_CHANGED) for name in changed)
        if status_after is None:
            return before, {}
        if after_proc is not None:
            after = running_view(after_proc, wanted_env)
        elif recreated:
            after = self.definition.view(self.pm2_home, autostart=self.state != 'stopped')
        else:
            after = dict(before)
            after.pop('instances', None)
        after['env'] = dict((name, env_marks.get(name, value)) for name, value in after.get('env', {}).items())
        after['status'] = status_after
        return before, after

    # --- the task ----------------------------------------------------------------------------

    def apply(self):
        check_mode = self.module.check_mode
        daemon_up = daemon_running(self.pm2_home)
        if daemon_up:
            processes = self.read()
        elif check_mode or self.state == 'absent':
            # Any pm2 command would start the daemon: without it there is no process to read.
            processes = []
        else:
            self.run(['ping'])
            daemon_up = True
            processes = self.read()
        matches = [proc for proc in processes if proc['name'] == self.name]
        actions, found = self.plan(matches)
        changed = bool(actions)
        dump_missing = daemon_up and not os.path.exists(os.path.join(self.pm2_home, 'dump.pm2'))
        if self.module.params['save'] and (changed or dump_missing):
            actions.append(('save', '--force'))
        now_ms = int(time.time() * 1000)
        after_proc = matches[0] if matches else None
        if actions and not check_mode:
            for action, argument in actions:
                if action == 'start':
                    self.start(argument)
                else:
                    self.run([action, argument])
                if action == 'save':
                    self.restrict_dump()
            processes = self.read()
            now_ms = int(time.time() * 1000)
            after = [proc for proc in processes if proc['name'] == self.name]
            after_proc = after[0] if after else None
            if self.state != 'absent' and after_proc is None:
                self.fail('pm2 %s succeeded, but pm2 jlist does not list process %s' % (actions[-1][0], self.name))
        result = dict(
            changed=bool(actions),
            name=self.name,
            actions=[action for action, dummy in actions],
            differences=found,
            pm2_home=self.pm2_home,
            process=summarize(after_proc, now_ms) if after_proc is not None and (check_mode or self.state != 'absent') else None,
            processes=[summarize(proc, now_ms) for proc in processes],
        )
        if self.module._diff:
            if self.state == 'absent':
                status_after = None
            elif not check_mode:
                status_after = after_proc['pm2_env'].get('status')
            elif not changed:
                status_after = matches[0]['pm2_env'].get('status')
            else:
                status_after = 'stopped' if self.state == 'stopped' else 'online'
            recreated = any(action == 'start' for action, dummy in actions)
            before, after = self.views(matches, None if check_mode else after_proc, status_after, recreated)
            result['diff'] = dict(before=before, after=after)
        process = result['process']
        if process is not None and self.state in ('started', 'restarted'):
            if process['status'] == 'errored':
                self.module.warn('pm2 process %s is errored after %s restarts: pm2 gave up restarting it' % (self.name, process['restarts']))
            elif process['status'] == 'waiting restart':
                self.module.warn('pm2 process %s is crash-looping (%s restarts): pm2 is waiting to restart it' % (self.name, process['restarts']))
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='started', choices=['started', 'stopped', 'restarted', 'absent']),
            script=dict(type='path'),
            interpreter=dict(type='str'),
            args=dict(type='list', elements='str'),
            cwd=dict(type='path'),
            env=dict(type='dict', no_log=True),
            max_memory_restart=dict(type='str'),
            restart_delay=dict(type='int'),
            exp_backoff_restart_delay=dict(type='int'),
            max_restarts=dict(type='int'),
            min_uptime=dict(type='str'),
            autorestart=dict(type='bool'),
            kill_timeout=dict(type='int'),
            log_date_format=dict(type='str'),
            out_file=dict(type='path'),
            error_file=dict(type='path'),
            merge_logs=dict(type='bool'),
            pm2_bin=dict(type='path', default='pm2'),
            pm2_home=dict(type='path'),
            save=dict(type='bool', default=False),
        ),
        required_by=dict((option, 'script') for option in DEFINITION_OPTIONS),
        supports_check_mode=True,
    )
    name = module.params['name']
    if not name.strip() or name == 'all' or name.isdigit():
        module.fail_json(msg='name %r cannot be a pm2 process name: pm2 commands read "all" as every process and a number as a process id' % (name,))
    module.exit_json(**Pm2Process(module).apply())


if __name__ == '__main__':
    main()
