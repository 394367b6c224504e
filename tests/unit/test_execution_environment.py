# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment for AWX, as its README says to make it: the collection's tarball next to
execution-environment/execution-environment.yml, `ansible-builder create` (the build context, no network), and what
ansible-builder finds in the installed collection's meta/execution-environment.yml."""

from __future__ import annotations

import os
import shutil
import subprocess

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*cmd, cwd=ROOT):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def requirement_names(lines):
    return sorted(line.split('#')[0].strip().split('>')[0].split('=')[0].split('<')[0] for line in lines
                  if line.split('#')[0].strip())


def test_the_build_context_has_the_collection_and_its_dependencies(tmp_path):
    definition_dir = tmp_path / 'execution-environment'
    shutil.copytree(os.path.join(ROOT, 'execution-environment'), definition_dir)
    run('ansible-galaxy', 'collection', 'build', '--output-path', str(definition_dir))
    with open(os.path.join(ROOT, 'galaxy.yml'), encoding='utf-8') as handle:
        version = yaml.safe_load(handle)['version']
    tarball = 'plumber-hosting-%s.tar.gz' % version
    assert (definition_dir / tarball).is_file()
    run('ansible-builder', 'create', '--file', str(definition_dir / 'execution-environment.yml'), '--context', str(tmp_path / 'context'))
    assert (tmp_path / 'context' / '_build' / 'collections' / tarball).is_file()
    requirements = yaml.safe_load((tmp_path / 'context' / '_build' / 'requirements.yml').read_text())
    assert requirements == {'collections': [{'name': '/build/collections/' + tarball, 'type': 'file'}]}
    containerfile = next(path for path in (tmp_path / 'context').iterdir() if path.name in ('Containerfile', 'Dockerfile')).read_text()
    assert 'ansible-galaxy collection install' in containerfile and 'introspect' in containerfile

    # What the builder stage finds in the installed collection: the controller's Python packages and ssh.
    run('ansible-galaxy', 'collection', 'install', '--force', '--no-deps', '-p', str(tmp_path / 'installed'), str(definition_dir / tarball))
    found = yaml.safe_load(run('ansible-builder', 'introspect', '--sanitize', str(tmp_path / 'installed')))
    with open(os.path.join(ROOT, 'requirements.txt'), encoding='utf-8') as handle:
        wanted = [name for name in requirement_names(handle.read().splitlines()) if name != 'ansible-core']
    assert requirement_names(found['python']) == sorted(wanted)
    assert 'posit-sdk' in wanted
    assert any(line.startswith('openssh-clients [platform:rpm]') for line in found['system'])
