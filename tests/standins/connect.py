# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for Posit Connect's server API (Connect itself cannot run on our test machines), for the tests of
plumber.hosting.connect_deploy. It speaks the endpoints posit-sdk calls for a deployment, with Connect's shapes:

  GET  /__api__/server_settings                          {"version": ...}
  GET  /__api__/v1/content?name=N                        [content...]
  POST /__api__/v1/content                               create (name unique: 409 otherwise)
  GET|PATCH|DELETE /__api__/v1/content/{guid}
  GET|POST /__api__/v1/content/{guid}/bundles            list | upload a tar.gz (the request body)
  GET  /__api__/v1/content/{guid}/bundles/{id}[/download]
  POST /__api__/v1/content/{guid}/deploy                 {"bundle_id"} -> {"task_id"}
  GET  /__api__/v1/tasks/{id}?first=N&wait=S             {"output", "last", "finished", "code", "error"}
  GET|PATCH /__api__/v1/content/{guid}/environment       names only | [{"name", "value"}] (null deletes)

Every call needs `Authorization: Key <key>` (401 otherwise); errors are Connect's JSON {"code", "error"}. A
deployment checks the bundle as Connect would before running it, independently of the module's code: a
manifest.json of version 1 with app mode "api", the R version, plumber among the packages, each package's
source and DESCRIPTION; every file listed, present, with the right MD5, and no file unlisted; plumber.R or
entrypoint.R at the root. A bad bundle fails the task with the reasons in its log. The task ends after a few
polls, so clients must follow it. Test controls: POST /__standin__/fail-next-deploy makes the next deployment
fail as an API whose R code does not load; GET /__standin__/state returns the whole state (environment
values included)."""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import json
import re
import tarfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

VERSION = '2025.09.0'
NAME_RE = re.compile(r'^[A-Za-z0-9_-]{1,64}\Z')
SETTINGS = ('title', 'description', 'access_type', 'min_processes', 'max_processes', 'max_conns_per_process',
            'load_factor', 'idle_timeout', 'init_timeout', 'connection_timeout', 'read_timeout')


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def check_bundle(data):
    """The reasons Connect would refuse this bundle (bytes of a tar.gz), and its manifest."""
    try:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data)), mode='r:') as tar:
            members = dict((member.name, tar.extractfile(member).read()) for member in tar.getmembers() if member.isfile())
    except (OSError, EOFError, tarfile.TarError) as exc:
        return ['the bundle is not a gzipped tar: %s' % exc], None
    if 'manifest.json' not in members:
        return ['the bundle has no manifest.json'], None
    try:
        manifest = json.loads(members.pop('manifest.json'))
    except ValueError as exc:
        return ['manifest.json does not parse: %s' % exc], None
    problems = []
    if manifest.get('version') != 1:
        problems.append('manifest version %r is not 1' % manifest.get('version'))
    if (manifest.get('metadata') or {}).get('appmode') != 'api':
        problems.append('app mode %r is not api' % (manifest.get('metadata') or {}).get('appmode'))
    if not re.match(r'^[0-9]+\.[0-9]+\.[0-9]+\Z', str(manifest.get('platform'))):
        problems.append('platform %r is not an R version' % manifest.get('platform'))
    packages = manifest.get('packages') or {}
    if 'plumber' not in packages:
        problems.append('plumber is not among the packages')
    for name, entry in packages.items():
        description = entry.get('description') or {}
        if description.get('Package') != name or not description.get('Version'):
            problems.append('package %s: its description does not name it with a version' % name)
        if not entry.get('Source') or entry.get('Source') == 'unknown':
            problems.append('package %s: unknown source' % name)
        if entry.get('Source') == 'CRAN' and not str(entry.get('Repository', '')).startswith(('http://', 'https://')):
            problems.append('package %s: no repository URL' % name)
    files = manifest.get('files') or {}
    for path, details in files.items():
        if path not in members:
            problems.append('%s is listed but not in the bundle' % path)
        elif hashlib.md5(members[path]).hexdigest() != (details or {}).get('checksum'):  # nosec: Connect's checksums
            problems.append('%s: checksum mismatch' % path)
    for path in members:
        if path not in files:
            problems.append('%s is in the bundle but not listed' % path)
    if not ({'plumber.R', 'entrypoint.R'} & set(files)):
        problems.append('neither plumber.R nor entrypoint.R at the root')
    return problems, manifest


class Connect:
    """The server's state; every method runs under one lock."""

    def __init__(self, api_key, polls=2):
        self.api_key, self.polls = api_key, polls
        self.lock = threading.Lock()
        self.content, self.bundles, self.tasks, self.env = {}, {}, {}, {}
        self.ids = itertools.count(1)
        self.fail_next = False
        self.calls = []
        self.base = ''

    # --- resources ------------------------------------------------------------------------------

    def _content(self, guid):
        if guid not in self.content:
            raise ApiError(404, 4, 'The requested object does not exist.')
        return self.content[guid]

    def _settings(self, body):
        unknown = set(body) - set(SETTINGS) - {'name'}
        if unknown:
            raise ApiError(400, 3, 'unknown fields: %s' % ', '.join(sorted(unknown)))
        if body.get('access_type') not in (None, 'all', 'logged_in', 'acl'):
            raise ApiError(400, 3, 'access_type %r is not valid' % body['access_type'])
        return body

    def create(self, body):
        name = body.get('name')
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ApiError(400, 3, 'The content name must be 1 to 64 letters, digits, - and _.')
        if any(item['name'] == name for item in self.content.values()):
            raise ApiError(409, 26, 'The content name is already in use.')
        guid = str(uuid.uuid4())
        item = dict.fromkeys(SETTINGS)
        item.update(guid=guid, name=name, access_type='acl', description='', app_mode='unknown', bundle_id=None,
                    content_url='%s/content/%s/' % (self.base, guid), dashboard_url='%s/connect/#/apps/%s' % (self.base, guid))
        item.update(self._settings(body))
        self.content[guid], self.env[guid] = item, {}
        return item

    def deploy(self, guid, bundle_id):
        self._content(guid)
        bundle = self.bundles.get(bundle_id)
        if bundle is None or bundle['content_guid'] != guid:
            raise ApiError(404, 4, 'The requested bundle does not exist.')
        problems, manifest = check_bundle(bundle['data'])
        output = ['Bundle created with R version %s' % (manifest or {}).get('platform'),
                  'Removing prior manifest.json to packrat transformation.']
        if not problems and self.fail_next:
            self.fail_next = False
            output += ['Running plumber API', "Error in library(nosuchpkg) : there is no package called 'nosuchpkg'",
                       'Calls: <Anonymous> ... eval -> eval -> library', 'Execution halted']
            error = 'Unable to deploy the bundle: the API exited before it answered.'
        elif problems:
            output += ['Invalid bundle: %s' % problem for problem in problems]
            error = 'Unable to deploy the bundle: the bundle is invalid.'
        else:
            output += ['Installing %s (%s)' % (name, entry['description']['Version'])
                       for name, entry in sorted(manifest['packages'].items())]
            output += ['Completed packrat build against R version: %s' % manifest['platform'], 'Launching plumber API...',
                       'Deployment completed.']
            error = ''
        task = dict(id=str(next(self.ids)), output=output, error=error, code=1 if error else 0, polls=0, content_guid=guid,
                    bundle_id=bundle_id)
        self.tasks[task['id']] = task
        # Connect switches to the new bundle when the task ends well; the old one serves until then.
        task['switch'] = not error
        bundle['manifest'] = manifest
        return {'task_id': task['id']}

    def task(self, task_id, first):
        task = self.tasks.get(task_id)
        if task is None:
            raise ApiError(404, 4, 'The requested task does not exist.')
        task['polls'] += 1
        finished = task['polls'] > self.polls
        # Lines appear over the polls, as a running task's do.
        shown = len(task['output']) if finished else len(task['output']) * task['polls'] // (self.polls + 1)
        if finished and task.pop('switch', False):
            self.content[task['content_guid']].update(bundle_id=task['bundle_id'], app_mode='api')
        return dict(id=task_id, output=task['output'][first:shown], last=max(first, shown), finished=finished,
                    code=task['code'] if finished else 0, error=task['error'] if finished else '', result=None)

    # --- HTTP -----------------------------------------------------------------------------------

    def handle(self, method, path, query, headers, body):
        """(status, JSON-able or bytes) for one request."""
        self.calls.append((method, path))
        if path == '/__standin__/fail-next-deploy' and method == 'POST':
            self.fail_next = True
            return 204, None
        if path == '/__standin__/state':
            return 200, {'content': self.content, 'env': self.env, 'calls': self.calls,
                         'bundles': dict((key, {'content_guid': value['content_guid'], 'manifest': value.get('manifest')})
                                         for key, value in self.bundles.items())}
        if headers.get('Authorization') != 'Key %s' % self.api_key:
            raise ApiError(401, 5, 'The requested operation requires authentication.')
        if not path.startswith('/__api__/'):
            raise ApiError(404, 4, 'The requested object does not exist.')
        parts = path[len('/__api__/'):].strip('/').split('/')
        if parts == ['server_settings'] and method == 'GET':
            return 200, {'version': VERSION}
        if parts[:2] == ['v1', 'content']:
            if len(parts) == 2:
                if method == 'GET':
                    name = query.get('name', [None])[0]
                    return 200, [item for item in self.content.values() if name is None or item['name'] == name]
                if method == 'POST':
                    return 200, self.create(json.loads(body or b'{}'))
            guid = parts[2]
            item = self._content(guid)
            rest = parts[3:]
            if not rest:
                if method == 'GET':
                    return 200, item
                if method == 'PATCH':
                    item.update(self._settings(json.loads(body or b'{}')))
                    return 200, item
                if method == 'DELETE':
                    del self.content[guid]
                    return 204, None
            if rest == ['bundles'] and method == 'GET':
                return 200, [dict(id=key, content_guid=guid, active=key == item['bundle_id'])
                             for key, value in self.bundles.items() if value['content_guid'] == guid]
            if rest == ['bundles'] and method == 'POST':
                bundle_id = str(next(self.ids))
                self.bundles[bundle_id] = {'content_guid': guid, 'data': body}
                return 200, dict(id=bundle_id, content_guid=guid, size=len(body), active=False)
            if len(rest) >= 2 and rest[0] == 'bundles' and rest[1] in self.bundles \
                    and self.bundles[rest[1]]['content_guid'] == guid and method == 'GET':
                if rest[2:] == ['download']:
                    return 200, self.bundles[rest[1]]['data']
                if not rest[2:]:
                    return 200, dict(id=rest[1], content_guid=guid, active=rest[1] == item['bundle_id'])
            if rest == ['deploy'] and method == 'POST':
                return 202, self.deploy(guid, str(json.loads(body or b'{}').get('bundle_id')))
            if rest == ['environment']:
                if method == 'PATCH':
                    for change in json.loads(body or b'[]'):
                        if change.get('value') is None:
                            self.env[guid].pop(change['name'], None)
                        else:
                            self.env[guid][change['name']] = change['value']
                    return 200, sorted(self.env[guid])
                if method == 'GET':
                    return 200, sorted(self.env[guid])
        if parts[:2] == ['v1', 'tasks'] and len(parts) == 3 and method == 'GET':
            return 200, self.task(parts[2], int(query.get('first', ['0'])[0]))
        raise ApiError(404, 4, 'The requested object does not exist.')


def serve(api_key, polls=2, address='127.0.0.1'):
    """Start the stand-in on a free port in a thread; returns (server, state). server.shutdown() stops it."""
    state = Connect(api_key, polls)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            url = urlsplit(self.path)
            length = int(self.headers.get('Content-Length') or 0)
            body = self.rfile.read(length) if length else b''
            try:
                with state.lock:
                    status, payload = state.handle(self.command, url.path, parse_qs(url.query), self.headers, body)
            except ApiError as exc:
                status, payload = exc.status, {'code': exc.code, 'error': exc.message, 'payload': None}
            data = payload if isinstance(payload, bytes) else (b'' if payload is None else json.dumps(payload).encode())
            self.send_response(status)
            self.send_header('Content-Type', 'application/gzip' if isinstance(payload, bytes) else 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((address, 0), Handler)
    state.base = 'http://%s:%d' % server.server_address[:2]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state
