"""Writes the schemas defined once into every place that documents them.

The API schema (plugins/module_utils/_apis.py) and the proxy schema (`plumber_proxy`,
plugins/module_utils/_proxy.py) are defined once, in Python. Their copies (the module documentation
of validate_apis, each role's meta/argument_specs.yml, the README table) sit between BEGIN/END
markers naming their source and are regenerated here. Each role's variables are described once, in
its meta/argument_specs.yml; the variable tables of the role's README.md are generated from it (after
the argument specs themselves are brought up to date). `--check` fails when a copy is stale (run by
the unit tests).
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / '.collections'))

from ansible_collections.plumber.hosting.plugins.module_utils import _apis, _proxy  # noqa: E402  pylint: disable=wrong-import-position

BEGIN = re.compile(r'^(?P<indent>[ ]*)(#|<!--) BEGIN generated from plugins/module_utils/(?P<source>_apis|_proxy)[.]py.*$', re.M)
ROLE_BEGIN = re.compile(r'^(?P<indent>)<!-- BEGIN generated from (?P<source>meta/argument_specs[.]yml) by tests/harness/sync_schema[.]py -->$', re.M)
SCHEMAS = {'_apis': _apis.API_OPTIONS, '_proxy': _proxy.PROXY_OPTIONS}
END = 'END generated'


def _doc_options(options, sub='options'):
    out = {}
    for key, option in options.items():
        doc = {'description': option['description'], 'type': option['type']}
        # Module documentation has no no_log key; role argument specs do.
        attrs = ('elements', 'required', 'default', 'choices') + (('no_log',) if sub == 'options' else ())
        doc.update((attr, option[attr]) for attr in attrs if option.get(attr) is not None)
        if 'options' in option:
            doc[sub] = _doc_options(option['options'], sub)
        out[key] = doc
    return out


def yaml_block(indent, source='_apis', sub='options'):
    """The options of one API (or of `plumber_proxy`), as YAML indented to sit under its entry.

    Role argument_specs call nested options `options`, module documentation `suboptions`.
    """
    text = yaml.safe_dump({sub: _doc_options(SCHEMAS[source], sub)}, sort_keys=False, width=120, default_flow_style=False)
    return ''.join(indent + line + '\n' for line in text.splitlines())


def module_yaml_block(indent, source):
    return yaml_block(indent, source, 'suboptions')


def _markdown(text):
    """Ansible doc markup (C(x), V(x), O(x), RV(x), E(x), P(x), M(x), I(x), B(x), U(x), L(t,u)) as Markdown.

    Parentheses inside the argument are balanced: C(library()) is `library()`.
    """
    out, pos = [], 0
    for match in re.finditer(r'\b(RV|[CVOEPMIBUL])\(', text):
        if match.start() < pos:
            continue
        depth, end = 1, match.end()
        while end < len(text) and depth:
            depth += {'(': 1, ')': -1}.get(text[end], 0)
            end += 1
        if depth:
            continue
        arg, kind = text[match.end():end - 1], match.group(1)
        if kind == 'I':
            arg = '*%s*' % _plain(arg)
        elif kind == 'B':
            arg = '**%s**' % _plain(arg)
        elif kind == 'U':
            arg = '<%s>' % arg
        elif kind == 'L':
            label, url = arg.rsplit(',', 1) if ',' in arg else (arg, arg)
            arg = '[%s](%s)' % (label, url.strip())
        else:
            arg = '`%s`' % arg
        out.append(_plain(text[pos:match.start()]) + arg)
        pos = end
    out.append(_plain(text[pos:]))
    return ''.join(out)


def _plain(text):
    """Text outside code spans: `<name>` would be read as an HTML tag."""
    return text.replace('<', '&lt;').replace('>', '&gt;')


def _cell(text):
    return ' '.join(str(text).split()).replace('|', '\\|')


def _description(option):
    description = option.get('description', '')
    if isinstance(description, list):
        description = ' '.join(description)
    if option.get('choices'):
        description += ' One of %s.' % ', '.join('V(%s)' % choice for choice in option['choices'])
    return _cell(_markdown(description))


def _default(value):
    """A default as the YAML a user would write: `true`, `[]`, `""`, `[https://cloud.r-project.org]`."""
    def flow(value):
        if isinstance(value, bool):
            return 'true' if value else 'false'
        if value is None:
            return 'null'
        if isinstance(value, list):
            return '[%s]' % ', '.join(flow(item) for item in value)
        if isinstance(value, dict):
            return '{%s}' % ', '.join('%s: %s' % (key, flow(item)) for key, item in value.items())
        return str(value) if value != '' else '""'
    return '`%s`' % flow(value)


def _kind(option):
    return option.get('type', 'str') + ('/' + option['elements'] if 'elements' in option else '')


def _row(name, option, description):
    default = 'required' if option.get('required') else (_default(option['default']) if 'default' in option else '')
    return '| `%s` | %s | %s | %s |' % (name, _kind(option), default, description)


def markdown_table(_indent, _source):
    rows = ['| key | type | default | description |', '| --- | --- | --- | --- |']

    def walk(options, prefix):
        for key, option in options.items():
            rows.append(_row(prefix + key, option, _description(option)))
            if 'options' in option:
                walk(option['options'], prefix + key + '.')
            if key == 'packages':
                walk(_apis.PACKAGE_OPTIONS, prefix + key + '[].')
    walk(_apis.API_OPTIONS, '')
    return '\n'.join(rows) + '\n'


# Where the options of plumber_apis are described; a role README links there instead of repeating them.
API_TABLE = '../../README.md#the-api-data-model'


def role_tables(role_dir):
    """The variables of every entry point of a role (main first), as Markdown tables."""
    specs = yaml.safe_load((role_dir / 'meta/argument_specs.yml').read_text())['argument_specs']
    names = sorted(specs, key=lambda name: name != 'main')
    out = []
    for name in names:
        spec = specs[name]
        out.append('Entry point `%s`%s: %s.' % (
            name, '' if name == 'main' else ' (`tasks_from: %s`)' % name, _cell(_markdown(spec['short_description'])).rstrip('.')))
        options = spec.get('options') or {}
        if not options:
            out += ['', 'No variables of its own.', '']
            continue
        rows = ['', '| variable | type | default | description |', '| --- | --- | --- | --- |']

        def walk(options, prefix):
            for key, option in options.items():
                description = _description(option)
                if prefix + key == 'plumber_apis':
                    description += ' Its keys: the [table of the collection README](%s).' % API_TABLE
                rows.append(_row(prefix + key, option, description))
                if 'options' in option and prefix + key != 'plumber_apis':
                    walk(option['options'], prefix + key + ('[].' if option.get('type') == 'list' else '.'))
        walk(options, '')
        out += rows + ['']
    return '\n'.join(out).rstrip('\n') + '\n'


def role_readme_block(path):
    def render_block(_indent, _source):
        return role_tables(path.parent)
    return render_block


TARGETS = [('plugins/modules/validate_apis.py', module_yaml_block), ('README.md', markdown_table)]
TARGETS += [(str(p.relative_to(ROOT)), yaml_block) for p in sorted(ROOT.glob('roles/*/meta/argument_specs.yml'))]
# Last: they read the argument specs written above.
TARGETS += [(str(p.relative_to(ROOT)), role_readme_block(p), ROLE_BEGIN) for p in sorted(ROOT.glob('roles/*/README.md'))]


def render(text, render_block, begin=BEGIN):
    def replace(match):
        indent = match.group('indent')
        end = text.index(END, match.end())
        end_line_start = text.rindex('\n', 0, end) + 1
        return match.group(0) + '\n' + render_block(indent, match.group('source')), end_line_start
    out, pos = [], 0
    for match in begin.finditer(text):
        head, end_line_start = replace(match)
        out.append(text[pos:match.start()] + head)
        pos = end_line_start
    out.append(text[pos:])
    return ''.join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--check', action='store_true', help='fail when a copy is stale instead of writing it')
    args = parser.parse_args()
    stale = []
    for rel, render_block, *begin in TARGETS:
        path = ROOT / rel
        if not path.exists():
            continue
        text = path.read_text()
        new = render(text, render_block, *begin)
        if new != text:
            stale.append(rel)
            if not args.check:
                path.write_text(new)
    if stale and args.check:
        print('stale schema copies (run tests/harness/sync_schema.py): ' + ', '.join(stale), file=sys.stderr)
        return 1
    for rel in stale:
        print('updated ' + rel)
    return 0


if __name__ == '__main__':
    sys.exit(main())
