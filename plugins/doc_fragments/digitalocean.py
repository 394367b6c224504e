# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options every module of plumber.hosting for DigitalOcean has, named as digitalocean.cloud names them.
    DOCUMENTATION = r"""
options:
  token:
    description:
      - DigitalOcean API token (a personal access token with read and write scope). Never logged.
      - When not set, read from the first of the environment variables E(DIGITALOCEAN_ACCESS_TOKEN),
        E(DIGITALOCEAN_TOKEN), E(DO_API_TOKEN), E(DO_API_KEY), E(DO_OAUTH_TOKEN) and E(OAUTH_TOKEN) that is set.
    type: str
    aliases: [oauth_token, api_token]
  client_override_options:
    description:
      - Keyword arguments for C(pydo.Client), over the module's own; for example C(endpoint), the URL of the API
        (default U(https://api.digitalocean.com)), or C(connection_verify), the CA bundle to check its certificate with.
    type: dict
  timeout:
    description:
      - Seconds to wait for each HTTP answer, and for a new resource to be ready where the module waits.
    type: int
    default: 300
requirements:
  - pydo (DigitalOcean's official Python client) on the host the module runs on, usually the controller.
notes:
  - Rate limits are respected; a request answered C(429 Too Many Requests) is sent again after the time DigitalOcean
    asks for.
"""
