#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: haproxy_errors
short_description: Watch the share of failed requests of HAProxy servers, and fail when it rose
version_added: 0.1.0
description:
  - Reads the request and error counters of some servers of a backend (or of the whole backend) through HAProxy's admin
    socket (C(show stat)). A failed request is one the server answered with a 5xx status, or did not answer (C(eresp)).
  - With O(window=0), returns the counters (RV(counters)); read them before a new release takes over, as O(baseline).
  - With a O(window), watches the servers for that many seconds and compares the share of failed requests in the window
    with the share in O(baseline). When at least O(min_requests) requests were answered in the window and the share rose by
    more than O(max_error_rise), the task fails, naming the backend, the counts and both shares (RV(exceeded)).
  - Fewer requests than O(min_requests) in the window judge nothing (RV(judged) is false), which is not an error; an API
    nobody asks in those seconds cannot show that its new release fails.
  - A backend or servers HAProxy does not have (a front not configured yet) count no request. Counters that went down
    (HAProxy reloaded during the window) count from zero.
author:
  - plumber.hosting contributors (@plumber-hosting)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - plumber.hosting.haproxy
attributes:
  check_mode:
    support: full
    details:
      - Reads and waits as in a real run; the module changes nothing in either.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  servers:
    description:
      - Names or addresses (C(address:port), as C(show stat) gives them) of the servers to watch.
      - V([]) watches the backend as a whole (its row C(BACKEND)), which also counts the 503 answers HAProxy gives when no
        server is available.
    type: list
    elements: str
    default: []
  window:
    description: Seconds to watch; V(0) only reads the counters.
    type: int
    default: 0
  baseline:
    description:
      - RV(counters) of an earlier call, read before the switch. Its share of failed requests is the one the window is
        compared with; without it, the window's share is compared with 0.
    type: dict
  max_error_rise:
    description: How much the share of failed requests (0 to 1) may rise in the window before the task fails.
    type: float
    default: 0.1
  min_requests:
    description: Requests the window must count for the share to be judged.
    type: int
    default: 20
"""

EXAMPLES = r"""
- name: Read the counters of hello's workers before the new release takes over
  plumber.hosting.haproxy_errors:
    socket: /run/haproxy/admin.sock
    backend: hello
    servers: ["127.0.0.1:8000", "127.0.0.1:8001"]
  register: before

# ... the workers restart on the new release ...

- name: Fail when more requests fail in the 30 s after the switch than before it
  plumber.hosting.haproxy_errors:
    socket: /run/haproxy/admin.sock
    backend: hello
    servers: ["127.0.0.1:8000", "127.0.0.1:8001"]
    baseline: "{{ before.counters }}"
    window: 30
    max_error_rise: 0.05
"""

RETURN = r"""
counters:
  description: Requests and failed requests the servers counted since HAProxy started, at the end of the call.
  returned: always
  type: dict
  sample: {requests: 1520, errors: 3}
watched:
  description: Requests and failed requests in the window (with O(window) > 0).
  returned: always
  type: dict
  sample: {requests: 96, errors: 41}
rate:
  description: Share of failed requests in the window (0 when it counted none).
  returned: always
  type: float
  sample: 0.427
baseline_rate:
  description: Share of failed requests in O(baseline) (0 without it, or when it counted none).
  returned: always
  type: float
  sample: 0.002
judged:
  description: Whether the window counted at least O(min_requests) requests.
  returned: always
  type: bool
exceeded:
  description: Whether the share rose by more than O(max_error_rise) (the task then fails).
  returned: always
  type: bool
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.plumber.hosting.plugins.module_utils._haproxy import HAPROXY_OPTIONS, counter, stats, valid_backend


def read(path, backend, servers):
    """{requests, errors} of the servers (names or addresses), or of the row BACKEND when servers is empty."""
    rows = stats(path, backend)
    if not servers:
        row = rows.get('BACKEND', {})
        return {'requests': counter(row, 'req_tot'), 'errors': counter(row, 'hrsp_5xx')}
    chosen = [row for name, row in rows.items() if name != 'BACKEND' and (name in servers or row.get('addr') in servers)]
    return {'requests': sum(counter(row, 'req_tot') for row in chosen),
            'errors': sum(counter(row, 'hrsp_5xx') + counter(row, 'eresp') for row in chosen)}


def share(counts):
    return min(counts['errors'], counts['requests']) / counts['requests'] if counts['requests'] else 0.0


def percent(value):
    return '%.1f%%' % (100 * value)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **HAPROXY_OPTIONS,
            servers=dict(type='list', elements='str', default=[]),
            window=dict(type='int', default=0),
            baseline=dict(type='dict'),
            max_error_rise=dict(type='float', default=0.1),
            min_requests=dict(type='int', default=20),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path, backend, servers, window = params['socket'], params['backend'], params['servers'], params['window']
    if not valid_backend(backend):
        module.fail_json(msg='backend %r is not a backend name' % backend)
    if window < 0 or params['min_requests'] < 1 or not 0 <= params['max_error_rise'] <= 1:
        module.fail_json(msg='window must be at least 0, min_requests at least 1 and max_error_rise between 0 and 1; got %d, %d, %s'
                         % (window, params['min_requests'], params['max_error_rise']))
    baseline = params['baseline'] or {}
    try:
        baseline = {key: int(baseline.get(key, 0)) for key in ('requests', 'errors')}
    except (TypeError, ValueError):
        module.fail_json(msg='baseline must be the counters of an earlier call ({requests: N, errors: N}); got %r' % (params['baseline'],))
    try:
        start = read(path, backend, servers)
        end = start
        if window:
            time.sleep(window)
            end = read(path, backend, servers)
    except OSError as error:
        module.fail_json(msg='cannot talk to HAProxy on its admin socket %s: %s' % (path, error))
    # Counters that went down were reset by a reload: the window counts from zero.
    watched = end if end['requests'] < start['requests'] else {key: end[key] - start[key] for key in end}
    rate, baseline_rate = share(watched), share(baseline)
    judged = bool(window) and watched['requests'] >= params['min_requests']
    exceeded = judged and rate - baseline_rate > params['max_error_rise']
    result = dict(changed=False, counters=end, watched=watched, rate=round(rate, 4), baseline_rate=round(baseline_rate, 4),
                  judged=judged, exceeded=exceeded)
    summary = '%s: %d of %d requests (%s) failed (5xx, or no answer) in the %d s watched, against %s before' % (
        backend, min(watched['errors'], watched['requests']), watched['requests'], percent(rate), window, percent(baseline_rate))
    if exceeded:
        module.fail_json(msg='%s; more than the rise of %s allowed (max_error_rise)' % (summary, percent(params['max_error_rise'])),
                         **result)
    if window and not judged:
        result['msg'] = '%s: %d requests in the %d s watched, fewer than min_requests (%d): not judged' % (
            backend, watched['requests'], window, params['min_requests'])
    elif window:
        result['msg'] = summary
    module.exit_json(**result)


if __name__ == '__main__':
    main()
