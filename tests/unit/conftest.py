"""tests/run sets PLUMBER_HOSTING_NO_SKIP=1 and installs R on the test machine: there a test that
skips (for want of Rscript or plumber) counts as a failure, so the real-R cases always run in CI."""

from __future__ import annotations

import os

import pytest
from ansible.plugins.loader import init_plugin_loader

# Ansible's collection loader, before any test imports the collection: templates evaluated in
# the tests find the collection's filters and tests (plumber.hosting.*) as a playbook does.
init_plugin_loader([os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), '.collections')])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # pylint: disable=unused-argument
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get('PLUMBER_HOSTING_NO_SKIP') == '1' and not hasattr(report, 'wasxfail'):
        report.outcome = 'failed'
        report.longrepr = 'skipped, but tests/run runs every test: %s' % (report.longrepr,)
