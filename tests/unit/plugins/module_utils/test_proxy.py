"""plumber_proxy: the backends built from the APIs of the hosts behind one front, and the checks of
every option, each error naming the variable and the value."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.plumber.hosting.plugins.module_utils._proxy import ProxyError, plain, proxy_backends, validate_proxy


def host(host_name, manager='systemd', address='10.0.0.1', **api):
    """One host with one API, its ports given (the default ports are not what these tests check)."""
    base = {'name': 'hello', 'src': '/srv/hello', 'port': 9000}
    base.update(api)
    return {'name': host_name, 'address': address, 'apis': [base], 'process_manager': manager}


def test_static_servers_one_per_worker_at_the_host_address():
    [backend] = proxy_backends([host('web1', workers=2)])
    assert backend == {'name': 'hello', 'path': '/hello', 'health': '/healthz', 'docs': False, 'sticky': False,
                       'servers': ['10.0.0.1:9000', '10.0.0.1:9001']}


def test_compose_servers_are_a_template_with_the_larger_of_slots_and_twice_the_workers():
    apis = [{'name': 'hello', 'src': '/x', 'workers': 5}, {'name': 'greeter', 'src': '/x', 'docs': True}]
    backends = proxy_backends([{'name': 'box', 'address': '127.0.0.1', 'apis': apis, 'process_manager': 'compose'}],
                              compose_port=8000, slots='8')
    assert [b['server_template'] for b in backends] == [{'host': 'hello', 'port': 8000, 'count': 10},
                                                        {'host': 'greeter', 'port': 8000, 'count': 8}]
    assert [b['name'] for b in backends] == ['hello', 'greeter'] and backends[1]['docs'] is True
    assert all('servers' not in b for b in backends)


def test_the_same_api_on_several_hosts_is_one_backend_with_every_server_by_host_name():
    backends = proxy_backends([host('web2', 'pm2', '10.0.0.2', workers=2), host('web1', 'docker', '10.0.0.1'),
                               host('web3', address='api3.example.com')])
    assert backends == [{'name': 'hello', 'path': '/hello', 'health': '/healthz', 'docs': False, 'sticky': False,
                         'servers': ['10.0.0.1:9000', '10.0.0.2:9000', '10.0.0.2:9001', 'api3.example.com:9000']}]
    # The order of the hosts given does not change the result.
    again = proxy_backends([host('web3', address='api3.example.com'), host('web1', 'docker', '10.0.0.1'),
                            host('web2', 'pm2', '10.0.0.2', workers=2)])
    assert again == backends


def test_sticky_all_and_an_api_of_its_own():
    [backend] = proxy_backends([host('web1')], sticky_all='yes')
    assert backend['sticky'] is True
    [backend] = proxy_backends([host('web1', sticky=True)])
    assert backend['sticky'] is True


def test_input_is_not_changed():
    hosts = [host('web1', workers=2)]
    before = copy.deepcopy(hosts)
    proxy_backends(hosts)
    assert hosts == before


@pytest.mark.parametrize('field, value', [('path', '/other'), ('health', '/up'), ('docs', True), ('sticky', True),
                                          ('access', {'rate_limit': 5})])
def test_an_api_differing_between_hosts_is_refused_naming_both(field, value):
    with pytest.raises(ProxyError, match=r"API 'hello' has %s .* on host 'web1' but .* on host 'web2'" % field):
        proxy_backends([host('web1'), host('web2', **{field: value})])


def test_two_apis_on_one_path_across_hosts_are_refused_naming_both_hosts():
    with pytest.raises(ProxyError, match=r"hostvars\['web2'\].plumber_apis: API 'other' has path '/shared', which API 'hello' "
                                         r"of host 'web1' has too \(paths must be unique across every host behind one front\)"):
        proxy_backends([host('web1', path='/shared'), host('web2', name='other', path='/shared')])


def test_a_compose_api_also_on_another_host_is_refused():
    with pytest.raises(ProxyError, match=r"API 'hello' is on host 'a' \(compose\) and on host 'b' \(systemd\).*not supported yet"):
        proxy_backends([host('a', 'compose'), host('b')], compose_port=8000, slots=8)


@pytest.mark.parametrize('hosts, kwargs, message', [
    ([host('web1', workers=0)], {}, r"hostvars\['web1'\].plumber_apis\[0\].workers 0 must be between"),
    ([host('web1', name='Bad')], {}, r"hostvars\['web1'\].plumber_apis\[0\].name 'Bad' is not a valid API name"),
    ([host('web1'), host('web1')], {}, r"hosts lists host 'web1' twice"),
    ([host('web1', 'launchd')], {}, r"hosts\[0\] \(host web1\).process_manager 'launchd' is not a known process manager"),
    ([host('web1', address='10.0.0.1; drop')], {}, r"hosts\[0\] \(host web1\).address '10.0.0.1; drop' must be"),
    ([dict(host('web1'), extra=1)], {}, r"hosts\[0\] has unknown keys extra"),
    ([host('box', 'compose')], {'slots': 8}, r"compose_port None must be a whole number from 1 to 65535"),
    ([host('box', 'compose')], {'compose_port': 8000, 'slots': 'many'}, r"slots 'many' must be a whole number"),
    ([host('web1')], {'sticky_all': 'perhaps'}, r"sticky_all 'perhaps' is not a boolean"),
    ({'web1': {}}, {}, r"hosts must be a list of hosts"),
])
def test_bad_input_names_the_variable_and_the_value(hosts, kwargs, message):
    with pytest.raises(ProxyError, match=message):
        proxy_backends(hosts, **kwargs)


def proxy(**changes):
    """A valid plumber_proxy (compose-like), with changes at dotted keys."""
    value = {
        'router': {'listen': [80], 'server_name': '_', 'balancer': 'haproxy:8080', 'resolver': '127.0.0.11', 'timeout': '300',
                   'client_max_body_size': '100m'},
        'balancer': {'bind': ':8080', 'log': 'stdout format raw local0', 'nameservers': ['127.0.0.11:53'], 'timeout': 300,
                     'check_interval': 2, 'check_timeout': 30, 'maxconn': 1, 'cookie_key': 'abc123'},
        'backends': [{'name': 'hello', 'path': '/hello', 'health': '/healthz', 'docs': False, 'sticky': False,
                      'server_template': {'host': 'hello', 'port': 8000, 'count': 8}}],
    }
    for key, new in changes.items():
        *parents, last = key.split('__')
        target = value
        for parent in parents:
            target = target[int(parent)] if isinstance(target, list) else target[parent]
        target[last] = new
    return value


def test_a_valid_proxy_comes_back_typed_with_absent_options_still_absent():
    checked = validate_proxy(proxy(backends=[{'name': 'hello', 'path': '/', 'servers': ['127.0.0.1:8000']}]))
    assert checked['router']['timeout'] == 300
    assert checked['backends'] == [{'name': 'hello', 'path': '/', 'health': '/healthz', 'docs': False, 'sticky': False,
                                    'servers': ['127.0.0.1:8000']}]
    assert 'tls' not in checked['router']
    tls = validate_proxy(proxy(router__tls={'certificate': '/etc/ssl/a.pem', 'certificate_key': '/etc/ssl/a.key'}))
    assert tls['router']['tls']['port'] == 443


@pytest.mark.parametrize('changes, message', [
    ({'router__server_name': 'a b;'}, r"plumber_proxy.router.server_name 'a b;' must be '_'"),
    ({'router__listen': []}, r"plumber_proxy.router.listen \[\] must list at least one port"),
    ({'router__listen': [80, 80]}, r"lists a port twice"),
    ({'router__listen': [70000]}, r"plumber_proxy.router.listen 70000 is not a port"),
    ({'router__balancer': 'haproxy'}, r"plumber_proxy.router.balancer 'haproxy' must be host:port"),
    ({'router__resolver': 'dns.local'}, r"plumber_proxy.router.resolver 'dns.local' must be an IPv4 address"),
    ({'router__client_max_body_size': '1 g'}, r"plumber_proxy.router.client_max_body_size '1 g' is not an nginx size"),
    ({'router__timeout': 0}, r"plumber_proxy.router.timeout 0 must be a whole number from 1 to 86400"),
    ({'router__tls': {'port': 80, 'certificate': '/a', 'certificate_key': '/b'}}, r"plumber_proxy.router.tls.port 80 is already"),
    ({'router__tls': {'certificate': 'a.pem', 'certificate_key': '/b'}}, r"plumber_proxy.router.tls.certificate 'a.pem' must be"),
    ({'balancer__bind': 'haproxy:8080'}, r"plumber_proxy.balancer.bind 'haproxy:8080' must be \[address\]:port"),
    ({'balancer__log': 'stdout local9'}, r"plumber_proxy.balancer.log 'stdout local9' is not an HAProxy log target"),
    ({'balancer__log': 'syslog.example.com:514 local0'}, r"plumber_proxy.balancer.log"),
    ({'balancer__nameservers': ['127.0.0.11']}, r"plumber_proxy.balancer.nameservers '127.0.0.11' must be an IPv4 address and port"),
    ({'balancer__nameservers': []}, r"plumber_proxy.balancer.nameservers \[\] must list a DNS server: backend 'hello'"),
    ({'balancer__cookie_key': 'a-b'}, r"plumber_proxy.balancer.cookie_key 'a-b' must be letters and digits only"),
    ({'balancer__maxconn': -1}, r"plumber_proxy.balancer.maxconn -1 must be a whole number from 0 to 10000"),
    ({'balancer__check_interval': 'often'}, r"plumber_proxy: .*check_interval"),
    ({'backends__0__name': 'Hello'}, r"plumber_proxy.backends\[0\].name 'Hello' is not a backend name"),
    ({'backends__0__path': '/a/'}, r"plumber_proxy.backends\[0\].path '/a/' is not a URL path prefix"),
    ({'backends__0__health': 'healthz'}, r"plumber_proxy.backends\[0\].health 'healthz' must be a URL path"),
    ({'backends__0__servers': ['127.0.0.1:8000']}, r"plumber_proxy: .*mutually exclusive"),
    ({'backends__0__server_template': {'host': 'a_b', 'port': 8000, 'count': 8}},
     r"plumber_proxy.backends\[0\].server_template.host 'a_b' is not a host name"),
    ({'backends__0__server_template': {'host': 'hello', 'port': 8000, 'count': 0}},
     r"plumber_proxy.backends\[0\].server_template.count 0 must be"),
    ({'backends': [{'name': 'a', 'path': '/a', 'servers': []}]}, r"plumber_proxy.backends\[0\].servers \[\] must list at least one"),
    ({'backends': [{'name': 'a', 'path': '/a', 'servers': ['127.0.0.1']}]}, r"plumber_proxy.backends\[0\].servers '127.0.0.1' must be host:port"),
    ({'backends': [{'name': 'a', 'path': '/a', 'servers': ['h:1']}, {'name': 'b', 'path': '/a', 'servers': ['h:2']}]},
     r"plumber_proxy.backends\[1\].path '/a' is already used by plumber_proxy.backends\[0\]"),
    ({'backends': [{'name': 'a', 'path': '/a'}]}, r"plumber_proxy: one of the following is required: server_template, servers"),
    ({'router__unknown': 1}, r"plumber_proxy: .*unknown"),
    ({'router': 'nginx'}, r"plumber_proxy.router must be a dict, got str: 'nginx'"),
])
def test_each_bad_option_is_named_with_its_value(changes, message):
    with pytest.raises(ProxyError, match=message):
        validate_proxy(proxy(**changes))


@pytest.mark.parametrize('log', ['stdout format raw local0', '/dev/log local0', '127.0.0.1:514 local0 info',
                                 'stderr format rfc5424 daemon notice err'])
def test_log_targets_haproxy_accepts(log):
    assert validate_proxy(proxy(balancer__log=log))['balancer']['log'] == log


def test_plain_copies_containers_and_scalars():
    class Tagged(str):
        pass
    value = plain({'a': (Tagged('x'), 1, True, None)})
    assert value == {'a': ['x', 1, True, None]} and type(value['a'][0]) is str  # pylint: disable=unidiomatic-typecheck
