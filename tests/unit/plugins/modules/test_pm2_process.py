# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plumber.hosting.pm2_process with a fake command runner: each case lists the pm2 commands the module must
run, in order, with what each one answers. The ``pm2 jlist`` answers are real outputs of pm2 7.0.4, recorded
in fixtures/pm2/ (see FIXTURES), with the recording machine's paths replaced by the test's temporary ones."""

from __future__ import annotations

import json
import os
import re
import stat

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plumber.hosting.plugins.module_utils import _pm2
from ansible_collections.plumber.hosting.plugins.modules import pm2_process
from ansible_collections.plumber.hosting.tests.unit.plugins.modules.utils import AnsibleExitJson, AnsibleFailJson, patch_exits, run_main, substitute

PM2 = '/usr/bin/pm2'
RSCRIPT = '/usr/bin/Rscript'
ECOSYSTEM = '<ecosystem file>'
SECRET = 's3cr3t-value'
FIXTURE_DIR = os.path.join(os.path.dirname(__file__), 'fixtures', 'pm2')

# What each recording holds (name, status, restarts), all R plumber workers run with Rscript.
FIXTURES = {
    'empty': 'a running daemon without processes',
    'banner-empty': 'pm2 jlist that started the daemon: banner and [PM2] lines, then []',
    'online': 'w8101 (pm_id 0) online, args [8101], created by this module',
    'two-online': 'w8101 (0) and w8102 (1) online; w8102 with env GREETING and SECRET_TOKEN, max_memory_restart 300M, '
                  'restart_delay 1000, max_restarts 10, min_uptime 5s, kill_timeout 3000, log_date_format',
    'stopped': 'two-online after pm2 stop w8101',
    'created-stopped': 'w8104 (0) created by this module with state stopped (autostart false)',
    'errored': 'crasher (0), an R script that fails, max_restarts 3, min_uptime 5s: errored after 2 restarts',
    'crashloop': 'crashloop (0), the same script with exp_backoff_restart_delay 2000: waiting restart, 2 restarts',
    'handmade': 'w8105 (0) started by hand: pm2 start run.R --name w8105 --interpreter Rscript -- 8105',
}


# --- what the commands print ---------------------------------------------------------------

def ok(stdout='', stderr=''):
    return (0, stdout, stderr)


def jlist_cmd():
    return [PM2, 'jlist']


def recorded(name):
    with open(os.path.join(FIXTURE_DIR, name + '.json')) as fixture:
        return fixture.read()


def jlist(name, **changes):
    """The recorded answer of pm2 jlist; changes={process name: {pm2_env key: value}} derives a variant."""
    text = recorded(name)
    if changes:
        processes = json.loads(text)
        for proc in processes:
            for key, value in changes.get(proc['name'], {}).items():
                if key == 'name':
                    proc['name'] = value
                proc['pm2_env'][key] = value
        text = json.dumps(processes)
    return ok(text)


def doubled(name, process):
    """A recording with a second process of the same name (pm2 start -f), pm_id 9."""
    processes = json.loads(recorded(name))
    twin = json.loads(json.dumps([proc for proc in processes if proc['name'] == process][0]))
    twin['pm_id'] = twin['pm2_env']['pm_id'] = 9
    return ok(json.dumps(processes + [twin]))


W8102_RECORDED_ENV = json.loads(recorded('two-online'))[1]['pm2_env']['env']
PM2_START_ERROR = '\x1b[31m[PM2][ERROR] \x1b[39mError: Interpreter Rscript is NOT AVAILABLE in PATH.\n'


def w8101(**params):
    base = dict(name='w8101', script='{tmp}/app/run.R', interpreter='Rscript', args=['8101'], pm2_home='{tmp}/pm2home')
    base.update(params)
    return base


def w8102(**params):
    base = dict(name='w8102', script='{tmp}/app/run.R', interpreter='Rscript', args=['8102'],
                env={'GREETING': 'hello', 'SECRET_TOKEN': SECRET}, max_memory_restart='300M', restart_delay=1000,
                max_restarts=10, min_uptime='5s', kill_timeout=3000, log_date_format='YYYY-MM-DD HH:mm:ss Z',
                pm2_home='{tmp}/pm2home')
    base.update(params)
    return base


# --- the fake runner -----------------------------------------------------------------------

class FakeRunner:
    """Answers each command from a table of (command, answer) in order and records what ran.

    ``pm2 start <file>`` matches ECOSYSTEM in the table; the file's content and mode are recorded
    while it exists."""

    def __init__(self, table):
        self.table = list(table)
        self.calls = []
        self.environs = []
        self.ecosystems = []
        self.ecosystem_paths = []

    def __call__(self, args, **kwargs):
        args = list(args)
        self.environs.append(kwargs.get('environ_update'))
        if args[:2] == [PM2, 'start'] and len(args) == 3 and args[2].endswith('/ecosystem.json'):
            with open(args[2]) as ecosystem:
                self.ecosystems.append(json.load(ecosystem))
            self.ecosystem_paths.append(args[2])
            assert stat.S_IMODE(os.stat(args[2]).st_mode) == 0o600
            args = [PM2, 'start', ECOSYSTEM]
        self.calls.append(args)
        if not self.table:
            raise AssertionError('unexpected command %r' % (args,))
        cmd, answer = self.table.pop(0)
        assert cmd == args, 'expected %r, got %r' % (cmd, args)
        return answer


@pytest.fixture
def run_module(monkeypatch, tmp_path):
    """Run pm2_process with the given params and command table; returns (result dict, fake runner)."""
    def get_bin_path(module, arg, required=False, opt_dirs=None):
        return {'pm2': PM2, 'Rscript': RSCRIPT}.get(arg)

    patch_exits(monkeypatch)
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', get_bin_path)
    # Without pm2_home the module uses $HOME/.pm2: never the real one.
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.delenv('PM2_HOME', raising=False)
    (tmp_path / 'app').mkdir()
    (tmp_path / 'app' / 'run.R').write_text('library(plumber)\n')
    (tmp_path / 'app' / 'crash.R').write_text('stop("boom")\n')
    (tmp_path / 'pm2home').mkdir()
    (tmp_path / 'moduletmp').mkdir()
    tmp = str(tmp_path)

    def run(params, table, expect=AnsibleExitJson, daemon=True, check_mode=False, diff=False, dump=True):
        if dump:
            (tmp_path / 'pm2home' / 'dump.pm2').write_text('[]')
        fake = FakeRunner(expand(table, tmp))
        monkeypatch.setattr(AnsibleModule, 'run_command', fake)
        monkeypatch.setattr(pm2_process, 'daemon_running', lambda pm2_home: daemon)
        args = dict(expand(params, tmp), _ansible_check_mode=check_mode, _ansible_diff=diff, _ansible_tmpdir=tmp + '/moduletmp')
        result, dummy = run_main(pm2_process, args, expect)
        return result, fake
    return run


def expand(value, tmp):
    """Put the test's temporary directory in place of {tmp}, and in place of the recording machine's paths."""
    def replace(text):
        text = text.replace('/tmp/pm2test-home/.pm2', tmp + '/pm2home')
        text = re.sub(r'/tmp/pm2test(?=[/"])', tmp + '/app', text)
        return text.replace('{tmp}', tmp)
    return substitute(value, replace)


# --- cases that succeed --------------------------------------------------------------------

SUCCESS = [
    dict(
        id='missing: pm2 start of an ecosystem file',
        params=w8101(),
        table=[(jlist_cmd(), jlist('empty')), ([PM2, 'start', ECOSYSTEM], ok()), (jlist_cmd(), jlist('online'))],
        result=dict(changed=True, actions=['start'], differences=[]),
        process=dict(name='w8101', pm_id=0, status='online', pid=5069, restarts=0, args=['8101'], interpreter=RSCRIPT,
                     script='{tmp}/app/run.R', cwd='{tmp}/app', env_names=[]),
    ),
    dict(
        id='daemon not running: pm2 ping starts it, then start',
        params=w8101(),
        daemon=False,
        table=[([PM2, 'ping'], ok("{ msg: 'pong' }\n")), (jlist_cmd(), jlist('empty')), ([PM2, 'start', ECOSYSTEM], ok()),
               (jlist_cmd(), jlist('online'))],
        result=dict(changed=True, actions=['start']),
    ),
    dict(
        id='banner before the JSON parses',
        params=w8101(),
        table=[(jlist_cmd(), jlist('banner-empty')), ([PM2, 'start', ECOSYSTEM], ok()), (jlist_cmd(), jlist('online'))],
        result=dict(changed=True, actions=['start']),
    ),
    dict(
        id='unchanged: only the read',
        params=w8101(),
        table=[(jlist_cmd(), jlist('online'))],
        result=dict(changed=False, actions=[], differences=[]),
        process=dict(name='w8101', status='online', pid=5069),
    ),
    dict(
        id='unchanged with env and every option',
        params=w8102(),
        table=[(jlist_cmd(), jlist('two-online'))],
        result=dict(changed=False, actions=[]),
        process=dict(name='w8102', pm_id=1, env_names=['GREETING', 'SECRET_TOKEN']),
    ),
    dict(
        id='unchanged, min_uptime and max_memory_restart in other units',
        params=w8102(min_uptime='5000', max_memory_restart='307200K'),
        table=[(jlist_cmd(), jlist('two-online'))],
        result=dict(changed=False),
    ),
    dict(
        id='args changed: delete and start that process only',
        params=w8101(args=['8109']),
        table=[(jlist_cmd(), jlist('two-online')), ([PM2, 'delete', '0'], ok()), ([PM2, 'start', ECOSYSTEM], ok()),
               (jlist_cmd(), jlist('two-online', w8101={'args': ['8109']}))],
        result=dict(changed=True, actions=['delete', 'start'], differences=['args']),
        process=dict(args=['8109']),
    ),
    dict(
        id='interpreter changed: recreate',
        params=w8101(interpreter='none'),
        table=[(jlist_cmd(), jlist('online')), ([PM2, 'delete', '0'], ok()), ([PM2, 'start', ECOSYSTEM], ok()),
               (jlist_cmd(), jlist('online', w8101={'exec_interpreter': 'none'}))],
        result=dict(changed=True, differences=['interpreter']),
    ),
    dict(
        id='option changed (max_memory_restart): recreate',
        params=w8102(max_memory_restart='500M'),
        table=[(jlist_cmd(), jlist('two-online')), ([PM2, 'delete', '1'], ok()), ([PM2, 'start', ECOSYSTEM], ok()),
               (jlist_cmd(), jlist('two-online'))],
        result=dict(changed=True, actions=['delete', 'start'], differences=['max_memory_restart']),
    ),
    dict(
        id='option left out returns to pm2 default: recreate',
        params=w8102(kill_timeout=None, restart_delay=None),
        table=[(jlist_cmd(), jlist('two-online')), ([PM2, 'delete', '1'], ok()), ([PM2, 'start', ECOSYSTEM], ok()),
               (jlist_cmd(), jlist('two-online'))],
        result=dict(changed=True, differences=['restart_delay', 'kill_timeout']),
    ),
    dict(
        id='env value changed: recreate',
        params=w8102(env={'GREETING': 'bonjour', 'SECRET_TOKEN': SECRET}),
        table=[(jlist_cmd(), jlist('two-online')), ([PM2, 'delete', '1'], ok()), ([PM2, 'start', ECOSYSTEM], ok()),
               (jlist_cmd(), jlist('two-online'))],
        result=dict(changed=True, actions=['delete', 'start'], differences=['env']),
    ),
    dict(
        id='env variable removed: recreate',
        params=w8102(env={'GREETING': 'hello'}),
        table=[(jlist_cmd(), jlist('two-online')), ([PM2, 'delete', '1'], ok()), ([PM2, 'start', ECOSYSTEM], ok()),
               (jlist_cmd(), jlist('two-online'))],
        result=dict(changed=True, differences=['env']),
    ),
    dict(
        id='env variable of the shell pm2 ran in is not compared',
        params=w8102(env={'GREETING': 'hello', 'SECRET_TOKEN': SECRET}),
        table=[(jlist_cmd(), jlist('two-online', w8102={'env': dict(W8102_RECORDED_ENV, SOME_SHELL_VARIABLE='x')}))],
        result=dict(changed=False),
    ),
    dict(
        id='stopped to started: pm2 restart',
        params=w8101(),
        table=[(jlist_cmd(), jlist('stopped')), ([PM2, 'restart', '0'], ok()), (jlist_cmd(), jlist('two-online'))],
        result=dict(changed=True, actions=['restart'], differences=[]),
        process=dict(status='online'),
    ),
    dict(
        id='errored to started: pm2 restart, restarts reported',
        params=dict(name='crasher', script='{tmp}/app/crash.R', interpreter='Rscript', max_restarts=3, min_uptime='5s',
                    pm2_home='{tmp}/pm2home'),
        table=[(jlist_cmd(), jlist('errored')), ([PM2, 'restart', '0'], ok()),
               (jlist_cmd(), jlist('errored', crasher={'status': 'online', 'restart_time': 3}))],
        result=dict(changed=True, actions=['restart']),
        process=dict(status='online', restarts=3),
    ),
    dict(
        id='crash-looping counts as started: no change, restarts reported',
        params=dict(name='crashloop', script='{tmp}/app/crash.R', interpreter='Rscript', exp_backoff_restart_delay=2000,
                    pm2_home='{tmp}/pm2home'),
        table=[(jlist_cmd(), jlist('crashloop'))],
        result=dict(changed=False, actions=[]),
        process=dict(status='waiting restart', restarts=2, unstable_restarts=3, exit_code=1),
    ),
    dict(
        id='started to stopped: pm2 stop',
        params=w8101(state='stopped'),
        table=[(jlist_cmd(), jlist('online')), ([PM2, 'stop', '0'], ok()), (jlist_cmd(), jlist('stopped'))],
        result=dict(changed=True, actions=['stop']),
        process=dict(status='stopped', pid=0),
    ),
    dict(
        id='stopped and stopped: nothing',
        params=w8101(state='stopped'),
        table=[(jlist_cmd(), jlist('stopped'))],
        result=dict(changed=False, actions=[]),
    ),
    dict(
        id='stopped, missing: created without autostart',
        params=dict(name='w8104', script='{tmp}/app/run.R', interpreter='Rscript', args=['8104'], state='stopped',
                    pm2_home='{tmp}/pm2home'),
        table=[(jlist_cmd(), jlist('empty')), ([PM2, 'start', ECOSYSTEM], ok()), (jlist_cmd(), jlist('created-stopped'))],
        result=dict(changed=True, actions=['start']),
        process=dict(status='stopped'),
        ecosystem=dict(autostart=False),
    ),
    dict(
        id='created stopped, now started: recreate with autostart',
        params=dict(name='w8104', script='{tmp}/app/run.R', interpreter='Rscript', args=['8104'], pm2_home='{tmp}/pm2home'),
        table=[(jlist_cmd(), jlist('created-stopped')), ([PM2, 'delete', '0'], ok()), ([PM2, 'start', ECOSYSTEM], ok()),
               (jlist_cmd(), jlist('created-stopped', w8104={'status': 'online', 'autostart': True}))],
        result=dict(changed=True, differences=['autostart']),
        ecosystem=dict(autostart=True),
    ),
    dict(
        id='restarted: pm2 restart even when unchanged',
        params=w8101(state='restarted'),
        table=[(jlist_cmd(), jlist('online')), ([PM2, 'restart', '0'], ok()), (jlist_cmd(), jlist('online'))],
        result=dict(changed=True, actions=['restart'], differences=[]),
    ),
    dict(
        id='restarted with a changed definition: recreate',
        params=w8101(state='restarted', args=['8109']),
        table=[(jlist_cmd(), jlist('online')), ([PM2, 'delete', '0'], ok()), ([PM2, 'start', ECOSYSTEM], ok()),
               (jlist_cmd(), jlist('online'))],
        result=dict(changed=True, actions=['delete', 'start'], differences=['args']),
    ),
    dict(
        id='restarted without script: state only',
        params=dict(name='w8102', state='restarted'),
        table=[(jlist_cmd(), jlist('two-online')), ([PM2, 'restart', '1'], ok()), (jlist_cmd(), jlist('two-online'))],
        result=dict(changed=True, actions=['restart']),
    ),
    dict(
        id='stopped without script: state only',
        params=dict(name='w8101', state='stopped'),
        table=[(jlist_cmd(), jlist('two-online')), ([PM2, 'stop', '0'], ok()), (jlist_cmd(), jlist('stopped'))],
        result=dict(changed=True, actions=['stop']),
    ),
    dict(
        id='started without script on a handmade process: nothing compared',
        params=dict(name='w8105'),
        table=[(jlist_cmd(), jlist('handmade'))],
        result=dict(changed=False),
        process=dict(interpreter='Rscript', env_names=None),
    ),
    dict(
        id='handmade process with a bare interpreter name: recreated with its absolute path',
        params=dict(name='w8105', script='{tmp}/app/run.R', interpreter='Rscript', args=['8105'], pm2_home='{tmp}/pm2home'),
        table=[(jlist_cmd(), jlist('handmade')), ([PM2, 'delete', '0'], ok()), ([PM2, 'start', ECOSYSTEM], ok()),
               (jlist_cmd(), jlist('handmade', w8105={'exec_interpreter': RSCRIPT}))],
        result=dict(changed=True, differences=['interpreter']),
    ),
    dict(
        id='two processes of the same name: both deleted, one started',
        params=w8101(),
        table=[(jlist_cmd(), doubled('online', 'w8101')), ([PM2, 'delete', '0'], ok()), ([PM2, 'delete', '9'], ok()),
               ([PM2, 'start', ECOSYSTEM], ok()), (jlist_cmd(), jlist('online'))],
        result=dict(changed=True, differences=['instances']),
    ),
    dict(
        id='absent, present: pm2 delete of that id only',
        params=dict(name='w8102', state='absent'),
        table=[(jlist_cmd(), jlist('two-online')), ([PM2, 'delete', '1'], ok()), (jlist_cmd(), jlist('online'))],
        result=dict(changed=True, actions=['delete'], process=None),
    ),
    dict(
        id='absent, missing: nothing',
        params=dict(name='w8102', state='absent'),
        table=[(jlist_cmd(), jlist('online'))],
        result=dict(changed=False, actions=[], process=None),
    ),
    dict(
        id='absent, daemon not running: no pm2 command',
        params=dict(name='w8102', state='absent'),
        daemon=False,
        table=[],
        result=dict(changed=False, process=None, processes=[]),
    ),
    dict(
        id='check mode, missing: reads only',
        params=w8101(),
        check_mode=True,
        table=[(jlist_cmd(), jlist('empty'))],
        result=dict(changed=True, actions=['start'], process=None),
    ),
    dict(
        id='check mode, changed arg: reads only',
        params=w8101(args=['8109']),
        check_mode=True,
        table=[(jlist_cmd(), jlist('two-online'))],
        result=dict(changed=True, actions=['delete', 'start'], differences=['args']),
        process=dict(args=['8101'], pid=5069),
    ),
    dict(
        id='check mode, stop: reads only',
        params=w8101(state='stopped', save=True),
        check_mode=True,
        table=[(jlist_cmd(), jlist('online'))],
        result=dict(changed=True, actions=['stop', 'save']),
    ),
    dict(
        id='check mode, daemon not running: no command at all',
        params=w8101(),
        check_mode=True,
        daemon=False,
        table=[],
        result=dict(changed=True, actions=['start'], processes=[]),
    ),
    dict(
        id='save after a change: pm2 save --force',
        params=w8101(args=['8109'], save=True),
        table=[(jlist_cmd(), jlist('online')), ([PM2, 'delete', '0'], ok()), ([PM2, 'start', ECOSYSTEM], ok()),
               ([PM2, 'save', '--force'], ok()), (jlist_cmd(), jlist('online'))],
        result=dict(changed=True, actions=['delete', 'start', 'save']),
    ),
    dict(
        id='save without a change: nothing',
        params=w8101(save=True),
        table=[(jlist_cmd(), jlist('online'))],
        result=dict(changed=False, actions=[]),
    ),
    dict(
        id='save without a change but no dump yet: pm2 save',
        params=w8101(save=True),
        dump=False,
        table=[(jlist_cmd(), jlist('online')), ([PM2, 'save', '--force'], ok()), (jlist_cmd(), jlist('online'))],
        result=dict(changed=True, actions=['save']),
    ),
    dict(
        id='absent with save: delete then save',
        params=dict(name='w8101', state='absent', save=True),
        table=[(jlist_cmd(), jlist('online')), ([PM2, 'delete', '0'], ok()), ([PM2, 'save', '--force'], ok()),
               (jlist_cmd(), jlist('empty'))],
        result=dict(changed=True, actions=['delete', 'save'], processes=[]),
    ),
    dict(
        id='pm2_home given: PM2_HOME for every command',
        params=w8101(pm2_home='/srv/pm2'),
        table=[(jlist_cmd(), jlist('online')), ([PM2, 'delete', '0'], ok()), ([PM2, 'start', ECOSYSTEM], ok()),
               (jlist_cmd(), jlist('online'))],
        result=dict(changed=True, differences=['out_file', 'error_file'], pm2_home='/srv/pm2'),
    ),
]


@pytest.mark.parametrize('case', SUCCESS, ids=[case['id'] for case in SUCCESS])
def test_success(run_module, tmp_path, case):
    result, fake = run_module(case['params'], case['table'], daemon=case.get('daemon', True),
                              check_mode=case.get('check_mode', False), dump=case.get('dump', True))
    assert fake.calls == [cmd for cmd, dummy in expand(case['table'], str(tmp_path))]
    for key, value in expand(case['result'], str(tmp_path)).items():
        assert result[key] == value, key
    for key, value in expand(case.get('process', {}), str(tmp_path)).items():
        assert result['process'][key] == value, key
    for key, value in case.get('ecosystem', {}).items():
        assert fake.ecosystems[0]['apps'][0][key] == value, key
    assert result['name'] == case['params']['name']
    assert all(not os.path.exists(path) for path in fake.ecosystem_paths)


# --- cases that fail -----------------------------------------------------------------------

FAILURE = [
    dict(
        id='unparseable jlist fails with the command and its stderr',
        params=w8101(),
        table=[(jlist_cmd(), ok('Error: something pm2 printed\n', 'connect ECONNREFUSED rpc.sock\n'))],
        msg=['could not parse the output of pm2 jlist (rc 0): no JSON process list found in the output',
             'stderr: connect ECONNREFUSED rpc.sock'],
        fields=dict(cmd=[PM2, 'jlist'], rc=0, stderr='connect ECONNREFUSED rpc.sock'),
    ),
    dict(
        id='truncated jlist fails without its stdout',
        params=w8102(),
        table=[(jlist_cmd(), ok(recorded('two-online')[:-40]))],
        msg=['could not parse the output of pm2 jlist', 'stderr: (empty)'],
    ),
    dict(
        id='empty jlist output fails',
        params=w8101(),
        table=[(jlist_cmd(), ok(''))],
        msg=['could not parse the output of pm2 jlist (rc 0): no output'],
    ),
    dict(
        id='jlist entries without pm2_env fail',
        params=w8101(),
        table=[(jlist_cmd(), ok('[{"name": "w8101"}]'))],
        msg=['entry 0 of the process list has no name and pm2_env'],
    ),
    dict(
        id='pm2 jlist failing',
        params=w8101(),
        table=[(jlist_cmd(), (1, '', 'Error: EACCES: permission denied, open /home/plumber/.pm2/pm2.log\n'))],
        msg=['pm2 jlist failed (rc 1): Error: EACCES: permission denied'],
        fields=dict(cmd=[PM2, 'jlist'], rc=1),
    ),
    dict(
        id='pm2 not installed',
        params=w8101(pm2_bin='pm2x'),
        table=[],
        msg=["pm2 not found: looked for 'pm2x' in PATH", 'npm install -g pm2'],
    ),
    dict(
        id='pm2_bin path that does not exist',
        params=w8101(pm2_bin='/opt/pm2/bin/pm2'),
        table=[],
        msg=['pm2 not found: /opt/pm2/bin/pm2 does not exist or is not executable'],
    ),
    dict(
        id='interpreter missing fails before any pm2 command',
        params=w8101(interpreter='Rscriptx'),
        table=[],
        msg=["interpreter not found: looked for 'Rscriptx' in PATH"],
    ),
    dict(
        id='interpreter path missing fails before any pm2 command',
        params=w8101(interpreter='/opt/R/bin/Rscript'),
        table=[],
        msg=['interpreter not found: /opt/R/bin/Rscript does not exist or is not executable'],
    ),
    dict(
        id='R script without interpreter',
        params=w8101(interpreter=None),
        table=[],
        msg=['script {tmp}/app/run.R is an R script: set interpreter (for example Rscript)'],
    ),
    dict(
        id='script does not exist',
        params=w8101(script='{tmp}/app/missing.R'),
        table=[],
        msg=['script {tmp}/app/missing.R does not exist'],
    ),
    dict(
        id='script path with a space',
        params=w8101(script='{tmp}/my app/run.R'),
        table=[],
        msg=['contains a space: pm2 would run it through "bash -c"'],
    ),
    dict(
        id='cwd does not exist',
        params=w8101(cwd='{tmp}/nowhere'),
        table=[],
        msg=['cwd {tmp}/nowhere does not exist'],
    ),
    dict(
        id='relative script without cwd',
        params=w8101(script='run.R'),
        table=[],
        msg=['script run.R is a relative path: give an absolute path, or set cwd'],
    ),
    dict(
        id='missing process without script',
        params=dict(name='w8109'),
        table=[(jlist_cmd(), jlist('online'))],
        msg=['pm2 process w8109 does not exist: set script to create it'],
    ),
    dict(
        id='option without script',
        params=dict(name='w8101', args=['8101']),
        table=[],
        msg=['missing parameter(s) required by', 'script'],
    ),
    dict(
        id='pm2 start failing shows its error',
        params=w8101(),
        table=[(jlist_cmd(), jlist('empty')),
               ([PM2, 'start', ECOSYSTEM], (1, '[PM2][WARN] Applications w8101 not running, starting...\n', PM2_START_ERROR))],
        msg=['pm2 start failed (rc 1): [PM2][ERROR] Error: Interpreter Rscript is NOT AVAILABLE in PATH.'],
        fields=dict(rc=1, stderr='[PM2][ERROR] Error: Interpreter Rscript is NOT AVAILABLE in PATH.'),
    ),
    dict(
        id='pm2 delete failing',
        params=w8101(args=['8109']),
        table=[(jlist_cmd(), jlist('online')), ([PM2, 'delete', '0'], (1, '', '[PM2][ERROR] Process 0 not found\n'))],
        msg=['pm2 delete failed (rc 1): [PM2][ERROR] Process 0 not found'],
        fields=dict(cmd=[PM2, 'delete', '0']),
    ),
    dict(
        id='started but not listed afterwards',
        params=w8101(),
        table=[(jlist_cmd(), jlist('empty')), ([PM2, 'start', ECOSYSTEM], ok()), (jlist_cmd(), jlist('empty'))],
        msg=['pm2 start succeeded, but pm2 jlist does not list process w8101'],
    ),
    dict(
        id='name all refused',
        params=dict(name='all', state='absent'),
        table=[],
        msg=["name 'all' cannot be a pm2 process name"],
    ),
    dict(
        id='numeric name refused',
        params=dict(name='3', state='absent'),
        table=[],
        msg=["name '3' cannot be a pm2 process name"],
    ),
    dict(
        id='bad max_memory_restart',
        params=w8101(max_memory_restart='300MiB'),
        table=[],
        msg=["max_memory_restart: '300MiB' is not a size"],
    ),
    dict(
        id='bad min_uptime',
        params=w8101(min_uptime='5 minutes'),
        table=[],
        msg=["min_uptime: '5 minutes' is not a duration"],
    ),
    dict(
        id='negative restart_delay',
        params=w8101(restart_delay=-1),
        table=[],
        msg=['restart_delay must not be negative, got -1'],
    ),
]


@pytest.mark.parametrize('case', FAILURE, ids=[case['id'] for case in FAILURE])
def test_failure(run_module, tmp_path, case):
    result, fake = run_module(case['params'], case['table'], expect=AnsibleFailJson)
    assert fake.calls == [cmd for cmd, dummy in expand(case['table'], str(tmp_path))]
    for part in expand(case['msg'], str(tmp_path)):
        assert part in result['msg']
    for key, value in case.get('fields', {}).items():
        assert result[key] == value, key
    assert SECRET not in repr(result)


# --- secrets, environment, diff ------------------------------------------------------------

def case_named(cases, case_id):
    return next(case for case in cases if case['id'] == case_id)


SECRET_CASES = ['unchanged with env and every option', 'env value changed: recreate', 'env variable removed: recreate',
                'option changed (max_memory_restart): recreate']


@pytest.mark.parametrize('case_id', SECRET_CASES)
@pytest.mark.parametrize('check_mode', [False, True], ids=['run', 'check'])
def test_secrets_never_in_result_diff_or_command_lines(run_module, case_id, check_mode):
    case = case_named(SUCCESS, case_id)
    table = case['table'][:1] if check_mode else case['table']
    result, fake = run_module(case['params'], table, check_mode=check_mode, diff=True)
    assert 'diff' in result
    assert SECRET not in repr(result)
    assert SECRET not in repr(fake.calls)
    for ecosystem in fake.ecosystems:
        # The ecosystem file is the one place the value goes to.
        assert ecosystem['apps'][0]['env'] == dict((key, str(value)) for key, value in case['params']['env'].items())


def test_ecosystem_file_holds_the_whole_definition(run_module, tmp_path):
    case = case_named(SUCCESS, 'option changed (max_memory_restart): recreate')
    dummy, fake = run_module(case['params'], case['table'])
    tmp = str(tmp_path)
    assert fake.ecosystems == [dict(apps=[dict(
        name='w8102', script=tmp + '/app/run.R', cwd=tmp + '/app', args=['8102'], interpreter=RSCRIPT, exec_mode='fork',
        autostart=True, env={'GREETING': 'hello', 'SECRET_TOKEN': SECRET}, env_ansible_managed=dict(names=['GREETING', 'SECRET_TOKEN']),
        max_memory_restart=500 * 1024 * 1024, restart_delay=1000, max_restarts=10, min_uptime=5000, kill_timeout=3000,
        log_date_format='YYYY-MM-DD HH:mm:ss Z')])]


def test_ecosystem_file_with_log_options(run_module, tmp_path):
    params = w8101(cwd='{tmp}/app', script='run.R', out_file='logs/out.log', error_file='/var/log/w8101.err',
                   merge_logs=False, autorestart=False, exp_backoff_restart_delay=100, env={'PORT': 8101, 'DEBUG': True})
    dummy, fake = run_module(params, [(jlist_cmd(), jlist('empty')), ([PM2, 'start', ECOSYSTEM], ok()), (jlist_cmd(), jlist('online'))])
    app = fake.ecosystems[0]['apps'][0]
    tmp = str(tmp_path)
    assert app['script'] == tmp + '/app/run.R'
    assert app['out_file'] == tmp + '/app/logs/out.log'
    assert app['error_file'] == '/var/log/w8101.err'
    assert (app['merge_logs'], app['autorestart'], app['exp_backoff_restart_delay']) == (False, False, 100)
    assert app['env'] == {'PORT': '8101', 'DEBUG': 'True'}


def test_reads_run_with_c_locale_and_start_without(run_module):
    case = case_named(SUCCESS, 'save after a change: pm2 save --force')
    dummy, fake = run_module(dict(case['params'], pm2_home=None), case['table'])
    assert fake.environs == [{'LC_ALL': 'C'}, {'LC_ALL': 'C'}, {}, {'LC_ALL': 'C'}, {'LC_ALL': 'C'}]


def test_pm2_home_option_is_passed_to_pm2(run_module):
    case = case_named(SUCCESS, 'pm2_home given: PM2_HOME for every command')
    dummy, fake = run_module(case['params'], case['table'])
    assert [environ['PM2_HOME'] for environ in fake.environs] == ['/srv/pm2'] * 4


def test_diff_of_a_changed_arg_in_check_mode(run_module, tmp_path):
    result, dummy = run_module(w8101(args=['8109']), [(jlist_cmd(), jlist('two-online'))], check_mode=True, diff=True)
    before, after = result['diff']['before'], result['diff']['after']
    assert (before['args'], after['args']) == (['8101'], ['8109'])
    changed = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
    assert changed == ['args']
    assert before['status'] == after['status'] == 'online'


def test_diff_marks_changed_env_values_by_name(run_module):
    case = case_named(SUCCESS, 'env value changed: recreate')
    result, dummy = run_module(case['params'], case['table'][:1], check_mode=True, diff=True)
    assert result['diff']['before']['env'] == {'GREETING': '(hidden)', 'SECRET_TOKEN': '(hidden)'}
    assert result['diff']['after']['env'] == {'GREETING': '(hidden, changed)', 'SECRET_TOKEN': '(hidden)'}


def test_diff_of_absent(run_module):
    result, dummy = run_module(dict(name='w8102', state='absent'), case_named(SUCCESS, 'absent, present: pm2 delete of that id only')['table'],
                               diff=True)
    assert result['diff']['before']['name'] == 'w8102'
    assert result['diff']['after'] == {}


def test_processes_lists_every_process(run_module):
    result, dummy = run_module(w8101(), [(jlist_cmd(), jlist('two-online'))])
    assert [(proc['name'], proc['status'], proc['restarts']) for proc in result['processes']] == [('w8101', 'online', 0), ('w8102', 'online', 0)]
    assert result['processes'][1]['memory'] > 0
    assert result['processes'][1]['env_names'] == ['GREETING', 'SECRET_TOKEN']


def test_crash_loop_and_errored_warn(run_module, monkeypatch):
    warnings = []
    monkeypatch.setattr(AnsibleModule, 'warn', lambda module, warning: warnings.append(warning))
    case = case_named(SUCCESS, 'crash-looping counts as started: no change, restarts reported')
    run_module(case['params'], case['table'])
    run_module(dict(name='crasher', state='stopped'), [(jlist_cmd(), jlist('errored'))])
    run_module(dict(name='crasher'), [(jlist_cmd(), jlist('errored')), ([PM2, 'restart', '0'], ok()), (jlist_cmd(), jlist('errored'))])
    assert warnings == ['pm2 process crashloop is crash-looping (2 restarts): pm2 is waiting to restart it',
                        'pm2 process crasher is errored after 2 restarts: pm2 gave up restarting it']


def test_save_makes_the_dump_private(run_module, tmp_path):
    dump = tmp_path / 'pm2home' / 'dump.pm2'
    case = case_named(SUCCESS, 'save after a change: pm2 save --force')
    run_module(case['params'], case['table'])
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600


def test_out_of_date_daemon_warns(run_module, monkeypatch):
    warnings = []
    monkeypatch.setattr(AnsibleModule, 'warn', lambda module, warning: warnings.append(warning))
    stdout = '>>>> In-memory PM2 is out-of-date, do:\n>>>> $ pm2 update\nIn memory PM2 version: 6.0.5\nLocal PM2 version: 7.0.4\n\n' + recorded('online')
    result, dummy = run_module(w8101(), [(jlist_cmd(), ok(stdout))])
    assert result['changed'] is False
    assert warnings == ['the running pm2 daemon is older than the pm2 installed: run "pm2 update" as this user']


# --- module_utils._pm2 ---------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [('300M', 314572800), ('1G', 1073741824), ('512k', 524288), ('1024', 1024), ('300MB', 314572800)])
def test_parse_size(text, expected):
    assert _pm2.parse_size(text) == expected


@pytest.mark.parametrize('text, expected', [('5000', 5000), ('5s', 5000), ('2m', 120000), ('1h', 3600000), ('250ms', 250)])
def test_parse_duration(text, expected):
    assert _pm2.parse_duration(text) == expected


@pytest.mark.parametrize('name', sorted(FIXTURES))
def test_every_recording_parses(name):
    processes, preamble = _pm2.parse_jlist(recorded(name))
    assert all(proc['pm2_env']['exec_interpreter'] in ('/usr/bin/Rscript', 'Rscript') for proc in processes)
    assert bool(preamble) == (name == 'banner-empty')


def test_banner_preamble_is_returned():
    processes, preamble = _pm2.parse_jlist(recorded('banner-empty'))
    assert processes == []
    assert preamble[-2:] == ['[PM2] Spawning PM2 daemon with pm2_home=/tmp/pm2test-home/.pm2', '[PM2] PM2 Successfully daemonized']


@pytest.mark.parametrize('path, merge_logs, expected', [
    ('/l/w-out.log', True, '/l/w-out.log'),
    ('/l/w-out.log', False, '/l/w-out-3.log'),
    ('/l/w-out-7.log', False, '/l/w-out-3.log'),
    ('/dev/null', False, '/dev/null'),
])
def test_stored_log_path(path, merge_logs, expected):
    assert _pm2.stored_log_path(path, merge_logs, 3) == expected


def test_log_file_name_like_pm2():
    assert _pm2.log_file_name('sales api/v1_x') == 'sales-api-v1-x'


def test_pm2_home_of():
    assert _pm2.pm2_home_of('/srv/pm2', {}) == '/srv/pm2'
    assert _pm2.pm2_home_of(None, {'PM2_HOME': '/opt/pm2', 'HOME': '/home/p'}) == '/opt/pm2'
    assert _pm2.pm2_home_of(None, {'HOME': '/home/p'}) == '/home/p/.pm2'


def test_daemon_running(tmp_path):
    home = str(tmp_path)
    assert _pm2.daemon_running(home) is False
    (tmp_path / 'pm2.pid').write_text('not a pid')
    assert _pm2.daemon_running(home) is False
    (tmp_path / 'pm2.pid').write_text('999999999')
    assert _pm2.daemon_running(home) is False
    # A live pid that is not a pm2 daemon (this test) does not count.
    (tmp_path / 'pm2.pid').write_text(str(os.getpid()))
    assert _pm2.daemon_running(home) is (not os.path.exists('/proc/%d/cmdline' % os.getpid()))
