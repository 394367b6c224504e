# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plumber.hosting.r_package with a fake command runner: each case lists the commands the module must
run, in order, with what each one answers. For present/latest that is one run of RESOLVER_R (the
decision itself is tested with real R in tests/unit/plugins/module_utils/test_resolver_r.py): here,
the arguments it gets and how its records become the result or the failure."""

from __future__ import annotations

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plumber.hosting.plugins.module_utils._r import (
    REMOVE_SCRIPT,
    RESOLVER_CALL,
    RESOLVER_R,
    STATE_SCRIPT,
)
from ansible_collections.plumber.hosting.plugins.modules import r_package
from ansible_collections.plumber.hosting.tests.unit.plugins.modules.utils import AnsibleExitJson, AnsibleFailJson, patch_exits, run_main, substitute

RSCRIPT = '/usr/bin/Rscript'
APT_CACHE = '/usr/bin/apt-cache'
APT_GET = '/usr/bin/apt-get'
DPKG = '/usr/bin/dpkg'
SITE = '/usr/local/lib/R/site-library'
DEBIAN = '/usr/lib/R/site-library'
BASE = '/usr/lib/R/library'
CRAN = 'https://cloud.r-project.org'
LOCAL = 'file:///srv/cran'
ARCHIVE_URL = LOCAL + '/src/contrib/Archive/hellopkg/hellopkg_0.1.0.tar.gz'
NOT_SATISFIED = ("no version of R package 'hellopkg' satisfies '>= 5.0'. Found: installed 0.1.0 (/usr/local/lib/R/site-library); "
                 "Debian package r-cran-hellopkg 0.1.5-1; repositories 0.2.0 (file:///srv/cran); archive 0.1.0")
COMPILE_FAILED = ("installing R package 'brokenpkg' 1.0.0 from repository failed: installation of package 'brokenpkg' had non-zero "
                  "exit status\nbad.c:2:27: error: 'this_does_not_compile' undeclared\nERROR: compilation failed for package 'brokenpkg'")


# --- what the commands print ---------------------------------------------------------------

def r(script, *args):
    return [RSCRIPT, '--vanilla', '-e', script] + list(args)


def ok(stdout='', stderr=''):
    return (0, stdout, stderr)


def state(*copies):
    """STATE_SCRIPT's answer: the package in these (version, library) pairs."""
    lines = ['libpath\t%s' % lib for lib in (SITE, DEBIAN, BASE)]
    lines += ['installed\t%s\t%s' % copy for copy in copies]
    return ok('\n'.join(lines) + '\n')


def resolver(mode, name, constraint='', state='present', lib='', prefer_binary='true', repos=(CRAN,)):
    """The command line of RESOLVER_R (which r_package sends on stdin)."""
    return [RSCRIPT, '--vanilla', '-e', RESOLVER_CALL, mode, name, constraint, state, lib, prefer_binary] + list(repos)


def records(*copies, **found):
    """RESOLVER_R's answer: the package in these (version, library) copies, then plan=(source, version, url, lib),
    after=(version, lib), extra=[lines], done=True."""
    lines = ['libpath\t%s' % lib for lib in (SITE, DEBIAN, BASE)]
    lines += ['installed\t%s\t%s' % copy for copy in copies]
    lines += found.get('extra', [])
    if 'plan' in found:
        lines.append('plan\t%s\t%s\t%s\t%s' % found['plan'])
    if 'after' in found:
        lines.append('after\t%s\t%s' % found['after'])
    if found.get('done', True):
        lines.append('done')
    return ok('\n'.join(lines) + '\n', found.get('stderr', ''))


def error(message, *copies):
    """RESOLVER_R's answer when it fails: the message as hex."""
    lines = ['libpath\t%s' % SITE] + ['installed\t%s\t%s' % copy for copy in copies]
    return ok('\n'.join(lines + ['error\t' + message.encode('utf-8').hex()]) + '\n', 'R console output\n')


# --- the fake runner -----------------------------------------------------------------------

class FakeRunner:
    """Answers each command from a table of (command, answer) in order and records what ran."""

    def __init__(self, table):
        self.table = list(table)
        self.calls = []
        self.environs = []
        self.stdin = []

    def __call__(self, args, **kwargs):
        self.calls.append(list(args))
        self.environs.append(kwargs.get('environ_update'))
        self.stdin.append(kwargs.get('data'))
        for i, (cmd, answer) in enumerate(self.table):
            if cmd == list(args):
                del self.table[i]
                return answer
        raise AssertionError('unexpected command %r' % (args,))


@pytest.fixture
def run_module(monkeypatch):
    """Run r_package with the given params and command table; returns (result dict, fake runner)."""
    def get_bin_path(module, arg, required=False, opt_dirs=None):
        return {'Rscript': RSCRIPT, 'apt-cache': APT_CACHE, 'apt-get': APT_GET, 'dpkg': DPKG}.get(arg)

    patch_exits(monkeypatch)
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', get_bin_path)

    def run(params, table, expect=AnsibleExitJson):
        fake = FakeRunner(table)
        monkeypatch.setattr(AnsibleModule, 'run_command', fake)
        result, dummy = run_main(r_package, params, expect)
        return result, fake
    return run


# --- cases that succeed --------------------------------------------------------------------

SUCCESS = [
    dict(
        id='installed version satisfies: nothing to do',
        params=dict(name='jsonlite', version='>= 1.8'),
        table=[(resolver('apply', 'jsonlite', '>= 1.8'), records(('1.8.4', DEBIAN), plan=('none', '1.8.4', '', DEBIAN)))],
        result=dict(changed=False, version='1.8.4', version_before='1.8.4', source=None, lib=DEBIAN),
    ),
    dict(
        id='Debian binary: installed with apt, into the Debian library',
        params=dict(name='zeallot', version='>= 0.1'),
        table=[(resolver('apply', 'zeallot', '>= 0.1'), records(plan=('apt', '0.1.0', '', DEBIAN), after=('0.1.0', DEBIAN)))],
        result=dict(changed=True, version='0.1.0', version_before=None, source='apt', lib=DEBIAN),
    ),
    dict(
        id='lib set: passed on, binaries still preferred',
        params=dict(name='digest', repos=[LOCAL], lib='/srv/lib'),
        table=[(resolver('apply', 'digest', lib='/srv/lib', repos=[LOCAL]),
                records(plan=('apt', '0.6.31', '', DEBIAN), after=('0.6.31', DEBIAN)))],
        result=dict(changed=True, version='0.6.31', source='apt', lib=DEBIAN),
    ),
    dict(
        id='bare version pinned as == and archive source reported',
        params=dict(name='hellopkg', version='0.1.0', repos=[LOCAL], prefer_binary=False),
        table=[(resolver('apply', 'hellopkg', '== 0.1.0', prefer_binary='false', repos=[LOCAL]),
                records(('0.2.0', SITE), plan=('archive', '0.1.0', ARCHIVE_URL, SITE), after=('0.1.0', SITE)))],
        result=dict(changed=True, version='0.1.0', version_before='0.2.0', source='archive', lib=SITE),
    ),
    dict(
        id='constraint clauses normalized, latest passed on',
        params=dict(name='hellopkg', version='>=0.1,<1.0', state='latest', repos=[LOCAL, CRAN]),
        table=[(resolver('apply', 'hellopkg', '>= 0.1, < 1.0', 'latest', repos=[LOCAL, CRAN]),
                records(('0.1.0', SITE), plan=('repository', '0.2.0', '', SITE), after=('0.2.0', SITE)))],
        result=dict(changed=True, version='0.2.0', version_before='0.1.0', source='repository'),
    ),
    dict(
        id='dependencies from Debian reported',
        params=dict(name='hellodeps', repos=[LOCAL]),
        table=[(resolver('apply', 'hellodeps', repos=[LOCAL]),
                records(plan=('repository', '0.1.0', '', SITE), after=('0.1.0', SITE),
                        extra=['binary_dependency\tr-cran-zeallot\t0.1.0']))],
        result=dict(changed=True, source='repository', binary_dependencies=['r-cran-zeallot']),
    ),
    dict(
        id='R reports where it finds the package after installing',
        params=dict(name='hellopkg', repos=[LOCAL]),
        table=[(resolver('apply', 'hellopkg', repos=[LOCAL]),
                records(plan=('repository', '0.2.0', '', SITE), after=('0.2.0-1', '/opt/lib')))],
        result=dict(changed=True, version='0.2.0-1', lib='/opt/lib'),
    ),
    dict(
        id='check mode: plans, installs nothing',
        params=dict(name='hellopkg', version='0.1.0', repos=[LOCAL], _ansible_check_mode=True),
        table=[(resolver('plan', 'hellopkg', '== 0.1.0', repos=[LOCAL]), records(plan=('archive', '0.1.0', ARCHIVE_URL, SITE)))],
        result=dict(changed=True, version='0.1.0', version_before=None, source='archive', lib=SITE),
    ),
    dict(
        id='diff: before and after versions',
        params=dict(name='hellopkg', state='latest', repos=[LOCAL], _ansible_diff=True),
        table=[(resolver('apply', 'hellopkg', state='latest', repos=[LOCAL]),
                records(('0.1.0', SITE), plan=('repository', '0.2.0', '', SITE), after=('0.2.0', SITE)))],
        result=dict(changed=True, diff=dict(before='hellopkg 0.1.0\n', after='hellopkg 0.2.0\n')),
    ),
    dict(
        id='empty version string means no constraint',
        params=dict(name='hellopkg', version=''),
        table=[(resolver('apply', 'hellopkg'), records(('0.2.0', SITE), plan=('none', '0.2.0', '', SITE)))],
        result=dict(changed=False, version='0.2.0'),
    ),
    dict(
        id='absent: Debian package removed with apt-get',
        params=dict(name='zeallot', state='absent'),
        table=[
            (r(STATE_SCRIPT, 'zeallot'), state(('0.1.0', DEBIAN))),
            ([DPKG, '-S', DEBIAN + '/zeallot'], ok('r-cran-zeallot: /usr/lib/R/site-library/zeallot\n')),
            ([APT_GET, '-s', 'remove', 'r-cran-zeallot'], ok('Remv r-cran-zeallot [0.1.0-3]\n')),
            ([APT_GET, 'remove', '-y', 'r-cran-zeallot'], ok()),
            (r(STATE_SCRIPT, 'zeallot'), state()),
        ],
        result=dict(changed=True, version=None, version_before='0.1.0', lib=None, source=None),
    ),
    dict(
        id='absent: R-installed package removed with remove.packages',
        params=dict(name='hellopkg', state='absent'),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', SITE))),
            (r(REMOVE_SCRIPT, 'hellopkg', SITE), ok()),
            (r(STATE_SCRIPT, 'hellopkg'), state()),
        ],
        result=dict(changed=True, version=None, version_before='0.2.0'),
    ),
    dict(
        id='absent: one copy per library, each removed its own way',
        params=dict(name='zeallot', state='absent'),
        table=[
            (r(STATE_SCRIPT, 'zeallot'), state(('0.2.0', SITE), ('0.1.0', DEBIAN))),
            ([DPKG, '-S', DEBIAN + '/zeallot'], ok('r-cran-zeallot: /usr/lib/R/site-library/zeallot\n')),
            ([APT_GET, '-s', 'remove', 'r-cran-zeallot'], ok('Remv r-cran-zeallot [0.1.0-3]\n')),
            (r(REMOVE_SCRIPT, 'zeallot', SITE), ok()),
            ([APT_GET, 'remove', '-y', 'r-cran-zeallot'], ok()),
            (r(STATE_SCRIPT, 'zeallot'), state()),
        ],
        result=dict(changed=True, version=None, version_before='0.2.0'),
    ),
    dict(
        id='absent: not installed',
        params=dict(name='hellopkg', state='absent'),
        table=[(r(STATE_SCRIPT, 'hellopkg'), state())],
        result=dict(changed=False, version=None, version_before=None),
    ),
    dict(
        id='check mode: absent removes nothing',
        params=dict(name='hellopkg', state='absent', _ansible_check_mode=True),
        table=[(r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', SITE)))],
        result=dict(changed=True, version=None, version_before='0.2.0'),
    ),
    dict(
        id='diff: absent',
        params=dict(name='hellopkg', state='absent', _ansible_diff=True, _ansible_check_mode=True),
        table=[(r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', SITE)))],
        result=dict(changed=True, diff=dict(before='hellopkg 0.2.0\n', after='hellopkg absent\n')),
    ),
]


def expand(value, tmp):
    """Put the test's temporary directory in place of {tmp}."""
    return substitute(value, lambda text: text.replace('{tmp}', tmp))


@pytest.mark.parametrize('case', SUCCESS, ids=[case['id'] for case in SUCCESS])
def test_success(run_module, tmp_path, case):
    case = expand(case, str(tmp_path))
    result, fake = run_module(case['params'], case['table'])
    assert fake.calls == [cmd for cmd, dummy in case['table']]
    for key, value in case['result'].items():
        assert result[key] == value, key
    assert result['name'] == case['params']['name']


# --- cases that fail -----------------------------------------------------------------------

FAILURE = [
    dict(
        id='bad name fails before any command',
        params=dict(name='hello_pkg'),
        table=[],
        msg=["name 'hello_pkg' is not a valid R package name"],
    ),
    dict(
        id='name with a shell metacharacter fails before any command',
        params=dict(name='x; rm -rf /'),
        table=[],
        msg=["name 'x; rm -rf /' is not a valid R package name"],
    ),
    dict(
        id='malformed version fails before any command',
        params=dict(name='hellopkg', version='=> 1.0'),
        table=[],
        msg=["version '=> 1.0' is not a version constraint", "clause '=> 1.0'"],
    ),
    dict(
        id='version with one number fails before any command',
        params=dict(name='hellopkg', version='>= 1'),
        table=[],
        msg=["version '>= 1' is not a version constraint", 'not an R version'],
    ),
    dict(
        id="R's message passed on as it is, with the command",
        params=dict(name='hellopkg', version='>= 5.0', repos=[LOCAL]),
        table=[(resolver('apply', 'hellopkg', '>= 5.0', repos=[LOCAL]), error(NOT_SATISFIED, ('0.1.0', SITE)))],
        msg=[NOT_SATISFIED],
        exact=True,
        fields=dict(cmd=resolver('apply', 'hellopkg', '>= 5.0', repos=[LOCAL]), rc=0, stderr='R console output\n'),
    ),
    dict(
        id='a message over several lines (compiler output) survives',
        params=dict(name='brokenpkg', repos=[LOCAL], prefer_binary=False),
        table=[(resolver('apply', 'brokenpkg', prefer_binary='false', repos=[LOCAL]), error(COMPILE_FAILED))],
        msg=[COMPILE_FAILED],
        exact=True,
    ),
    dict(
        id='R dying while installing names the package, version and source',
        params=dict(name='hellopkg', repos=[LOCAL]),
        table=[(resolver('apply', 'hellopkg', repos=[LOCAL]),
                (137, 'libpath\t%s\nplan\trepository\t0.2.0\t\t%s\n' % (SITE, SITE), '* installing *source* package\nKilled\n'))],
        msg=["installing R package 'hellopkg' 0.2.0 from repository failed: rc 137\n* installing *source* package\nKilled"],
    ),
    dict(
        id='R dying before deciding',
        params=dict(name='hellopkg'),
        table=[(resolver('apply', 'hellopkg'), (2, '', 'Fatal error: cannot open file\n'))],
        msg=['Rscript failed: rc 2\nFatal error: cannot open file'],
        fields=dict(rc=2),
    ),
    dict(
        id='unparseable R output fails with the command',
        params=dict(name='hellopkg'),
        table=[(resolver('apply', 'hellopkg'), ok('[1] "something R printed"\n', 'a warning\n'))],
        msg=["could not parse the output of Rscript (rc 0): line 1 is not a record: '[1] \"something R printed\"'"],
        fields=dict(cmd=resolver('apply', 'hellopkg'), rc=0, stderr='a warning\n'),
    ),
    dict(
        id='no plan record',
        params=dict(name='hellopkg'),
        table=[(resolver('apply', 'hellopkg'), records(('0.2.0', SITE)))],
        msg=['could not parse the output of Rscript: 0 plan records, expected 1'],
    ),
    dict(
        id='installed without an after record',
        params=dict(name='hellopkg'),
        table=[(resolver('apply', 'hellopkg'), records(plan=('repository', '0.2.0', '', SITE)))],
        msg=['could not parse the output of Rscript: no "after" record after installing'],
    ),
    dict(
        id='an error record that is not hex',
        params=dict(name='hellopkg'),
        table=[(resolver('apply', 'hellopkg'), ok('error\tnot hex at all\n'))],
        msg=["could not parse the output of Rscript: error record 'not hex at all' is not hex"],
    ),
    dict(
        id='a version R reports that is no R version',
        params=dict(name='hellopkg'),
        table=[(resolver('apply', 'hellopkg'), records(('1.0-beta', SITE), plan=('none', '1.0-beta', '', SITE)))],
        msg=["Rscript reported '1.0-beta', which is not an R version"],
    ),
    dict(
        id='absent refuses when apt-get would remove other packages',
        params=dict(name='jsonlite', state='absent'),
        table=[
            (r(STATE_SCRIPT, 'jsonlite'), state(('1.8.4', DEBIAN))),
            ([DPKG, '-S', DEBIAN + '/jsonlite'], ok('r-cran-jsonlite: /usr/lib/R/site-library/jsonlite\n')),
            ([APT_GET, '-s', 'remove', 'r-cran-jsonlite'], ok('Remv r-cran-plumber [1.2.1+ds-1]\nRemv r-cran-jsonlite [1.8.4+dfsg-1]\n')),
        ],
        msg=["removing R package 'jsonlite' (Debian package r-cran-jsonlite) would also remove r-cran-plumber: remove those first"],
    ),
    dict(
        id='absent refuses a package of another Debian package',
        params=dict(name='stats', state='absent'),
        table=[
            (r(STATE_SCRIPT, 'stats'), state(('4.2.2', BASE))),
            ([DPKG, '-S', BASE + '/stats'], ok('r-base-core: /usr/lib/R/library/stats\n')),
        ],
        msg=["R package 'stats' in /usr/lib/R/library belongs to the Debian package r-base-core: not removing it"],
    ),
    dict(
        id='remove.packages failing',
        params=dict(name='hellopkg', state='absent'),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', SITE))),
            (r(REMOVE_SCRIPT, 'hellopkg', SITE), ok('failure\tcannot remove prior installation\n')),
        ],
        msg=["removing R package 'hellopkg' from /usr/local/lib/R/site-library failed: cannot remove prior installation"],
    ),
]


@pytest.mark.parametrize('case', FAILURE, ids=[case['id'] for case in FAILURE])
def test_failure(run_module, case):
    result, fake = run_module(case['params'], case['table'], expect=AnsibleFailJson)
    assert fake.calls == [cmd for cmd, dummy in case['table']]
    for part in case['msg']:
        assert part in result['msg']
    if case.get('exact'):
        assert result['msg'] == case['msg'][0]
    for key, value in case.get('fields', {}).items():
        assert result[key] == value, key


def case_named(cases, case_id):
    return next(case for case in cases if case['id'] == case_id)


def test_resolver_gets_its_program_on_stdin_with_c_locale(run_module):
    case = case_named(SUCCESS, 'Debian binary: installed with apt, into the Debian library')
    dummy, fake = run_module(case['params'], case['table'])
    assert fake.stdin == [RESOLVER_R]
    assert fake.environs == [{'LC_ALL': 'C'}]
