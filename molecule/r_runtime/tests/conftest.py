"""test_readme_example.py runs playbooks/site.yml with a user's settings on this instance (systemd
workers, the r_runtime role's defaults): it runs after every other test of the scenario."""

from __future__ import annotations

LAST = 'test_readme_example.py'


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name == LAST)
