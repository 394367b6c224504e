# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.plumber.hosting.plugins.module_utils._r import (
    RConstraintError,
    ROutputError,
    compare_versions,
    debian_package_name,
    output_tail,
    parse_apt_simulation,
    parse_constraint,
    parse_dpkg_owner,
    parse_records,
    valid_package_name,
)


@pytest.mark.parametrize('name, valid', [
    ('plumber', True),
    ('data.table', True),
    ('R6', True),
    ('x1', True),
    ('a', False),
    ('1abc', False),
    ('.hidden', False),
    ('trailing.', False),
    ('under_score', False),
    ('dash-name', False),
    ('', False),
    ('evil; rm -rf /', False),
], ids=lambda value: repr(value) if isinstance(value, str) else None)
def test_valid_package_name(name, valid):
    assert valid_package_name(name) is valid


@pytest.mark.parametrize('text, clauses', [
    ('1.2.3', [('==', '1.2.3')]),
    ('== 1.2.3', [('==', '1.2.3')]),
    ('>=1.0', [('>=', '1.0')]),
    ('>= 1.0, < 2.0', [('>=', '1.0'), ('<', '2.0')]),
    (' != 0.1-5 ,<= 3.0.0 ', [('!=', '0.1-5'), ('<=', '3.0.0')]),
    ('> 0.9', [('>', '0.9')]),
    ('1.2.3, >= 1.0', [('==', '1.2.3'), ('>=', '1.0')]),
], ids=['bare version', 'equal', 'no space', 'range', 'spaces and dash', 'greater', 'bare among clauses'])
def test_parse_constraint(text, clauses):
    assert list(parse_constraint(text).clauses) == clauses


@pytest.mark.parametrize('text, complaint', [
    ('', 'non-empty'),
    ('   ', 'non-empty'),
    ('1', "'1' in clause '1' is not an R version"),
    ('=> 1.0', "clause '=> 1.0' is not"),
    ('= 1.0', "clause '= 1.0' is not"),
    ('~> 1.0', "clause '~> 1.0' is not"),
    ('>= 1.0,', "clause '' is not"),
    ('>= 1.0 < 2.0', "clause '>= 1.0 < 2.0' is not"),
    ('>= 1.x', "'1.x' in clause '>= 1.x' is not an R version"),
    ('>= v1.0', "'v1.0' in clause"),
    ('latest', "'latest' in clause"),
    ('1.0.', "'1.0.' in clause"),
], ids=['empty', 'blank', 'one number', 'arrow', 'single equals', 'pessimistic', 'trailing comma', 'missing comma',
        'letter', 'v prefix', 'word', 'trailing dot'])
def test_parse_constraint_rejects(text, complaint):
    with pytest.raises(RConstraintError) as caught:
        parse_constraint(text)
    assert complaint in str(caught.value)


# Checked against R 4.2: package_version(left) <, ==, > package_version(right).
VERSION_ORDER = [
    ('1.10', '1.9', 1),
    ('1.2-3', '1.2.3', 0),
    ('0.1', '0.1.0', 0),
    ('1.0', '1.0.0.0', 0),
    ('1.0', '1.0.1', -1),
    ('01.2', '1.2', 0),
    ('0.99', '1.0', -1),
    ('2.0.0', '10.0.0', -1),
    ('1.8.4', '1.8.4', 0),
]


@pytest.mark.parametrize('first, second, expected', VERSION_ORDER, ids=['%s vs %s' % case[:2] for case in VERSION_ORDER])
def test_compare_versions(first, second, expected):
    assert compare_versions(first, second) == expected
    assert compare_versions(second, first) == -expected


@pytest.mark.skipif(shutil.which('Rscript') is None, reason='needs R')
def test_compare_versions_agrees_with_r():
    script = ('a <- commandArgs(trailingOnly = TRUE); for (i in seq(1, length(a), 2)) '
              'cat((package_version(a[[i]]) > package_version(a[[i + 1L]])) - (package_version(a[[i]]) < package_version(a[[i + 1L]])), "\\n")')
    args = [version for case in VERSION_ORDER for version in case[:2]]
    out = subprocess.run(['Rscript', '--vanilla', '-e', script] + args, capture_output=True, text=True, check=True).stdout
    assert [int(line) for line in out.split()] == [case[2] for case in VERSION_ORDER]


@pytest.mark.parametrize('constraint, version, allowed', [
    ('1.2.3', '1.2.3', True),
    ('1.2.3', '1.2-3', True),
    ('1.2.3', '1.2.4', False),
    ('>= 1.0, < 2.0', '1.10.2', True),
    ('>= 1.0, < 2.0', '2.0', False),
    ('>= 1.0, < 2.0', '0.9.9', False),
    ('!= 1.5', '1.5.0', False),
    ('> 0.1', '0.1.0', False),
    ('<= 0.1', '0.1.0', True),
], ids=['pinned', 'pinned with dash', 'pinned other', 'range inside', 'range upper bound', 'range below', 'not equal padded',
        'greater than equal padded', 'less equal padded'])
def test_constraint_allows(constraint, version, allowed):
    assert parse_constraint(constraint).allows(version) is allowed


def test_constraint_pinned_and_text():
    assert parse_constraint('>= 1.0, 1.2').pinned == '1.2'
    assert parse_constraint('>= 1.0').pinned is None
    assert str(parse_constraint('>=1.0,<2.0')) == '>= 1.0, < 2.0'


def test_debian_package_name():
    assert debian_package_name('R.utils') == 'r-cran-r.utils'
    assert debian_package_name('jsonlite') == 'r-cran-jsonlite'


def test_parse_dpkg_owner():
    assert parse_dpkg_owner('r-cran-jsonlite: /usr/lib/R/site-library/jsonlite\n') == ['r-cran-jsonlite']
    assert parse_dpkg_owner('r-base-core, r-cran-x: /usr/lib/R/library/x\n') == ['r-base-core', 'r-cran-x']
    assert parse_dpkg_owner('r-cran-x:amd64: /usr/lib/R/site-library/x\n') == ['r-cran-x']
    with pytest.raises(ROutputError):
        parse_dpkg_owner('nonsense\n')


def test_parse_apt_simulation():
    stdout = ('NOTE: This is only a simulation!\nThe following packages will be REMOVED:\n  r-cran-a r-cran-b\n'
              'Remv r-cran-b [1.0-1]\nRemv r-cran-a [2.0-1]\n')
    assert parse_apt_simulation(stdout) == ['r-cran-b', 'r-cran-a']
    assert parse_apt_simulation('0 upgraded, 0 newly installed, 0 to remove\n') == []


@pytest.mark.parametrize('stdout, records', [
    ('', []),
    ('libpath\t/usr/lib/R/library\n', [('libpath', ['/usr/lib/R/library'])]),
    ('installed\t1.8.4\t/usr/lib/R/site-library\n\nreachable\tfile:///tmp/cran\n',
     [('installed', ['1.8.4', '/usr/lib/R/site-library']), ('reachable', ['file:///tmp/cran'])]),
    ('failure\tinstallation of package \'x\' had non-zero exit status\n',
     [('failure', ["installation of package 'x' had non-zero exit status"])]),
], ids=['empty', 'one record', 'two records and a blank line', 'failure'])
def test_parse_records(stdout, records):
    assert parse_records(stdout) == records


@pytest.mark.parametrize('stdout, complaint', [
    ('[1] "hello"\n', 'line 1 is not a record'),
    ('libpath\t/a\nWarning message:\n', 'line 2 is not a record'),
    ('installed\t1.0\n', "record 'installed' needs 2 values, got 1"),
    ('libpath\t/a\t/b\n', "record 'libpath' needs 1 values, got 2"),
], ids=['print output', 'stray line', 'too few values', 'too many values'])
def test_parse_records_rejects(stdout, complaint):
    with pytest.raises(ROutputError) as caught:
        parse_records(stdout)
    assert complaint in str(caught.value)


def test_output_tail():
    text = '\n'.join('line %d' % i for i in range(30)) + '\n\n'
    assert output_tail(text, 3) == 'line 27\nline 28\nline 29'
    assert output_tail(None) == ''
