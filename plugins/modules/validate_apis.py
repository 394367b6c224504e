#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: validate_apis
short_description: Validate and normalise the list of plumber APIs to host
version_added: 0.1.0
description:
  - Checks O(apis) (normally the shared variable C(plumber_apis)) against the one schema of plumber.hosting, on the controller,
    before any task changes a host. Every error names the variable, the index and the bad value.
  - Fills in defaults (URL path, first port, health path) and checks cross-field rules that types cannot express
    (unique names and paths, ports in 1024-65535 that do not overlap, the entrypoint exists in O(apis[].src)).
  - Merges the R packages of all APIs and O(packages) into one requirement per package.
  - Environment values are secrets; they are never returned, only their names (RV(apis[].env_names)).
author:
  - plumber.hosting contributors (@plumber-hosting)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: all
options:
  apis_var:
    description: Variable name used in error messages.
    type: str
    default: plumber_apis
  packages:
    description: Extra R package requirements (names or dicts with C(name), C(version), C(repos)), merged with the APIs' own.
    type: list
    elements: raw
    default: []
  packages_var:
    description: Variable name of O(packages) used in error messages.
    type: str
    default: packages
  process_manager:
    description: The host's process manager, checked when given; RV(plan) tells what it needs.
    type: str
    choices: [pm2, systemd, docker, compose]
  process_manager_var:
    description: Variable name of O(process_manager) used in error messages.
    type: str
    default: plumber_process_manager
  check_sources:
    description: Check that each O(apis[].src) directory exists on the controller and holds O(apis[].entrypoint).
    type: bool
    default: true
  apis:
    description: The APIs to host. The schema, shared by every role of the collection.
    type: list
    elements: dict
    default: []
    # BEGIN generated from plugins/module_utils/_apis.py by tests/harness/sync_schema.py
    suboptions:
      name:
        description: 'Unique name: lower-case letters, digits and V(-), at most 32 characters. Used as unix user suffix, unit/process
          name, compose service and default URL prefix.'
        type: str
        required: true
      src:
        description: Directory on the controller holding the API code. A relative path is looked up in the directory of the inventory
          that defines the host (and of the other inventory sources), then in the playbook's directory, then like M(ansible.builtin.copy)
          sources (the role's and the playbook's C(files/)); C(~) expands.
        type: path
      git:
        description: Git repository holding the API code, at a pinned ref. Exclusive with C(src).
        type: dict
        suboptions:
          repo:
            description: Git URL the server can clone.
            type: str
            required: true
          version:
            description: 'Pinned ref: tag, branch or commit.'
            type: str
            required: true
      entrypoint:
        description: 'The file plumber loads, relative to the code directory. A file named C(entrypoint.R) is sourced and must
          return the router, as C(plumb) does for a directory; any other file is an annotated plumber file. Default: what C(plumb)
          finds in the directory, C(entrypoint.R) first, else C(plumber.R).'
        type: str
      path:
        description: URL path prefix at the proxy, for example V(/sales). Default V(/<name>).
        type: str
      workers:
        description: Number of R worker processes (one port each).
        type: int
        default: 1
      port:
        description: 'First port; worker C(n) (from 0) listens on C(port + n). Default: a block of 8 ports between 10000 and 29999
          chosen by a hash of the name, so an API keeps its ports when other APIs are added or removed (two names whose blocks
          meet: set C(port) on one).'
        type: int
      packages:
        description: 'R packages the API needs: names, or dicts with name, version, repos.'
        type: list
        elements: raw
        default: []
      env:
        description: 'Environment variables for the workers. Values are secrets: never logged, never returned.'
        type: dict
        default: {}
      docs:
        description: Serve the Swagger/OpenAPI docs (off unless asked).
        type: bool
        default: false
      health:
        description: Health-check path, answered by every worker.
        type: str
        default: /healthz
      sticky:
        description: 'Sticky sessions at the load balancer: a cookie keeps a client on one worker (for APIs that keep state per
          process).'
        type: bool
        default: false
      access:
        description: Who may call the API, checked at the front (nginx) before a worker is asked; off unless set.
        type: dict
        suboptions:
          allow:
            description: Client addresses or networks (V(10.0.0.0/8), V(192.0.2.7)) the front lets in; the others get 403. V([])
              lets every client in.
            type: list
            elements: str
            default: []
          basic_auth:
            description: 'HTTP basic authentication at the front: a request without the user and password of one of these gets
              401. V([]) for none.'
            type: list
            elements: dict
            default: []
            suboptions:
              user:
                description: 'User name: letters, digits, V(.), V(_) and V(-).'
                type: str
                required: true
              password:
                description: Password, from a vaulted variable. Stored on the front as a salted hash (apr1, as htpasswd writes
                  it); never logged, never returned.
                type: str
                required: true
          rate_limit:
            description: Requests per second one client address may send (bursts of as many pass at once); more get 429. V(0)
              for no limit.
            type: int
            default: 0
          cors_origins:
            description: 'Browser origins (V(https://app.example.com)) allowed to call the API across origins, or V(["*"]) for
              any: the front answers preflight C(OPTIONS) requests itself and adds the C(Access-Control-Allow-*) headers. V([])
              for none.'
            type: list
            elements: str
            default: []
          cors_credentials:
            description: Let allowed origins send cookies and credentials (C(Access-Control-Allow-Credentials)); not with V(*).
            type: bool
            default: false
      recycle:
        description: 'Restart a worker past a memory size or a number of requests (R processes grow over days), without losing
          a request: it fails its health checks until the balancers stop sending it requests, finishes the ones it has, exits,
          and its process manager starts a new one. Off unless set.'
        type: dict
        suboptions:
          memory_mb:
            description: Resident memory (MiB) past which a worker is recycled, measured after each request. V(0) for no limit.
            type: int
            default: 0
          requests:
            description: Requests a worker answers before it is recycled. V(0) for no limit.
            type: int
            default: 0
    # END generated
"""

EXAMPLES = r"""
- name: Validate the APIs before anything changes
  plumber.hosting.validate_apis:
    apis: "{{ plumber_apis }}"
    process_manager: "{{ plumber_process_manager }}"
  register: __api_apis

- name: Show where each API will listen
  ansible.builtin.debug:
    msg: "{{ item.name }} at {{ item.path }} on ports {{ item.ports | join(',') }}"
  loop: "{{ __api_apis.apis }}"
"""

RETURN = r"""
apis:
  description: The APIs with every default filled in and the environment values removed.
  returned: always
  type: list
  elements: dict
  contains:
    ports:
      description: The ports of the workers, one per worker.
      type: list
      elements: int
      returned: always
    env_names:
      description: Names of the environment variables set for the workers (values are never returned).
      type: list
      elements: str
      returned: always
packages:
  description: One requirement per R package across O(packages) and all APIs (dicts with name, version, repos).
  returned: always
  type: list
  elements: dict
process_manager:
  description: The validated process manager.
  returned: when O(process_manager) is given
  type: str
plan:
  description:
    - What a host with this process manager runs, from the one table of process managers in the collection.
    - C(playbooks/site.yml) runs every role's preflight first, then RV(plan.roles), the C(retire) entry point of
      RV(plan.retire), then RV(plan.workers).
  returned: when O(process_manager) is given
  type: dict
  contains:
    process_manager:
      description: The process manager.
      type: str
      returned: always
    r_on_host:
      description: R runs on the host (C(pm2), C(systemd)); else in one image per API (C(docker), C(compose)).
      type: bool
      returned: always
    roles:
      description: The roles that install and deploy before the workers start, in order.
      type: list
      elements: str
      returned: always
      sample: [plumber.hosting.r_runtime, plumber.hosting.api]
    workers:
      description: The role that runs the workers.
      type: str
      returned: always
      sample: plumber.hosting.systemd
    retire:
      description: The roles of the other process managers, whose workers stop when a host switches.
      type: list
      elements: str
      returned: always
"""
