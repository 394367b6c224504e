# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plumber.hosting.connect_deploy against the Connect stand-in (tests/standins/connect.py: Connect's endpoints, which
checks every bundle it is sent), with posit-sdk and the real R of this machine reading the packages' DESCRIPTION
files. The API is shaped like a real one: a filter, a helper file sourced, a static directory, a package used as
pkg::fn."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import urllib.request

import pytest

from ansible_collections.plumber.hosting.plugins.modules import connect_deploy
from ansible_collections.plumber.hosting.tests.standins.connect import serve
from ansible_collections.plumber.hosting.tests.unit.plugins.modules.utils import AnsibleExitJson, AnsibleFailJson, patch_exits, run_main

KEY = 'k3y-Th4t-M4y-N0t-L34k'
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

PLUMBER_R = '''source("helpers.R")

#* @filter auth
function(req, res) {
  if (req$PATH_INFO != "/healthz" && !identical(req$HTTP_X_TOKEN, Sys.getenv("TOKEN"))) {
    res$status <- 401
    return(list(error = "token"))
  }
  plumber::forward()
}

#* @get /healthz
function() list(status = "ok")

#* @get /hello
#* @serializer json
function(name = "world") list(greeting = greet(name), at = jsonlite::unbox(format(Sys.time())))

#* @assets ./static /static
list()
'''


@pytest.fixture(autouse=True)
def exits(monkeypatch):
    patch_exits(monkeypatch)


@pytest.fixture
def connect():
    if shutil.which('Rscript') is None:
        pytest.skip('needs Rscript and plumber')
    server, state = serve(KEY)
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(tmp_path):
    src = tmp_path / 'hello'
    (src / 'static').mkdir(parents=True)
    (src / 'plumber.R').write_text(PLUMBER_R)
    (src / 'helpers.R').write_text('greet <- function(name) paste("Hello,", name)\n')
    (src / 'static' / 'index.html').write_text('<p>hello</p>\n')
    (src / '.Rhistory').write_text('q()\n')
    (src / 'rsconnect').mkdir()
    (src / 'rsconnect' / 'old.dcf').write_text('name: hello\n')
    return src


def args(connect, api, **extra):
    params = dict(url=connect.base, api_key=KEY, name='hello', src=str(api), title='Hello API', min_processes=1,
                  max_processes=3, env={'TOKEN': 's3cret: & $ign'})
    params.update(extra)
    return params


def standin(connect, path):
    with urllib.request.urlopen(connect.base + path) as response:
        return json.load(response)


def deploy(connect, api, expect=AnsibleExitJson, **extra):
    result, _raised = run_main(connect_deploy, args(connect, api, **extra), expect=expect)
    assert KEY not in json.dumps(result)
    return result


def test_a_first_publish_creates_the_content_deploys_a_valid_bundle_and_sets_settings_and_env(connect, api):
    result = deploy(connect, api)
    assert result['changed'] and result['deployed']
    assert result['content_url'] == '%s/content/%s/' % (connect.base, result['guid'])
    state = standin(connect, '/__standin__/state')
    content = state['content'][result['guid']]
    assert (content['name'], content['title'], content['min_processes'], content['max_processes'], content['app_mode']) \
        == ('hello', 'Hello API', 1, 3, 'api')
    assert content['bundle_id'] == result['bundle_id']
    assert 'Deployment completed.' in result['log']
    manifest = state['bundles'][result['bundle_id']]['manifest']
    assert sorted(manifest['files']) == ['helpers.R', 'plumber.R', 'static/index.html']
    assert manifest['metadata']['appmode'] == 'api'
    # plumber, what the code uses (jsonlite) and what they need, each with its DESCRIPTION; no base package.
    assert {'plumber', 'jsonlite', 'httpuv', 'R6'} <= set(manifest['packages'])
    assert not {'utils', 'stats', 'methods'} & set(manifest['packages'])
    assert manifest['packages']['plumber']['Source'] == 'CRAN'
    assert manifest['packages']['plumber']['Repository'] == 'https://cloud.r-project.org'
    assert manifest['packages']['plumber']['description']['Package'] == 'plumber'
    assert result['packages']['plumber'] == manifest['packages']['plumber']['description']['Version']
    env = state['env'][result['guid']]
    assert env.pop('TOKEN') == 's3cret: & $ign'
    assert list(env) and list(env)[0].startswith('PLUMBER_HOSTING_ENV_')


def test_a_second_run_changes_nothing_and_uploads_nothing(connect, api):
    first = deploy(connect, api)
    calls = len(standin(connect, '/__standin__/state')['calls'])
    second = deploy(connect, api)
    assert not second['changed'] and not second['deployed']
    assert second['bundle_id'] == first['bundle_id']
    made = [call for call in standin(connect, '/__standin__/state')['calls'][calls:] if call[0] not in ('GET',)]
    assert made == [], made


def test_check_mode_and_diff_show_a_code_change_and_change_nothing(connect, api):
    first = deploy(connect, api)
    (api / 'helpers.R').write_text('greet <- function(name) paste("Hi,", name)\n')
    (api / 'static' / 'new.css').write_text('p {}\n')
    checked = deploy(connect, api, _ansible_check_mode=True, _ansible_diff=True, max_processes=4)
    assert checked['changed'] and not checked['deployed']
    assert checked['diff']['prepared'].splitlines() == ['~ max_processes: 3 -> 4', '+ static/new.css', '~ helpers.R']
    state = standin(connect, '/__standin__/state')
    assert state['content'][first['guid']]['max_processes'] == 3 and len(state['bundles']) == 1
    applied = deploy(connect, api, max_processes=4)
    assert applied['changed'] and applied['deployed'] and applied['bundle_id'] != first['bundle_id']
    assert not deploy(connect, api, max_processes=4)['changed']


def test_a_changed_environment_is_set_and_the_old_record_removed(connect, api):
    first = deploy(connect, api)
    again = deploy(connect, api, env={'TOKEN': 'other', 'LEVEL': '2'})
    assert again['changed'] and not again['deployed']
    env = standin(connect, '/__standin__/state')['env'][first['guid']]
    records = [name for name in env if name.startswith('PLUMBER_HOSTING_ENV_')]
    assert (env['TOKEN'], env['LEVEL'], len(records)) == ('other', '2', 1)
    assert not deploy(connect, api, env={'TOKEN': 'other', 'LEVEL': '2'})['changed']
    # A variable set by someone else stays, unless purge_env.
    assert deploy(connect, api, env={'TOKEN': 'other'})['changed']
    assert 'LEVEL' in standin(connect, '/__standin__/state')['env'][first['guid']]
    purged = deploy(connect, api, env={'TOKEN': 'other'}, purge_env=True)
    assert purged['changed']
    assert sorted(standin(connect, '/__standin__/state')['env'][first['guid']])[1:] == ['TOKEN']


def test_a_failed_deployment_fails_with_connects_log_and_the_old_bundle_keeps_serving(connect, api):
    first = deploy(connect, api)
    (api / 'plumber.R').write_text(PLUMBER_R + '\n#* @get /more\nfunction() 1\n')
    urllib.request.urlopen(urllib.request.Request(connect.base + '/__standin__/fail-next-deploy', method='POST'))
    failed = deploy(connect, api, expect=AnsibleFailJson)
    assert "there is no package called 'nosuchpkg'" in failed['msg'] and 'Unable to deploy' in failed['msg']
    assert 'Execution halted' in failed['log']
    assert standin(connect, '/__standin__/state')['content'][first['guid']]['bundle_id'] == first['bundle_id']
    # The next run deploys again: what Connect serves still differs from the code.
    retried = deploy(connect, api)
    assert retried['deployed'] and retried['bundle_id'] != first['bundle_id']


def test_the_standin_refuses_a_bundle_whose_checksums_do_not_match(connect, api, monkeypatch):
    """The stand-in checks the bundle for real: one whose file differs from the manifest fails the deployment."""
    real = connect_deploy.archive

    def tampered(files, document):
        data = gzip.decompress(real(files, document))
        out = io.BytesIO()
        with tarfile.open(fileobj=io.BytesIO(data)) as tar, tarfile.open(fileobj=out, mode='w') as new:
            for member in tar.getmembers():
                content = tar.extractfile(member).read()
                if member.name == 'helpers.R':
                    content += b'# changed after the manifest was written\n'
                    member.size = len(content)
                new.addfile(member, io.BytesIO(content))
        return gzip.compress(out.getvalue())
    monkeypatch.setattr(connect_deploy, 'archive', tampered)
    failed = deploy(connect, api, expect=AnsibleFailJson)
    assert 'Invalid bundle: helpers.R: checksum mismatch' in failed['msg']


@pytest.mark.parametrize('extra, message', [
    ({'url': 'connect.example.com'}, "url 'connect.example.com' must be the Connect server with its scheme"),
    ({'url': 'https://connect.example.com/ x'}, "url 'https://connect.example.com/ x' must be"),
    ({'api_key': ''}, 'api_key is not set and neither is CONNECT_API_KEY'),
    ({'name': 'hello world'}, "name 'hello world' must be 1 to 64 letters"),
    ({'env': {'TOKEN': 5}}, 'env.TOKEN must be a string, got int'),
    ({'env': {'1BAD': 'x'}}, "env: '1BAD' is not a variable name"),
    ({'min_processes': 4, 'max_processes': 2}, 'min_processes 4 is more than max_processes 2'),
    ({'load_factor': 1.5}, 'load_factor 1.5 must be between 0.0 and 1.0'),
])
def test_bad_input_fails_before_anything_is_sent(connect, api, extra, message):
    failed = deploy(connect, api, expect=AnsibleFailJson, **extra)
    assert message in failed['msg'], failed['msg']
    assert standin(connect, '/__standin__/state')['calls'][:-1] == []


def test_a_directory_without_an_entry_point_and_a_package_found_nowhere(connect, api):
    (api / 'plumber.R').rename(api / 'api.R')
    failed = deploy(connect, api, expect=AnsibleFailJson)
    assert 'has neither plumber.R nor entrypoint.R at its root' in failed['msg']
    (api / 'api.R').rename(api / 'entrypoint.R')
    (api / 'helpers.R').write_text('greet <- function(name) nosuchpkg::hello(name)\n')
    failed = deploy(connect, api, expect=AnsibleFailJson)
    assert 'not installed where this module runs' in failed['msg'] and 'nosuchpkg (used at helpers.R:1)' in failed['msg']


def test_a_wrong_key_gets_connects_refusal_without_the_key(connect, api):
    failed = deploy(connect, api, expect=AnsibleFailJson, api_key='wrong-key-value')
    assert 'Connect refused to find the content named hello' in failed['msg'] and 'HTTP 401' in failed['msg']
    assert 'wrong-key-value' not in json.dumps(failed)


def test_the_readme_example_publishes_and_a_second_run_changes_nothing(connect, tmp_path):
    """The README's publish.yml, as a user runs it in a folder of their own (the stand-in's URL for Connect's)."""
    readme = open(os.path.join(ROOT, 'README.md'), encoding='utf-8').read()
    example = re.search(r'```yaml\n(# publish\.yml.*?)```', readme, re.S).group(1)
    assert 'https://connect.example.com' in example
    (tmp_path / 'publish.yml').write_text(example.replace('https://connect.example.com', connect.base))
    (tmp_path / 'apis' / 'hello').mkdir(parents=True)
    (tmp_path / 'apis' / 'hello' / 'plumber.R').write_text('#* @get /hello\nfunction() list(msg = "hello from plumber.hosting")\n')
    env = dict(os.environ, CONNECT_API_KEY=KEY, ANSIBLE_NOCOLOR='1')
    runs = [subprocess.run(['ansible-playbook', 'publish.yml'], cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
                           timeout=300) for attempt in range(2)]
    assert [run.returncode for run in runs] == [0, 0], runs[0].stdout + runs[0].stderr
    assert re.search(r'changed=1\b', runs[0].stdout) and re.search(r'changed=0\b', runs[1].stdout), runs[1].stdout
    guid = list(standin(connect, '/__standin__/state')['content'])[0]
    assert '%s/content/%s/' % (connect.base, guid) in runs[1].stdout
    assert KEY not in runs[0].stdout + runs[1].stdout


def test_a_manifest_kept_with_the_code_gives_the_packages_and_r_is_not_run(connect, api, monkeypatch):
    """rsconnect's writeManifest() output in src: its R version and packages as they are; files listed anew."""
    description = {'Package': 'plumber', 'Version': '1.2.2', 'Title': 'An API Generator for R'}
    kept = {'version': 1, 'locale': 'en_US', 'platform': '4.4.1', 'metadata': {'appmode': 'api'},
            'packages': {'plumber': {'Source': 'CRAN', 'Repository': 'https://packagemanager.posit.co/cran/latest',
                                     'description': description}},
            'files': {'plumber.R': {'checksum': 'stale'}}}
    (api / 'manifest.json').write_text(json.dumps(kept))
    result = deploy(connect, api, r_executable='/nonexistent/Rscript')
    assert result['deployed'] and result['packages'] == {'plumber': '1.2.2'}
    sent = standin(connect, '/__standin__/state')['bundles'][result['bundle_id']]['manifest']
    assert (sent['platform'], sent['packages']) == ('4.4.1', kept['packages'])
    assert sorted(sent['files']) == ['helpers.R', 'plumber.R', 'static/index.html']
    kept['metadata']['appmode'] = 'shiny'
    (api / 'manifest.json').write_text(json.dumps(kept))
    failed = deploy(connect, api, expect=AnsibleFailJson)
    assert "has app mode 'shiny'; a plumber API's is 'api'" in failed['msg']
