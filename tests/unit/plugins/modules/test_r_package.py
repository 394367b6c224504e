# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plumber.hosting.r_package with a fake command runner: each case lists the commands the module must
run, in order, with what each one answers."""

from __future__ import annotations

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plumber.hosting.plugins.module_utils._r import (
    ARCHIVE_INSTALL_SCRIPT,
    ARCHIVE_SCRIPT,
    AVAILABLE_SCRIPT,
    INSTALL_SCRIPT,
    REMOVE_SCRIPT,
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


def index(*versions, **unreachable):
    """AVAILABLE_SCRIPT's answer for LOCAL: (version) offered; unreachable={repo: message} for others."""
    lines = ['unreachable\t%s\t%s' % item for item in unreachable.get('repos', {}).items()]
    if not unreachable.get('local_down'):
        lines.append('reachable\t%s' % LOCAL)
        lines += ['available\t%s\t%s' % (version, LOCAL) for version in versions]
    return ok('\n'.join(lines) + '\n')


def policy(candidate, installed='(none)', package='r-cran-hellopkg'):
    return ok('%s:\n  Installed: %s\n  Candidate: %s\n  Version table:\n' % (package, installed, candidate))


NO_DEBIAN_PACKAGE = ok('', 'N: Unable to locate package r-cran-hellopkg\n')
UNREACHABLE_MSG = "unable to access index for repository http://127.0.0.1:9/src/contrib: cannot open URL"
COMPILER_LOG = '\n'.join(
    ["* installing *source* package 'brokenpkg' ...", '** libs'] + ['gcc noise %d' % i for i in range(30)] +
    ["bad.c:2:27: error: 'this_does_not_compile' undeclared", "ERROR: compilation failed for package 'brokenpkg'",
     "* removing '/usr/local/lib/R/site-library/brokenpkg'"]) + '\n'


# --- the fake runner -----------------------------------------------------------------------

class FakeRunner:
    """Answers each command from a table of (command, answer) in order and records what ran."""

    def __init__(self, table):
        self.table = list(table)
        self.calls = []
        self.environs = []

    def __call__(self, args, **kwargs):
        self.calls.append(list(args))
        self.environs.append(kwargs.get('environ_update'))
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
        table=[(r(STATE_SCRIPT, 'jsonlite'), state(('1.8.4', DEBIAN)))],
        result=dict(changed=False, version='1.8.4', version_before='1.8.4', source=None, lib=DEBIAN),
    ),
    dict(
        id='installed without constraint: nothing to do',
        params=dict(name='hellopkg', repos=[LOCAL]),
        table=[(r(STATE_SCRIPT, 'hellopkg'), state(('0.1.0', SITE)))],
        result=dict(changed=False, version='0.1.0', source=None),
    ),
    dict(
        id='missing, Debian candidate satisfies: apt-get install',
        params=dict(name='zeallot', version='>= 0.1'),
        table=[
            (r(STATE_SCRIPT, 'zeallot'), state()),
            ([APT_CACHE, 'policy', 'r-cran-zeallot'], policy('0.1.0-3', package='r-cran-zeallot')),
            ([APT_GET, 'install', '-y', '--no-install-recommends', 'r-cran-zeallot'], ok('Setting up r-cran-zeallot (0.1.0-3) ...\n')),
            (r(STATE_SCRIPT, 'zeallot'), state(('0.1.0', DEBIAN))),
        ],
        result=dict(changed=True, version='0.1.0', version_before=None, source='apt', lib=DEBIAN),
    ),
    dict(
        id='Debian candidate too old: install.packages from the repositories',
        params=dict(name='hellopkg', version='>= 0.2', repos=[LOCAL]),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state()),
            ([APT_CACHE, 'policy', 'r-cran-hellopkg'], policy('1:0.1.0+dfsg-2')),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
            (r(INSTALL_SCRIPT, 'hellopkg', SITE, LOCAL), ok('', "* DONE (hellopkg)\n")),
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', SITE))),
        ],
        result=dict(changed=True, version='0.2.0', source='repository', lib=SITE),
    ),
    dict(
        id='installed version too old for the constraint: upgrade from the repositories',
        params=dict(name='hellopkg', version='>= 0.2', repos=[LOCAL], prefer_binary=False),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.1.0', SITE))),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
            (r(INSTALL_SCRIPT, 'hellopkg', SITE, LOCAL), ok()),
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', SITE))),
        ],
        result=dict(changed=True, version='0.2.0', version_before='0.1.0', source='repository'),
    ),
    dict(
        id='pinned older version: install from the archive',
        params=dict(name='hellopkg', version='0.1.0', repos=[LOCAL]),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state()),
            ([APT_CACHE, 'policy', 'r-cran-hellopkg'], NO_DEBIAN_PACKAGE),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
            (r(ARCHIVE_SCRIPT, 'hellopkg', '0.1.0', LOCAL), ok('archive\t0.1.0\t%s\n' % ARCHIVE_URL)),
            (r(ARCHIVE_INSTALL_SCRIPT, 'hellopkg', ARCHIVE_URL, SITE, LOCAL), ok()),
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.1.0', SITE))),
        ],
        result=dict(changed=True, version='0.1.0', source='archive', lib=SITE),
    ),
    dict(
        id='range excluding the newest: newest archived version that fits',
        params=dict(name='hellopkg', version='>= 0.1, < 0.2', repos=[LOCAL], prefer_binary=False),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state()),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
            (r(ARCHIVE_SCRIPT, 'hellopkg', '', LOCAL), ok(
                'archive\t0.0.9\t%s/0.0.9\narchive\t0.1.0\t%s\narchive\t0.1.5-1\t%s/0.1.5-1\n' % (LOCAL, ARCHIVE_URL, LOCAL))),
            (r(ARCHIVE_INSTALL_SCRIPT, 'hellopkg', LOCAL + '/0.1.5-1', SITE, LOCAL), ok()),
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.1.5-1', SITE))),
        ],
        result=dict(changed=True, version='0.1.5-1', source='archive'),
    ),
    dict(
        id='latest: upgrade to the newest in the repositories',
        params=dict(name='hellopkg', state='latest', repos=[LOCAL]),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.1.0', SITE))),
            ([APT_CACHE, 'policy', 'r-cran-hellopkg'], NO_DEBIAN_PACKAGE),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
            (r(INSTALL_SCRIPT, 'hellopkg', SITE, LOCAL), ok()),
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', SITE))),
        ],
        result=dict(changed=True, version='0.2.0', version_before='0.1.0', source='repository'),
    ),
    dict(
        id='latest: Debian candidate as new as the repositories wins',
        params=dict(name='hellopkg', state='latest', repos=[LOCAL]),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.1.0', DEBIAN))),
            ([APT_CACHE, 'policy', 'r-cran-hellopkg'], policy('0.2.0+dfsg-1', installed='0.1.0-1')),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
            ([APT_GET, 'install', '-y', '--no-install-recommends', 'r-cran-hellopkg'], ok()),
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', DEBIAN))),
        ],
        result=dict(changed=True, version='0.2.0', source='apt', lib=DEBIAN),
    ),
    dict(
        id='latest: already the newest',
        params=dict(name='hellopkg', state='latest', repos=[LOCAL]),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', SITE))),
            ([APT_CACHE, 'policy', 'r-cran-hellopkg'], policy('0.1.0-1')),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
        ],
        result=dict(changed=False, version='0.2.0', source=None),
    ),
    dict(
        id='latest with a pin that the installed version meets: no archive lookup',
        params=dict(name='hellopkg', state='latest', version='0.1.0', repos=[LOCAL], prefer_binary=False),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.1.0', SITE))),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
        ],
        result=dict(changed=False, version='0.1.0'),
    ),
    dict(
        id='lib set: no Debian package, install into lib',
        params=dict(name='hellopkg', repos=[LOCAL], lib='{tmp}/library'),
        table=[
            (r(STATE_SCRIPT, 'hellopkg', '{tmp}/library'), state()),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
            (r(INSTALL_SCRIPT, 'hellopkg', '{tmp}/library', LOCAL), ok()),
            (r(STATE_SCRIPT, 'hellopkg', '{tmp}/library'), state(('0.2.0', '{tmp}/library'))),
        ],
        result=dict(changed=True, version='0.2.0', source='repository', lib='{tmp}/library'),
    ),
    dict(
        id='one repository down, the package found in another',
        params=dict(name='hellopkg', repos=['http://127.0.0.1:9/', LOCAL], prefer_binary=False),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state()),
            (r(AVAILABLE_SCRIPT, 'hellopkg', 'http://127.0.0.1:9/', LOCAL), index('0.2.0', repos={'http://127.0.0.1:9/': UNREACHABLE_MSG})),
            (r(INSTALL_SCRIPT, 'hellopkg', SITE, 'http://127.0.0.1:9/', LOCAL), ok()),
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', SITE))),
        ],
        result=dict(changed=True, version='0.2.0', source='repository'),
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
        id='check mode: reads everything, installs nothing',
        params=dict(name='hellopkg', version='0.1.0', repos=[LOCAL], _ansible_check_mode=True),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state()),
            ([APT_CACHE, 'policy', 'r-cran-hellopkg'], NO_DEBIAN_PACKAGE),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
            (r(ARCHIVE_SCRIPT, 'hellopkg', '0.1.0', LOCAL), ok('archive\t0.1.0\t%s\n' % ARCHIVE_URL)),
        ],
        result=dict(changed=True, version='0.1.0', version_before=None, source='archive', lib=SITE),
    ),
    dict(
        id='check mode: apt-get not run',
        params=dict(name='zeallot', _ansible_check_mode=True),
        table=[
            (r(STATE_SCRIPT, 'zeallot'), state()),
            ([APT_CACHE, 'policy', 'r-cran-zeallot'], policy('0.1.0-3', package='r-cran-zeallot')),
        ],
        result=dict(changed=True, version='0.1.0', source='apt'),
    ),
    dict(
        id='check mode: absent removes nothing',
        params=dict(name='hellopkg', state='absent', _ansible_check_mode=True),
        table=[(r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', SITE)))],
        result=dict(changed=True, version=None, version_before='0.2.0'),
    ),
    dict(
        id='diff: before and after versions',
        params=dict(name='hellopkg', state='latest', repos=[LOCAL], prefer_binary=False, _ansible_diff=True),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.1.0', SITE))),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
            (r(INSTALL_SCRIPT, 'hellopkg', SITE, LOCAL), ok()),
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', SITE))),
        ],
        result=dict(changed=True, diff=dict(before='hellopkg 0.1.0\n', after='hellopkg 0.2.0\n')),
    ),
    dict(
        id='diff: absent',
        params=dict(name='hellopkg', state='absent', _ansible_diff=True, _ansible_check_mode=True),
        table=[(r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', SITE)))],
        result=dict(changed=True, diff=dict(before='hellopkg 0.2.0\n', after='hellopkg absent\n')),
    ),
    dict(
        id='empty version string means no constraint',
        params=dict(name='hellopkg', version=''),
        table=[(r(STATE_SCRIPT, 'hellopkg'), state(('0.2.0', SITE)))],
        result=dict(changed=False, version='0.2.0'),
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
        id='unknown package',
        params=dict(name='nosuchpkg', repos=[LOCAL]),
        table=[
            (r(STATE_SCRIPT, 'nosuchpkg'), state()),
            ([APT_CACHE, 'policy', 'r-cran-nosuchpkg'], ok()),
            (r(AVAILABLE_SCRIPT, 'nosuchpkg', LOCAL), index()),
        ],
        msg=["R package 'nosuchpkg' is not available from the repositories file:///srv/cran (and no Debian package r-cran-nosuchpkg)"],
    ),
    dict(
        id='unknown package while another repository is down',
        params=dict(name='nosuchpkg', repos=[LOCAL, 'http://127.0.0.1:9/'], prefer_binary=False),
        table=[
            (r(STATE_SCRIPT, 'nosuchpkg'), state()),
            (r(AVAILABLE_SCRIPT, 'nosuchpkg', LOCAL, 'http://127.0.0.1:9/'), index(repos={'http://127.0.0.1:9/': UNREACHABLE_MSG})),
        ],
        msg=["R package 'nosuchpkg' is not available from the repositories file:///srv/cran, http://127.0.0.1:9/;",
             'these repositories could not be reached: http://127.0.0.1:9/ (unable to access index'],
    ),
    dict(
        id='no repository reachable',
        params=dict(name='hellopkg', repos=['http://127.0.0.1:9/'], prefer_binary=False),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state()),
            (r(AVAILABLE_SCRIPT, 'hellopkg', 'http://127.0.0.1:9/'), index(local_down=True, repos={'http://127.0.0.1:9/': UNREACHABLE_MSG})),
        ],
        msg=['none of the repositories could be reached: http://127.0.0.1:9/ (' + UNREACHABLE_MSG],
    ),
    dict(
        id='latest with the repositories down fails even when installed',
        params=dict(name='hellopkg', state='latest', repos=['http://127.0.0.1:9/'], prefer_binary=False),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.1.0', SITE))),
            (r(AVAILABLE_SCRIPT, 'hellopkg', 'http://127.0.0.1:9/'), index(local_down=True, repos={'http://127.0.0.1:9/': UNREACHABLE_MSG})),
        ],
        msg=['none of the repositories could be reached: http://127.0.0.1:9/'],
    ),
    dict(
        id='constraint not satisfiable lists what was found',
        params=dict(name='hellopkg', version='>= 5.0', repos=[LOCAL]),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.1.0', SITE))),
            ([APT_CACHE, 'policy', 'r-cran-hellopkg'], policy('0.1.5-1')),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
            (r(ARCHIVE_SCRIPT, 'hellopkg', '', LOCAL), ok('archive\t0.1.0\t%s\n' % ARCHIVE_URL)),
        ],
        msg=["no version of R package 'hellopkg' satisfies '>= 5.0'. Found: installed 0.1.0 (/usr/local/lib/R/site-library); "
             "Debian package r-cran-hellopkg 0.1.5-1; repositories 0.2.0 (file:///srv/cran); archive 0.1.0"],
    ),
    dict(
        id='range on an archive that cannot be listed suggests a pin',
        params=dict(name='hellopkg', version='< 0.2', repos=[CRAN], prefer_binary=False),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state()),
            (r(AVAILABLE_SCRIPT, 'hellopkg', CRAN), ok('reachable\t%s\navailable\t0.2.0\t%s\n' % (CRAN, CRAN))),
            (r(ARCHIVE_SCRIPT, 'hellopkg', '', CRAN), ok('unlisted\t%s/src/contrib/Archive/hellopkg/\n' % CRAN)),
        ],
        msg=['archive none; the archives https://cloud.r-project.org/src/contrib/Archive/hellopkg/ cannot be listed',
             'pin it with "== VERSION"'],
    ),
    dict(
        id='compilation error shows the end of the output',
        params=dict(name='brokenpkg', repos=[LOCAL], prefer_binary=False),
        table=[
            (r(STATE_SCRIPT, 'brokenpkg'), state()),
            (r(AVAILABLE_SCRIPT, 'brokenpkg', LOCAL), index('1.0.0')),
            (r(INSTALL_SCRIPT, 'brokenpkg', SITE, LOCAL), ok("failure\tinstallation of package 'brokenpkg' had non-zero exit status\n", COMPILER_LOG)),
        ],
        msg=["installing R package 'brokenpkg' 1.0.0 from repository failed: installation of package 'brokenpkg' had non-zero exit status\n",
             "bad.c:2:27: error: 'this_does_not_compile' undeclared\nERROR: compilation failed for package 'brokenpkg'"],
        absent=['gcc noise 5\n'],
    ),
    dict(
        id='R crashing during install fails with its output',
        params=dict(name='hellopkg', repos=[LOCAL], prefer_binary=False),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state()),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
            (r(INSTALL_SCRIPT, 'hellopkg', SITE, LOCAL), (1, '', 'Error: cannot allocate vector\nExecution halted\n')),
        ],
        msg=["installing R package 'hellopkg' 0.2.0 from repository failed: rc 1\n", 'Execution halted'],
    ),
    dict(
        id='apt-get install failing',
        params=dict(name='zeallot'),
        table=[
            (r(STATE_SCRIPT, 'zeallot'), state()),
            ([APT_CACHE, 'policy', 'r-cran-zeallot'], policy('0.1.0-3', package='r-cran-zeallot')),
            ([APT_GET, 'install', '-y', '--no-install-recommends', 'r-cran-zeallot'], (100, '', 'E: Unable to fetch some archives\n')),
        ],
        msg=["installing R package 'zeallot' 0.1.0 from apt failed: rc 100\nE: Unable to fetch some archives"],
    ),
    dict(
        id='installed but R reports another version',
        params=dict(name='hellopkg', version='>= 0.2', repos=[LOCAL], prefer_binary=False),
        table=[
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.1.0', SITE))),
            (r(AVAILABLE_SCRIPT, 'hellopkg', LOCAL), index('0.2.0')),
            (r(INSTALL_SCRIPT, 'hellopkg', SITE, LOCAL), ok()),
            (r(STATE_SCRIPT, 'hellopkg'), state(('0.1.0', SITE))),
        ],
        msg=["installed R package 'hellopkg' 0.2.0 from repository, but R now reports version 0.1.0 in /usr/local/lib/R/site-library"],
    ),
    dict(
        id='unparseable R output fails with the command',
        params=dict(name='hellopkg'),
        table=[(r(STATE_SCRIPT, 'hellopkg'), ok('[1] "something R printed"\n', 'a warning\n'))],
        msg=["could not parse the output of Rscript (rc 0): line 1 is not a record: '[1] \"something R printed\"'"],
        fields=dict(cmd=r(STATE_SCRIPT, 'hellopkg'), rc=0, stderr='a warning\n'),
    ),
    dict(
        id='Rscript failing on a read fails with its stderr',
        params=dict(name='hellopkg'),
        table=[(r(STATE_SCRIPT, 'hellopkg'), (2, '', 'Fatal error: cannot open file\n'))],
        msg=['Rscript failed (rc 2): Fatal error: cannot open file'],
        fields=dict(cmd=r(STATE_SCRIPT, 'hellopkg'), rc=2),
    ),
    dict(
        id='a version R reports that is no R version',
        params=dict(name='hellopkg'),
        table=[(r(STATE_SCRIPT, 'hellopkg'), state(('1.0-beta', SITE)))],
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
    for part in case.get('absent', []):
        assert part not in result['msg']
    for key, value in case.get('fields', {}).items():
        assert result[key] == value, key


def case_named(cases, case_id):
    return next(case for case in cases if case['id'] == case_id)


def test_commands_run_with_c_locale(run_module):
    case = case_named(SUCCESS, 'missing, Debian candidate satisfies: apt-get install')
    dummy, fake = run_module(case['params'], case['table'])
    assert fake.environs == [
        {'LC_ALL': 'C'},
        {'LC_ALL': 'C'},
        {'LC_ALL': 'C', 'DEBIAN_FRONTEND': 'noninteractive'},
        {'LC_ALL': 'C'},
    ]


def test_compilation_error_output_is_cut_to_the_tail(run_module):
    case = case_named(FAILURE, 'compilation error shows the end of the output')
    result, dummy = run_module(case['params'], case['table'], expect=AnsibleFailJson)
    assert len(result['msg'].splitlines()) == 21
    assert result['stderr'] == COMPILER_LOG
