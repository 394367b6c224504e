# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plumber.hosting.plumber_api with a fake command runner (each case: the command the module must run and
what it prints), then the same module against real R and plumber when the machine has them."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import subprocess

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plumber.hosting.plugins.modules import plumber_api
from ansible_collections.plumber.hosting.plugins.module_utils._loader import LOADER_R, r_literal
from ansible_collections.plumber.hosting.plugins.module_utils._files import tree_revision
from ansible_collections.plumber.hosting.plugins.modules.plumber_api import LOAD_SCRIPT
from ansible_collections.plumber.hosting.tests.unit.plugins.modules.utils import AnsibleExitJson, AnsibleFailJson, patch_exits, run_main, substitute

RSCRIPT = '/usr/bin/Rscript'
TIMEOUT = '/usr/bin/timeout'
RUNUSER = '/usr/sbin/runuser'
BINARIES = {'Rscript': RSCRIPT, 'timeout': TIMEOUT, 'runuser': RUNUSER}

PLUMBER_R = '''source("helpers.R")

#* Echo back the input
#* @get /echo
function(msg = "") list(msg = greet(msg))

#* @get /healthz
#* @head /healthz
function() list(ok = TRUE)

#* @post /sum
function(a, b) as.numeric(a) + as.numeric(b)
'''
HELPERS_R = 'library(stats)\ngreet <- function(name) paste("hello", name)\nchecksum <- function(x) digest::digest(x)\n'
SPEC = {'openapi': '3.0.3', 'info': {'title': 'API Title', 'version': '1.0.0'}, 'paths': {'/echo': {'get': {'summary': 'Echo back the input'}}}}
PARSE_ERROR = "plumber.R:4:1: unexpected '}'\n3:   list(a = 1\n4: }\n   ^"


# --- what Rscript prints -------------------------------------------------------------------

def hexed(text):
    return text.encode('utf-8').hex()


def record(*values):
    return '\n@@plumber.hosting@@\t' + '\t'.join(values) + '\n'


def loaded(routes=(('GET', '/echo'),), spec=None, version='1.2.1', warnings=(), noise=''):
    """LOAD_SCRIPT's answer for an API that loads."""
    out = noise + record('plumber_version', version)
    out += ''.join(record('warning', hexed(warning)) for warning in warnings)
    out += ''.join(record('route', method, path) for method, path in routes)
    out += record('spec', hexed(json.dumps(SPEC if spec is None else spec)))
    return (0, out + record('done'), '')


def failed(message, stage='load', stderr=''):
    """LOAD_SCRIPT's answer for an API that does not load."""
    return (0, record('plumber_version', '1.2.1') + record('error', stage, hexed(message)) + record('done'), stderr)


def load_cmd(path, entrypoint='', timeout=120, user=None, health='/healthz', docs='FALSE', name='api', data='', options='list()'):
    prefix = [RUNUSER, '-u', user, '--'] if user else []
    return prefix + [TIMEOUT, '--kill-after=5', str(timeout), RSCRIPT, '-e', LOAD_SCRIPT, path, entrypoint, health, docs, name, data, options]


# --- the fake runner -----------------------------------------------------------------------

class FakeRunner:
    """Answers the one expected command and records how it ran."""

    def __init__(self, cmd, answer):
        self.cmd = cmd
        self.answer = answer
        self.calls = []
        self.kwargs = []

    def __call__(self, args, **kwargs):
        self.calls.append(list(args))
        self.kwargs.append(kwargs)
        if self.cmd is None or list(args) != self.cmd:
            raise AssertionError('unexpected command %r' % (args,))
        return self.answer


@pytest.fixture
def api(tmp_path):
    """A code directory with plumber.R and the helper file it sources."""
    code = tmp_path / 'api'
    code.mkdir()
    (code / 'plumber.R').write_text(PLUMBER_R)
    (code / 'helpers.R').write_text(HELPERS_R)
    return str(code)


@pytest.fixture
def patched(monkeypatch):
    """exit_json and fail_json raise; module.warn calls are collected in the list returned."""
    warned = []
    patch_exits(monkeypatch)
    monkeypatch.setattr(AnsibleModule, 'warn', lambda module, warning: warned.append(warning))
    return warned


@pytest.fixture
def run_module(monkeypatch, patched):
    """Run plumber_api with a fake runner for one command; returns (result, fake runner, warnings)."""
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda module, arg, required=False, opt_dirs=None: BINARIES.get(arg))

    def run(params, cmd=None, answer=None, expect=AnsibleExitJson):
        fake = FakeRunner(cmd, answer)
        monkeypatch.setattr(AnsibleModule, 'run_command', fake)
        result, dummy = run_main(plumber_api, params, expect)
        return result, fake, patched
    return run


@pytest.fixture
def as_user(monkeypatch):
    """Make the module run as uid (0 for root), with the users given as name -> uid."""
    def set_up(uid, users):
        def getpwnam(name):
            if name not in users:
                raise KeyError(name)
            return pwd.struct_passwd((name, 'x', users[name], users[name], '', '/home/' + name, '/bin/sh'))

        def getpwuid(number):
            names = [name for name, found in users.items() if found == number]
            return pwd.struct_passwd((names[0] if names else 'root', 'x', number, number, '', '/', '/bin/sh'))
        monkeypatch.setattr(plumber_api.os, 'geteuid', lambda: uid)
        monkeypatch.setattr(plumber_api.pwd, 'getpwnam', getpwnam)
        monkeypatch.setattr(plumber_api.pwd, 'getpwuid', getpwuid)
    return set_up


# --- cases that succeed --------------------------------------------------------------------

SUCCESS = [
    dict(
        id='routes sorted by path then method, paths unique',
        params=dict(),
        answer=loaded(routes=[('POST', '/sum'), ('HEAD', '/healthz'), ('GET', '/healthz'), ('GET', '/echo')]),
        result=dict(
            changed=False,
            routes=[dict(method='GET', path='/echo'), dict(method='GET', path='/healthz'),
                    dict(method='HEAD', path='/healthz'), dict(method='POST', path='/sum')],
            paths=['/echo', '/healthz', '/sum'],
            spec=SPEC,
            plumber_version='1.2.1',
        ),
    ),
    dict(
        id="the API's own output around the records is ignored",
        params=dict(),
        answer=loaded(noise='[1] "loading model"\nno newline@@plumber.hosting@@\troute\tGET\t/forged\n@@plumber.hosting@@ not a record\n'),
        result=dict(paths=['/echo']),
    ),
    dict(
        id='no routes, a mounted sub-router and a non-ASCII path',
        params=dict(),
        answer=loaded(routes=[('GET', '/v1/ping'), ('GET', '/grüß')]),
        result=dict(paths=['/grüß', '/v1/ping']),
    ),
    dict(
        id='a spec with any characters',
        params=dict(),
        answer=loaded(spec={'openapi': '3.0.3', 'info': {'title': 'Grüße\tzurück\n@@plumber.hosting@@\tdone'}, 'paths': {}}),
        result=dict(spec={'openapi': '3.0.3', 'info': {'title': 'Grüße\tzurück\n@@plumber.hosting@@\tdone'}, 'paths': {}}),
    ),
    dict(
        id='entrypoint in a subdirectory, other Rscript and timeout',
        params=dict(entrypoint='api/models.R', rscript='Rscript', timeout=600),
        files={'api/models.R': '#* @get /predict\nfunction() 1\n'},
        cmd=dict(entrypoint='api/models.R', timeout=600),
        answer=loaded(routes=[('GET', '/predict')]),
        result=dict(paths=['/predict']),
    ),
    dict(
        id='check mode loads the API too',
        params=dict(_ansible_check_mode=True),
        answer=loaded(),
        result=dict(changed=False, paths=['/echo']),
    ),
]


@pytest.mark.parametrize('case', SUCCESS, ids=[case['id'] for case in SUCCESS])
def test_success(run_module, api, case):
    for name, text in case.get('files', {}).items():
        os.makedirs(os.path.dirname(os.path.join(api, name)), exist_ok=True)
        with open(os.path.join(api, name), 'w') as handle:
            handle.write(text)
    cmd = load_cmd(api, **case.get('cmd', {}))
    result, fake, dummy = run_module(dict(case['params'], path=api), cmd, case['answer'])
    assert fake.calls == [cmd]
    for key, value in case['result'].items():
        assert result[key] == value, key
    assert result['revision'] == tree_revision(api)


def test_without_load_only_the_revision_is_computed_and_no_command_runs(run_module, api):
    result, fake, dummy = run_module(dict(path=api, load=False))
    assert fake.calls == []
    # The packages the code uses are found without R: base packages (stats) and plumber left out.
    assert result == dict(changed=False, routes=[], paths=[], spec={}, plumber_version=None, revision=tree_revision(api),
                          dependencies=[dict(name='digest', file='helpers.R', line=3)])


def test_without_load_a_missing_entrypoint_still_fails(run_module, api):
    result, fake, dummy = run_module(dict(path=api, entrypoint='nosuch.R', load=False), expect=AnsibleFailJson)
    assert fake.calls == [] and result['msg'].startswith('entrypoint nosuch.R:')


def test_runs_in_the_code_directory_with_c_locale_and_env(run_module, api):
    params = dict(path=api, env={'DB_URL': 'postgres://db/sales', 'WORKERS': 4, 'LC_ALL': 'de_DE.UTF-8'})
    dummy, fake, dummy = run_module(params, load_cmd(api), loaded())
    assert fake.kwargs == [dict(cwd=api, environ_update={'DB_URL': 'postgres://db/sales', 'WORKERS': '4', 'LC_ALL': 'C'},
                                expand_user_and_vars=False)]


def test_path_with_trailing_slash(run_module, api):
    result, fake, dummy = run_module(dict(path=api + '/'), load_cmd(api), loaded())
    assert fake.calls == [load_cmd(api)]


def test_r_warnings_become_ansible_warnings(run_module, api):
    dummy, dummy, warned = run_module(dict(path=api), load_cmd(api), loaded(warnings=['package \u2018DBI\u2019 was built\nunder R 4.3.1']))
    assert warned == ['plumber API %s/plumber.R: R warning while loading: package \u2018DBI\u2019 was built\nunder R 4.3.1' % api]


# --- run_as --------------------------------------------------------------------------------

def test_run_as_from_root_uses_runuser(run_module, api, as_user):
    as_user(0, {'root': 0, 'plumber': 998})
    cmd = load_cmd(api, user='plumber')
    result, fake, dummy = run_module(dict(path=api, run_as='plumber'), cmd, loaded())
    assert fake.calls == [cmd]
    assert fake.calls[0][:5] == [RUNUSER, '-u', 'plumber', '--', TIMEOUT]


def test_run_as_the_user_the_module_runs_as(run_module, api, as_user):
    as_user(998, {'root': 0, 'plumber': 998})
    dummy, fake, dummy = run_module(dict(path=api, run_as='plumber'), load_cmd(api), loaded())
    assert fake.calls == [load_cmd(api)]


def test_run_as_another_user_needs_root(run_module, api, as_user):
    as_user(1000, {'root': 0, 'plumber': 998, 'deploy': 1000})
    result, fake, dummy = run_module(dict(path=api, run_as='plumber'), expect=AnsibleFailJson)
    assert result['msg'] == "run_as: loading the API as 'plumber' needs root (become: true); the module runs as 'deploy'"
    assert fake.calls == []


def test_run_as_unknown_user(run_module, api, as_user):
    as_user(0, {'root': 0})
    result, fake, dummy = run_module(dict(path=api, run_as='nosuchuser'), expect=AnsibleFailJson)
    assert result['msg'] == "run_as: user 'nosuchuser' does not exist"
    assert fake.calls == []


# --- cases that fail -----------------------------------------------------------------------

FAILURE = [
    dict(
        id="syntax error: R's message with file, line and column",
        answer=failed(PARSE_ERROR),
        msg='plumber API {api}/plumber.R does not load: ' + PARSE_ERROR,
        fields=dict(rc=0, stderr=''),
    ),
    dict(
        id='missing package: plumber\'s "Error on line #0" made readable',
        answer=failed("Error on line #0: '' - Error in library(notinstalledpkg): there is no package called 'notinstalledpkg'\n"),
        msg="plumber API {api}/plumber.R does not load: plumber.R:1: Error in library(notinstalledpkg): there is no package called 'notinstalledpkg'",
    ),
    dict(
        id='stop() at top level: without plumber\'s eval call',
        answer=failed("Error on line #6: '#* comment' - Error in eval(expr, envir): DB_URL is not set\n",
                      stderr='[1] "loading"\nconnecting to the database\n'),
        msg='plumber API {api}/plumber.R does not load: plumber.R:7: DB_URL is not set',
        fields=dict(stderr='[1] "loading"\nconnecting to the database'),
        absent_fields=['stdout'],
    ),
    dict(
        id='other R errors unchanged',
        answer=failed("cannot enter /srv/api: permission denied"),
        msg='plumber API {api}/plumber.R does not load: cannot enter /srv/api: permission denied',
    ),
    dict(
        id='run_as named in the message',
        params=dict(run_as='plumber'),
        user='plumber',
        answer=failed('boom'),
        msg='plumber API {api}/plumber.R (as user plumber) does not load: boom',
    ),
    dict(
        id='spec that cannot be built',
        answer=failed('invalid spec', stage='spec'),
        msg='plumber API {api}/plumber.R loads, but its OpenAPI spec cannot be read: invalid spec',
    ),
    dict(
        id='routes that cannot be read',
        answer=failed('no endpoints', stage='routes'),
        msg='plumber API {api}/plumber.R loads, but its routes cannot be read: no endpoints',
    ),
    dict(
        id='timed out',
        params=dict(timeout=30),
        cmd=dict(timeout=30),
        answer=(124, record('plumber_version', '1.2.1'), 'waiting for the database\n'),
        msg='plumber API {api}/plumber.R did not load within 30s: R was stopped. Does its top-level code wait for something?',
        fields=dict(rc=124, stderr='waiting for the database'),
    ),
    dict(
        id='killed: out of memory or after the timeout',
        answer=(137, '', ''),
        msg=('plumber API {api}/plumber.R: Rscript was killed (out of memory, or still running 5s after the timeout of 120s) '
             'before loading finished: no output'),
    ),
    dict(
        id='top-level quit(): no result',
        answer=(3, '', '[1] "bye"\n'),
        msg='plumber API {api}/plumber.R: Rscript failed with rc 3 before loading finished: [1] "bye"',
        fields=dict(rc=3, stdout='', stderr='[1] "bye"'),
    ),
    dict(
        id='exit 0 without a result',
        answer=(0, record('plumber_version', '1.2.1'), ''),
        msg='plumber API {api}/plumber.R: Rscript exited before loading finished: no output',
    ),
    dict(
        id='a record that does not parse',
        answer=(0, record('route', 'GET') + record('done'), ''),
        msg="could not parse the output of Rscript loading {api}/plumber.R (rc 0): line 1: record 'route' needs 2 values, got 1",
    ),
    dict(
        id='an unknown record',
        answer=(0, record('surprise', 'x') + record('done'), ''),
        msg="could not parse the output of Rscript loading {api}/plumber.R (rc 0): line 1 is not a record",
    ),
    dict(
        id='no spec',
        answer=(0, record('plumber_version', '1.2.1') + record('done'), ''),
        msg='Rscript loaded {api}/plumber.R but printed no OpenAPI spec',
    ),
    dict(
        id='a spec that is not JSON',
        answer=(0, record('spec', hexed('{"openapi": ')) + record('done'), ''),
        msg='could not parse the OpenAPI spec of {api}/plumber.R that Rscript printed: ',
    ),
    dict(
        id='entrypoint missing: R does not run',
        params=dict(entrypoint='api.R'),
        msg='entrypoint api.R: {api}/api.R does not exist',
    ),
    dict(
        id='entrypoint a directory',
        params=dict(entrypoint='sub'),
        files={'sub/x.R': ''},
        msg='entrypoint sub: {api}/sub is not a file',
    ),
    dict(
        id='path missing',
        params=dict(path='{api}/nothere'),
        msg='path {api}/nothere is not a directory',
    ),
    dict(
        id='timeout 0',
        params=dict(timeout=0),
        msg='timeout must be at least 1 second, got 0',
    ),
]


@pytest.mark.parametrize('case', FAILURE, ids=[case['id'] for case in FAILURE])
def test_failure(run_module, api, as_user, case):
    for name, text in case.get('files', {}).items():
        os.makedirs(os.path.dirname(os.path.join(api, name)), exist_ok=True)
        with open(os.path.join(api, name), 'w') as handle:
            handle.write(text)
    if 'user' in case:
        as_user(0, {'root': 0, case['user']: 998})
    params = dict(dict(path=api), **substitute(case.get('params', {}), lambda text: text.replace('{api}', api)))
    cmd = load_cmd(api, user=case.get('user'), **case.get('cmd', {})) if 'answer' in case else None
    result, fake, dummy = run_module(params, cmd, case.get('answer'), expect=AnsibleFailJson)
    assert fake.calls == ([cmd] if cmd else [])
    assert result['msg'].startswith(case['msg'].replace('{api}', api))
    for key, value in case.get('fields', {}).items():
        assert result[key] == value, key
    for key in case.get('absent_fields', []):
        assert key not in result


def test_long_stderr_is_cut_to_the_tail(run_module, api):
    stderr = ''.join('line %d\n' % i for i in range(100))
    result, dummy, dummy = run_module(dict(path=api), load_cmd(api), failed('boom', stderr=stderr), expect=AnsibleFailJson)
    assert result['stderr'].splitlines() == ['line %d' % i for i in range(70, 100)]


# --- revision ------------------------------------------------------------------------------

def write_tree(root, files):
    for name, content in files.items():
        full = os.path.join(str(root), name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'wb') as handle:
            handle.write(content)
    return str(root)


TREE = {'plumber.R': b'#* @get /a\nfunction() 1\n', 'helpers.R': b'x <- 1\n', 'data/model.rds': b'\x00\x01binary'}


def test_revision_format(tmp_path):
    root = write_tree(tmp_path / 'one', {'a': b'x'})
    assert tree_revision(root) == hashlib.sha256(b'a\0file\0' + hashlib.sha256(b'x').hexdigest().encode() + b'\n').hexdigest()


@pytest.mark.parametrize('change, same', [
    (lambda root: None, True),
    (lambda root: os.makedirs(os.path.join(root, 'empty')), True),
    (lambda root: write_tree(root, {'.git/HEAD': b'ref: refs/heads/main\n', 'sub/.git/x': b'y'}), True),
    (lambda root: os.utime(os.path.join(root, 'helpers.R'), (0, 0)), True),
    (lambda root: write_tree(root, {'helpers.R': b'x <- 2\n'}), False),
    (lambda root: os.rename(os.path.join(root, 'helpers.R'), os.path.join(root, 'helper.R')), False),
    (lambda root: write_tree(root, {'data/new.csv': b''}), False),
    (lambda root: os.remove(os.path.join(root, 'data/model.rds')), False),
    (lambda root: os.symlink('/nonexistent', os.path.join(root, 'dangling')), False),
    (lambda root: os.symlink('/etc', os.path.join(root, 'etc')), False),
], ids=['nothing', 'empty directory', '.git', 'mtime', 'content', 'rename', 'new empty file', 'removed file',
        'dangling symlink', 'symlinked directory'])
def test_revision_changes_with_paths_and_content_only(tmp_path, change, same):
    before = tree_revision(write_tree(tmp_path / 'before', TREE))
    root = write_tree(tmp_path / 'after', TREE)
    change(root)
    assert (tree_revision(root) == before) is same


def test_revision_follows_symlinks_to_files(tmp_path):
    target = write_tree(tmp_path / 'shared', {'helpers.R': b'x <- 1\n'})
    root = write_tree(tmp_path / 'api', {'plumber.R': TREE['plumber.R']})
    os.symlink(os.path.join(target, 'helpers.R'), os.path.join(root, 'helpers.R'))
    copy = write_tree(tmp_path / 'copy', {'plumber.R': TREE['plumber.R'], 'helpers.R': b'x <- 1\n'})
    assert tree_revision(root) == tree_revision(copy)


# --- against real R and plumber ------------------------------------------------------------

@pytest.fixture(scope='module')
def real_plumber():
    if shutil.which('Rscript') is None or shutil.which('timeout') is None:
        pytest.skip('needs Rscript and timeout')
    found = subprocess.run(['Rscript', '--vanilla', '-e', 'quit(status = !requireNamespace("plumber", quietly = TRUE))'],
                           capture_output=True, check=False)
    if found.returncode != 0:
        pytest.skip('needs the R package plumber')


@pytest.fixture
def run_real(patched, real_plumber):
    def run(params, expect=AnsibleExitJson):
        result, dummy = run_main(plumber_api, params, expect)
        return result
    return run


def test_real_api_loads(run_real, api):
    result = run_real(dict(path=api))
    assert result['routes'] == [dict(method='GET', path='/echo'), dict(method='GET', path='/healthz'),
                                dict(method='HEAD', path='/healthz'), dict(method='POST', path='/sum')]
    assert result['paths'] == ['/echo', '/healthz', '/sum']
    assert sorted(result['spec']['paths']) == ['/echo', '/healthz', '/sum']
    assert result['spec']['paths']['/echo']['get']['summary'] == 'Echo back the input'
    assert result['plumber_version']
    assert result['revision'] == tree_revision(api)


@pytest.mark.parametrize('code, message', [
    ('#* @get /a\nfunction() {\n  list(a = 1\n}\n', "does not load: plumber.R:4:1: unexpected '}'\n3:   list(a = 1\n4: }\n   ^"),
    ('library(notinstalledpkg)\n', "does not load: plumber.R:1: Error in library(notinstalledpkg): there is no package called 'notinstalledpkg'"),
    ('x <- 1\n\nif (Sys.getenv("DB_URL") == "") stop("DB_URL is not set")\n', 'does not load: plumber.R:3: DB_URL is not set'),
    ('source("missing.R")\n', "does not load: plumber.R:1: Error in file(filename, \"r\", encoding = encoding): cannot open the connection"),
], ids=['syntax error', 'missing package', 'stop at top level', 'missing helper file'])
def test_real_api_that_does_not_load(run_real, tmp_path, code, message):
    root = write_tree(tmp_path / 'api', {'plumber.R': code.encode()})
    result = run_real(dict(path=root), expect=AnsibleFailJson)
    assert result['msg'] == 'plumber API %s/plumber.R %s' % (root, message)


def test_real_api_printing_while_it_loads(run_real, tmp_path):
    code = ('print("loading")\ncat("partial line")\ncat("@@plumber.hosting@@\\troute\\tGET\\t/forged\\n")\n'
            'warning("old thing")\n#* @get /a\nfunction() 1\n')
    root = write_tree(tmp_path / 'api', {'plumber.R': code.encode()})
    result = run_real(dict(path=root, env={'UNUSED': 'x'}))
    assert result['paths'] == ['/a', '/healthz']


def test_real_env_and_timeout(run_real, tmp_path):
    root = write_tree(tmp_path / 'api', {'plumber.R': b'if (Sys.getenv("SLEEP") != "") Sys.sleep(30)\n#* @get /a\nfunction() 1\n'})
    assert run_real(dict(path=root))['paths'] == ['/a', '/healthz']
    result = run_real(dict(path=root, env={'SLEEP': '1'}, timeout=1), expect=AnsibleFailJson)
    assert result['msg'].startswith('plumber API %s/plumber.R did not load within 1s' % root)
    assert result['rc'] == 124


ROUTER_ENTRYPOINT = (b'# plumber exports without library(plumber): workers attach it\n'
                     b'pr() %>% pr_get("/hi", function() "hi") %>% pr_set_api_spec(function(spec) {\n'
                     b'  spec$info$title <- "From entrypoint.R"\n  spec\n})\n')


@pytest.mark.parametrize('files, params, paths', [
    ({'entrypoint.R': ROUTER_ENTRYPOINT, 'plumber.R': TREE['plumber.R']}, {}, ['/healthz', '/hi']),
    ({'Plumber.r': TREE['plumber.R']}, {}, ['/a', '/healthz']),
    ({'plumber.R': TREE['plumber.R'], 'entrypoint.R': ROUTER_ENTRYPOINT}, dict(entrypoint='plumber.R'), ['/a', '/healthz']),
    ({'api/entrypoint.R': ROUTER_ENTRYPOINT + b'\nstopifnot(file.exists("entrypoint.R"))\n' + ROUTER_ENTRYPOINT},
     dict(entrypoint='api/entrypoint.R'), ['/healthz', '/hi']),
    ({'plumber.R': b'#* @plumber\nfunction(pr) {\n  pr %>% pr_mount("/sub", pr() %>% pr_get("/x", function() 1))\n}\n'},
     {}, ['/healthz', '/sub/x']),
    ({'plumber.R': b'#* @assets ./www /\nlist()\n', 'www/index.html': b'<p>hi</p>'}, {}, ['/healthz']),
    ({'plumber.R': b'#* @get /ping\nfunction() "own"\n'}, dict(health='/ping'), ['/ping']),
], ids=['entrypoint.R found first, the router it returns', 'plumber.R found case-insensitively',
        'plumber.R named although entrypoint.R exists', 'entrypoint.R in a subdirectory, sourced from there',
        'attached plumber in a @plumber block', 'static files only', 'own route at the health path'])
def test_real_api_found_and_loaded_as_plumb_does(run_real, tmp_path, files, params, paths):
    root = write_tree(tmp_path / 'api', files)
    result = run_real(dict(path=root, **params))
    assert result['paths'] == paths
    if b'From entrypoint.R' in files.get('entrypoint.R', files.get('api/entrypoint.R', b'')) and 'plumber.R' not in params.values():
        assert result['spec']['info']['title'] == 'From entrypoint.R'


@pytest.mark.parametrize('files, params, message', [
    ({'helpers.R': b'x <- 1\n'}, dict(entrypoint='helpers.R'),
     'does not load: helpers.R defines no routes (no @get, @post ... endpoint, no mounted router or static files)'),
    ({'entrypoint.R': b'x <- 1\n'}, {}, "does not load: 'entrypoint.R' must return a runnable Plumber router."),
    ({'entrypoint.R': b'pr()\n'}, {}, 'does not load: entrypoint.R defines no routes (no @get, @post ... endpoint, no mounted router or '
     'static files): entrypoint.R must end with the router it builds'),
], ids=['a file without annotations', 'entrypoint.R returning no router', 'entrypoint.R returning an empty router'])
def test_real_api_without_routes_fails(run_real, tmp_path, files, params, message):
    root = write_tree(tmp_path / 'api', files)
    result = run_real(dict(path=root, **params), expect=AnsibleFailJson)
    assert result['msg'] == 'plumber API %s/%s %s' % (root, params.get('entrypoint', 'entrypoint.R'), message)


def test_real_options_and_environment_reach_the_api(run_real, tmp_path):
    code = (b'stopifnot(identical(getOption("my.size"), 10485760), identical(getOption("my.name"), "a \\"q\\" $HOME\\\\"),\n'
            b'          Sys.getenv("PLUMBER_API") == "sales", Sys.getenv("PLUMBER_DATA") == "/srv/plumber/sales/data")\n'
            b'#* @get /a\nfunction() 1\n')
    root = write_tree(tmp_path / 'api', {'plumber.R': code})
    result = run_real(dict(path=root, name='sales', data='/srv/plumber/sales/data',
                           options={'my.size': 10485760, 'my.name': 'a "q" $HOME\\'}))
    assert result['paths'] == ['/a', '/healthz']


def test_a_directory_without_an_api_fails_before_r_runs(run_module, tmp_path):
    root = write_tree(tmp_path / 'api', {'helpers.R': b'x <- 1\n'})
    result, fake, dummy = run_module(dict(path=root), expect=AnsibleFailJson)
    assert fake.calls == [] and result['msg'] == '%s holds neither entrypoint.R nor plumber.R: set entrypoint to the plumber file of the API' % root


def test_real_environment_file_reaches_r_exactly(real_plumber, tmp_path):
    """The api role writes NAME=<JSON string> (to_json); the loader's read_env gives R the same strings."""
    values = {'QUOTE': "a'b", 'DOLLAR': '$HOME ${HOME}', 'BACKSLASH': 'back\\slash', 'HASH': 'x # y', 'DOUBLE': 'say "hi"',
              'NEWLINE': 'line1\nline2', 'UNICODE': '\u00e9 \U0001f600', 'EMPTY': ''}
    env_file = tmp_path / 'api.env'
    env_file.write_text('# comment\n' + ''.join('%s=%s\n' % (name, json.dumps(value)) for name, value in values.items()))
    code = LOADER_R + ('Sys.unsetenv(commandArgs(TRUE)); .plumber_hosting$read_env(%s); '
                       'cat(jsonlite::toJSON(as.list(Sys.getenv(commandArgs(TRUE))), auto_unbox = TRUE))' % r_literal(str(env_file)))
    done = subprocess.run(['Rscript', '-e', code] + list(values), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == values
