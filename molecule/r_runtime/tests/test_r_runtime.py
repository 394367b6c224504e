"""What a user of the r_runtime role sees on the server."""

from __future__ import annotations

import pytest


def r_eval(host, expr, vanilla=True):
    options = '--vanilla -e' if vanilla else '-e'
    cmd = host.run("Rscript " + options + " %s", "cat(%s)" % expr)
    assert cmd.rc == 0, cmd.stderr
    return cmd.stdout.strip()


def test_plumber_loads(host):
    assert r_eval(host, 'as.character(packageVersion("plumber"))') == '1.2.1'
    cmd = host.run("Rscript -e 'library(plumber)'")
    assert cmd.rc == 0, cmd.stderr


def test_pinned_package_from_the_archive(host):
    assert r_eval(host, 'as.character(packageVersion("hellopkg"))') == '0.1.0'
    assert r_eval(host, 'hellopkg::hello()') == 'hello from hellopkg 0.1.0'
    assert r_eval(host, 'find.package("hellopkg")') == '/usr/local/lib/R/site-library/hellopkg'


def test_api_package_comes_from_the_debian_binary(host):
    assert host.package('r-cran-jsonlite').is_installed
    assert r_eval(host, 'find.package("jsonlite")') == '/usr/lib/R/site-library/jsonlite'


def test_debian_package_comes_from_its_binary_although_no_repository_offers_it(host):
    # digest is in neither repository the role was given (the local one and an unreachable one).
    assert host.package('r-cran-digest').is_installed
    assert r_eval(host, 'find.package("digest")') == '/usr/lib/R/site-library/digest'
    assert not host.file('/usr/local/lib/R/site-library/digest').exists


def test_source_install_takes_its_dependency_from_the_debian_binary(host):
    assert r_eval(host, 'find.package("hellodeps")') == '/usr/local/lib/R/site-library/hellodeps'
    assert r_eval(host, 'hellodeps::hello()') == 'hello from hellodeps 0.1.0'
    assert host.package('r-cran-zeallot').is_installed
    assert r_eval(host, 'find.package("zeallot")') == '/usr/lib/R/site-library/zeallot'


def test_interactive_r_uses_the_configured_repository(host):
    assert r_eval(host, 'getOption("repos")', vanilla=False) == 'file:///srv/cran'


def test_check_mode_on_the_converged_host_reports_no_change(converged_check):
    assert converged_check.rc == 0, converged_check
    assert converged_check.changed == 0, converged_check


PACKAGE_PLAY = """
- hosts: all
  tasks:
    - name: Install one R package
      plumber.hosting.r_package:
        name: "{{ pkg }}"
        version: "{{ constraint | default(omit) }}"
        state: "{{ pkg_state | default('present') }}"
        repos: [file:///srv/cran]
"""


def test_upgrade_then_pin_back(host, play):
    upgraded = play(PACKAGE_PLAY, '--diff', extra_vars={'pkg': 'hellopkg', 'pkg_state': 'latest'})
    assert upgraded.rc == 0 and upgraded.changed == 1, upgraded
    assert '-hellopkg 0.1.0' in upgraded.output and '+hellopkg 0.2.0' in upgraded.output, upgraded
    assert r_eval(host, 'as.character(packageVersion("hellopkg"))') == '0.2.0'

    again = play(PACKAGE_PLAY, extra_vars={'pkg': 'hellopkg', 'pkg_state': 'latest'})
    assert again.rc == 0 and again.changed == 0, again

    pinned = play('converge.yml')
    assert pinned.rc == 0 and pinned.changed == 1, pinned
    assert r_eval(host, 'as.character(packageVersion("hellopkg"))') == '0.1.0'


def test_compilation_error_shows_the_compiler_output(host, play):
    result = play(PACKAGE_PLAY, extra_vars={'pkg': 'brokenpkg'})
    assert result.rc != 0, result
    assert 'this_is_not_c_plumber_hosting_marker' in result.output, result
    assert host.run("Rscript -e 'library(brokenpkg)'").rc != 0


def test_unknown_package_is_named(play):
    result = play(PACKAGE_PLAY, extra_vars={'pkg': 'nosuchpkg'})
    assert result.rc != 0, result
    assert "'nosuchpkg' is not available" in result.output, result


def test_unreachable_repository_is_named(play):
    play_text = PACKAGE_PLAY.replace('file:///srv/cran', 'http://127.0.0.1:9/cran')
    result = play(play_text, extra_vars={'pkg': 'nosuchpkg'})
    assert result.rc != 0, result
    assert 'http://127.0.0.1:9/cran' in result.output, result


@pytest.mark.parametrize('extra_vars, message', [
    ({'r_runtime_packages': [{'name': 'hellopkg', 'version': '~> 1'}]},
     "r_runtime_packages[0].version '~> 1'"),
    ({'r_runtime_packages': ['not a package']},
     "r_runtime_packages[0].name 'not a package'"),
    ({'plumber_apis': [{'name': 'sales/v1', 'src': '/tmp'}]},
     "plumber_apis[0].name 'sales/v1'"),
    ({'plumber_apis': [{'name': 'my api', 'src': '/tmp'}]},
     "plumber_apis[0].name 'my api'"),
    ({'plumber_apis': [{'name': 'sample', 'src': '/nonexistent-dir'}]},
     "plumber_apis[0].src '/nonexistent-dir'"),
    ({'plumber_apis': [{'name': 'sample', 'src': '/etc', 'entrypoint': 'nosuch.R'}]},
     "plumber_apis[0].entrypoint 'nosuch.R'"),
], ids=['malformed-version', 'bad-package-name', 'api-name-with-slash', 'api-name-with-space',
        'missing-source-dir', 'missing-entrypoint'])
def test_bad_input_fails_before_any_change(host, play, extra_vars, message):
    before = host.file('/var/lib/dpkg/status').mtime
    result = play('converge.yml', extra_vars=extra_vars)
    assert result.rc != 0, result
    assert message in result.output, result
    assert result.changed == 0, result
    assert 'Validate plumber_apis' in result.output.split('fatal:')[0].rsplit('TASK [', 1)[-1], result
    assert host.file('/var/lib/dpkg/status').mtime == before
