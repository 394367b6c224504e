"""The one data model: what a valid list of APIs becomes, and what each mistake says."""

from __future__ import annotations

import pytest

from ansible_collections.plumber.hosting.plugins.module_utils._apis import (
    APIError,
    merge_packages,
    public_view,
    validate_apis,
    validate_process_manager,
    default_port,
    plan,
)


def api(**kwargs):
    base = {'name': 'hello', 'src': '/srv/hello'}
    base.update(kwargs)
    return base


def test_defaults_are_filled_in():
    [one] = validate_apis([api()])
    assert one == {
        'name': 'hello', 'src': '/srv/hello', 'git': None, 'entrypoint': None, 'path': '/hello',
        'workers': 1, 'port': 26912, 'ports': [26912], 'packages': [], 'env': {}, 'docs': False, 'health': '/healthz', 'sticky': False,
        'access': {'allow': [], 'basic_auth': [], 'rate_limit': 0, 'cors_origins': [], 'cors_credentials': False},
        'recycle': {'memory_mb': 0, 'requests': 0},
    }


def test_recycle_limits_are_checked():
    [one] = validate_apis([api(recycle={'memory_mb': 800})])
    assert one['recycle'] == {'memory_mb': 800, 'requests': 0}
    with pytest.raises(APIError, match=r"plumber_apis\[0\]\.recycle\.requests -5 must be a whole number from 0"):
        validate_apis([api(recycle={'requests': -5})])
    with pytest.raises(APIError, match=r"'memory_mb' is of type str found in 'recycle'"):
        validate_apis([api(recycle={'memory_mb': 'lots'})])


def test_access_is_checked_and_its_passwords_never_leave():
    [one] = validate_apis([api(access={'allow': ['10.0.0.0/8', '192.0.2.7'], 'rate_limit': 5,
                                       'basic_auth': [{'user': 'ann', 'password': 'p4ss w0rd:$x'}],
                                       'cors_origins': ['https://app.example.com'], 'cors_credentials': True})])
    assert one['access'] == {'allow': ['10.0.0.0/8', '192.0.2.7'], 'rate_limit': 5,
                             'basic_auth': [{'user': 'ann', 'password': 'p4ss w0rd:$x'}],
                             'cors_origins': ['https://app.example.com'], 'cors_credentials': True}
    view = public_view(one)
    assert view['access']['basic_auth'] == [{'user': 'ann'}] and 'p4ss' not in repr(view)


@pytest.mark.parametrize('access, message', [
    ({'allow': ['10.0.0.1/8']}, r"plumber_apis\[0\].access.allow\[0\] '10.0.0.1/8' is not an IPv4 address or network"),
    ({'allow': ['10.0.0.0/8; deny all']}, r"access.allow\[0\] '10.0.0.0/8; deny all' is not"),
    ({'allow': ['example.com']}, r"access.allow\[0\] 'example.com' is not"),
    ({'basic_auth': [{'user': 'ann:x', 'password': 'p'}]}, r"access.basic_auth\[0\].user 'ann:x' is not a user name"),
    ({'basic_auth': [{'user': 'ann', 'password': 'p'}, {'user': 'ann', 'password': 'q'}]}, r"basic_auth\[1\].user 'ann' is listed twice"),
    ({'basic_auth': [{'user': 'ann', 'password': ''}]}, r'basic_auth\[0\].password \(user ann\) must not be empty'),
    ({'basic_auth': [{'user': 'ann'}]}, 'password'),
    ({'rate_limit': -1}, r'access.rate_limit -1 must be a whole number'),
    ({'cors_origins': ['https://app.example.com/path']}, r"cors_origins\[0\] 'https://app.example.com/path' is not an origin"),
    ({'cors_origins': ['https://a.example.com"; add_header X y']}, r'cors_origins\[0\]'),
    ({'cors_origins': ['*'], 'cors_credentials': True}, r"'\*' stands alone and without cors_credentials"),
    ({'limit': 3}, 'limit'),
])
def test_bad_access_names_the_variable_and_the_value(access, message):
    with pytest.raises(APIError, match=message):
        validate_apis([api(access=access)])


def test_a_password_is_never_in_an_error():
    with pytest.raises(APIError) as error:
        validate_apis([api(access={'basic_auth': [{'user': 'a b', 'password': 'hunter2-secret'}]})])
    assert 'hunter2-secret' not in str(error.value)


def test_default_ports_follow_the_name_not_the_list():
    """Adding, removing or reordering APIs moves no other API's ports (their workers keep running)."""
    apis = validate_apis([api(name='a', workers=2), api(name='b', port=8002, workers=1), api(name='c', workers=3)])
    assert [a['ports'] for a in apis] == [[default_port('a'), default_port('a') + 1], [8002], list(range(default_port('c'), default_port('c') + 3))]
    alone = validate_apis([api(name='c', workers=3)])
    reordered = validate_apis([api(name='c', workers=3), api(name='zz'), api(name='a', workers=2)])
    assert alone[0]['ports'] == reordered[0]['ports'] == apis[2]['ports']
    assert reordered[2]['ports'] == apis[0]['ports']
    # A block of 8 ports per name, between 10000 and 29999.
    ports = [default_port('api-%d' % i) for i in range(2000)]
    assert all(10000 <= p <= 29992 and (p - 10000) % 8 == 0 for p in ports)
    assert len(set(ports)) > 1000


def test_default_ports_that_meet_name_both_apis_and_a_free_port():
    first = default_port('a')
    with pytest.raises(APIError) as caught:
        validate_apis([api(name='b', port=first - 1, workers=2), api(name='a')])
    assert str(caught.value) == ('plumber_apis[1] (a) default ports %d-%d overlap plumber_apis[0] (b) ports %d-%d; '
                                 'set plumber_apis[1].port to a free port, for example 10000' % (first, first, first - 1, first))


def test_packages_are_normalised_and_merged():
    apis = validate_apis([api(name='a', packages=['jsonlite', {'name': 'dplyr', 'version': '>= 1.0'}]),
                          api(name='b', packages=[{'name': 'dplyr', 'version': '< 2.0', 'repos': ['file:///srv/cran']}])])
    assert merge_packages([a['packages'] for a in apis]) == [
        {'name': 'jsonlite', 'version': None, 'repos': None},
        {'name': 'dplyr', 'version': '>= 1.0, < 2.0', 'repos': ['file:///srv/cran']},
    ]


def test_secrets_do_not_leave_through_the_public_view():
    [one] = validate_apis([api(env={'DB_PASSWORD': 's3cret', 'MODE': 1})])
    assert one['env'] == {'DB_PASSWORD': 's3cret', 'MODE': '1'}
    view = public_view(one)
    assert 's3cret' not in repr(view)
    assert view['env_names'] == ['DB_PASSWORD', 'MODE']


@pytest.mark.parametrize('apis, message', [
    ('hello', "plumber_apis must be a list of APIs, got str: 'hello'"),
    ([api(name='sales/v1')], "plumber_apis[0].name 'sales/v1' is not a valid API name"),
    ([api(name='my api')], "plumber_apis[0].name 'my api' is not a valid API name"),
    ([api(name='Hello')], "plumber_apis[0].name 'Hello' is not a valid API name"),
    ([{'name': 'hello'}], 'plumber_apis[0] (name \'hello\'): one of the following is required: src, git'),
    ([api(git={'repo': 'https://x', 'version': 'v1'})], 'mutually exclusive: src|git'),
    ([api(workers=0)], 'plumber_apis[0].workers 0 must be between 1 and 64'),
    ([api(workers='two')], "plumber_apis[0] (name 'hello'): argument 'workers' is of type"),
    ([api(port=80)], 'plumber_apis[0].port 80: ports 80-80 must lie within 1024-65535'),
    ([api(port=65535, workers=2)], 'plumber_apis[0].port 65535: ports 65535-65536 must lie within 1024-65535'),
    ([api(name='a', port=8000, workers=2), api(name='b', port=8001)], 'plumber_apis[1] (b) ports 8001-8001 overlap plumber_apis[0] (a) ports 8000-8001'),
    ([api(), api()], "plumber_apis[1].name 'hello' is already used by plumber_apis[0]"),
    ([api(name='a', path='/x'), api(name='b', path='/x')], "plumber_apis[1].path '/x' is already used by plumber_apis[0]"),
    ([api(path='sales')], "plumber_apis[0].path 'sales' is not a URL path prefix"),
    ([api(path='/sales/')], "plumber_apis[0].path '/sales/' is not a URL path prefix"),
    ([api(entrypoint='../plumber.R')], "plumber_apis[0].entrypoint '../plumber.R' must be a relative path"),
    ([api(health='healthz')], "plumber_apis[0].health 'healthz' must be a URL path like '/healthz'"),
    ([api(health='/x"); system("id')], "plumber_apis[0].health '/x\"); system(\"id' must be a URL path"),
    ([api(packages=[{'name': 'xy', 'repos': ['https://cran.example.org/"); system("id']}])],
     "plumber_apis[0].packages[0].repos: 'https://cran.example.org/\"); system(\"id' (package xy) is not a repository URL"),
    ([api(entrypoint='api.py')], "plumber_apis[0].entrypoint 'api.py' must be a relative path of an R file"),
    ([api(entrypoint='a b.R')], "plumber_apis[0].entrypoint 'a b.R' must be a relative path of an R file"),
    ([api(env={'BAD-NAME': 'x'})], "plumber_apis[0].env has an invalid variable name 'BAD-NAME'"),
    ([api(packages=['not a pkg'])], "plumber_apis[0].packages[0].name 'not a pkg' is not a valid R package name"),
    ([api(packages=[{'name': 'dplyr', 'version': '~> 1'}])], "plumber_apis[0].packages[0].version '~> 1' (package dplyr) is not a version constraint"),
    ([api(packages=[{'name': 'dplyr', 'flavour': 'x'}])], 'plumber_apis[0].packages[0] has unknown keys flavour'),
    ([api(colour='blue')], "plumber_apis[0] (name 'hello'): colour. Supported parameters include"),
], ids=['not-a-list', 'name-with-slash', 'name-with-space', 'name-upper-case', 'no-source', 'two-sources', 'zero-workers',
        'workers-not-int', 'port-below-1024', 'ports-past-65535', 'overlapping-ports', 'duplicate-name', 'duplicate-path',
        'path-without-slash', 'path-trailing-slash', 'entrypoint-outside', 'health-relative', 'health-r-code', 'repo-r-code',
        'entrypoint-not-r', 'entrypoint-space', 'env-bad-name',
        'package-bad-name', 'package-bad-version', 'package-unknown-key', 'unknown-key'])
def test_bad_input_names_the_variable_and_the_value(apis, message):
    with pytest.raises(APIError) as exc:
        validate_apis(apis)
    assert message in str(exc.value)


def test_secret_values_never_appear_in_errors():
    with pytest.raises(APIError) as exc:
        validate_apis([api(env={'TOKEN': 'hunter2'}, workers=0)])
    assert 'hunter2' not in str(exc.value)


def test_process_manager():
    assert validate_process_manager('pm2') == 'pm2'
    assert plan('pm2') == {'process_manager': 'pm2', 'r_on_host': True, 'workers': 'plumber.hosting.pm2',
                           'roles': ['plumber.hosting.r_runtime', 'plumber.hosting.api'],
                           'retire': ['plumber.hosting.systemd', 'plumber.hosting.docker_workers', 'plumber.hosting.compose']}
    assert plan('compose')['roles'] == ['plumber.hosting.api', 'plumber.hosting.docker_engine', 'plumber.hosting.api_image']
    assert plan('docker')['workers'] not in plan('docker')['retire']
    with pytest.raises(APIError, match="plumber_process_manager 'supervisord' is not a known process manager: choose one of pm2, systemd, docker, compose"):
        validate_process_manager('supervisord')
