"""Each role's interface is written once and its documented copies agree with it.

- defaults/main.yml and meta/argument_specs.yml name the same variables with the same defaults;
- every fact a role publishes (set_fact keys and register names without a leading `_`) is named in
  the Publishes section of its README, and that section names no fact the role no longer sets; the
  argument specs say which facts each entry point publishes;
- every `tasks_from` target used in roles/ and playbooks/ is an entry point of the role's argument specs.
"""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

from ansible_collections.plumber.hosting.plugins.module_utils import _apis

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = sorted(p.name for p in (ROOT / 'roles').iterdir() if (p / 'meta/argument_specs.yml').exists())
# Read by every role, defaulted where they are read (`| default(...)`), so in no role's defaults/main.yml.
SHARED = {'plumber_apis', 'plumber_process_manager'}
SET_FACT = ('ansible.builtin.set_fact', 'set_fact')
# Options of set_fact, not facts.
SET_FACT_OPTIONS = {'cacheable'}


def _specs(role):
    return yaml.safe_load((ROOT / 'roles' / role / 'meta/argument_specs.yml').read_text())['argument_specs']


def _defaults(role):
    path = ROOT / 'roles' / role / 'defaults/main.yml'
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def _tasks(path):
    """Every task of a tasks file, blocks opened."""
    return list(_tasks_list(yaml.safe_load(path.read_text())))


def published(role):
    """The facts a role sets for others: set_fact keys and register names not starting with `_`."""
    facts = set()
    for path in sorted((ROOT / 'roles' / role / 'tasks').glob('*.yml')):
        for task in _tasks(path):
            for module in SET_FACT:
                if isinstance(task.get(module), dict):
                    facts.update(key for key in task[module] if key not in SET_FACT_OPTIONS)
            if isinstance(task.get('register'), str):
                facts.add(task['register'])
    return {fact for fact in facts if not fact.startswith('_')}


def readme_publishes(role):
    """The facts listed (`- \\`name\\``, top-level bullets) in the Publishes section of the role README."""
    text = (ROOT / 'roles' / role / 'README.md').read_text()
    match = re.search(r'^(#+) Publishes\n(.*?)(?=^#{1,3} |\Z)', text, re.M | re.S)
    assert match, 'roles/%s/README.md has no Publishes section' % role
    return set(re.findall(r'^- `([A-Za-z0-9_]+)`', match.group(2), re.M)), match.group(2)


@pytest.mark.parametrize('role', ROLES)
def test_defaults_match_argument_specs(role):
    defaults = _defaults(role)
    options = {}
    for entry, spec in _specs(role).items():
        for name, option in (spec.get('options') or {}).items():
            options.setdefault(name, []).append((entry, option))
    problems = []
    for name, value in defaults.items():
        if name not in options:
            problems.append('%s is in defaults/main.yml but in no entry point of meta/argument_specs.yml' % name)
            continue
        for entry, option in options[name]:
            if 'default' not in option:
                problems.append('%s: entry point %s has no default (defaults/main.yml: %r)' % (name, entry, value))
            elif isinstance(value, str) and '{{' in value:
                # A Jinja default is shown as text, e.g. https://.../linux/<distribution>.
                if not isinstance(option['default'], str):
                    problems.append('%s: entry point %s shows the Jinja default as %r, not as text' % (name, entry, option['default']))
            elif option['default'] != value or type(option['default']) is not type(value):
                problems.append('%s: entry point %s says default %r, defaults/main.yml %r' % (name, entry, option['default'], value))
    for name, entries in options.items():
        for entry, option in entries:
            if name in SHARED or option.get('required') or 'default' not in option:
                continue
            if name not in defaults:
                problems.append('%s: entry point %s has default %r but defaults/main.yml does not set it'
                                % (name, entry, option['default']))
    assert not problems, 'roles/%s:\n' % role + '\n'.join(problems)


@pytest.mark.parametrize('role', ROLES)
def test_readme_names_every_published_fact(role):
    facts = published(role)
    listed, section = readme_publishes(role)
    assert facts == listed, (
        'roles/%s/README.md Publishes section: missing %s, no longer set %s'
        % (role, sorted(facts - listed) or 'none', sorted(listed - facts) or 'none'))
    if not facts:
        assert 'No facts' in section, 'roles/%s/README.md: say "No facts." when the role publishes none' % role


@pytest.mark.parametrize('role', ROLES)
def test_argument_specs_say_what_each_entry_point_publishes(role):
    specs = _specs(role)
    described = ''
    for entry, spec in specs.items():
        lines = spec.get('description') or []
        lines = [lines] if isinstance(lines, str) else lines
        assert any(' '.join(line.split()).startswith('Publishes') for line in lines), (
            'roles/%s/meta/argument_specs.yml: entry point %s has no "Publishes ..." line' % (role, entry))
        described += ' '.join(lines)
    for fact in published(role):
        assert 'C(%s)' % fact in described, (
            'roles/%s/meta/argument_specs.yml: no entry point says it publishes C(%s)' % (role, fact))


def _tasks_from_targets():
    """(role, entry point, where) of every include_role/import_role with tasks_from."""
    files = sorted((ROOT / 'roles').glob('*/tasks/*.yml')) + sorted((ROOT / 'playbooks').glob('*.yml'))
    targets = []
    for path in files:
        data = yaml.safe_load(path.read_text()) or []
        plays = data if path.parts[-2] == 'playbooks' else [{'tasks': data}]
        for play in plays:
            for section in ('pre_tasks', 'tasks', 'post_tasks', 'handlers'):
                for task in _tasks_list(play.get(section)):
                    for module in ('ansible.builtin.include_role', 'ansible.builtin.import_role', 'include_role', 'import_role'):
                        args = task.get(module)
                        if isinstance(args, dict) and 'tasks_from' in args:
                            for role in _role_names(args['name'], task):
                                targets.append((role, args['tasks_from'], str(path.relative_to(ROOT))))
    return targets


def _tasks_list(items):
    """Every task of a list of tasks, blocks opened."""
    for item in items or []:
        if isinstance(item, dict):
            yield item
            for key in ('block', 'rescue', 'always'):
                yield from _tasks_list(item.get(key))


def _role_names(name, task):
    """The roles an include names: plumber.hosting.<role>, or the roles site.yml's lists loop over
    (plumber_site_roles, _workers and _retire from the plan, _extras and _retire the front's roles)."""
    if '{{' not in name:
        return [name.rsplit('.', 1)[-1]]
    loop = task.get('loop', '')
    plans = [_apis.plan(manager) for manager in _apis.PROCESS_MANAGERS]
    roles = set()
    for plan in plans:
        if 'plumber_site_roles' in loop:
            roles.update(plan['roles'])
        if 'plumber_site_workers' in loop:
            roles.add(plan['workers'])
        if 'plumber_site_retire' in loop:
            roles.update(plan['retire'] + ['plumber.hosting.proxy'])
    if 'plumber_site_extras' in loop:
        roles.update(['plumber.hosting.tls', 'plumber.hosting.proxy', 'plumber.hosting.firewall'])
    assert roles, 'cannot tell which roles %r names (loop %r)' % (name, loop)
    return sorted(role.rsplit('.', 1)[-1] for role in roles)


def test_every_tasks_from_target_is_an_entry_point():
    targets = _tasks_from_targets()
    assert targets
    missing = ['%s: role %s, tasks_from %s' % (where, role, entry)
               for role, entry, where in targets if entry not in _specs(role)]
    assert not missing, 'no argument_specs entry point for:\n' + '\n'.join(missing)
