"""APIs shaped like real ones, hosted as plumber runs them (systemd and compose scenarios).

`guarded` (molecule/resources/apis/guarded/plumber.R): an authentication filter in front of every
route, a router mounted in a `#* @plumber` block with plumber's `%>%`, static files, cookies, an
upload, a promise, a CSV answer, a package listed in `packages` that Debian ships (`digest`; CRAN is
not reachable) and one nobody listed (`base64enc`), found in the code.
`routered` (molecule/resources/apis/routered/entrypoint.R): plumber's entrypoint.R convention, a
router built with Plumber$new() and returned, its own OpenAPI spec, a cookie, a text answer, and
hellopkg pinned to its archived 0.1.0 from the local CRAN-like repository.

Each is asked through every worker directly and through the front (nginx) where there is one.
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.plumber.hosting.plugins.module_utils._apis import default_port

TOKEN = 'Bearer guarded-token'


def api_of(plumber_vars, name):
    api = next(api for api in plumber_vars['plumber_apis'] if api['name'] == name)
    return dict(api, port=api.get('port') or default_port(name))


def bases(host, plumber_vars, name):
    """Base URLs that reach API `name`: each worker, then the front."""
    api = api_of(plumber_vars, name)
    if plumber_vars['plumber_process_manager'] != 'compose':
        return ['http://127.0.0.1:%d' % (api['port'] + n) for n in range(api.get('workers', 1))]
    ids = host.check_output("docker ps -q --filter label=plumber.hosting.api=%s --filter label=com.docker.compose.service=%s"
                            % (name, name)).split()
    workers = [host.check_output("docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' %s" % cid).split()[0]
               for cid in ids]
    assert len(workers) == api.get('workers', 1), ids
    front = ('https://%s' % plumber_vars['tls_domains'][0]) if plumber_vars['tls_domains'] else 'http://127.0.0.1'
    return ['http://%s:8000' % ip for ip in workers] + ['%s/%s' % (front, name)]


def worker_starts(host, plumber_vars, name):
    """When each worker of API `name` started: the unit's main pid, or the replica's start time."""
    if plumber_vars['plumber_process_manager'] == 'compose':
        return host.check_output("docker ps -q --filter label=com.docker.compose.service=%s | xargs docker inspect -f '{{.State.StartedAt}}'"
                                 % name).split()
    api = api_of(plumber_vars, name)
    return [host.check_output('systemctl show -p MainPID --value plumber-%s@%d' % (name, api['port'] + n))
            for n in range(api.get('workers', 1))]


def curl(host, url, *args):
    """(status, headers, body) of one request."""
    cmd = host.run("curl -sS --max-time 30 -D /dev/stderr %s '%s'" % (' '.join(args), url))
    assert cmd.rc == 0, '%s: %s' % (url, cmd.stderr)
    status = int(cmd.stderr.split()[1])
    return status, cmd.stderr.lower(), cmd.stdout


@pytest.mark.parametrize('name', ['guarded', 'routered'])
def test_health_answers_everywhere(host, plumber_vars, name):
    for base in bases(host, plumber_vars, name):
        status, dummy, body = curl(host, base + '/healthz')
        assert status == 200 and json.loads(body)['status'] == 'ok', (base, body)


def test_the_authentication_filter_guards_every_route_but_health(host, plumber_vars):
    for base in bases(host, plumber_vars, 'guarded'):
        for path in ('/visits', '/reports/daily', '/static/index.html', '/later', '/table', '/digest'):
            status, dummy, body = curl(host, base + path)
            assert status == 401 and 'missing or wrong token' in body, (base, path, status, body)
        status, dummy, body = curl(host, base + '/visits', "-H 'Authorization: Bearer wrong'")
        assert status == 401, (base, body)


@pytest.mark.parametrize('path, expected', [
    ('/reports/daily', '{"report":"daily"}'),
    ('/static/index.html', '<h1>static file of guarded</h1>'),
    ('/later', '{"later":true}'),
    ('/table', 'x,y\n1,a\n2,b'),
    ('/digest?text=plumber', '{"md5":"74d3077c3d9986a8a6b48dc557e1fcc4"}'),
    ('/base64?text=plumber', '{"base64":"cGx1bWJlcg=="}'),
], ids=['mounted router', 'static file', 'promise', 'csv', 'listed Debian package', 'undeclared package found in the code'])
def test_guarded_routes_answer_with_the_token(host, plumber_vars, path, expected):
    for base in bases(host, plumber_vars, 'guarded'):
        status, dummy, body = curl(host, base + path, "-H 'Authorization: %s'" % TOKEN)
        assert status == 200 and body.strip() == expected, (base, path, status, body)


def test_environment_values_reach_the_api_exactly(host, plumber_vars):
    for base in bases(host, plumber_vars, 'guarded'):
        status, dummy, body = curl(host, base + '/tricky', "-H 'Authorization: %s'" % TOKEN)
        assert status == 200 and json.loads(body) == {'tricky': 'a\'b ${HOME} "q" \\ \u00e9\nline2'}, (base, body)


def test_guarded_cookies_and_uploads(host, plumber_vars):
    for base in bases(host, plumber_vars, 'guarded'):
        status, headers, body = curl(host, base + '/visits', "-H 'Authorization: %s'" % TOKEN, "-H 'Cookie: visits=41'")
        assert status == 200 and json.loads(body) == {'visits': 42} and 'set-cookie: visits=42' in headers, (base, headers, body)
        host.run('head -c 3000 /dev/zero > /tmp/upload.bin')
        status, dummy, body = curl(host, base + '/upload', "-H 'Authorization: %s'" % TOKEN, '-F file=@/tmp/upload.bin')
        assert status == 200 and json.loads(body) == {'files': 1, 'bytes': 3000}, (base, body)


def test_routered_serves_the_router_its_entrypoint_returns(host, plumber_vars):
    for base in bases(host, plumber_vars, 'routered'):
        status, dummy, body = curl(host, base + '/hello')
        assert status == 200 and json.loads(body) == {'message': 'hello from hellopkg 0.1.0'}, (base, body)
        status, headers, body = curl(host, base + '/cookie', "-H 'Cookie: flavour=ginger'")
        assert status == 200 and json.loads(body) == {'flavour': 'ginger'} and 'set-cookie: flavour=oatmeal' in headers, (base, body)
        status, headers, body = curl(host, base + '/text')
        assert status == 200 and body == 'plain text' and 'content-type: text/plain' in headers, (base, headers, body)
        status, dummy, body = curl(host, base + '/openapi.json')
        assert status == 200 and json.loads(body)['info']['title'] == 'Routered API', (base, body)


def test_a_package_found_nowhere_fails_the_deploy_naming_file_and_line(host, plumber_vars, play, tmp_path):
    """An API whose code uses a package nobody has: the play stops before any worker restarts. Through
    playbooks/deploy.yml: the check is the api role's, the same in site.yml."""
    code = tmp_path / 'needy'
    code.mkdir()
    (code / 'plumber.R').write_text('#* @get /x\nfunction() nosuchpkg::thing()\n')
    before = worker_starts(host, plumber_vars, 'guarded')
    apis = plumber_vars['plumber_apis'] + [{'name': 'needy', 'src': str(code), 'port': 8900}]
    result = play('../../playbooks/deploy.yml', extra_vars={'plumber_apis': apis})
    assert result.rc != 0, result
    assert 'API needy uses R packages its packages do not list: nosuchpkg at plumber.R:2;' in result.output, result
    assert "R package 'nosuchpkg'" in result.output and 'plumber.R:2' in result.output, result
    # The workers that were running still run, unrestarted.
    assert worker_starts(host, plumber_vars, 'guarded') == before
    assert host.run('curl -fsS --max-time 5 http://127.0.0.1:8900/healthz').rc != 0
