"""Writes the API schema from plugins/module_utils/_apis.py into every place that documents it.

The schema is defined once, in Python. Its copies (the module documentation of validate_apis, each
role's meta/argument_specs.yml, the README table) sit between BEGIN/END markers and are
regenerated here; `--check` fails when a copy is stale (run by the unit tests).
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / '.collections'))

from ansible_collections.plumber.hosting.plugins.module_utils import _apis  # noqa: E402  pylint: disable=wrong-import-position

BEGIN = re.compile(r'^(?P<indent>[ ]*)(#|<!--) BEGIN generated from plugins/module_utils/_apis.py.*$', re.M)
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


def yaml_block(indent, sub='options'):
    """The options of one API, as YAML indented to sit under the `plumber_apis` entry.

    Role argument_specs call nested options `options`, module documentation `suboptions`.
    """
    text = yaml.safe_dump({sub: _doc_options(_apis.API_OPTIONS, sub)}, sort_keys=False, width=120, default_flow_style=False)
    return ''.join(indent + line + '\n' for line in text.splitlines())


def module_yaml_block(indent):
    return yaml_block(indent, 'suboptions')


def markdown_table(_indent):
    rows = ['| key | type | default | description |', '| --- | --- | --- | --- |']

    def walk(options, prefix):
        for key, option in options.items():
            kind = option['type'] + ('/' + option['elements'] if 'elements' in option else '')
            default = 'required' if option.get('required') else ('`%s`' % (option['default'],) if 'default' in option else '')
            description = re.sub(r'[OVIMC]\(([^)]*)\)', r'`\1`', option['description'])
            rows.append('| `%s%s` | %s | %s | %s |' % (prefix, key, kind, default, description))
            if 'options' in option:
                walk(option['options'], prefix + key + '.')
            if key == 'packages':
                walk(_apis.PACKAGE_OPTIONS, prefix + key + '[].')
    walk(_apis.API_OPTIONS, '')
    return '\n'.join(rows) + '\n'


TARGETS = [('plugins/modules/validate_apis.py', module_yaml_block), ('README.md', markdown_table)]
TARGETS += [(str(p.relative_to(ROOT)), yaml_block) for p in sorted(ROOT.glob('roles/*/meta/argument_specs.yml'))]


def render(text, render_block):
    def replace(match):
        indent = match.group('indent')
        end = text.index(END, match.end())
        end_line_start = text.rindex('\n', 0, end) + 1
        return match.group(0) + '\n' + render_block(indent), end_line_start
    out, pos = [], 0
    for match in BEGIN.finditer(text):
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
    for rel, render_block in TARGETS:
        path = ROOT / rel
        if not path.exists():
            continue
        text = path.read_text()
        new = render(text, render_block)
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
