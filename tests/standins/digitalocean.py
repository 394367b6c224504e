# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for DigitalOcean's API v2 (DigitalOcean cannot be reached from our test machines), for the tests of
the modules built on pydo, DigitalOcean's Python client. It speaks HTTPS only (pydo sends its token over TLS
only) and serves, with the shapes of DigitalOcean's OpenAPI specification (github.com/digitalocean/openapi):

  GET  /v2/account                                       {"account"}
  GET|POST /v2/account/keys                              list (paginated) | add {name, public_key} -> 201
  GET|PUT|DELETE /v2/account/keys/{id or fingerprint}    the fingerprint is the MD5 of the key, aa:bb:...
  GET|POST /v2/droplets                                  list (page, per_page, tag_name, name, type) | create -> 202
  DELETE /v2/droplets?tag_name=T                         every Droplet with the tag -> 204
  GET|DELETE /v2/droplets/{id}
  GET  /v2/droplets/{id}/actions[/{action id}]
  GET  /v2/actions[/{id}]
  GET|POST /v2/firewalls                                 list (paginated) | create -> 202
  GET|PUT|DELETE /v2/firewalls/{id}
  POST|DELETE /v2/firewalls/{id}/droplets|tags|rules     -> 204
  GET|POST /v2/domains                                   list (paginated) | create {name, ip_address} -> 201
  GET|DELETE /v2/domains/{name}
  GET|POST /v2/domains/{name}/records                    list (paginated; name: the full name, type) | create -> 201
  GET|PUT|PATCH|DELETE /v2/domains/{name}/records/{id}

Every call needs `Authorization: Bearer <token>` (401 otherwise). Errors are DigitalOcean's JSON {"id", "message",
"request_id"} with its wording where it is known (comments mark the wordings not confirmed); every answer carries
ratelimit-limit, ratelimit-remaining and ratelimit-reset. Lists answer {"<things>": [...], "links": {}, "meta":
{"total": N}}, links holding "pages" {first, prev, next, last} when there is more than one page (per_page 20 by
default, at most 200). A catalog stands for DigitalOcean's: the REGIONS, SIZES and IMAGES below; the account may
have 25 Droplets. As DigitalOcean does: a firewall keeps "all" ports (and any ICMP rule's) as "0"; CNAME, MX, NS
and SRV data must end with a dot (or be "@") and are shown without it; a private address's gateway is "nil" (as
the specification's examples show); a PUT of a firewall replaces it whole, a PUT or PATCH of a record merges.

Droplets are created "new", with no networks and an in-progress create action; each request that shows a Droplet
(its GET, a list, its actions) counts as a poll, and after `active_after` polls it turns "active" with a private and
a public IPv4 address (and an IPv6 one if asked), its create action "completed". Without hooks the addresses come
from 203.0.113.0/24 (public) and 10.110.0.0/20 (private). With serve(on_create=...), the hook is called in its own
thread with the Droplet (plus "user_data" and "ssh_public_keys", which a real machine would receive) and returns
{"public": ipv4, "private": ipv4[, "ipv6": ipv6]}: the Droplet turns active only once the hook has returned (if it
raises, the create action is "errored" and the Droplet stays "new"). on_delete(droplet) is called when a Droplet is
deleted, before the 204 answer. Hooks run outside the lock; their failures are listed in the state's hook_errors.

Test controls (no token needed): POST /__standin__/rate-limit {"count": N} makes the next N API requests answer
429 too_many_requests with Retry-After: 1; GET /__standin__/state returns the whole state, with every API call as
[method, path?query] (the token never appears in it)."""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import hashlib
import ipaddress
import itertools
import json
import os
import re
import ssl
import struct
import tempfile
import threading
import time
import traceback
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import trustme

RATE_LIMIT = 5000
NOT_FOUND = 'The resource you were accessing could not be found.'
UNPROCESSABLE = 'unprocessable_entity'
NAME_MESSAGE = 'Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -)'
KEY_MESSAGE = 'Key invalid, key should be of the format `type key [comment]`'

REGIONS = {'nyc1': 'New York 1', 'nyc3': 'New York 3', 'sfo3': 'San Francisco 3', 'ams3': 'Amsterdam 3', 'fra1': 'Frankfurt 1',
           'lon1': 'London 1', 'sgp1': 'Singapore 1', 'tor1': 'Toronto 1', 'blr1': 'Bangalore 1', 'syd1': 'Sydney 1'}
REGION_FEATURES = ('backups', 'ipv6', 'metadata', 'install_agent', 'storage', 'image_transfer')
SMALL_REGIONS = ('nyc1', 'nyc3', 'sfo3', 'ams3', 'fra1', 'lon1', 'sgp1')
# slug: (memory MB, vcpus, disk GB, transfer TB, price monthly, price hourly, regions)
SIZES = {
    's-1vcpu-512mb-10gb': (512, 1, 10, 0.5, 4.0, 0.00595, SMALL_REGIONS),
    's-1vcpu-1gb': (1024, 1, 25, 1.0, 6.0, 0.00893, tuple(REGIONS)),
    's-1vcpu-2gb': (2048, 1, 50, 2.0, 12.0, 0.01786, tuple(REGIONS)),
    's-2vcpu-2gb': (2048, 2, 60, 3.0, 18.0, 0.02679, tuple(REGIONS)),
    's-2vcpu-4gb': (4096, 2, 80, 4.0, 24.0, 0.03571, tuple(REGIONS)),
    's-4vcpu-8gb': (8192, 4, 160, 5.0, 48.0, 0.07143, tuple(REGIONS)),
}
# slug: (id, name, distribution, min disk GB, size GB, created)
IMAGES = {
    'debian-12-x64': (177618321, '12 x64', 'Debian', 10, 0.99, '2025-02-03T16:22:07Z'),
    'ubuntu-24-04-x64': (176890482, '24.04 (LTS) x64', 'Ubuntu', 10, 2.44, '2025-01-28T19:42:11Z'),
    'ubuntu-22-04-x64': (176888911, '22.04 (LTS) x64', 'Ubuntu', 10, 2.21, '2025-01-28T18:56:31Z'),
}
DROPLET_NAME_RE = re.compile(r'^[a-zA-Z0-9]?[a-z0-9A-Z.\-]*[a-z0-9A-Z]\Z')
TAG_RE = re.compile(r'^[a-zA-Z0-9_\-:]{1,255}\Z')
FIREWALL_NAME_RE = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9.\-]+\Z')
DOMAIN_RE = re.compile(r'^(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9\-]{0,61}[a-z0-9]\Z')
RECORD_NAME_RE = re.compile(r'^(?:@|\*|(?:\*\.)?[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?)\Z')
KEY_TYPES = ('ssh-rsa', 'ssh-dss', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
             'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com')
TARGET_FIELDS = ('addresses', 'droplet_ids', 'load_balancer_uids', 'kubernetes_ids', 'tags')
RECORD_TYPES = ('A', 'AAAA', 'CAA', 'CNAME', 'MX', 'NS', 'SRV', 'TXT')
RECORD_FIELDS = ('type', 'name', 'data', 'priority', 'port', 'ttl', 'weight', 'flags', 'tag')
HOST_TYPES = ('CNAME', 'MX', 'NS', 'SRV')
NAMESERVERS = ('ns1.digitalocean.com', 'ns2.digitalocean.com', 'ns3.digitalocean.com')


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def invalid(message):
    return ApiError(422, UNPROCESSABLE, message)


def not_found():
    return ApiError(404, 'not_found', NOT_FOUND)


def now():
    return datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def integer(value, default=None):
    """value as an int (not a bool), or default."""
    if isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def fingerprint(public_key):
    """The MD5 fingerprint (aa:bb:...) DigitalOcean shows for an OpenSSH public key line, or None if it is not one."""
    parts = public_key.split() if isinstance(public_key, str) else []
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        return None
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(blob) < 4 or blob[4:4 + struct.unpack('>I', blob[:4])[0]] != parts[0].encode():
        return None
    return ':'.join('%02x' % byte for byte in hashlib.md5(blob, usedforsecurity=False).digest())


def region_object(slug):
    return {'name': REGIONS[slug], 'slug': slug, 'features': list(REGION_FEATURES), 'available': True,
            'sizes': [size for size, spec in SIZES.items() if slug in spec[6]]}


def size_object(slug):
    memory, vcpus, disk, transfer, monthly, hourly, regions = SIZES[slug]
    return {'slug': slug, 'memory': memory, 'vcpus': vcpus, 'disk': disk, 'transfer': transfer, 'price_monthly': monthly,
            'price_hourly': hourly, 'regions': list(regions), 'available': True, 'description': 'Basic',
            'disk_info': [{'type': 'local', 'size': {'amount': disk, 'unit': 'gib'}}]}


def image_object(slug):
    image_id, name, distribution, min_disk, gigabytes, created = IMAGES[slug]
    return {'id': image_id, 'name': name, 'distribution': distribution, 'slug': slug, 'public': True, 'regions': list(REGIONS),
            'created_at': created, 'type': 'base', 'min_disk_size': min_disk, 'size_gigabytes': gigabytes,
            'description': '%s %s' % (distribution, name), 'tags': [], 'status': 'available', 'error_message': ''}


def find_image(value):
    for slug, spec in IMAGES.items():
        if value == slug or (integer(value) == spec[0] and not isinstance(value, float)):
            return slug
    return None


def json_body(body):
    if not body:
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ApiError(400, 'bad_request', 'error parsing request body')
    return data


def ports(protocol, value):
    """A rule's ports as DigitalOcean keeps them: "0" for every port (sent as "0" or "all") and for ICMP."""
    if protocol == 'icmp':
        return '0'
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ''
    if text in ('0', 'all'):
        return '0'
    match = re.match(r'^([0-9]{1,5})(?:-([0-9]{1,5}))?\Z', text)
    if match and 1 <= int(match.group(1)) <= int(match.group(2) or match.group(1)) <= 65535:
        return text
    raise invalid('You must specify a valid range for ports.')


def record_object(record_id, values):
    record = dict.fromkeys(RECORD_FIELDS)
    record.update(values)
    record['id'] = record_id
    return dict((key, record[key]) for key in ('id',) + RECORD_FIELDS)


class DigitalOcean:
    """The server's state; handle() runs under the lock, the hooks outside it."""

    def __init__(self, token, active_after=2, on_create=None, on_delete=None):
        self.token, self.active_after = token, active_after
        self.on_create, self.on_delete = on_create, on_delete
        self.lock = threading.Lock()
        self.droplets, self.meta, self.actions, self.keys, self.firewalls, self.domains, self.records = {}, {}, {}, {}, {}, {}, {}
        self.droplet_ids, self.key_ids = itertools.count(401000001), itertools.count(41000001)
        self.action_ids, self.record_ids = itertools.count(2100000001), itertools.count(300000001)
        self.hosts = itertools.count(2)
        self.calls, self.hook_errors, self.pending = [], [], []
        self.throttle, self.remaining = 0, RATE_LIMIT
        self.base = self.ca = self.directory = ''
        self.account = {'droplet_limit': 25, 'floating_ip_limit': 3, 'reserved_ip_limit': 3, 'volume_limit': 100,
                        'email': 'sammy@example.com', 'uuid': uuid.uuid4().hex, 'email_verified': True, 'status': 'active',
                        'status_message': '', 'team': {'uuid': uuid.uuid4().hex, 'name': 'My Team'}}

    # --- lists ----------------------------------------------------------------------------------

    def page(self, key, items, path, pairs):
        """One page of items as DigitalOcean answers a list: {key: [...], "links": {...}, "meta": {"total"}}."""
        query = dict(pairs)
        per_page = min(max(integer(query.get('per_page'), 20), 1), 200)
        number = max(integer(query.get('page'), 1), 1)
        last = max(1, -(-len(items) // per_page))
        rest = [(name, value) for name, value in pairs if name != 'page']

        def link(target):
            return '%s%s?%s' % (self.base, path, urlencode([('page', str(target))] + rest))

        pages = {}
        if number > 1:
            pages.update(first=link(1), prev=link(min(number - 1, last)))
        if number < last:
            pages.update(next=link(number + 1), last=link(last))
        chunk = items[(number - 1) * per_page:number * per_page]
        return chunk, {key: chunk, 'links': {'pages': pages} if pages else {}, 'meta': {'total': len(items)}}

    # --- SSH keys -------------------------------------------------------------------------------

    def key(self, identifier):
        number = integer(identifier) if not isinstance(identifier, str) or identifier.isdigit() else None
        if number is not None:
            return self.keys.get(number)
        return next((key for key in self.keys.values() if key['fingerprint'] == identifier), None)

    def key_name(self, name):
        if not isinstance(name, str) or not name.strip():
            raise invalid("Name can't be blank")  # wording not confirmed
        return name

    def add_key(self, body):
        name = self.key_name(body.get('name'))
        public_key = body.get('public_key')
        print_ = fingerprint(public_key)
        if print_ is None:
            raise invalid(KEY_MESSAGE)
        if any(key['fingerprint'] == print_ for key in self.keys.values()):
            raise invalid('SSH Key is already in use on your account')
        key = {'id': next(self.key_ids), 'fingerprint': print_, 'public_key': public_key.strip(), 'name': name}
        self.keys[key['id']] = key
        return 201, {'ssh_key': key}

    def keys_api(self, method, rest, path, pairs, body):
        if not rest:
            if method == 'GET':
                return 200, self.page('ssh_keys', sorted(self.keys.values(), key=lambda key: key['id']), path, pairs)[1]
            if method == 'POST':
                return self.add_key(json_body(body))
            raise not_found()
        key = self.key(rest[0]) if len(rest) == 1 else None
        if key is None:
            raise not_found()
        if method == 'GET':
            return 200, {'ssh_key': key}
        if method == 'PUT':
            data = json_body(body)
            if 'name' in data:
                key['name'] = self.key_name(data['name'])
            return 200, {'ssh_key': key}
        if method == 'DELETE':
            del self.keys[key['id']]
            return 204, None
        raise not_found()

    # --- Droplets -------------------------------------------------------------------------------

    def region(self, value, size):
        """The region a create request lands in: the slug, a slug prefix ("nyc") or none at all."""
        if value is None or value == '':
            return next(slug for slug in REGIONS if slug in SIZES[size][6])
        if isinstance(value, str) and value in REGIONS:
            return value
        near = [slug for slug in REGIONS if isinstance(value, str) and re.match(re.escape(value) + r'[0-9]+\Z', slug)]
        if not near:
            raise invalid('Region is not available')
        return ([slug for slug in near if slug in SIZES[size][6]] or near)[0]

    def create_droplets(self, body):
        multi = 'names' in body and 'name' not in body
        names = body.get('names') if multi else [body.get('name')]
        if not isinstance(names, list) or not names:
            raise invalid(NAME_MESSAGE)
        if len(names) > 10:
            raise invalid('You may only create up to 10 Droplets at a time.')  # wording not confirmed
        for name in names:
            if not isinstance(name, str) or len(name) > 255 or not DROPLET_NAME_RE.match(name):
                raise invalid(NAME_MESSAGE)
        size = body.get('size')
        if not isinstance(size, str) or size not in SIZES:
            raise invalid('You specified an invalid size for Droplet creation.')
        region = self.region(body.get('region'), size)
        if region not in SIZES[size][6]:
            raise invalid('Size is not available in this region.')
        image = find_image(body.get('image'))
        if image is None:
            raise invalid('You specified an invalid image for Droplet creation.')
        identifiers = body.get('ssh_keys') or []
        if not isinstance(identifiers, list):
            identifiers = [identifiers]
        keys = [self.key(identifier) for identifier in identifiers]
        unknown = [str(identifier) for identifier, key in zip(identifiers, keys) if key is None]
        if unknown:
            raise invalid('%s are invalid key identifiers for Droplet creation.' % ', '.join(unknown))
        tags = body.get('tags') or []
        if not isinstance(tags, list) or not all(isinstance(tag, str) and TAG_RE.match(tag) for tag in tags):
            raise invalid('Tag names may only contain letters, numbers, colons, dashes and underscores.')  # wording not confirmed
        user_data = body.get('user_data')
        if user_data is not None and (not isinstance(user_data, str) or len(user_data.encode()) > 65536):
            raise invalid('User data must be plain text of at most 64 KiB.')  # wording not confirmed
        if len(self.droplets) + len(names) > self.account['droplet_limit']:
            raise invalid('creating this/these droplet(s) will exceed your droplet limit')
        created = [self.new_droplet(name, body, region, size, image, keys, tags) for name in names]
        links = {'actions': [{'id': self.meta[item['id']]['action'], 'rel': 'create',
                              'href': '%s/v2/actions/%d' % (self.base, self.meta[item['id']]['action'])} for item in created]}
        if multi:
            return 202, {'droplets': created, 'links': links}
        return 202, {'droplet': created[0], 'links': links}

    def new_droplet(self, name, body, region, size, image, keys, tags):
        features = ['private_networking'] + [feature for feature in ('backups', 'ipv6', 'monitoring') if body.get(feature)]
        memory, vcpus, disk = SIZES[size][:3]
        vpc = body.get('vpc_uuid') or str(uuid.uuid5(uuid.NAMESPACE_URL, 'vpc-default-%s' % region))
        droplet = {'id': next(self.droplet_ids), 'name': name, 'memory': memory, 'vcpus': vcpus, 'disk': disk,
                   'disk_info': [{'type': 'local', 'size': {'amount': disk, 'unit': 'gib'}}], 'locked': False, 'status': 'new',
                   'kernel': None, 'created_at': now(), 'features': features, 'backup_ids': [], 'next_backup_window': None,
                   'snapshot_ids': [], 'image': image_object(image), 'volume_ids': [], 'size': size_object(size), 'size_slug': size,
                   'networks': {'v4': [], 'v6': []}, 'region': region_object(region), 'tags': list(dict.fromkeys(tags)),
                   'vpc_uuid': vpc}
        action = {'id': next(self.action_ids), 'status': 'in-progress', 'type': 'create', 'started_at': droplet['created_at'],
                  'completed_at': None, 'resource_id': droplet['id'], 'resource_type': 'droplet', 'region': region_object(region),
                  'region_slug': region}
        self.droplets[droplet['id']], self.actions[action['id']] = droplet, action
        meta = {'polls': 0, 'action': action['id'], 'ipv6': bool(body.get('ipv6')), 'backups': bool(body.get('backups')),
                'result': None, 'error': None, 'done': self.on_create is None, 'thread': None}
        self.meta[droplet['id']] = meta
        if self.on_create is not None:
            view = copy.deepcopy(droplet)
            view.update(user_data=body.get('user_data'), ssh_public_keys=[key['public_key'] for key in keys])
            meta['thread'] = threading.Thread(target=self.run_create, args=(droplet['id'], view), daemon=True)
            meta['thread'].start()
        return droplet

    def run_create(self, droplet_id, view):
        """The on_create hook, in its own thread."""
        result, error = None, None
        try:
            result = dict(self.on_create(view) or {})
        except Exception as exc:  # pylint: disable=broad-exception-caught
            error = 'on_create(%s): %s' % (view['name'], ''.join(traceback.format_exception_only(type(exc), exc)).strip())
        with self.lock:
            if error:
                self.hook_errors.append(error)
            meta = self.meta.get(droplet_id)
            if meta is not None:
                meta.update(result=result, error=error, done=True)

    def poll(self, droplet_id):
        """A request shows the Droplet: after enough of them (and its hook's return) it is active."""
        droplet, meta = self.droplets[droplet_id], self.meta[droplet_id]
        if droplet['status'] != 'new':
            return
        meta['polls'] += 1
        if meta['polls'] <= self.active_after or not meta['done']:
            return
        action = self.actions[meta['action']]
        if meta['error']:
            action.update(status='errored', completed_at=action['completed_at'] or now())
            return
        result, host = meta['result'] or {}, next(self.hosts)
        public = result.get('public') or '203.0.113.%d' % (2 + (host - 2) % 252)
        private = result.get('private') or str(ipaddress.IPv4Address('10.110.0.0') + 2 + (host - 2) % 4092)
        gateway = str(ipaddress.ip_network(public + '/24', strict=False).network_address + 1)
        droplet['networks']['v4'] = [{'ip_address': private, 'netmask': '255.255.240.0', 'gateway': 'nil', 'type': 'private'},
                                     {'ip_address': public, 'netmask': '255.255.255.0', 'gateway': gateway, 'type': 'public'}]
        if meta['ipv6']:
            droplet['networks']['v6'] = [{'ip_address': result.get('ipv6') or '2001:db8:0:%x::a001' % host, 'netmask': 64,
                                          'gateway': '2001:db8:0:%x::1' % host, 'type': 'public'}]
        if meta['backups']:
            start = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
            droplet['next_backup_window'] = {'start': start.strftime('%Y-%m-%dT%H:%M:%SZ'),
                                             'end': (start + timedelta(hours=23)).strftime('%Y-%m-%dT%H:%M:%SZ')}
        droplet['status'] = 'active'
        action.update(status='completed', completed_at=now())

    def droplet(self, value):
        droplet_id = integer(value) if str(value).isdigit() else None
        if droplet_id not in self.droplets:
            raise not_found()
        return droplet_id

    def delete_droplet(self, droplet_id):
        view, meta = copy.deepcopy(self.droplets.pop(droplet_id)), self.meta.pop(droplet_id)
        for firewall in self.firewalls.values():
            firewall['droplet_ids'] = [other for other in firewall['droplet_ids'] if other != droplet_id]
        if self.on_delete is not None or meta['thread'] is not None:
            self.pending.append(functools.partial(self.run_delete, view, meta['thread']))

    def run_delete(self, view, thread):
        """After the lock: the creation hook ends first, then on_delete."""
        if thread is not None:
            thread.join()
        if self.on_delete is None:
            return
        try:
            self.on_delete(view)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            with self.lock:
                self.hook_errors.append('on_delete(%s): %s' % (view['name'], ''.join(traceback.format_exception_only(type(exc), exc)).strip()))

    def droplets_api(self, method, rest, path, pairs, body):
        query = dict(pairs)
        if not rest:
            if method == 'GET':
                tag, name = query.get('tag_name'), query.get('name')
                if tag is not None and (name is not None or query.get('type') is not None):
                    raise invalid('tag_name cannot be combined with name or type')  # wording not confirmed
                items = [item for item in sorted(self.droplets.values(), key=lambda item: item['id'])
                         if (tag is None or tag in item['tags']) and (name is None or item['name'].lower() == name.lower())]
                chunk, answer = self.page('droplets', [] if query.get('type') == 'gpus' else items, path, pairs)
                for item in chunk:
                    self.poll(item['id'])
                return 200, answer
            if method == 'POST':
                return self.create_droplets(json_body(body))
            if method == 'DELETE' and query.get('tag_name'):
                for droplet_id in [item['id'] for item in self.droplets.values() if query['tag_name'] in item['tags']]:
                    self.delete_droplet(droplet_id)
                return 204, None
            raise not_found()
        droplet_id = self.droplet(rest[0])
        if len(rest) == 1 and method == 'GET':
            self.poll(droplet_id)
            return 200, {'droplet': self.droplets[droplet_id]}
        if len(rest) == 1 and method == 'DELETE':
            self.delete_droplet(droplet_id)
            return 204, None
        if rest[1:2] == ['actions'] and method == 'GET':
            self.poll(droplet_id)
            mine = [action for action in sorted(self.actions.values(), key=lambda item: item['id']) if action['resource_id'] == droplet_id]
            if len(rest) == 2:
                return 200, self.page('actions', mine, path, pairs)[1]
            found = [action for action in mine if len(rest) == 3 and str(action['id']) == rest[2]]
            if found:
                return 200, {'action': found[0]}
        raise not_found()

    def actions_api(self, method, rest, path, pairs):
        if method != 'GET' or len(rest) > 1:
            raise not_found()
        if not rest:
            return 200, self.page('actions', sorted(self.actions.values(), key=lambda item: item['id']), path, pairs)[1]
        action = self.actions.get(integer(rest[0]) if rest[0].isdigit() else None)
        if action is None:
            raise not_found()
        if action['resource_id'] in self.droplets:
            self.poll(action['resource_id'])
        return 200, {'action': action}

    # --- firewalls ------------------------------------------------------------------------------

    def target(self, value, key):
        if not isinstance(value, dict):
            raise invalid('You specified an invalid type for one of the %s.' % key)
        for address in value.get('addresses') or []:
            try:
                ipaddress.ip_network(address if isinstance(address, str) else '', strict=False)
            except ValueError as exc:
                raise invalid('invalid address') from exc
        for droplet_id in value.get('droplet_ids') or []:
            if integer(droplet_id) not in self.droplets:
                raise invalid('Droplet %s was not found.' % droplet_id)  # wording not confirmed
        found = dict((field, list(value[field])) for field in TARGET_FIELDS if value.get(field))
        if not found:
            raise invalid('You must specify at least one of the %s.' % key)  # wording not confirmed
        return found

    def rules(self, rules, key):
        if rules is None:
            return []
        if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
            raise ApiError(400, 'bad_request', 'error parsing request body')
        checked = []
        for rule in rules:
            protocol = rule.get('protocol')
            if protocol not in ('tcp', 'udp', 'icmp'):
                raise invalid('You specified an invalid protocol: %s.' % protocol)  # wording not confirmed
            checked.append({'protocol': protocol, 'ports': ports(protocol, rule.get('ports')), key: self.target(rule.get(key), key)})
        return checked

    def firewall_droplets(self, values):
        if not isinstance(values, list):
            raise ApiError(400, 'bad_request', 'error parsing request body')
        for droplet_id in values:
            if integer(droplet_id) not in self.droplets:
                raise invalid('Droplet %s was not found.' % droplet_id)  # wording not confirmed
        return list(dict.fromkeys(integer(value) for value in values))

    def firewall_tags(self, values):
        if not isinstance(values, list) or not all(isinstance(tag, str) and TAG_RE.match(tag) for tag in values):
            raise invalid('Tag names may only contain letters, numbers, colons, dashes and underscores.')  # wording not confirmed
        return list(dict.fromkeys(values))

    def firewall(self, body, firewall_id, created):
        name = body.get('name')
        if not isinstance(name, str) or len(name) > 255 or not FIREWALL_NAME_RE.match(name):
            raise invalid('The name must begin with an alphanumeric character; then letters, digits, . or -.')  # wording not confirmed
        inbound, outbound = self.rules(body.get('inbound_rules'), 'sources'), self.rules(body.get('outbound_rules'), 'destinations')
        if not inbound and not outbound:
            raise invalid('You must specify at least one inbound or outbound rule.')  # wording not confirmed
        return {'id': firewall_id, 'name': name, 'status': 'succeeded', 'inbound_rules': inbound, 'outbound_rules': outbound,
                'created_at': created, 'droplet_ids': self.firewall_droplets(body.get('droplet_ids') or []),
                'tags': self.firewall_tags(body.get('tags') or []), 'pending_changes': []}

    def firewall_parts(self, firewall, part, method, data):
        """POST or DELETE /v2/firewalls/{id}/droplets|tags|rules."""
        adding = method == 'POST'
        if part == 'droplets':
            changed = self.firewall_droplets(data.get('droplet_ids') or [])
            firewall['droplet_ids'] = [item for item in firewall['droplet_ids'] if item not in changed] + (changed if adding else [])
        elif part == 'tags':
            changed = self.firewall_tags(data.get('tags') or [])
            firewall['tags'] = [item for item in firewall['tags'] if item not in changed] + (changed if adding else [])
        else:
            for field, key in (('inbound_rules', 'sources'), ('outbound_rules', 'destinations')):
                changed = self.rules(data.get(field), key)
                firewall[field] = [rule for rule in firewall[field] if rule not in changed] + (changed if adding else [])
        return 204, None

    def firewalls_api(self, method, rest, path, pairs, body):
        if not rest:
            if method == 'GET':
                return 200, self.page('firewalls', sorted(self.firewalls.values(), key=lambda item: item['created_at']), path, pairs)[1]
            if method == 'POST':
                firewall = self.firewall(json_body(body), str(uuid.uuid4()), now())
                self.firewalls[firewall['id']] = firewall
                return 202, {'firewall': firewall}
            raise not_found()
        firewall = self.firewalls.get(rest[0])
        if firewall is None:
            raise not_found()
        if len(rest) == 1:
            if method == 'GET':
                return 200, {'firewall': firewall}
            if method == 'PUT':
                self.firewalls[rest[0]] = self.firewall(json_body(body), firewall['id'], firewall['created_at'])
                return 200, {'firewall': self.firewalls[rest[0]]}
            if method == 'DELETE':
                del self.firewalls[rest[0]]
                return 204, None
        if len(rest) == 2 and rest[1] in ('droplets', 'tags', 'rules') and method in ('POST', 'DELETE'):
            return self.firewall_parts(firewall, rest[1], method, json_body(body))
        raise not_found()

    # --- domains and records --------------------------------------------------------------------

    def zone_file(self, name):
        lines = ['$ORIGIN %s.' % name, '$TTL 1800',
                 '%s. IN SOA ns1.digitalocean.com. hostmaster.%s. %d 10800 3600 604800 1800' % (name, name, self.domains[name]['serial'])]
        for record in sorted(self.records[name].values(), key=lambda item: item['id']):
            owner = '%s.' % name if record['name'] == '@' else '%s.%s.' % (record['name'], name)
            data = record['data']
            if record['type'] in HOST_TYPES:
                data = '%s.' % name if data == '@' else data + '.'
            if record['type'] == 'MX':
                data = '%d %s' % (record['priority'], data)
            elif record['type'] == 'SRV':
                data = '%d %d %d %s' % (record['priority'], record['weight'], record['port'], data)
            elif record['type'] == 'CAA':
                data = '%d %s "%s"' % (record['flags'], record['tag'], data)
            if record['type'] != 'SOA':
                lines.append('%s %d IN %s %s' % (owner, record['ttl'], record['type'], data))
        return '\n'.join(lines) + '\n'

    def domain_object(self, name):
        return {'name': name, 'ttl': 1800, 'zone_file': self.zone_file(name)}

    def create_domain(self, body):
        name = body.get('name')
        name = name.lower() if isinstance(name, str) else ''
        if not DOMAIN_RE.match(name):
            raise invalid('Name is invalid')  # wording not confirmed
        if name in self.domains:
            raise invalid('Name already exists')  # wording not confirmed
        address = body.get('ip_address')
        if address not in (None, ''):
            try:
                ipaddress.IPv4Address(address if isinstance(address, str) else '')
            except ValueError as exc:
                raise invalid('IP address is invalid') from exc  # wording not confirmed
        self.domains[name], self.records[name] = {'name': name, 'serial': int(time.time())}, {}
        made = [{'type': 'SOA', 'name': '@', 'data': '1800', 'ttl': 1800}]
        made += [{'type': 'NS', 'name': '@', 'data': server, 'ttl': 1800} for server in NAMESERVERS]
        if address not in (None, ''):
            made.append({'type': 'A', 'name': '@', 'data': address, 'ttl': 1800})
        for values in made:
            record_id = next(self.record_ids)
            self.records[name][record_id] = record_object(record_id, values)
        return 201, {'domain': {'name': name, 'ttl': 1800, 'zone_file': None}}

    def record(self, body, current=None):
        """The fields of a record from a request (over the current record for PUT and PATCH), checked as DigitalOcean does."""
        kind = body.get('type', (current or {}).get('type'))
        if current is not None and kind != current['type']:
            raise invalid('The type of a record cannot be changed.')  # wording not confirmed
        if kind == 'SOA' and current is None:
            raise invalid('SOA records cannot be created.')  # wording not confirmed
        if kind not in RECORD_TYPES and kind != 'SOA':
            raise invalid('Type is not a supported record type.')  # wording not confirmed
        values = dict((key, value) for key, value in (current or {}).items() if key in RECORD_FIELDS)
        values.update((key, body[key]) for key in RECORD_FIELDS if key in body)
        if values.get('name') is None and kind == 'MX':
            values['name'] = '@'
        if not isinstance(values.get('name'), str) or not RECORD_NAME_RE.match(values['name']):
            raise invalid('Name is invalid')  # wording not confirmed
        data = values.get('data')
        if not isinstance(data, str) or not data:
            raise invalid("Data can't be blank")  # wording not confirmed
        if 'data' in body or current is None:
            values['data'] = self.record_data(kind, data)
        for field, low, high, types in (('priority', 0, 65535, ('MX', 'SRV')), ('port', 0, 65535, ('SRV',)),
                                        ('weight', 0, 65535, ('SRV',)), ('flags', 0, 255, ('CAA',))):
            if kind in types:
                if integer(values.get(field)) is None or not low <= integer(values[field]) <= high:
                    raise invalid('%s must be a number from %d to %d' % (field.capitalize(), low, high))  # wording not confirmed
                values[field] = integer(values[field])
            else:
                values[field] = None
        if kind == 'CAA' and values.get('tag') not in ('issue', 'issuewild', 'iodef'):
            raise invalid('Tag must be one of issue, issuewild or iodef')  # wording not confirmed
        if kind != 'CAA':
            values['tag'] = None
        values['ttl'] = 1800 if values.get('ttl') is None else integer(values['ttl'])
        if values['ttl'] is None or values['ttl'] < 30:
            raise invalid('TTL must be at least 30 seconds')  # wording not confirmed
        return values

    @staticmethod
    def record_data(kind, data):
        if kind == 'A':
            try:
                ipaddress.IPv4Address(data)
            except ValueError as exc:
                raise invalid('IP address did not match IPv4 format (e.g. 127.0.0.1).') from exc  # wording not confirmed
        if kind == 'AAAA':
            try:
                ipaddress.IPv6Address(data)
            except ValueError as exc:
                raise invalid('IP address did not match IPv6 format (e.g. 2001:db8::1).') from exc  # wording not confirmed
        if kind in HOST_TYPES and data != '@':
            if not data.endswith('.'):
                raise invalid('Data needs to end with a dot (.)')
            # DigitalOcean takes the hostname with its final dot and shows it without it.
            data = data[:-1]
        return data

    def domains_api(self, method, rest, path, pairs, body):
        if not rest:
            if method == 'GET':
                return 200, self.page('domains', [self.domain_object(name) for name in sorted(self.domains)], path, pairs)[1]
            if method == 'POST':
                return self.create_domain(json_body(body))
            raise not_found()
        name = rest[0].lower()
        if name not in self.domains:
            raise not_found()
        if len(rest) == 1:
            if method == 'GET':
                return 200, {'domain': self.domain_object(name)}
            if method == 'DELETE':
                del self.domains[name], self.records[name]
                return 204, None
            raise not_found()
        if rest[1] != 'records' or len(rest) > 3:
            raise not_found()
        records = self.records[name]
        if len(rest) == 2:
            if method == 'GET':
                query = dict(pairs)
                wanted, kind = (query.get('name') or '').lower().rstrip('.'), query.get('type')
                items = [record for record in sorted(records.values(), key=lambda item: item['id'])
                         if (not wanted or (name if record['name'] == '@' else '%s.%s' % (record['name'].lower(), name)) == wanted)
                         and (not kind or record['type'] == kind)]
                return 200, self.page('domain_records', items, path, pairs)[1]
            if method == 'POST':
                record_id = next(self.record_ids)
                records[record_id] = record_object(record_id, self.record(json_body(body)))
                return 201, {'domain_record': records[record_id]}
            raise not_found()
        record_id = integer(rest[2]) if rest[2].isdigit() else None
        if record_id not in records:
            raise not_found()
        if method == 'GET':
            return 200, {'domain_record': records[record_id]}
        if method in ('PUT', 'PATCH'):
            records[record_id] = record_object(record_id, self.record(json_body(body), records[record_id]))
            return 200, {'domain_record': records[record_id]}
        if method == 'DELETE':
            del records[record_id]
            return 204, None
        raise not_found()

    # --- HTTP -----------------------------------------------------------------------------------

    def snapshot(self):
        def ordered(items):
            return sorted(items.values(), key=lambda item: item['id'])

        return {'account': self.account, 'droplets': ordered(self.droplets), 'ssh_keys': ordered(self.keys),
                'firewalls': sorted(self.firewalls.values(), key=lambda item: item['created_at']),
                'domains': [self.domain_object(name) for name in sorted(self.domains)],
                'records': dict((name, ordered(records)) for name, records in sorted(self.records.items())),
                'actions': ordered(self.actions), 'calls': self.calls, 'hook_errors': self.hook_errors, 'throttle': self.throttle}

    def api(self, method, path, pairs, headers, body):
        """(status, JSON-able) of one API request, or ApiError."""
        if self.throttle > 0:
            self.throttle -= 1
            raise ApiError(429, 'too_many_requests', 'API Rate limit exceeded.', {'Retry-After': '1'})
        if headers.get('Authorization') != 'Bearer %s' % self.token:
            raise ApiError(401, 'unauthorized', 'Unable to authenticate you')
        parts = [unquote(part) for part in path.strip('/').split('/')]
        if parts[0] != 'v2' or len(parts) < 2:
            raise not_found()
        resource, rest = parts[1], parts[2:]
        if resource == 'account':
            if not rest and method == 'GET':
                return 200, {'account': self.account}
            if rest[:1] == ['keys']:
                return self.keys_api(method, rest[1:], path, pairs, body)
            raise not_found()
        if resource == 'droplets':
            return self.droplets_api(method, rest, path, pairs, body)
        if resource == 'actions':
            return self.actions_api(method, rest, path, pairs)
        if resource == 'firewalls':
            return self.firewalls_api(method, rest, path, pairs, body)
        if resource == 'domains':
            return self.domains_api(method, rest, path, pairs, body)
        raise not_found()

    def handle(self, method, path, query, headers, body):
        """(status, body bytes, headers, hooks to run after the lock) for one request."""
        pairs = parse_qsl(query, keep_blank_values=True)
        if path == '/__standin__/rate-limit' and method == 'POST':
            try:
                self.throttle = max(integer(json_body(body).get('count'), 1), 0)
            except ApiError as exc:
                return exc.status, json.dumps({'id': exc.code, 'message': exc.message}).encode(), {}, []
            return 204, b'', {}, []
        if path == '/__standin__/state' and method == 'GET':
            return 200, json.dumps(self.snapshot()).encode(), {'Content-Type': 'application/json; charset=utf-8'}, []
        request_id = str(uuid.uuid4())
        self.calls.append([method, path + ('?' + query if query else '')])
        self.remaining = max(self.remaining - 1, 0)
        extra = {'x-request-id': request_id}
        try:
            status, payload = self.api(method, path, pairs, headers, body)
        except ApiError as exc:
            status, payload = exc.status, {'id': exc.code, 'message': exc.message, 'request_id': request_id}
            extra.update(exc.headers)
        except Exception:  # pylint: disable=broad-exception-caught
            self.hook_errors.append('stand-in error on %s %s: %s' % (method, path, traceback.format_exc()))
            status, payload = 500, {'id': 'server_error', 'message': 'Unexpected server-side error', 'request_id': request_id}
        extra.update({'ratelimit-limit': str(RATE_LIMIT), 'ratelimit-remaining': '0' if status == 429 else str(self.remaining),
                      'ratelimit-reset': str(int(time.time()) + 60)})
        if payload is not None:
            extra['Content-Type'] = 'application/json; charset=utf-8'
        pending, self.pending = self.pending, []
        return status, b'' if payload is None else json.dumps(payload).encode(), extra, pending


class TLSServer(ThreadingHTTPServer):
    """Each connection's TLS handshake happens in its own thread, not in the accepting one."""

    context = None

    def finish_request(self, request, client_address):
        request.settimeout(60)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except OSError:
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


def serve(token, active_after=2, on_create=None, on_delete=None, directory=None, address='127.0.0.1', names=()):
    """Start the stand-in on a free port in a thread; returns (server, state). server.shutdown() stops it.

    The CA that signed its certificate (for 127.0.0.1, localhost, the address if it is an IP, and the extra names) is
    written to <directory>/ca.pem (state.ca; a new temporary directory if none): clients trust it with
    REQUESTS_CA_BUNDLE=state.ca. state.base is https://127.0.0.1:<port> (or https://<address>:<port>)."""
    state = DigitalOcean(token, active_after, on_create, on_delete)
    state.directory = directory or tempfile.mkdtemp(prefix='digitalocean-standin-')
    identities = ['127.0.0.1', 'localhost']
    try:
        identities.append(str(ipaddress.ip_address(address)))
    except ValueError:
        pass
    identities = list(dict.fromkeys(identities + list(names)))
    authority = trustme.CA()
    state.ca = os.path.join(state.directory, 'ca.pem')
    authority.cert_pem.write_to_path(state.ca)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*identities).configure_cert(context)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def _answer(self):
            url = urlsplit(self.path)
            length = int(self.headers.get('Content-Length') or 0)
            body = self.rfile.read(length) if length else b''
            with state.lock:
                status, data, headers, pending = state.handle(self.command, url.path, url.query, self.headers, body)
            for hook in pending:
                hook()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 204:
                self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

        def log_message(self, *args):
            pass

    server = TLSServer((address, 0), Handler)
    server.context = context
    host = '127.0.0.1' if address in ('0.0.0.0', '') else address
    state.base = 'https://%s:%d' % (host, server.server_address[1])
    threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True).start()
    return server, state
