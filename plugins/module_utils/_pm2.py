# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pm2 on the managed host: reading ``pm2 jlist``, the wanted definition of one process, comparing both.

Nothing here runs a command, so a module that only reports (a later ``pm2_info``) can
reuse the parsing and the summaries, and the decisions can be tested without pm2.

What pm2 stores, measured with pm2 7.0.4 (``pm2 jlist`` after ``pm2 start ecosystem.json``):

- ``pm2_env.pm_exec_path``, ``exec_interpreter``, ``args``, ``pm_cwd``: as given, paths made absolute.
- ``pm2_env.env``: the whole environment of the ``pm2 start`` command merged with the app's ``env``
  (``filter_env: true`` does not filter in pm2 7). Only the names this module set can be compared;
  they are kept in ``pm2_env.env_ansible_managed`` (an ``env_<name>`` block, which pm2 stores but does
  not hand to the process).
- ``max_memory_restart`` in bytes, ``min_uptime`` in ms; options left unset are absent from ``pm2_env``
  and take the defaults below. ``merge_logs`` is absent when false and defaults to true in fork mode.
- Log paths default to ``$PM2_HOME/logs/<name>-out.log``; without ``merge_logs`` pm2 adds ``-<pm_id>``
  before ``.log`` when it creates the process.
"""

from __future__ import annotations

import json
import os
import re

READ_ENVIRON = {'LC_ALL': 'C'}

# pm2 keeps this app key (an ``env_<name>`` block, used only by ``pm2 start FILE --env <name>``) in
# pm2_env without handing it to the process: the names of the variables the module set.
ENV_MARKER = 'env_ansible_managed'

# Statuses in which pm2 is running the process or about to run it again.
RUNNING_STATUSES = ('online', 'launching', 'waiting restart')

# pm2's values when an option is not set (its schema and its God daemon).
PM2_DEFAULTS = dict(
    restart_delay=0,
    exp_backoff_restart_delay=None,
    max_restarts=16,
    min_uptime=1000,
    autorestart=True,
    kill_timeout=1600,
    max_memory_restart=None,
    log_date_format=None,
    merge_logs=True,
)

# Definition fields in the order they are shown (diff, differences).
FIELDS = ('script', 'interpreter', 'args', 'cwd', 'env', 'max_memory_restart', 'restart_delay',
          'exp_backoff_restart_delay', 'max_restarts', 'min_uptime', 'autorestart', 'kill_timeout',
          'log_date_format', 'out_file', 'error_file', 'merge_logs', 'exec_mode', 'autostart')

# pm2 colours its messages even when they do not go to a terminal.
_ANSI_RE = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
_SIZE_RE = re.compile(r'^\s*([0-9]+)\s*([KMG]?)B?\s*$', re.IGNORECASE)
_DURATION_RE = re.compile(r'^\s*([0-9]+)\s*(ms|[hms]?)\s*$', re.IGNORECASE)
_SIZE_FACTORS = {'': 1, 'K': 1024, 'M': 1024 ** 2, 'G': 1024 ** 3}
_DURATION_FACTORS = {'': 1, 'ms': 1, 's': 1000, 'm': 60 * 1000, 'h': 60 * 60 * 1000}

HIDDEN = '(hidden)'
HIDDEN_CHANGED = '(hidden, changed)'


class Pm2OutputError(ValueError):
    """Output of pm2 that does not parse."""


# --- values ----------------------------------------------------------------------------------

def parse_size(text):
    """Bytes of a pm2 memory size: ``300M``, ``1G``, ``512K`` or a number of bytes."""
    match = _SIZE_RE.match(str(text))
    if not match:
        raise ValueError('%r is not a size: a number of bytes, or a number followed by K, M or G' % (text,))
    return int(match.group(1)) * _SIZE_FACTORS[match.group(2).upper()]


def parse_duration(text):
    """Milliseconds of a pm2 duration: ``5000``, ``5000ms``, ``5s``, ``2m`` or ``1h``."""
    match = _DURATION_RE.match(str(text))
    if not match:
        raise ValueError('%r is not a duration: milliseconds, or a number followed by s, m or h' % (text,))
    unit = match.group(2)
    return int(match.group(1)) * _DURATION_FACTORS[unit if unit == 'ms' else unit.lower()]


def log_file_name(name):
    """The file-name form of a process name, as pm2 builds its default log paths."""
    return re.sub(r'[^a-zA-Z0-9\\.\-]', '-', name)


def default_log_path(pm2_home, name, kind):
    """pm2's log path when out_file / error_file are not set; ``kind`` is ``out`` or ``error``."""
    return os.path.join(pm2_home, 'logs', '%s-%s.log' % (log_file_name(name), kind))


def stored_log_path(path, merge_logs, pm_id):
    """The log path pm2 records: without merge_logs it puts ``-<pm_id>`` before ``.log``."""
    if merge_logs or path is None or pm_id is None:
        return path
    return re.sub(r'-[0-9]+\.log$|\.log$', '-%s.log' % pm_id, path)


def pm2_home_of(pm2_home, environ=None):
    """The directory pm2 uses: the option, else ``$PM2_HOME``, else ``$HOME/.pm2`` (as pm2 decides)."""
    environ = os.environ if environ is None else environ
    if pm2_home:
        return pm2_home
    if environ.get('PM2_HOME'):
        return environ['PM2_HOME']
    return os.path.join(environ.get('HOME') or os.path.expanduser('~'), '.pm2')


def output_tail(text, lines=20):
    """The last ``lines`` non-empty lines of ``text`` without colours: where pm2 says what went wrong."""
    kept = [line for line in _ANSI_RE.sub('', text or '').splitlines() if line.strip()]
    return '\n'.join(kept[-lines:])


# --- the daemon ------------------------------------------------------------------------------

def daemon_running(pm2_home):
    """True when the pm2 daemon of ``pm2_home`` runs, judged without asking pm2 (which would start it).

    The daemon writes its pid to ``$PM2_HOME/pm2.pid``; a pid that is gone, or reused by a process that is
    not a pm2 daemon (after a reboot), does not count.
    """
    try:
        with open(os.path.join(pm2_home, 'pm2.pid')) as pid_file:
            pid = int(pid_file.read().strip())
    except (IOError, OSError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        # EPERM: the pid exists but belongs to another user, so it is not this user's daemon.
        return False
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as cmdline:
            return b'PM2' in cmdline.read()
    except (IOError, OSError):
        return True


# --- pm2 jlist -------------------------------------------------------------------------------

def parse_jlist(stdout):
    """The processes of ``pm2 jlist`` and the lines pm2 printed before the JSON (banner, daemon start).

    pm2 prints its banner and ``[PM2] ...`` lines before the JSON array when the command started the
    daemon, and ``>>>> In-memory PM2 is out-of-date`` when pm2 was upgraded under a running daemon.
    """
    text = stdout or ''
    decoder = json.JSONDecoder()
    starts = [match.start() for match in re.finditer(r'(?m)^\s*\[', text)]
    for start in starts:
        start = text.index('[', start)
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if not isinstance(value, list) or text[end:].strip():
            continue
        for index, proc in enumerate(value):
            if not isinstance(proc, dict) or not isinstance(proc.get('name'), str) or not isinstance(proc.get('pm2_env'), dict):
                raise Pm2OutputError('entry %d of the process list has no name and pm2_env' % index)
        return value, [line for line in text[:start].splitlines() if line.strip()]
    if not text.strip():
        raise Pm2OutputError('no output')
    raise Pm2OutputError('no JSON process list found in the output')


def managed_env_names(pm2_env):
    """The names of the variables the module set, or None for a process started otherwise."""
    marker = pm2_env.get(ENV_MARKER)
    if isinstance(marker, dict) and isinstance(marker.get('names'), list):
        return sorted(str(name) for name in marker['names'])
    return None


def _args_of(pm2_env):
    args = pm2_env.get('args')
    if args is None:
        return []
    if isinstance(args, list):
        return [str(arg) for arg in args]
    return str(args).split()


def summarize(proc, now_ms):
    """What the module reports about one process: state, counters and definition, never env values."""
    pm2_env = proc.get('pm2_env') or {}
    monit = proc.get('monit') or {}
    status = pm2_env.get('status')
    started_at = pm2_env.get('pm_uptime')
    uptime = 0
    if status == 'online' and isinstance(started_at, (int, float)):
        uptime = max(0, int(now_ms - started_at))
    return dict(
        name=proc.get('name'),
        pm_id=proc.get('pm_id', pm2_env.get('pm_id')),
        status=status,
        restarts=pm2_env.get('restart_time', 0),
        unstable_restarts=pm2_env.get('unstable_restarts', 0),
        exit_code=pm2_env.get('exit_code'),
        memory=monit.get('memory'),
        cpu=monit.get('cpu'),
        uptime=uptime,
        pid=proc.get('pid'),
        script=pm2_env.get('pm_exec_path'),
        interpreter=pm2_env.get('exec_interpreter'),
        args=_args_of(pm2_env),
        cwd=pm2_env.get('pm_cwd'),
        env_names=managed_env_names(pm2_env),
    )


# --- the wanted definition -------------------------------------------------------------------

class Definition:
    """One process as the task wants it. Values are final: paths absolute, sizes in bytes, times in ms;
    None means pm2's default. ``env`` holds secrets: it only ever leaves through ``app()``."""

    def __init__(self, name, script, cwd, interpreter=None, args=None, env=None, max_memory_restart=None,
                 restart_delay=None, exp_backoff_restart_delay=None, max_restarts=None, min_uptime=None,
                 autorestart=None, kill_timeout=None, log_date_format=None, out_file=None, error_file=None,
                 merge_logs=None):
        self.name = name
        self.script = script
        self.cwd = cwd
        self.interpreter = interpreter
        self.args = list(args or [])
        self.env = dict((str(key), str(value)) for key, value in (env or {}).items())
        self.options = dict(
            max_memory_restart=max_memory_restart,
            restart_delay=restart_delay,
            exp_backoff_restart_delay=exp_backoff_restart_delay,
            max_restarts=max_restarts,
            min_uptime=min_uptime,
            autorestart=autorestart,
            kill_timeout=kill_timeout,
            log_date_format=log_date_format,
            merge_logs=merge_logs,
        )
        self.out_file = out_file
        self.error_file = error_file

    def option(self, key):
        """The effective value of an option: the one asked for, else pm2's default."""
        value = self.options[key]
        return PM2_DEFAULTS[key] if value is None else value

    def app(self, autostart=True):
        """The one app of the ecosystem file that ``pm2 start`` gets (contains the env values)."""
        app = dict(name=self.name, script=self.script, cwd=self.cwd, args=self.args, exec_mode='fork',
                   autostart=autostart, env=dict(self.env))
        app[ENV_MARKER] = dict(names=sorted(self.env))
        if self.interpreter is not None:
            app['interpreter'] = self.interpreter
        for key, value in self.options.items():
            if value is not None:
                app[key] = value
        if self.out_file is not None:
            app['out_file'] = self.out_file
        if self.error_file is not None:
            app['error_file'] = self.error_file
        return app

    def view(self, pm2_home, autostart=None, env_marks=None):
        """The definition as shown in diff mode: env names only."""
        marks = env_marks or {}
        view = dict(name=self.name, script=self.script, interpreter=self.interpreter, args=list(self.args), cwd=self.cwd,
                    env=dict((key, marks.get(key, HIDDEN)) for key in sorted(self.env)),
                    out_file=self.out_file or default_log_path(pm2_home, self.name, 'out'),
                    error_file=self.error_file or default_log_path(pm2_home, self.name, 'error'), exec_mode='fork_mode')
        for key in self.options:
            view[key] = self.option(key)
        if autostart is not None:
            view['autostart'] = autostart
        return view


def running_view(proc, wanted_env_names=()):
    """The definition of a running process as shown in diff mode: env names only.

    For a process without the module's marker, only the names the task sets are shown (the rest of its
    environment is whatever the shell that started it had).
    """
    pm2_env = proc['pm2_env']
    names = managed_env_names(pm2_env)
    env = pm2_env.get('env') if isinstance(pm2_env.get('env'), dict) else {}
    if names is None:
        names = sorted(name for name in wanted_env_names if name in env)
    view = dict(name=proc['name'], script=pm2_env.get('pm_exec_path'), interpreter=pm2_env.get('exec_interpreter'),
                args=_args_of(pm2_env), cwd=pm2_env.get('pm_cwd'), env=dict((name, HIDDEN) for name in names),
                out_file=pm2_env.get('pm_out_log_path'), error_file=pm2_env.get('pm_err_log_path'),
                exec_mode=pm2_env.get('exec_mode'), autostart=pm2_env.get('autostart', True))
    for key in PM2_DEFAULTS:
        view[key] = _running_option(pm2_env, key)
    return view


def _running_option(pm2_env, key):
    if key == 'merge_logs':
        return bool(pm2_env.get('merge_logs'))
    value = pm2_env.get(key)
    if value is None:
        return PM2_DEFAULTS[key]
    if key in ('max_memory_restart', 'exp_backoff_restart_delay') and value == 0:
        return None
    return value


def _same_number(left, right):
    if left is None or right is None:
        return left is right
    try:
        return float(left) == float(right)
    except (TypeError, ValueError):
        return left == right


def env_differences(definition, pm2_env):
    """Names of the variables whose value differs, and whether a variable the module set earlier is gone."""
    env = pm2_env.get('env') if isinstance(pm2_env.get('env'), dict) else {}
    changed = sorted(name for name, value in definition.env.items() if name not in env or str(env[name]) != value)
    managed = managed_env_names(pm2_env)
    removed = sorted(set(managed) - set(definition.env)) if managed is not None else []
    return changed, removed


def differences(definition, proc, pm2_home, autostart=None):
    """The fields in which the running process differs from the definition (names, in FIELDS order).

    ``autostart`` is compared when not None: a process created stopped has ``autostart: false``, which
    ``pm2 resurrect`` honours, so a process that must run is recreated with it.
    """
    pm2_env = proc['pm2_env']
    found = set()
    if pm2_env.get('pm_exec_path') != definition.script:
        found.add('script')
    if definition.interpreter is not None and pm2_env.get('exec_interpreter') != definition.interpreter:
        found.add('interpreter')
    if _args_of(pm2_env) != definition.args:
        found.add('args')
    if pm2_env.get('pm_cwd') != definition.cwd:
        found.add('cwd')
    changed, removed = env_differences(definition, pm2_env)
    if changed or removed:
        found.add('env')
    for key in PM2_DEFAULTS:
        wanted = definition.option(key)
        running = _running_option(pm2_env, key)
        if key in ('autorestart', 'merge_logs'):
            same = bool(wanted) == bool(running)
        elif key == 'log_date_format':
            same = wanted == running
        else:
            same = _same_number(wanted, running)
        if not same:
            found.add(key)
    merge_logs = definition.option('merge_logs')
    pm_id = proc.get('pm_id', pm2_env.get('pm_id'))
    for field, kind, key in (('out_file', 'out', 'pm_out_log_path'), ('error_file', 'error', 'pm_err_log_path')):
        wanted = getattr(definition, field) or default_log_path(pm2_home, definition.name, kind)
        if pm2_env.get(key) != stored_log_path(wanted, merge_logs, pm_id):
            found.add(field)
    if pm2_env.get('exec_mode', 'fork_mode') != 'fork_mode':
        found.add('exec_mode')
    if autostart is not None and bool(pm2_env.get('autostart', True)) != autostart:
        found.add('autostart')
    return [field for field in FIELDS if field in found]
