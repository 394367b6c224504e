# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Jinja test plumber.hosting.ip_address, through Ansible's templar as the roles' preflights use it."""

from __future__ import annotations

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template


def is_ip(value, version=None):
    test = 'plumber.hosting.ip_address' if version is None else 'plumber.hosting.ip_address(%d)' % version
    templar = Templar(loader=DataLoader(), variables={'value': value})
    return templar.template(trust_as_template('{{ value is %s }}' % test))


@pytest.mark.parametrize('value', ['127.0.0.1', '0.0.0.0', '10.1.2.3', '::1', 'fd00::10', '::'])
def test_addresses(value):
    assert is_ip(value) is True


@pytest.mark.parametrize('value', [
    '', 'localhost', '127.0.0.1\n', ' 127.0.0.1', '127.0.0.1 ', '999.1.1.1', '1.2.3', '10.0.0.0/8', 'fe80::1%eth0',
    '127.0.0.1;', '::1]', 'a' * 300, 12, None, ['127.0.0.1'],
])
def test_anything_else(value):
    assert is_ip(value) is False


def test_version():
    assert is_ip('127.0.0.1', 4) and not is_ip('::1', 4)
    assert is_ip('::1', 6) and not is_ip('127.0.0.1', 6)
