# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The R packages an API's code uses, found without R, as Posit's publishing tools find them.

A deploy installs the packages an API declares; code often uses more. This scanner reads the R
sources (``*.R``, and the R chunks of ``*.Rmd`` / ``*.qmd``) and reports every package they load or
call into, with the file and line of its first use, so that a deploy can install the undeclared ones
and, when one cannot be found anywhere, fail with a message that points at the code.

It understands what renv's ``dependencies()`` understands in plain R code: ``library()`` and
``require()`` (with a name or a string, ``character.only``, named and partially named arguments, as
R's own argument matching sees them), ``requireNamespace()`` and ``loadNamespace()`` with a string,
and ``pkg::name`` / ``pkg:::name``. It is a real tokenizer, not a regular expression over lines:
comments (roxygen and plumber annotations included), strings (escapes, R 4 raw strings) and
backtick-quoted names are what R says they are. What only R could tell (a package name computed at
run time) is not guessed.

Pure Python and standard library only: it runs on the controller and on hosts without R.
"""

from __future__ import annotations

import os
import re

from ansible_collections.plumber.hosting.plugins.module_utils._r import valid_package_name

# R's base packages: they come with R itself, and no repository offers them.
BASE_PACKAGES = frozenset((
    'base', 'compiler', 'datasets', 'graphics', 'grDevices', 'grid', 'methods', 'parallel',
    'splines', 'stats', 'stats4', 'tcltk', 'tools', 'utils',
))

SKIPPED_DIRECTORIES = frozenset(('.git', 'renv', 'packrat'))
R_SUFFIXES = ('.r',)
DOCUMENT_SUFFIXES = ('.rmd', '.qmd')

# Words R's lexer reserves: never a symbol, so never a package (``library(TRUE)`` loads nothing).
_RESERVED = frozenset((
    'if', 'else', 'repeat', 'while', 'function', 'for', 'in', 'next', 'break', 'TRUE', 'FALSE',
    'NULL', 'Inf', 'NaN', 'NA', 'NA_integer_', 'NA_real_', 'NA_character_', 'NA_complex_',
))

# Formal arguments of the loading functions, in order, as R matches a call against them (R 4.2).
_FORMALS = {
    'library': ('package', 'help', 'pos', 'lib.loc', 'character.only', 'logical.return',
                'warn.conflicts', 'quietly', 'verbose', 'mask.ok', 'exclude', 'include.only',
                'attach.required'),
    'require': ('package', 'lib.loc', 'quietly', 'warn.conflicts', 'character.only', 'mask.ok', 'exclude',
                'include.only', 'attach.required'),
    'requireNamespace': ('package', '...', 'quietly'),
    'loadNamespace': ('package', 'lib.loc', 'keep.source', 'partial', 'versionCheck',
                      'keep.parse.data'),
}
# library() and require() take a bare name unless character.only; the namespace functions evaluate
# their argument, so only a string literal names a package there.
_TAKES_SYMBOL = frozenset(('library', 'require'))

NAME, STRING, NUMBER, KEYWORD, OPERATOR = 'name', 'string', 'number', 'keyword', 'operator'

_RAW_STRING_START_RE = re.compile(r'''[rR](["'])(-*)([(\[{])''')
_RAW_STRING_CLOSERS = {'(': ')', '[': ']', '{': '}'}
_TOKEN_RE = re.compile(r'''
      (?P<space>[ \t\f\v\r\n\u00a0\ufeff]+)
    | (?P<comment>\#[^\n]*)
    | (?P<dq>"[^"\\]*(?:\\.[^"\\]*)*"?)
    | (?P<sq>'[^'\\]*(?:\\.[^'\\]*)*'?)
    | (?P<bt>`[^`\\]*(?:\\.[^`\\]*)*`?)
    | (?P<number>(?:0[xX][0-9a-fA-F.]*(?:[pP][+-]?[0-9]+)?
                  |(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[Li]?)
    | (?P<name>(?:[^\W\d_]|\.(?![0-9]))[\w.]*)
    | (?P<operator>:::|::|<<-|->>|<-|->|<=|>=|==|!=|&&|\|\||\|>|%[^%\n]*%|.)
''', re.VERBOSE | re.DOTALL)

_CHUNK_START_RE = re.compile(r'^[ \t>]*(`{3,})[ \t]*\{[ \t]*[rR](?:[ \t,}]|$)')
_INLINE_RE = re.compile(r'`r[ #]([^`]+)`|`\{r\}[ \t]*([^`]+)`')


class _Token:
    __slots__ = ('kind', 'value', 'line')

    def __init__(self, kind, value, line):
        self.kind = kind
        self.value = value
        self.line = line

    def is_op(self, *values):
        return self.kind == OPERATOR and self.value in values

    def is_name_like(self):
        return self.kind in (NAME, STRING)


def _raw_string(text, pos):
    """The value and end of the raw string r"(...)" starting at ``pos``, or None if there is none."""
    start = _RAW_STRING_START_RE.match(text, pos)
    if not start:
        return None
    quote, dashes, opener = start.groups()
    closing = _RAW_STRING_CLOSERS[opener] + dashes + quote
    close_at = text.find(closing, start.end())
    if close_at < 0:
        return text[start.end():], len(text)
    return text[start.end():close_at], close_at + len(closing)


def _tokens(text):
    """R's tokens of ``text`` without whitespace and comments; never fails on broken code."""
    tokens = []
    pos, line = 0, 1
    while pos < len(text):
        raw = _raw_string(text, pos)
        if raw:
            tokens.append(_Token(STRING, raw[0], line))
            line += text.count('\n', pos, raw[1])
            pos = raw[1]
            continue
        match = _TOKEN_RE.match(text, pos)
        kind, value = match.lastgroup, match.group()
        if kind in ('dq', 'sq', 'bt'):
            closed = len(value) > 1 and value[-1] == value[0]
            tokens.append(_Token(NAME if kind == 'bt' else STRING, value[1:-1] if closed else value[1:], line))
        elif kind == 'name':
            tokens.append(_Token(KEYWORD if value in _RESERVED else NAME, value, line))
        elif kind in ('number', 'operator'):
            tokens.append(_Token(NUMBER if kind == 'number' else OPERATOR, value, line))
        line += value.count('\n')
        pos = match.end()
    return tokens


def _call_arguments(tokens, open_index):
    """The arguments of the call whose '(' is at ``open_index``: a list of token lists."""
    arguments, current, depth = [], [], 0
    for index in range(open_index + 1, len(tokens)):
        token = tokens[index]
        if token.is_op('(', '[', '{'):
            depth += 1
        elif token.is_op(')', ']', '}'):
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and token.is_op(','):
            arguments.append(current)
            current = []
            continue
        current.append(token)
    arguments.append(current)
    if arguments == [[]]:
        return []
    return arguments


def _match_arguments(formals, arguments):
    """R's match.call(): formal name -> value tokens, or None where R would stop with an error."""
    named, positional = [], []
    for argument in arguments:
        if len(argument) >= 2 and argument[0].is_name_like() and argument[1].is_op('='):
            named.append((argument[0].value, argument[2:]))
        else:
            positional.append(argument)
    dots = formals.index('...') if '...' in formals else len(formals)
    matched, unmatched = {}, []
    for tag, value in named:
        if tag in formals and tag != '...':
            if tag in matched:
                return None
            matched[tag] = value
        else:
            unmatched.append((tag, value))
    for tag, value in unmatched:
        candidates = [formal for formal in formals[:dots] if formal.startswith(tag) and formal not in matched]
        if len(candidates) > 1 or (not candidates and dots == len(formals)):
            return None
        if candidates:
            matched[candidates[0]] = value
    free = [formal for formal in formals[:dots] if formal not in matched]
    if len(positional) > len(free) and dots == len(formals):
        return None
    for formal, value in zip(free, positional):
        matched[formal] = value
    return matched


def _loaded_package(function, matched):
    """The package a matched loading call names, or None when only running it would tell."""
    package = matched.get('package')
    if not package or len(package) != 1:
        return None
    token = package[0]
    if token.kind == STRING:
        return token.value
    if token.kind != NAME or function not in _TAKES_SYMBOL:
        return None
    character_only = matched.get('character.only')
    if character_only is None or (len(character_only) == 1 and character_only[0].value in ('FALSE', 'F')):
        return token.value
    return None


def _is_loading_call(tokens, index):
    """True when tokens[index] calls base's library/require/requireNamespace/loadNamespace."""
    token = tokens[index]
    if token.kind != NAME or token.value not in _FORMALS:
        return False
    if index + 1 >= len(tokens) or not tokens[index + 1].is_op('('):
        return False
    if index == 0:
        return True
    before = tokens[index - 1]
    if before.is_op('$', '@'):
        return False
    if before.is_op('::', ':::'):
        return index >= 2 and tokens[index - 2].is_name_like() and tokens[index - 2].value == 'base'
    return True


def _excluded(exclude):
    if isinstance(exclude, str):
        exclude = (exclude,)
    return BASE_PACKAGES.union(exclude or ())


def _uses(text):
    """Every (package, line) ``text`` uses, before any exclusion, in order of appearance."""
    tokens = _tokens(text)
    uses = []
    for index, token in enumerate(tokens):
        if token.is_op('::', ':::'):
            if 0 < index < len(tokens) - 1 and tokens[index - 1].is_name_like() and tokens[index + 1].is_name_like():
                uses.append((tokens[index - 1].value, tokens[index - 1].line))
        elif _is_loading_call(tokens, index):
            matched = _match_arguments(_FORMALS[token.value], _call_arguments(tokens, index + 1))
            package = _loaded_package(token.value, matched) if matched is not None else None
            if package is not None:
                uses.append((package, matched['package'][0].line))
    return [(name, line) for name, line in uses if valid_package_name(name)]


def scan_text(text, exclude=()):
    """The packages R source ``text`` uses: a list of ``(package, line_number)``, one per use.

    In order of appearance (a package used twice appears twice), line numbers from 1. R's base
    packages and the names in ``exclude`` are left out.
    """
    excluded = _excluded(exclude)
    return [(name, line) for name, line in _uses(text) if name not in excluded]


def r_segments(text, path):
    """The R code in a file's ``text``, as ``(code, first_line)`` pairs, chosen by ``path``'s suffix.

    An R script is one segment. An R Markdown or Quarto document gives the body of each ```{r}
    chunk and each inline `r ...` / `{r} ...` expression; other chunks and prose are not R.
    """
    suffix = os.path.splitext(path)[1].lower()
    if suffix in R_SUFFIXES:
        return [(text, 1)]
    if suffix not in DOCUMENT_SUFFIXES:
        return []
    segments, chunk, fence = [], None, None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip(' \t>')
        if fence is not None:
            if stripped.startswith(fence) and not stripped.lstrip('`'):
                if chunk is not None:
                    segments.append(('\n'.join(chunk[1]), chunk[0]))
                chunk, fence = None, None
            elif chunk is not None:
                chunk[1].append(line)
            continue
        start = _CHUNK_START_RE.match(line)
        if start:
            fence, chunk = start.group(1), (number + 1, [])
            continue
        if stripped.startswith('```'):
            fence = stripped[:len(stripped) - len(stripped.lstrip('`'))]
            continue
        for inline in _INLINE_RE.finditer(line):
            segments.append((inline.group(1) or inline.group(2), number))
    if chunk is not None:
        segments.append(('\n'.join(chunk[1]), chunk[0]))
    return segments


def _source_files(root):
    """Paths (relative, '/'-separated) of the files under ``root`` that may hold R code, sorted."""
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [
            name for name in subdirectories
            if name not in SKIPPED_DIRECTORIES and not os.path.islink(os.path.join(directory, name))
        ]
        for name in files:
            if os.path.splitext(name)[1].lower() in R_SUFFIXES + DOCUMENT_SUFFIXES:
                relative = os.path.relpath(os.path.join(directory, name), root)
                found.append(relative.replace(os.sep, '/'))
    return sorted(found)


def _read(path):
    if not os.path.isfile(path):
        return None
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (OSError, ValueError):
        return None
    return data.decode('utf-8-sig', errors='replace')


def scan_tree(root, exclude=()):
    """The packages the R code under directory ``root`` uses, each once, at its first use.

    Returns a list of ``{'name': package, 'file': path relative to root ('/'-separated), 'line':
    line number}``, ordered by first use (file path, then line). Scans ``*.R`` files and the R of
    ``*.Rmd`` / ``*.qmd`` documents; skips .git, renv and packrat directories, symlinked
    directories and files that cannot be read. R's base packages and ``exclude`` are left out.
    """
    excluded = _excluded(exclude)
    first_use = {}
    for relative in _source_files(root):
        text = _read(os.path.join(root, *relative.split('/')))
        if text is None:
            continue
        uses = []
        for code, first_line in r_segments(text, relative):
            uses.extend((line + first_line - 1, name) for name, line in _uses(code))
        for line, name in sorted(uses, key=lambda use: use[0]):
            if name not in excluded and name not in first_use:
                first_use[name] = {'name': name, 'file': relative, 'line': line}
    return list(first_use.values())
