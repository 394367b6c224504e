#!/usr/bin/python
# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: r_package
short_description: Install or remove one R package
version_added: 0.1.0
description:
  - Installs, upgrades or removes one R package on the target, idempotently.
  - Reads the installed version from every library of R's C(.libPaths) (and O(lib)) first, also in check mode,
    and only installs when it does not satisfy O(version).
  - Prefers Debian's prebuilt C(r-cran-<name>) package when its candidate version satisfies O(version); installing it
    takes seconds where compiling from source takes minutes, and needs no repository.
  - Otherwise installs from source from the CRAN-like repositories O(repos) with C(install.packages), and falls back to
    CRAN's archive (C(<repo>/src/contrib/Archive/<name>/)) for a version that the repositories no longer offer. Missing
    dependencies of a package built from source (C(Depends), C(Imports), C(LinkingTo), recursively) come from Debian's
    binaries first when these satisfy the version the package asks for; only the rest is compiled.
  - The decision is made by R code written once in the collection (the lookup C(plumber.hosting.r_code) returns it); the
    images the C(docker) role builds resolve their packages with the same code, in the same order.
  - Runs R as C(Rscript --vanilla) with C(LC_ALL=C).
author:
  - plumber.hosting contributors (@plumber-hosting)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the installed version, the Debian candidate and the repositories' indexes, and reports what would change
        (the Debian binaries a source install's dependencies would take are not looked up).
  diff_mode:
    support: full
  platform:
    platforms: debian
requirements:
  - R (C(Rscript)) on the target, for example from Debian's C(r-base-core) package.
  - A C compiler and the headers of the package's system dependencies on the target, for packages compiled from source.
options:
  name:
    description:
      - Name of the R package, such as C(plumber) or C(data.table).
      - Letters, digits and dots, starting with a letter and not ending with a dot, as R requires.
    type: str
    required: true
  version:
    description:
      - Version constraint the installed package must satisfy.
      - A version such as V(1.2.3) means V(== 1.2.3). Otherwise one or more comma-separated clauses C(OP VERSION) with C(OP)
        one of C(==), C(!=), C(>=), C(<=), C(>), C(<), for example V(>= 1.0, < 2.0).
      - Versions compare as R's C(package_version) does, number by number (V(1.10) is newer than V(1.9), V(1.2-3) equals V(1.2.3)).
      - An archived version (not the newest in O(repos)) can only be found from an HTTP repository when pinned with C(==);
        a C(file://) repository's archive is listed.
      - An empty string means no constraint. Ignored with O(state=absent).
    type: str
  repos:
    description:
      - CRAN-like repositories to install from (C(http://), C(https://) or C(file://) URLs).
    type: list
    elements: str
    default: ['https://cloud.r-project.org']
  state:
    description:
      - V(present) installs the package when it is missing or its version does not satisfy O(version).
      - V(latest) also upgrades it when the repositories or Debian offer a newer version that satisfies O(version).
      - V(absent) removes it from every library that holds it (only from O(lib) when set).
    type: str
    choices: [present, absent, latest]
    default: present
  lib:
    description:
      - Library directory that packages built from source are installed into; created when missing.
      - Defaults to the first entry of R's C(.libPaths), on Debian C(/usr/local/lib/R/site-library).
      - Debian's binaries always install into C(/usr/lib/R/site-library), whether O(lib) is set or not.
      - A package that R already finds in another library (and that satisfies O(version)) counts as installed.
    type: path
  prefer_binary:
    description:
      - Install Debian's C(r-cran-<lowercased name>) with C(apt-get) when its candidate version satisfies O(version)
        (with O(state=latest), when it is also at least the newest version in O(repos)).
      - Only when R is the distribution's R (C(R.home()) is C(/usr/lib/R)), C(/usr/lib/R/site-library) is in R's
        C(.libPaths), C(apt-cache) and C(apt-get) exist and the module runs as root.
      - Not when a copy of the package sits in a library R searches before C(/usr/lib/R/site-library) (O(lib), or
        C(/usr/local/lib/R/site-library)), since R would keep loading that copy; the package is built from source into O(lib)
        instead, and failure messages say why the binary was not used.
      - Before it looks up a binary, the module runs C(apt-get update) when apt's lists are older than an hour or were never
        read (the time stamp of apt's periodic update, else of C(/var/lib/apt/lists)), as M(ansible.builtin.apt) does with
        O(ansible.builtin.apt#module:cache_valid_time=3600); a package installed already needs no look-up.
    type: bool
    default: true
  rscript:
    description:
      - The C(Rscript) executable, a name looked up in E(PATH) or a full path.
    type: path
    default: Rscript
notes:
  - R packages removed with O(state=absent) that other installed packages depend on leave those packages broken;
    the module refuses to remove a Debian package when C(apt-get) would remove other packages with it.
seealso:
  - name: R Installation and Administration, Add-on packages
    description: How R installs packages and where it looks for them.
    link: https://cran.r-project.org/doc/manuals/r-release/R-admin.html#Add_002don-packages
"""

EXAMPLES = r"""
- name: Install plumber (from Debian's r-cran-plumber when it is recent enough)
  plumber.hosting.r_package:
    name: plumber
    version: ">= 1.2.0"

- name: Pin an older version of a package, from CRAN's archive when needed
  plumber.hosting.r_package:
    name: jsonlite
    version: "1.8.0"
    prefer_binary: false

- name: Keep a package at the newest version of an internal repository
  plumber.hosting.r_package:
    name: ourmodels
    state: latest
    repos:
      - https://cran.example.org
      - https://cloud.r-project.org

- name: Install into an API's own library
  plumber.hosting.r_package:
    name: dplyr
    lib: /srv/plumber/sales/library

- name: Remove a package
  plumber.hosting.r_package:
    name: hellopkg
    state: absent
"""

RETURN = r"""
name:
  description: Name of the R package.
  returned: always
  type: str
  sample: jsonlite
version:
  description:
    - Version installed after the task (in check mode, the version that would be installed), as R reports it.
    - V(null) when the package is not installed.
  returned: always
  type: str
  sample: 1.8.4
version_before:
  description: Version installed before the task, V(null) when it was not installed.
  returned: always
  type: str
  sample: 1.8.0
source:
  description:
    - Where the package was installed from by this task, V(null) when nothing was installed.
    - V(apt) for Debian's C(r-cran-*) package, V(repository) for O(repos), V(archive) for a repository's archive of old versions.
  returned: always
  type: str
  sample: apt
lib:
  description: Library directory that holds the package after the task, V(null) when it is not installed.
  returned: always
  type: str
  sample: /usr/lib/R/site-library
binary_dependencies:
  description: Debian packages installed for the dependencies of a package built from source.
  returned: always
  type: list
  elements: str
  sample: [r-cran-zeallot]
"""

import binascii
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plumber.hosting.plugins.module_utils._r import (
    APT_ENVIRON,
    R_ENVIRON,
    REMOVE_SCRIPT,
    RESOLVER_CALL,
    RESOLVER_R,
    STATE_SCRIPT,
    RConstraintError,
    ROutputError,
    Rscript,
    debian_package_name,
    output_tail,
    parse_apt_simulation,
    parse_constraint,
    parse_dpkg_owner,
    valid_package_name,
    valid_version,
)


class Installed:
    """Where R finds the package: (version, library) per library holding it, the first one wins."""

    def __init__(self, libpaths, copies):
        self.libpaths = libpaths
        self.copies = copies

    @property
    def version(self):
        return self.copies[0][0] if self.copies else None

    @property
    def lib(self):
        return self.copies[0][1] if self.copies else None


class RPackage:
    def __init__(self, module, constraint):
        self.module = module
        params = module.params
        self.name = params['name']
        self.state = params['state']
        self.repos = params['repos']
        self.lib = params['lib']
        self.prefer_binary = params['prefer_binary']
        self.constraint = constraint
        self.debian_package = debian_package_name(self.name)
        self.rscript = Rscript(module, module.get_bin_path(params['rscript'], required=True))

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, name=self.name, **kwargs)

    def checked_versions(self, result, versions):
        for version in versions:
            if not valid_version(version):
                self.fail('Rscript reported %r, which is not an R version' % (version,), cmd=result.cmd, rc=result.rc,
                          stdout=result.stdout, stderr=result.stderr)
        return versions

    def read_installed(self):
        result = self.rscript.query(STATE_SCRIPT, *([self.name] + ([self.lib] if self.lib else [])))
        libpaths = [values[0] for values in result.values('libpath')]
        if not libpaths:
            self.fail('Rscript reported no library path (.libPaths())', cmd=result.cmd, rc=result.rc, stdout=result.stdout, stderr=result.stderr)
        copies = [tuple(values) for values in result.values('installed')]
        self.checked_versions(result, [version for version, dummy in copies])
        return Installed(libpaths, copies)

    def run(self, cmd, environ):
        return self.module.run_command(cmd, environ_update=environ)

    # --- present / latest: RESOLVER_R decides (and installs), this reports -------------------

    def resolve(self, apply):
        """Run RESOLVER_R: (copies before, plan, copy after); every failure it reports fails the module."""
        result = self.rscript.run(RESOLVER_CALL, 'apply' if apply else 'plan', self.name, str(self.constraint or ''), self.state,
                                  self.lib or '', 'true' if self.prefer_binary else 'false', *self.repos, data=RESOLVER_R)
        details = dict(cmd=result.cmd, rc=result.rc, stdout=result.stdout, stderr=result.stderr)
        plans = result.values('plan')
        for values in result.values('error'):
            try:
                message = binascii.unhexlify(values[0]).decode('utf-8', 'replace')
            except (TypeError, ValueError):
                self.fail('could not parse the output of Rscript: error record %r is not hex' % (values[0],), **details)
            self.fail(message, **details)
        if not result.values('done'):
            # R died without a word of its own (killed, out of memory): name what it was doing.
            reason = 'rc %s\n%s' % (result.rc, output_tail(result.stderr) or 'no output')
            if plans and apply:
                source, version, url = plans[0][:3]
                self.fail("installing R package '%s' %s from %s failed: %s" % (self.name, version, url or source, reason), **details)
            self.fail('Rscript failed: %s' % reason, **details)
        if len(plans) != 1:
            self.fail('could not parse the output of Rscript: %d plan records, expected 1' % len(plans), **details)
        copies = [tuple(values) for values in result.values('installed')]
        after = result.values('after')
        self.checked_versions(result, [version for version, dummy in copies] + [plans[0][1]] + [values[0] for values in after])
        source, version, url, lib = plans[0]
        if apply and source != 'none' and len(after) != 1:
            self.fail('could not parse the output of Rscript: no "after" record after installing', **details)
        return dict(before=Installed([values[0] for values in result.values('libpath')], copies), source=source, version=version,
                    url=url or None, lib=lib, after=tuple(after[0]) if after else None,
                    binary_dependencies=[values[0] for values in result.values('binary_dependency')])

    # --- absent ------------------------------------------------------------------------------

    def fail_command(self, what, result_cmd, rc, stdout, stderr, failures=()):
        reason = failures[0] if failures else 'rc %s' % rc
        self.fail('%s failed: %s\n%s' % (what, reason, output_tail('%s\n%s' % (stdout, stderr))),
                  cmd=result_cmd, rc=rc, stdout=stdout, stderr=stderr, failures=list(failures))

    def remove_actions(self, installed):
        """(kind, argument) per library holding the package: ('apt', debian package) or ('R', library)."""
        actions = []
        dpkg = self.module.get_bin_path('dpkg')
        for dummy, lib in installed.copies:
            owners = self.dpkg_owners(dpkg, os.path.join(lib, self.name)) if dpkg and lib.startswith('/usr/lib/') else []
            if not owners:
                actions.append(('R', lib))
                continue
            if owners != [self.debian_package]:
                self.fail("R package '%s' in %s belongs to the Debian package %s: not removing it" % (self.name, lib, ', '.join(owners)))
            # apt-get remove -y also removes every package that depends on this one: refuse that.
            cmd = [self.module.get_bin_path('apt-get', required=True), '-s', 'remove', self.debian_package]
            rc, stdout, stderr = self.run(cmd, APT_ENVIRON)
            if rc != 0:
                self.fail_command('apt-get -s remove %s' % self.debian_package, cmd, rc, stdout, stderr)
            others = sorted(set(parse_apt_simulation(stdout)) - set([self.debian_package]))
            if others:
                shown = ', '.join(others[:10]) + (' and %d more' % (len(others) - 10) if len(others) > 10 else '')
                self.fail("removing R package '%s' (Debian package %s) would also remove %s: remove those first"
                          % (self.name, self.debian_package, shown), packages_removed_too=others)
            actions.append(('apt', self.debian_package))
        return actions

    def dpkg_owners(self, dpkg, path):
        cmd = [dpkg, '-S', path]
        rc, stdout, stderr = self.run(cmd, R_ENVIRON)
        if rc != 0:
            return []
        try:
            return parse_dpkg_owner(stdout)
        except ROutputError as exc:
            self.fail('could not parse the output of dpkg -S: %s' % exc, cmd=cmd, rc=rc, stdout=stdout, stderr=stderr)

    def remove(self, actions):
        for kind, target in actions:
            if kind == 'apt':
                cmd = [self.module.get_bin_path('apt-get', required=True), 'remove', '-y', target]
                rc, stdout, stderr = self.run(cmd, APT_ENVIRON)
                if rc != 0:
                    self.fail_command('apt-get remove %s' % target, cmd, rc, stdout, stderr)
                continue
            result = self.rscript.run(REMOVE_SCRIPT, self.name, target)
            if result.rc != 0 or result.failures:
                self.fail_command("removing R package '%s' from %s" % (self.name, target), result.cmd, result.rc, '', result.stderr, result.failures)

    # --- the task ----------------------------------------------------------------------------

    def in_scope(self, installed):
        """The copies absent acts on: those in lib when it is set, else all."""
        if self.lib is None:
            return installed.copies
        lib = os.path.realpath(self.lib)
        return [(version, where) for version, where in installed.copies if os.path.realpath(where) == lib]

    def remove_package(self):
        before = self.read_installed()
        result = dict(changed=False, name=self.name, version=before.version, version_before=before.version, source=None,
                      lib=before.lib, binary_dependencies=[])
        doomed = self.in_scope(before)
        if doomed:
            actions = self.remove_actions(Installed(before.libpaths, doomed))
            remaining = [copy for copy in before.copies if copy not in doomed]
            result.update(changed=True, version=remaining[0][0] if remaining else None, lib=remaining[0][1] if remaining else None)
            if not self.module.check_mode:
                self.remove(actions)
                after = self.read_installed()
                left = self.in_scope(after)
                if left:
                    self.fail("R package '%s' is still installed in %s after removing it" % (self.name, ', '.join(lib for dummy, lib in left)))
                result.update(version=after.version, lib=after.lib)
        return before, result

    def install_package(self):
        found = self.resolve(apply=not self.module.check_mode)
        before = found['before']
        result = dict(changed=False, name=self.name, version=before.version, version_before=before.version, source=None,
                      lib=before.lib, binary_dependencies=found['binary_dependencies'])
        if found['source'] != 'none':
            result.update(changed=True, version=found['version'], source=found['source'], lib=found['lib'])
            if found['after']:
                result.update(version=found['after'][0], lib=found['after'][1])
        return before, result

    def apply(self):
        before, result = self.remove_package() if self.state == 'absent' else self.install_package()
        if self.module._diff:
            result['diff'] = dict(before='%s %s\n' % (self.name, before.version or 'absent'),
                                  after='%s %s\n' % (self.name, result['version'] or 'absent'))
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            version=dict(type='str'),
            repos=dict(type='list', elements='str', default=['https://cloud.r-project.org']),
            state=dict(type='str', default='present', choices=['present', 'absent', 'latest']),
            lib=dict(type='path'),
            prefer_binary=dict(type='bool', default=True),
            rscript=dict(type='path', default='Rscript'),
        ),
        supports_check_mode=True,
    )
    name = module.params['name']
    if not valid_package_name(name):
        module.fail_json(msg='name %r is not a valid R package name: letters, digits and dots, starting with a letter '
                             'and not ending with a dot' % (name,))
    version = module.params['version']
    constraint = None
    if version is not None and version.strip():
        try:
            constraint = parse_constraint(version)
        except RConstraintError as exc:
            module.fail_json(msg='version %r is not a version constraint: %s' % (version, exc))
    module.exit_json(**RPackage(module, constraint).apply())


if __name__ == '__main__':
    main()
