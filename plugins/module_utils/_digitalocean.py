# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DigitalOcean through its official Python client, pydo: the client made from the modules' common options, every call
checked (DigitalOcean's own message in the error, the token never in it), lists read over all their pages, and a
resource looked up by name. Rate limits (429) are retried by pydo's HTTP pipeline (azure-core), after `Retry-After`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

try:
    import pydo
    from azure.core.exceptions import AzureError, HttpResponseError
except ImportError:
    PYDO_IMPORT_ERROR = traceback.format_exc()
    HAS_PYDO = False

    class AzureError(Exception):  # type: ignore[no-redef]
        pass

    class HttpResponseError(AzureError):  # type: ignore[no-redef]
        pass
else:
    PYDO_IMPORT_ERROR = None
    HAS_PYDO = True

# The environment variables digitalocean.cloud reads the token from, in its order.
TOKEN_ENV = ['DIGITALOCEAN_ACCESS_TOKEN', 'DIGITALOCEAN_TOKEN', 'DO_API_TOKEN', 'DO_API_KEY', 'DO_OAUTH_TOKEN', 'OAUTH_TOKEN']
PAGE_SIZE = 200

# What DigitalOcean accepts as a droplet name (a host name: letters, digits, '.', '-').
DROPLET_NAME_RE = re.compile(r'^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?\Z')
SLUG_RE = re.compile(r'^[a-z0-9][a-z0-9-]{0,63}\Z')


def common_argument_spec():
    """Options every module of ours for DigitalOcean has, named as digitalocean.cloud names them."""
    return dict(
        token=dict(type='str', no_log=True, aliases=['oauth_token', 'api_token'], fallback=(env_fallback, TOKEN_ENV)),
        client_override_options=dict(type='dict'),
        timeout=dict(type='int', default=300),
    )


def public_key_fingerprint(public_key):
    """The MD5 fingerprint DigitalOcean shows for an OpenSSH public key line ('aa:bb:...'), or None when it is not one."""
    fields = (public_key or '').split()
    if len(fields) < 2 or not re.match(r'^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-\S+)\Z', fields[0]):
        return None
    try:
        blob = base64.b64decode(fields[1].encode('ascii'), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    digest = hashlib.md5(blob).hexdigest()  # nosec: DigitalOcean names keys by their MD5 fingerprint
    return ':'.join(digest[index:index + 2] for index in range(0, len(digest), 2))


class DigitalOceanError(Exception):
    """A call that failed, with DigitalOcean's own message."""

    def __init__(self, message, status=None, error_id=None):
        super().__init__(message)
        self.status, self.error_id = status, error_id


class DigitalOcean:
    """pydo's client for one module run. Errors end the module through fail_json with what DigitalOcean said."""

    def __init__(self, module):
        self.module = module
        if not HAS_PYDO:
            module.fail_json(msg=missing_required_lib('pydo'), exception=PYDO_IMPORT_ERROR)
        # An empty token (a playbook's unset variable) means "from the environment" too.
        token = module.params['token'] or next((os.environ[name] for name in TOKEN_ENV if os.environ.get(name)), None)
        if not token:
            module.fail_json(msg='no DigitalOcean API token: set the option token, or one of the environment variables %s'
                             % ', '.join(TOKEN_ENV))
        options = dict(timeout=module.params['timeout'])
        options.update(module.params['client_override_options'] or {})
        self.client = pydo.Client(token=token, **options)

    def fail(self, what, error):
        self.module.fail_json(msg='%s: %s' % (what, error), status=getattr(error, 'status', None),
                              error_id=getattr(error, 'error_id', None))

    def call(self, what, method, *args, **kwargs):
        """method(*args, **kwargs); None when DigitalOcean answers 404 (pydo returns its error body then)."""
        try:
            answer = method(*args, **kwargs)
        except HttpResponseError as exc:
            return self.fail(what, self.error(exc))
        except AzureError as exc:
            return self.fail(what, DigitalOceanError('DigitalOcean could not be reached: %s' % exc))
        if isinstance(answer, dict) and answer.get('id') == 'not_found' and 'message' in answer:
            return None
        return answer

    @staticmethod
    def error(exc):
        """DigitalOceanError from pydo's exception: DigitalOcean's status, id and message."""
        status = getattr(exc, 'status_code', None)
        body = {}
        response = getattr(exc, 'response', None)
        if response is not None:
            try:
                body = response.json() or {}
            except ValueError:
                body = {}
        if not isinstance(body, dict):
            body = {}
        message = body.get('message') or getattr(exc, 'reason', None) or str(exc)
        return DigitalOceanError('DigitalOcean answered %s %s' % (status, message), status=status, error_id=body.get('id'))

    def all(self, what, method, key, *args, **kwargs):
        """Every item of a paginated list (`key` in each page)."""
        items, page = [], 1
        while True:
            answer = self.call(what, method, *args, per_page=PAGE_SIZE, page=page, **kwargs) or {}
            items.extend(answer.get(key) or [])
            if not ((answer.get('links') or {}).get('pages') or {}).get('next'):
                return items
            page += 1

    def one(self, what, items, description):
        """The only item of `items`, None when there is none; fails when there are several."""
        if len(items) > 1:
            self.module.fail_json(msg='%s: %d %s: %s. plumber.hosting finds resources by name: rename or remove the others'
                                  % (what, len(items), description, ', '.join(str(item.get('id')) for item in items)))
        return items[0] if items else None
