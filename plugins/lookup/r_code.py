# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: r_code
short_description: The R programs of plumber.hosting, for templates that embed them
version_added: 0.1.0
description:
  - Returns the source of one of the collection's R programs, written once in its module_utils and run both by its modules
    and by the files its roles render (the Rscript wrapper of every worker, the package recipe of every image).
  - V(loader) loads a plumber API the way every worker does (C(plumber.hosting.plumber_api) runs the same code before a
    deploy, the image build runs it once more), and recycles a worker past the API's C(recycle) limits.
  - V(packages) resolves and installs R packages, the distribution's C(r-cran-*) binary when it satisfies the constraint,
    else the newest version of the repositories, else the repositories' archive.
author:
  - plumber.hosting contributors (@plumber-hosting)
options:
  _terms:
    description: The name of the program.
    type: list
    elements: str
    required: true
    choices: [loader, packages]
"""

EXAMPLES = r"""
- name: Render a script that embeds the loader
  ansible.builtin.copy:
    content: "{{ lookup('plumber.hosting.r_code', 'loader') }}"
    dest: /tmp/loader.R
    mode: "0644"
"""

RETURN = r"""
_raw:
  description: The R source of each program named, in order.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.plumber.hosting.plugins.module_utils import _loader, _r

PROGRAMS = {
    'loader': lambda: _loader.WORKER_R,
    'packages': lambda: _r.RESOLVER_R,
}


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        result = []
        for term in terms:
            if term not in PROGRAMS:
                raise AnsibleLookupError('unknown R program %r: choose one of %s' % (term, ', '.join(sorted(PROGRAMS))))
            result.append(PROGRAMS[term]())
        return result
