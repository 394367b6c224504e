#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: plumber_api
short_description: Load a plumber API in a separate R process, as its workers load it, without serving it
version_added: 0.1.0
description:
  - Loads the plumber API in O(path) in a separate C(Rscript) with the loader every worker of plumber.hosting runs (the
    Rscript wrapper of the C(api) role embeds the same R code), and reports its routes and its OpenAPI spec. Nothing is
    served and nothing on the host changes.
  - Loading means what a worker does before it serves; plumber attached (C(library(plumber))), R's working directory
    O(path), the variables of O(env) and the R options of O(options) set, then the API found as C(plumb()) finds it (an
    C(entrypoint.R) is sourced and the router it returns is the API; any other file is parsed as an annotated plumber
    file), the health route O(health) added ahead of the API's filters, the docs switched on or off.
  - An API that does not load (a syntax error, a missing package, an error in its top-level code, an C(entrypoint.R) that
    returns no router) or that defines no route fails the task with R's own error message, so that a play stops before
    the workers are restarted on broken code.
  - Runs C(Rscript) in O(path) with C(LC_ALL=C), as O(run_as) when set, like the workers (R reads the site profile and
    an C(.Rprofile) in O(path), as an R session started there does).
  - Also returns RV(revision), a checksum of every file under O(path), to tell whether the code changed.
author:
  - plumber.hosting contributors (@plumber-hosting)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads; it loads the API in check mode too.
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - R (C(Rscript)) and the R package C(plumber) on the target, with every package the API loads.
  - C(timeout) (GNU coreutils) on the target; C(runuser) (util-linux) for O(run_as).
options:
  path:
    description:
      - The code directory of the API. R runs in it, so the files that the API reads with C(source) or otherwise are found
        relative to it.
    type: path
    required: true
  entrypoint:
    description:
      - The file to load, relative to O(path). A file named C(entrypoint.R) is sourced from its own directory and must return
        the router, as C(plumb) does for a directory; any other file is an annotated plumber file.
      - When unset, the API is what C(plumb) finds in O(path), C(entrypoint.R) first, else C(plumber.R) (both
        case-insensitive).
    type: str
  health:
    description:
      - Path of the health route added to the API, answered before any filter of the API (so an authentication filter
        does not refuse health checks). An API that defines this path itself keeps its own route.
    type: str
    default: /healthz
  docs:
    description:
      - Serve the Swagger/OpenAPI docs.
    type: bool
    default: false
  name:
    description:
      - Name of the API, answered by the health route and set as E(PLUMBER_API).
    type: str
    default: api
  data:
    description:
      - The API's writable data directory, set as E(PLUMBER_DATA).
    type: str
  options:
    description:
      - R options set before the API loads, as a worker sets them.
    type: dict
    default: {}
  rscript:
    description:
      - The C(Rscript) executable, a name looked up in E(PATH) or a full path.
    type: path
    default: Rscript
  run_as:
    description:
      - Unix user to load the API as. The top-level code of the API runs while it loads; as root that would be the API's
        code running as root.
      - When the module runs as root, R runs with C(runuser -u RUN_AS --). Otherwise O(run_as) must be the user the module
        runs as.
      - The user needs read access to O(path).
    type: str
  env:
    description:
      - Environment variables set while the API loads, for APIs that read them at top level.
      - C(LC_ALL) is always C(C).
    type: dict
    default: {}
  timeout:
    description:
      - Seconds after which R is stopped when loading has not finished, and the task fails.
    type: int
    default: 120
  load:
    description:
      - V(false) only checks the files and computes RV(revision), without R; for hosts that run the API in a container
        image, which loads it while it builds. RV(routes), RV(paths) and RV(spec) are then empty.
    type: bool
    default: true
notes:
  - Endpoints of sub-routers mounted with C(pr_mount) or C(@plumber) are listed with the mount path in front; static file
    mounts (C(@assets)) are not listed.
  - What the API prints while it loads goes to stderr, where R's messages are.
seealso:
  - module: plumber.hosting.wait_for_workers
  - name: plumber, plumb()
    description: How plumber reads an API file.
    link: https://www.rplumber.io/reference/plumb.html
"""

EXAMPLES = r"""
- name: Load the new code of the sales API before restarting its workers
  plumber.hosting.plumber_api:
    path: /srv/plumber/sales/incoming
    run_as: plumber
    env:
      DB_URL: "{{ sales_db_url }}"
  register: sales_api

- name: Check that the API has its health route
  ansible.builtin.assert:
    that: "'/healthz' in sales_api.paths"
    fail_msg: "the sales API has no /healthz route: {{ sales_api.paths }}"

- name: Load an API whose plumber file is not plumber.R, with more time for its top-level code
  plumber.hosting.plumber_api:
    path: /srv/plumber/models/incoming
    entrypoint: api/models.R
    timeout: 600
"""

RETURN = r"""
routes:
  description: The endpoints of the API, one per method and path, sorted by path then method.
  returned: success
  type: list
  elements: dict
  contains:
    method:
      description: HTTP method, upper case.
      type: str
      sample: GET
    path:
      description: Path of the endpoint, with plumber's C(<name>) or C(<name:type>) placeholders.
      type: str
      sample: /echo
  sample: [{method: GET, path: /echo}, {method: POST, path: /sum}]
paths:
  description: The paths of RV(routes), sorted and without duplicates.
  returned: success
  type: list
  elements: str
  sample: [/echo, /sum]
spec:
  description: The OpenAPI spec plumber builds for the API (C(pr$getApiSpec())).
  returned: success
  type: dict
  sample: {openapi: 3.0.3, info: {title: API Title, version: 1.0.0}, paths: {}}
plumber_version:
  description: Version of the R package plumber that loaded the API.
  returned: success
  type: str
  sample: 1.2.1
revision:
  description:
    - SHA-256 over the relative path and the content of every file under O(path), in hex; it changes when any file does.
    - C(.git) directories are left out. Symlinks to files count by the content they point to, other symlinks by their target.
  returned: success
  type: str
  sample: 0b6c2f1e0e4a4a1b6f8f2c7f2d1a0e5b9b6a7f1c3d2e4f5a6b7c8d9e0f1a2b3c
dependencies:
  description:
    - The R packages the code uses (C(library()), C(require()), C(requireNamespace()), C(pkg::name)) in its C(.R) files and
      the R chunks of its C(.Rmd)/C(.qmd) files, each with its first use; R's base packages and plumber are left out.
      Found by reading the code (comments and strings skipped), also with O(load=false).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Package name.
      type: str
      sample: digest
    file:
      description: File of the first use, relative to O(path).
      type: str
      sample: plumber.R
    line:
      description: Line of the first use.
      type: int
      sample: 12
  sample: [{name: digest, file: plumber.R, line: 12}]
rc:
  description: Exit code of the command that loaded the API (C(124) when it timed out, C(137) when it was killed).
  returned: failure
  type: int
  sample: 0
stdout:
  description: The last 30 lines of the command's stdout (the records the module reads), when they are not as expected.
  returned: failure
  type: str
stderr:
  description: The last 30 lines of the command's stderr (what R and the API printed while loading).
  returned: failure
  type: str
"""

import json
import os
import pwd
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plumber.hosting.plugins.module_utils._apis import find_entrypoint
from ansible_collections.plumber.hosting.plugins.module_utils._files import tree_revision
from ansible_collections.plumber.hosting.plugins.module_utils._loader import LOADER_R, r_literal
from ansible_collections.plumber.hosting.plugins.module_utils._rdeps import scan_tree
from ansible_collections.plumber.hosting.plugins.module_utils._r import (
    R_ENVIRON,
    ROutputError,
    output_tail,
    parse_marked_records,
    record_values,
)

MARKER = '@@plumber.hosting@@'

# args: path entrypoint health docs name data options. Records: plumber_version V, route METHOD PATH,
# warning HEX, spec HEX, error STAGE HEX, done. Messages and the spec may hold any character: they are
# sent as the hex of their UTF-8 bytes. The API is loaded by LOADER_R, as every worker loads it.
LOAD_SCRIPT = LOADER_R + r'''local({
  args <- commandArgs(trailingOnly = TRUE)
  emit <- function(...) {
    record <- paste(c("@@plumber.hosting@@", gsub("[[:space:]]+", " ", enc2utf8(c(...)))), collapse = "\t")
    writeLines(c("", record), useBytes = TRUE)
  }
  hex <- function(text) paste(as.character(charToRaw(enc2utf8(paste(text, collapse = "\n")))), collapse = "")
  stage <- "load"
  failure <- NULL
  warnings <- character()
  routes <- NULL
  # What the API prints while it loads goes to stderr, with R's messages; stdout carries the records.
  sink(stderr())
  spec <- tryCatch(withCallingHandlers({
    if (file.access(args[[1L]], 1L) != 0L) stop("cannot enter ", args[[1L]], ": permission denied")
    pr <- .plumber_hosting$load_api(dir = args[[1L]], entrypoint = args[[2L]], health = args[[3L]], docs = args[[4L]] == "TRUE",
                                    name = args[[5L]], worker = NA, data = args[[6L]], options = eval(parse(text = args[[7L]])))
    stage <- "routes"
    routes <- .plumber_hosting$routes(pr)
    stage <- "spec"
    jsonlite::toJSON(pr$getApiSpec(), auto_unbox = TRUE, null = "null")
  }, warning = function(w) warnings <<- c(warnings, conditionMessage(w))),
  error = function(e) {
    failure <<- c(stage, hex(conditionMessage(e)))
    NULL
  })
  sink()
  version <- tryCatch(as.character(utils::packageVersion("plumber")), error = function(e) "")
  if (nzchar(version)) emit("plumber_version", version)
  for (warning in warnings) emit("warning", hex(warning))
  if (is.null(failure)) {
    for (i in seq_len(nrow(routes))) emit("route", routes$method[[i]], routes$path[[i]])
    emit("spec", hex(spec))
  } else {
    emit("error", failure)
  }
  emit("done")
})
'''

RECORD_FIELDS = {
    'plumber_version': 1,
    'route': 2,
    'warning': 1,
    'spec': 1,
    'error': 2,
    'done': 0,
}

TAIL_LINES = 30
# After the timeout, R gets SIGTERM, and SIGKILL this many seconds later. timeout(1) exits with 124
# when the command timed out, with 137 when it had to be killed (or was killed by someone else).
KILL_AFTER = 5
TIMED_OUT = 124
KILLED = 137

# plumber reports an error in top-level code as "Error on line #N: '<text of line N>' - <R's error>",
# where line N + 1 is the first line of the expression that failed.
_PLUMBER_LINE_RE = re.compile(r"^Error on line #(\d+): '.*?' - (?:Error in eval\(expr, envir\): )?(.*)$", re.S)


def hex_text(value):
    """The text R sent as the hex of its UTF-8 bytes (as it is when it is not hex)."""
    try:
        return bytes.fromhex(value).decode('utf-8', 'replace')
    except ValueError:
        return value


def readable_error(message, entrypoint):
    """R's error message, with plumber's "Error on line #N: '...' - " turned into "<entrypoint>:<line>: "."""
    message = message.strip()
    match = _PLUMBER_LINE_RE.match(message)
    if match:
        message = '%s:%d: %s' % (entrypoint, int(match.group(1)) + 1, match.group(2).strip())
    return message


class PlumberApi:
    def __init__(self, module):
        self.module = module
        params = module.params
        self.path = params['path'].rstrip('/') or '/'
        self.entrypoint = params['entrypoint'] or None
        self.run_as = params['run_as']
        self.timeout = params['timeout']
        self.env = dict((str(name), str(value)) for name, value in (params['env'] or {}).items())
        self.file = None
        try:
            self.options = r_literal(params['options'] or {})
        except ValueError as exc:
            self.fail('options: %s' % exc)

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def find_file(self):
        """The file plumber loads, relative to path: the entrypoint, or what plumb(dir = ".") finds."""
        found = find_entrypoint(self.path, self.entrypoint)
        if found is None and self.entrypoint:
            full = os.path.join(self.path, self.entrypoint)
            self.fail('entrypoint %s: %s %s' % (self.entrypoint, full, 'is not a file' if os.path.exists(full) else 'does not exist'))
        if found is None:
            self.fail('%s holds neither entrypoint.R nor plumber.R: set entrypoint to the plumber file of the API' % self.path)
        return found

    def check_files(self):
        if not os.path.isdir(self.path):
            self.fail('path %s is not a directory' % self.path)
        self.file = os.path.join(self.path, self.find_file())

    def user_prefix(self):
        """The command that runs R as run_as: none when the module already runs as that user."""
        if self.run_as is None:
            return []
        try:
            user = pwd.getpwnam(self.run_as)
        except KeyError:
            self.fail("run_as: user '%s' does not exist" % self.run_as)
        if os.geteuid() == user.pw_uid:
            return []
        if os.geteuid() != 0:
            self.fail("run_as: loading the API as '%s' needs root (become: true); the module runs as '%s'"
                      % (self.run_as, pwd.getpwuid(os.geteuid()).pw_name))
        return [self.module.get_bin_path('runuser', required=True), '-u', self.run_as, '--']

    def command(self):
        params = self.module.params
        rscript = self.module.get_bin_path(params['rscript'], required=True)
        return self.user_prefix() + [
            self.module.get_bin_path('timeout', required=True), '--kill-after=%d' % KILL_AFTER, str(self.timeout),
            rscript, '-e', LOAD_SCRIPT, self.path, self.entrypoint or '', params['health'], 'TRUE' if params['docs'] else 'FALSE',
            params['name'], params['data'] or '', self.options]

    def load(self):
        self.check_files()
        try:
            revision = tree_revision(self.path)
        except OSError as exc:
            self.fail('cannot read the files under %s to compute the revision: %s' % (self.path, exc))
        # plumber itself is attached by the loader; R's base packages come with R.
        dependencies = scan_tree(self.path, exclude=('plumber',))
        if not self.module.params['load']:
            return dict(changed=False, routes=[], paths=[], spec={}, plumber_version=None, revision=revision, dependencies=dependencies)
        cmd = self.command()
        environ = dict(self.env)
        environ.update(R_ENVIRON)
        # No expansion of '$' or '~': the script and the arguments reach R as they are.
        rc, stdout, stderr = self.module.run_command(cmd, cwd=self.path, environ_update=environ, expand_user_and_vars=False)
        who = ' (as user %s)' % self.run_as if self.run_as else ''
        output = dict(rc=rc, stderr=output_tail(stderr, TAIL_LINES))
        # stdout holds only the records (the API's own output goes to stderr): shown when they are not as expected.
        unexpected = dict(output, stdout=output_tail(stdout, TAIL_LINES))
        try:
            records = parse_marked_records(stdout, MARKER, RECORD_FIELDS)
        except ROutputError as exc:
            self.fail('could not parse the output of Rscript loading %s (rc %s): %s' % (self.file, rc, exc), **unexpected)
        done = record_values(records, 'done')
        if rc == TIMED_OUT and not done:
            self.fail('plumber API %s%s did not load within %ds: R was stopped. Does its top-level code wait for something?'
                      % (self.file, who, self.timeout), **output)
        errors = record_values(records, 'error')
        if errors:
            stage, message = errors[-1][0], readable_error(hex_text(errors[-1][1]), os.path.relpath(self.file, self.path))
            if stage == 'load':
                self.fail('plumber API %s%s does not load: %s' % (self.file, who, message), **output)
            self.fail('plumber API %s%s loads, but its %s cannot be read: %s'
                      % (self.file, who, 'routes' if stage == 'routes' else 'OpenAPI spec', message), **output)
        if rc != 0 or not done:
            if rc == KILLED:
                how = 'was killed (out of memory, or still running %ds after the timeout of %ds)' % (KILL_AFTER, self.timeout)
            else:
                how = 'failed with rc %s' % rc if rc != 0 else 'exited'
            self.fail('plumber API %s%s: Rscript %s before loading finished: %s'
                      % (self.file, who, how, output_tail(stderr, 5) or 'no output'), **unexpected)
        specs = record_values(records, 'spec')
        if not specs:
            self.fail('Rscript loaded %s but printed no OpenAPI spec' % self.file, **unexpected)
        try:
            spec = json.loads(hex_text(specs[-1][0]))
        except ValueError as exc:
            self.fail('could not parse the OpenAPI spec of %s that Rscript printed: %s' % (self.file, exc), **unexpected)
        for values in record_values(records, 'warning'):
            self.module.warn('plumber API %s: R warning while loading: %s' % (self.file, hex_text(values[0])))
        routes = sorted(set(tuple(values) for values in record_values(records, 'route')), key=lambda route: (route[1], route[0]))
        versions = record_values(records, 'plumber_version')
        return dict(
            changed=False,
            routes=[dict(method=method.upper(), path=path) for method, path in routes],
            paths=sorted(set(path for dummy, path in routes)),
            spec=spec,
            plumber_version=versions[-1][0] if versions else None,
            revision=revision,
            dependencies=dependencies,
        )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            entrypoint=dict(type='str'),
            health=dict(type='str', default='/healthz'),
            docs=dict(type='bool', default=False),
            name=dict(type='str', default='api'),
            data=dict(type='str'),
            options=dict(type='dict', default={}),
            rscript=dict(type='path', default='Rscript'),
            run_as=dict(type='str'),
            env=dict(type='dict', default={}, no_log=True),
            timeout=dict(type='int', default=120),
            load=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    if module.params['timeout'] < 1:
        module.fail_json(msg='timeout must be at least 1 second, got %d' % module.params['timeout'])
    module.exit_json(**PlumberApi(module).load())


if __name__ == '__main__':
    main()
