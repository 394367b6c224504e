# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Jinja tests plumber.hosting.absolute_path and plumber.hosting.host_name, through Ansible's templar as the
roles' preflights use them."""

from __future__ import annotations

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template


def passes(test, value):
    templar = Templar(loader=DataLoader(), variables={'value': value})
    return templar.template(trust_as_template('{{ value is plumber.hosting.%s }}' % test))


@pytest.mark.parametrize('value', ['/opt/plumber-compose', '/etc/plumber-hosting/tls/api.example.com/fullchain.pem',
                                   '/var/lib/plumber-hosting/acme', '/a', '/.well-known', '/x/..y'])
def test_absolute_paths(value):
    assert passes('absolute_path', value) is True


@pytest.mark.parametrize('value', [
    '', '/', 'relative/path', '/opt/', '//opt', '/opt//x', '/opt/./x', '/opt/../etc', '/..', '/.', '/opt/a b',
    '/opt/x\n', '/opt/x;rm', '/opt/$HOME', "/opt/'x'", '/opt/x{', 12, None, ['/opt'],
])
def test_anything_else_is_not_an_absolute_path(value):
    assert passes('absolute_path', value) is False


@pytest.mark.parametrize('value', ['api.example.com', 'localhost', 'a', 'x-1.example', '.'.join(['a' * 63] * 3 + ['a' * 61])])
def test_host_names(value):
    assert passes('host_name', value) is True


@pytest.mark.parametrize('value', [
    '', '*.example.com', 'example.com.', '-a.example', 'a-.example', 'a..b', 'api.example.com:443', 'a b',
    'api.example.com\n', 'a' * 64, '.'.join(['a' * 63] * 4) + '.a', 'ex_ample.com', 'exämple.com', 12, None, ['a'],
])
def test_anything_else_is_not_a_host_name(value):
    assert passes('host_name', value) is False
