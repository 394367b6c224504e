# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RESOLVER_R, the one R package resolution of hosts and images, run by real R against a file://
CRAN-like repository built in a temporary directory. apt is played by fake apt-cache/apt-get earlier
on PATH: the fake apt-get installs a prebuilt package into a stand-in Debian library (placed after
the site library in .libPaths(), as /usr/lib/R/site-library is) and logs its calls."""

from __future__ import annotations

import binascii
import os
import shutil
import subprocess
import textwrap

import pytest

from ansible_collections.plumber.hosting.plugins.module_utils._r import (
    RESOLVER_R,
    debian_package_name,
    parse_constraint,
    parse_records,
    record_values,
)

pytestmark = pytest.mark.skipif(shutil.which('Rscript') is None, reason='needs R')

UNREACHABLE = 'http://127.0.0.1:9/cran'

# name, version, extra DESCRIPTION fields, R code, where the tarball goes
PACKAGES = [
    ('hellopkg', '0.1.0', '', 'hello <- function() "hellopkg 0.1.0"', 'archive'),
    ('hellopkg', '0.2.0', '', 'hello <- function() "hellopkg 0.2.0"', 'repo'),
    ('brokenpkg', '1.0.0', 'NeedsCompilation: yes\n', None, 'repo'),
    ('hellodeps', '0.1.0', 'Imports: depdeb (>= 1.0)\n', 'hello <- function() depdeb::hello()', 'repo'),
    ('depdeb', '1.0.0', '', 'hello <- function() "depdeb 1.0.0"', 'debian'),
    ('debonly', '1.2.0', '', 'hello <- function() "debonly 1.2.0"', 'debian'),
    ('hellopkg', '0.2.0', '', 'hello <- function() "hellopkg 0.2.0 (Debian)"', 'debian'),
]

FAKE_APT_CACHE = '''#!/bin/sh
[ "$1" = policy ] || exit 2
if [ -e "$FAKE_APT/$2.version" ]; then
  printf '%s:\\n  Installed: (none)\\n  Candidate: %s\\n  Version table:\\n' "$2" "$(cat "$FAKE_APT/$2.version")"
else
  echo "N: Unable to locate package $2" >&2
fi
'''

FAKE_APT_GET = '''#!/bin/sh
echo "$*" >> "$FAKE_APT/calls"
if [ -e "$FAKE_APT/fail" ]; then echo "E: Unable to fetch some archives" >&2; exit 100; fi
case "$1" in
  update) echo "Reading package lists... Done"; exit 0 ;;
  install) shift ;;
  *) exit 2 ;;
esac
for pkg in "$@"; do
  case "$pkg" in -*) continue ;; esac
  R CMD INSTALL --library="$FAKE_DEBIAN_LIB" "$FAKE_APT/$pkg.tar.gz" >/dev/null 2>&1 || exit 100
done
echo "Setting up $*"
'''


def build_package(workdir, name, version, extra, code, where):
    src = os.path.join(workdir, 'src-%s-%s-%s' % (name, version, where), name)
    os.makedirs(os.path.join(src, 'R'))
    with open(os.path.join(src, 'DESCRIPTION'), 'w') as f:
        f.write('Package: %s\nVersion: %s\nTitle: Test\nDescription: Test package.\nAuthor: tests\n'
                'Maintainer: tests <tests@example.invalid>\nLicense: GPL-3\n%s' % (name, version, extra))
    with open(os.path.join(src, 'NAMESPACE'), 'w') as f:
        f.write('export(hello)\n' if code else 'useDynLib(%s)\n' % name)
    if code:
        with open(os.path.join(src, 'R', 'hello.R'), 'w') as f:
            f.write(code + '\n')
    else:
        os.makedirs(os.path.join(src, 'src'))
        with open(os.path.join(src, 'src', 'broken.c'), 'w') as f:
            f.write('int broken(void) { return this_is_not_c_resolver_marker; }\n')
    subprocess.run(['R', 'CMD', 'build', '--no-build-vignettes', '--no-manual', name], cwd=os.path.dirname(src),
                   check=True, capture_output=True)
    return os.path.join(os.path.dirname(src), '%s_%s.tar.gz' % (name, version))


@pytest.fixture(scope='session')
def packages_built(tmp_path_factory):
    """Tarballs built once: {(name, version, where): path}."""
    workdir = str(tmp_path_factory.mktemp('rpkgs'))
    return dict(((name, version, where), build_package(workdir, name, version, extra, code, where))
                for name, version, extra, code, where in PACKAGES)


@pytest.fixture
def world(tmp_path, packages_built):
    """A repository, an empty site library, a stand-in Debian library and fake apt tools."""
    repo = tmp_path / 'repo'
    contrib = repo / 'src' / 'contrib'
    (contrib / 'Archive' / 'hellopkg').mkdir(parents=True)
    apt = tmp_path / 'apt'
    apt.mkdir()
    for (name, version, where), tarball in packages_built.items():
        if where == 'repo':
            shutil.copy(tarball, str(contrib))
        elif where == 'archive':
            shutil.copy(tarball, str(contrib / 'Archive' / name))
        else:
            shutil.copy(tarball, str(apt / ('%s.tar.gz' % debian_package_name(name))))
    subprocess.run(['Rscript', '--vanilla', '-e', 'tools::write_PACKAGES(commandArgs(TRUE), type = "source")', str(contrib)],
                   check=True, capture_output=True)
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for tool, text in (('apt-cache', FAKE_APT_CACHE), ('apt-get', FAKE_APT_GET)):
        (bin_dir / tool).write_text(text)
        (bin_dir / tool).chmod(0o755)
    site, debian = tmp_path / 'site', tmp_path / 'debian'
    site.mkdir()
    debian.mkdir()
    (tmp_path / 'resolver.R').write_text(RESOLVER_R)
    return World(tmp_path, 'file://%s' % repo, str(site), str(debian), str(apt), str(bin_dir))


class World:
    def __init__(self, root, repo, site, debian, apt, bin_dir):
        self.root, self.repo, self.site, self.debian, self.apt, self.bin_dir = root, repo, site, debian, apt, bin_dir

    def offer(self, name, debian_version):
        """Make the fake apt offer r-cran-<name> at debian_version."""
        with open(os.path.join(self.apt, debian_package_name(name) + '.version'), 'w') as f:
            f.write(debian_version)

    def apt_calls(self):
        path = os.path.join(self.apt, 'calls')
        return open(path).read().splitlines() if os.path.exists(path) else []

    def env(self):
        env = dict(os.environ, LC_ALL='C', FAKE_APT=self.apt, FAKE_DEBIAN_LIB=self.debian,
                   R_LIBS='%s:%s' % (self.site, self.debian), PATH='%s:%s' % (self.bin_dir, os.environ['PATH']))
        return env

    def r(self, code):
        script = self.root / 'driver.R'
        script.write_text('source(%r)\n%s\n' % (str(self.root / 'resolver.R'), textwrap.dedent(code)))
        return subprocess.run(['Rscript', '--vanilla', str(script)], env=self.env(), capture_output=True, text=True, timeout=300, check=False)

    def install_into_site(self, tarball):
        subprocess.run(['R', 'CMD', 'INSTALL', '--library=%s' % self.site, tarball], check=True, capture_output=True)

    def module(self, mode, name, constraint='', state='present', repos=None, prefer_binary=True, user='root'):
        """ph_module_main as r_package runs it, with the stand-in Debian library; (records, error, process)."""
        args = [mode, name, str(parse_constraint(constraint)) if constraint else '', state, self.site,
                'true' if prefer_binary else 'false'] + list(repos or [self.repo])
        proc = self.r('''
            args <- c(%s)
            ph_module_main(args, ph_system(prefer_binary = args[[6L]] == "true", debian_library = %r, user = %r))
        ''' % (', '.join('%r' % arg for arg in args), self.debian, user))
        assert proc.returncode == 0, proc.stderr
        records = parse_records(proc.stdout)
        errors = record_values(records, 'error')
        error = binascii.unhexlify(errors[0][0]).decode() if errors else None
        if error is None:
            assert record_values(records, 'done') == [[]], proc.stdout
        return records, error, proc


def plan_of(records):
    plans = record_values(records, 'plan')
    assert len(plans) == 1, records
    return plans[0]


# --- the decision, carried out ---------------------------------------------------------------

CASES = [
    dict(id='Debian binary satisfies: apt, no repository needed', name='debonly', constraint='>= 1.0',
         repos=[UNREACHABLE], offers={'debonly': '1.2.0-1'},
         plan=['apt', '1.2.0', '', '{debian}'], after=['1.2.0', '{debian}'],
         apt=['install -y --no-install-recommends r-cran-debonly']),
    dict(id='Debian binary too old: newest of the repository, from source', name='hellopkg', constraint='>= 0.2',
         offers={'hellopkg': '1:0.1.0+dfsg-2'}, plan=['repository', '0.2.0', '', '{site}'], after=['0.2.0', '{site}'], apt=[]),
    dict(id='binary hidden by an older copy earlier in .libPaths(): source into that library', name='hellopkg',
         constraint='>= 0.2', preinstalled=[('hellopkg', '0.1.0', 'archive')], offers={'hellopkg': '0.2.0-1'},
         plan=['repository', '0.2.0', '', '{site}'], after=['0.2.0', '{site}'], apt=[],
         debian=['r-cran-hellopkg', '0.2.0-1', 'not used: R finds hellopkg 0.1.0 in {site} before {debian}']),
    dict(id='pinned older version: from the archive', name='hellopkg', constraint='0.1.0', offers={'hellopkg': '0.2.0-1'},
         plan=['archive', '0.1.0', '{repo}/src/contrib/Archive/hellopkg/hellopkg_0.1.0.tar.gz', '{site}'],
         after=['0.1.0', '{site}'], apt=[]),
    dict(id='range below the newest: newest archived version that fits', name='hellopkg', constraint='< 0.2',
         plan=['archive', '0.1.0', '{repo}/src/contrib/Archive/hellopkg/hellopkg_0.1.0.tar.gz', '{site}'],
         after=['0.1.0', '{site}'], apt=[]),
    dict(id='latest: Debian as new as the repository wins the tie', name='hellopkg', state='latest',
         offers={'hellopkg': '0.2.0-1'}, plan=['apt', '0.2.0', '', '{debian}'], after=['0.2.0', '{debian}'],
         apt=['install -y --no-install-recommends r-cran-hellopkg']),
    dict(id='latest: installed older copy upgraded from the repository', name='hellopkg', state='latest',
         preinstalled=[('hellopkg', '0.1.0', 'archive')], plan=['repository', '0.2.0', '', '{site}'], after=['0.2.0', '{site}'], apt=[]),
    dict(id='installed copy satisfies: nothing read beyond it', name='hellopkg', constraint='0.1.0', repos=[UNREACHABLE],
         preinstalled=[('hellopkg', '0.1.0', 'archive')], offers={'hellopkg': '0.2.0-1'},
         plan=['none', '0.1.0', '', '{site}'], after=None, apt=[]),
    dict(id='source install: its dependency Debian ships comes from apt first', name='hellodeps',
         offers={'depdeb': '1.0.0-2'}, plan=['repository', '0.1.0', '', '{site}'], after=['0.1.0', '{site}'],
         apt=['install -y --no-install-recommends r-cran-depdeb'], binary_dependencies=[['r-cran-depdeb', '1.0.0']]),
    dict(id='prefer_binary off: no apt at all', name='hellopkg', prefer_binary=False, offers={'hellopkg': '0.2.0-1'},
         plan=['repository', '0.2.0', '', '{site}'], after=['0.2.0', '{site}'], apt=[]),
    dict(id='not root: binaries not used, and said why', name='hellopkg', user='nobody', offers={'hellopkg': '0.2.0-1'},
         plan=['repository', '0.2.0', '', '{site}'], after=['0.2.0', '{site}'], apt=[],
         debian=['r-cran-hellopkg', '', 'running as nobody, not root']),
]


def fill(value, world):
    if isinstance(value, list):
        return [fill(item, world) for item in value]
    return value.format(site=world.site, debian=world.debian, repo=world.repo)


@pytest.mark.parametrize('case', CASES, ids=[case['id'] for case in CASES])
def test_resolve_and_install(world, packages_built, case):
    for name, version, where in case.get('preinstalled', []):
        world.install_into_site(packages_built[(name, version, where)])
    for name, debian_version in case.get('offers', {}).items():
        world.offer(name, debian_version)
    records, error, proc = world.module('apply', case['name'], case.get('constraint', ''), case.get('state', 'present'),
                                        repos=case.get('repos'), prefer_binary=case.get('prefer_binary', True),
                                        user=case.get('user', 'root'))
    assert error is None, error + proc.stderr
    assert plan_of(records) == fill(case['plan'], world)
    assert record_values(records, 'after') == ([fill(case['after'], world)] if case['after'] else [])
    assert world.apt_calls() == case['apt']
    assert record_values(records, 'binary_dependency') == case.get('binary_dependencies', [])
    if 'debian' in case:
        assert record_values(records, 'debian') == [fill(case['debian'], world)]
    if case['after']:
        hello = subprocess.run(['Rscript', '--vanilla', '-e', 'cat(%s::hello())' % case['name']], env=world.env(),
                               capture_output=True, text=True, check=False)
        assert hello.stdout.startswith(case['name']) or case['name'] == 'hellodeps', hello.stderr


def test_check_mode_plans_without_installing(world):
    world.offer('debonly', '1.2.0-1')
    records, error, dummy = world.module('plan', 'debonly', repos=[UNREACHABLE])
    assert error is None
    assert plan_of(records) == ['apt', '1.2.0', '', world.debian]
    assert world.apt_calls() == []
    assert not os.path.exists(os.path.join(world.debian, 'debonly'))


# --- failures: the message names the package, the constraint and what was found where -------

FAILURES = [
    dict(id='constraint nothing satisfies', name='hellopkg', constraint='>= 5.0', offers={'hellopkg': '0.1.5-1'},
         msg=["no version of R package 'hellopkg' satisfies '>= 5.0'. Found: installed none; "
              "Debian package r-cran-hellopkg 0.1.5-1; repositories 0.2.0 ({repo}); archive 0.1.0"]),
    dict(id='unknown package', name='nosuchpkg',
         msg=["R package 'nosuchpkg' is not available from the repositories {repo} (and no Debian package r-cran-nosuchpkg)"]),
    dict(id='unknown package while another repository is down', name='nosuchpkg', repos=['{repo}', UNREACHABLE],
         msg=["R package 'nosuchpkg' is not available from the repositories {repo}, %s" % UNREACHABLE,
              'these repositories could not be reached: %s (unable to access index' % UNREACHABLE]),
    dict(id='no repository reachable and no binary', name='hellopkg', constraint='>= 0.1', repos=[UNREACHABLE],
         msg=["R package 'hellopkg' (>= 0.1): none of the repositories could be reached: %s (" % UNREACHABLE]),
    dict(id='compilation error shows the compiler output', name='brokenpkg',
         msg=["installing R package 'brokenpkg' 1.0.0 from repository failed: installation of package 'brokenpkg' had non-zero exit status",
              'this_is_not_c_resolver_marker']),
    dict(id='apt-get failing', name='debonly', offers={'debonly': '1.2.0-1'}, apt_fails=True,
         msg=["installing R package 'debonly' 1.2.0 from apt failed: rc 100\nE: Unable to fetch some archives"]),
    dict(id='not root: binary not used, the reason in the message', name='debonly', user='nobody', offers={'debonly': '1.2.0-1'},
         msg=["R package 'debonly' is not available from the repositories {repo} (Debian packages not used: running as nobody, not root)"]),
]


@pytest.mark.parametrize('case', FAILURES, ids=[case['id'] for case in FAILURES])
def test_failure_message(world, case):
    for name, debian_version in case.get('offers', {}).items():
        world.offer(name, debian_version)
    if case.get('apt_fails'):
        open(os.path.join(world.apt, 'fail'), 'w').close()
    records, error, dummy = world.module('apply', case['name'], case.get('constraint', ''),
                                         repos=[fill(repo, world) for repo in case.get('repos', [world.repo])],
                                         user=case.get('user', 'root'))
    assert error is not None, records
    for part in case['msg']:
        assert fill(part, world) in error
    assert record_values(records, 'done') == []


def test_compiler_output_is_cut_to_its_tail(world):
    dummy, error, proc = world.module('apply', 'brokenpkg')
    assert len(error.splitlines()) <= 21
    assert 'this_is_not_c_resolver_marker' in proc.stderr


# --- images: ph_install_packages, as packages.R calls it -------------------------------------

def test_image_combines_constraints_and_updates_apt_once(world):
    world.offer('debonly', '1.2.0-1')
    world.offer('depdeb', '1.0.0-1')
    proc = world.r('''
        real_system <- ph_system
        ph_system <- function(...) real_system(..., debian_library = Sys.getenv("FAKE_DEBIAN_LIB"), user = "root")
        ph_install_packages(list(
          list(name = "hellopkg", version = ">= 0.1", repos = %r),
          list(name = "debonly", version = "", repos = "%s"),
          list(name = "hellopkg", version = "< 0.2"),
          list(name = "depdeb", version = ">= 1.0")
        ), repos = %r, lib = %r)
    ''' % (world.repo, UNREACHABLE, world.repo, world.site))
    assert proc.returncode == 0, proc.stderr
    assert 'R package hellopkg (>= 0.1, < 0.2): installed 0.1.0 from %s/src/contrib/Archive/hellopkg/hellopkg_0.1.0.tar.gz' % world.repo in proc.stderr
    assert 'R package debonly: installed 1.2.0 from apt into %s' % world.debian in proc.stderr
    assert world.apt_calls() == ['update', 'install -y --no-install-recommends r-cran-debonly',
                                 'install -y --no-install-recommends r-cran-depdeb']


def test_image_with_everything_installed_runs_no_apt(world, packages_built):
    world.install_into_site(packages_built[('hellopkg', '0.1.0', 'archive')])
    proc = world.r('''
        real_system <- ph_system
        ph_system <- function(...) real_system(..., debian_library = Sys.getenv("FAKE_DEBIAN_LIB"), user = "root")
        ph_install_packages(list(list(name = "hellopkg", version = "0.1.0")), repos = %r, lib = %r)
    ''' % (UNREACHABLE, world.site))
    assert proc.returncode == 0, proc.stderr
    assert 'R package hellopkg (0.1.0): 0.1.0 already installed in %s' % world.site in proc.stderr
    assert world.apt_calls() == []


def test_image_failure_stops_with_the_message(world):
    proc = world.r('ph_install_packages(list(list(name = "hellopkg", version = ">= 9.0")), repos = %r, lib = %r, prefer_binary = FALSE)'
                   % (world.repo, world.site))
    assert proc.returncode != 0
    assert "Error: no version of R package 'hellopkg' satisfies '>= 9.0'. Found: installed none; repositories 0.2.0" in proc.stderr


# --- the R helpers agree with the Python ones the schema check uses --------------------------

@pytest.mark.parametrize('constraint, version', [
    ('1.2.3', '1.2-3'), ('1.2.3', '1.2.4'), ('>= 1.0, < 2.0', '1.10.2'), ('>= 1.0, < 2.0', '2.0'), ('!= 1.5', '1.5.0'),
    ('> 0.1', '0.1.0'), ('<= 0.1', '0.1.0'), ('>=1.0,<2.0', '0.9.9'),
])
def test_r_constraint_agrees_with_python(constraint, version):
    out = subprocess.run(['Rscript', '--vanilla', '-e', 'source(file("stdin")); a <- commandArgs(TRUE); cat(ph_allows(a[[2]], ph_clauses(a[[1]])))',
                          constraint, version], input=RESOLVER_R, capture_output=True, text=True, check=True).stdout
    assert out == str(parse_constraint(constraint).allows(version)).upper()


@pytest.mark.parametrize('debian, r', [
    ('1.8.4+dfsg-1', '1.8.4'), ('1:1.8.4+dfsg-1', '1.8.4'), ('1.2.1+ds-1', '1.2.1'), ('0.1.7-1-1', '0.1.7-1'),
    ('1.0.0-4', '1.0.0'), ('2.0~rc1-1', 'NA'), ('3.5', '3.5'), ('1.1-3+dfsg1-2', '1.1-3'), ('abc-1', 'NA'),
])
def test_debian_version_to_r_version(debian, r):
    out = subprocess.run(['Rscript', '--vanilla', '-e', 'source(file("stdin")); cat(ph_debian_to_r(commandArgs(TRUE)[[1]]))', debian],
                         input=RESOLVER_R, capture_output=True, text=True, check=True).stdout
    assert out == r
