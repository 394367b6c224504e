# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from ansible_collections.plumber.hosting.plugins.module_utils._rdeps import (
    BASE_PACKAGES,
    r_segments,
    scan_text,
    scan_tree,
)

# (id, R source, expected scan_text() result). Every source is valid R 4.x: the R oracle test below
# checks the same table against R's own parser.
SCAN_TEXT_CASES = [
    # What counts.
    ('library bare name', 'library(dplyr)', [('dplyr', 1)]),
    ('library double quotes', 'library("dplyr")', [('dplyr', 1)]),
    ('library single quotes', "library('dplyr')", [('dplyr', 1)]),
    ('require bare name', 'require(dplyr)', [('dplyr', 1)]),
    ('require string', 'require("dplyr")', [('dplyr', 1)]),
    ('requireNamespace', 'requireNamespace("dplyr", quietly = TRUE)', [('dplyr', 1)]),
    ('loadNamespace', "loadNamespace('dplyr')", [('dplyr', 1)]),
    ('double colon', 'dplyr::filter(df, x > 1)', [('dplyr', 1)]),
    ('triple colon', 'dplyr:::filter_impl(df)', [('dplyr', 1)]),
    ('double colon with spaces', 'x <- dplyr :: filter', [('dplyr', 1)]),
    ('backtick package before ::', '`dplyr`::filter(df)', [('dplyr', 1)]),
    ('backtick function after ::', 'x <- magrittr::`%>%`', [('magrittr', 1)]),
    ('string package before ::', '"data.table"::fread("x.csv")', [('data.table', 1)]),
    ('dotted name', 'library(data.table)', [('data.table', 1)]),
    ('digits in name', 'library(R6)', [('R6', 1)]),
    ('backtick library argument', 'library(`dplyr`)', [('dplyr', 1)]),
    ('raw string argument', 'library(r"(dplyr)")', [('dplyr', 1)]),
    ('nested in another call', 'suppressPackageStartupMessages(library(dplyr))', [('dplyr', 1)]),
    ('named package argument', 'library(package = dplyr)', [('dplyr', 1)]),
    ('partially named argument', 'library(pack = dplyr)', [('dplyr', 1)]),
    ('named argument after', 'library(dplyr, quietly = TRUE)', [('dplyr', 1)]),
    ('named argument before', 'library(warn.conflicts = FALSE, dplyr)', [('dplyr', 1)]),
    ('character.only FALSE', 'library(dplyr, character.only = FALSE)', [('dplyr', 1)]),
    ('character.only with a literal', 'library("dplyr", character.only = TRUE)', [('dplyr', 1)]),
    ('base::library', 'base::library(dplyr)', [('dplyr', 1)]),
    ('base:::require', 'base:::require(dplyr)', [('dplyr', 1)]),
    ('space before paren', 'library (dplyr)', [('dplyr', 1)]),
    ('multi-line call', 'library(\n  dplyr\n)', [('dplyr', 2)]),
    ('multi-line with comments', 'library(\n  # the verbs\n  dplyr, # here\n  quietly = TRUE\n)', [('dplyr', 3)]),
    ('semicolons', 'library(dplyr); library(tidyr);x<-glue::glue("a")',
     [('dplyr', 1), ('tidyr', 1), ('glue', 1)]),
    ('require or install', 'if (!require(dplyr)) install.packages("dplyr")', [('dplyr', 1)]),
    ('requireNamespace or stop', 'if (!requireNamespace("jsonlite", quietly = TRUE)) stop("jsonlite::x")',
     [('jsonlite', 1)]),
    ('every use, in order', 'tidyr::a()\ndplyr::b()\ntidyr::c()', [('tidyr', 1), ('dplyr', 2), ('tidyr', 3)]),
    ('line numbers after multi-line string', 'x <- "a\nb\nc"\nlibrary(dplyr)', [('dplyr', 4)]),
    ('pipe chain', 'df |>\n  dplyr::filter(x) %>%\n  tidyr::pivot_longer()', [('dplyr', 2), ('tidyr', 3)]),
    ('inside function body', 'f <- function(x) {\n  stringr::str_trim(x)\n}', [('stringr', 2)]),
    ('lambda', 'g <- \\(x) purrr::map(x, \\(y) y)', [('purrr', 1)]),
    ('help operator', '?dplyr::filter', [('dplyr', 1)]),
    ('unicode identifiers around', 'caf\u00e9 <- 1; readr::read_csv(caf\u00e9)', [('readr', 1)]),
    ('hash inside string then ::', 'x <- "#notacomment"; dplyr::x', [('dplyr', 1)]),
    ('hash inside single quotes then ::', "x <- '#'; dplyr::x", [('dplyr', 1)]),
    ('escaped quote inside string', 'x <- "a \\" b"; dplyr::x', [('dplyr', 1)]),
    ('escaped backslash ends string', 'x <- "a\\\\"; dplyr::x', [('dplyr', 1)]),
    ('quote of the other kind inside', 'x <- "it\'s"; y <- \'say "hi"\'; dplyr::x', [('dplyr', 1)]),
    ('raw string with parens and quotes', 'x <- r"(a ) " b)"; dplyr::x', [('dplyr', 1)]),
    ('raw string with dashes', 'x <- r"--(a )" )-" b)--"; dplyr::x', [('dplyr', 1)]),
    ('plumber file', '\n'.join([
        'library(plumber)',
        '#* @apiTitle Demo',
        '#* Echo back the input',
        '#* @param msg The message to echo',
        '#* @get /echo',
        'function(msg = "") {',
        '  list(msg = paste0("The message is: \'", msg, "\'"))',
        '}',
        '',
        '#* @plumber',
        'function(pr) {',
        '  pr %>%',
        '    pr_mount("/v2", plumb("v2.R")) %>%',
        '    pr_set_serializer(serializer_unboxed_json())',
        '}',
        '',
        '#* @get /data',
        '#* @serializer csv',
        'function() dplyr::tibble(x = 1)',
    ]), [('plumber', 1), ('dplyr', 19)]),

    # What does not count.
    ('comment', '# library(dplyr)', []),
    ('trailing comment', 'x <- 1 # dplyr::filter', []),
    ('plumber annotation', '#* @get /x\n#* @serializer contentType list(type = "text/plain")', []),
    ('roxygen', "#' @importFrom dplyr filter\n#' dplyr::filter", []),
    ('string', 'x <- "library(dplyr)"', []),
    ('double colon in string', 'msg <- "see dplyr::filter"', []),
    ('install.packages string', 'install.packages("dplyr")', []),
    ('escaped quote keeps string open', 'x <- "a \\" dplyr::x"', []),
    ('single quoted string', "x <- 'dplyr::filter'", []),
    ('raw string round', 'x <- r"(library(dplyr) dplyr::x)"', []),
    ('raw string square', "x <- r'[dplyr::x]'", []),
    ('raw string curly', 'x <- R"{dplyr::x}"', []),
    ('raw string dashes ignore lookalike close', 'x <- r"-(a)" dplyr::x )-"', []),
    ('character.only with a variable', 'library(pkg, character.only = TRUE)', []),
    ('character.only partially named', 'library(pkg, character = TRUE)', []),
    ('character.only unknown value', 'library(pkg, character.only = only)', []),
    ('library without argument', 'library()', []),
    ('library help', 'library(help = dplyr)', []),
    ('library with an expression', 'library(pkgs[1])', []),
    ('library of a reserved word', 'library(TRUE); library(NULL)', []),
    ('requireNamespace of a variable', 'requireNamespace(pkg)', []),
    ('loadNamespace of a call', 'loadNamespace(paste0("dp", "lyr"))', []),
    ('another library function', 'mylibrary(dplyr)', []),
    ('method called library', 'obj$library(dplyr); obj@require(dplyr)', []),
    ('dotted name ending in library', 'x.library(dplyr)', []),
    ('library from another namespace', 'foo::library(dplyr)', [('foo', 1)]),
    ('library as argument name', 'f(library = dplyr)', []),
    ('library not called', 'f <- library; lapply(pkgs, library, character.only = TRUE)', []),
    ('unused argument is an error in R', 'library(dplyr, nonsense = 1)', []),
    ('too many arguments is an error in R', 'require(a1, NULL, TRUE, TRUE, FALSE, FALSE, NULL, NULL, TRUE, 1)', []),
    ('invalid package name', 'library(x); library(my_pkg); library("a b"); library(".x")', []),
    ('base packages', 'library(stats); utils::head(x); tools::file_ext(y); requireNamespace("grDevices")', []),
    ('number is not a name', 'x <- .5 + 1e-3 + 0x1F + 2L', []),
    ('dollar and at', 'x$dplyr; y@tidyr; z[["glue"]]', []),
]


@pytest.mark.parametrize('text, expected', [case[1:] for case in SCAN_TEXT_CASES],
                         ids=[case[0] for case in SCAN_TEXT_CASES])
def test_scan_text(text, expected):
    assert scan_text(text) == expected


# R reads the same table the same way: its parser, and match.call() against the loading functions
# (as renv's dependencies() does), find the same package names. One Rscript run for the whole table.
R_ORACLE = r'''
loaders <- c("library", "require", "requireNamespace", "loadNamespace")
is_ns <- function(f) identical(f, as.name("::")) || identical(f, as.name(":::"))
walk <- function(e) {
  if (is.expression(e)) for (a in e) walk(a)
  if (!is.call(e)) return(invisible())
  f <- e[[1]]
  if (is.call(f) && is_ns(f[[1]]) && as.character(f[[2]]) == "base") f <- f[[3]]
  if (is_ns(e[[1]])) {
    found <<- c(found, as.character(e[[2]]))
  } else if (is.name(f) && as.character(f) %in% loaders) {
    m <- tryCatch(match.call(get(as.character(f), baseenv()), e), error = function(err) NULL)
    p <- m[["package"]]
    co <- m[["character.only"]]
    if (is.character(p) && length(p) == 1) {
      found <<- c(found, p)
    } else if (is.name(p) && as.character(f) %in% c("library", "require") &&
               (is.null(co) || identical(co, FALSE) || identical(co, as.name("F")))) {
      found <<- c(found, as.character(p))
    }
  }
  for (i in seq_along(e)) if (!identical(e[[i]], quote(expr = ))) walk(e[[i]])
}
base <- rownames(installed.packages(priority = "base"))
for (path in commandArgs(trailingOnly = TRUE)) {
  found <- character()
  walk(parse(path, keep.source = FALSE, encoding = "UTF-8"))
  found <- found[grepl("^[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]$", found) & !(found %in% base)]
  cat(basename(path), sort(found, method = "radix"), sep = "\t")
  cat("\n")
}
'''


@pytest.fixture(scope='module')
def r_reading(tmp_path_factory):
    directory = tmp_path_factory.mktemp('oracle')
    paths = []
    for index, case in enumerate(SCAN_TEXT_CASES):
        path = directory / ('case%03d.R' % index)
        path.write_text(case[1], encoding='utf-8')
        paths.append(str(path))
    result = subprocess.run(['Rscript', '--vanilla', '-e', R_ORACLE] + paths, capture_output=True, check=True,
                            env=dict(os.environ, LC_ALL='C.UTF-8'))
    fields = [line.split('\t') for line in result.stdout.decode('utf-8').splitlines()]
    return {int(row[0][len('case'):-len('.R')]): [name for name in row[1:] if name] for row in fields}


@pytest.mark.skipif(shutil.which('Rscript') is None, reason='needs R')
@pytest.mark.parametrize('index', range(len(SCAN_TEXT_CASES)), ids=[case[0] for case in SCAN_TEXT_CASES])
def test_scan_text_agrees_with_r(r_reading, index):
    assert r_reading[index] == sorted(name for name, line in SCAN_TEXT_CASES[index][2])


@pytest.mark.parametrize('exclude, expected', [
    ((), [('plumber', 1), ('dplyr', 2), ('glue', 3)]),
    (['plumber'], [('dplyr', 2), ('glue', 3)]),
    ('plumber', [('dplyr', 2), ('glue', 3)]),
    ({'plumber', 'glue'}, [('dplyr', 2)]),
    (iter(['dplyr']), [('plumber', 1), ('glue', 3)]),
    (None, [('plumber', 1), ('dplyr', 2), ('glue', 3)]),
], ids=['nothing more', 'list', 'single string', 'set', 'iterator', 'None'])
def test_scan_text_exclude(exclude, expected):
    text = 'library(plumber)\nlibrary(dplyr)\nglue::glue("x"); stats::sd(1); utils::head(2)'
    assert scan_text(text, exclude=exclude) == expected


def test_base_packages_are_r_base():
    assert BASE_PACKAGES == {'base', 'compiler', 'datasets', 'graphics', 'grDevices', 'grid', 'methods',
                             'parallel', 'splines', 'stats', 'stats4', 'tcltk', 'tools', 'utils'}


# Code R would not parse: no exception, and nothing read out of a string or comment that never ends.
@pytest.mark.parametrize('text, expected', [
    ('"unterminated dplyr::x', []),
    ("x <- 'unterminated\ndplyr::x", []),
    ('library(', []),
    ('library(dplyr', [('dplyr', 1)]),
    ('r"(never closed\ndplyr::x', []),
    ('r"(closed by the wrong bracket]"\ndplyr::x', []),
    ('`unterminated dplyr::x', []),
    ('dplyr::', []),
    ('::filter', []),
    (')))(((dplyr::x', [('dplyr', 1)]),
    ('x <- "ends in a backslash\\', []),
    ('', []),
    ('\ufeffdplyr::x', [('dplyr', 1)]),
    ('\x00\ufffd%%% % dplyr::x', [('dplyr', 1)]),
], ids=['unterminated string', 'unterminated string over lines', 'open call', 'open call with name',
        'unterminated raw string', 'raw string wrong bracket', 'unterminated backtick', 'trailing ::', 'leading ::',
        'unbalanced', 'trailing backslash', 'empty', 'byte order mark', 'binary junk'])
def test_scan_text_survives_broken_code(text, expected):
    assert scan_text(text) == expected


RMD = '\n'.join([
    '---',                                   # 1
    'title: "Report `r glue::glue(\'x\')`"',  # 2
    '---',                                   # 3
    '',                                      # 4
    'Prose mentions library(nope1) and nope2::f.',  # 5
    '',                                      # 6
    '```{r setup, include=FALSE}',           # 7
    'library(dplyr)',                        # 8
    '# library(nope3)',                      # 9
    '```',                                   # 10
    '',                                      # 11
    '```{python}',                           # 12
    'import nope4',                          # 13
    'nope5::x',                              # 14
    '```',                                   # 15
    '',                                      # 16
    '```r',                                  # 17
    'library(nope6)  # shown, not run',      # 18
    '```',                                   # 19
    '',                                      # 20
    'Inline: `r tidyr::x()` and `dplyr::y`.',  # 21
    '',                                      # 22
    '````{r}',                               # 23
    'x <- "a string holding',                # 24
    '```',                                   # 25
    '"; stringr::str_c(x)',                  # 26
    '````',                                  # 27
    '```{r, echo=FALSE}',                    # 28
    'requireNamespace("jsonlite")',          # 29
    '```',                                   # 30
    '```{rcpp}',                             # 31
    'nope7::x',                              # 32
    '```',                                   # 33
])


def test_r_segments_of_rmd():
    uses = [(name, line + first - 1) for code, first in r_segments(RMD, 'report.Rmd') for name, line in scan_text(code)]
    assert sorted(uses, key=lambda use: use[1]) == [
        ('glue', 2), ('dplyr', 8), ('tidyr', 21), ('stringr', 26), ('jsonlite', 29)]


def test_r_segments_of_quarto_inline():
    assert r_segments('Value: `{r} purrr::map(x)`.\n', 'doc.qmd') == [('purrr::map(x)', 1)]


@pytest.mark.parametrize('path, segments', [
    ('app.R', [('x', 1)]),
    ('app.r', [('x', 1)]),
    ('notes.txt', []),
    ('app.py', []),
    ('README.md', []),
], ids=['R', 'lower-case r', 'text', 'python', 'markdown'])
def test_r_segments_by_suffix(path, segments):
    assert r_segments('x', path) == segments


def _write(root, relative, content):
    path = root.joinpath(*relative.split('/'))
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding='utf-8')


@pytest.fixture
def api_tree(tmp_path):
    _write(tmp_path, 'plumber.R', 'library(plumber)\n#* @get /x\nfunction() helpers::f()\nlibrary(dplyr)\n')
    _write(tmp_path, 'R/helpers.R', '\n\nlibrary(dplyr)\nstringr::str_c("a")\n')
    _write(tmp_path, 'R/a.r', 'x <- 1\ntidyr::x\n')
    _write(tmp_path, 'report.Rmd', 'Text\n```{r}\nlibrary(glue)\ndplyr::x\n```\n')
    _write(tmp_path, 'docs/page.qmd', '```{r}\n#| echo: false\nreadr::read_csv("x")\n```\n')
    _write(tmp_path, 'latin1.R', b'# caf\xe9 \xff\xfe\nlibrary(jsonlite) # \xe9\n')
    _write(tmp_path, 'bom.R', b'\xef\xbb\xbflibrary(httr)\n')
    _write(tmp_path, 'notes.txt', 'library(nope1)\n')
    _write(tmp_path, 'app.py', 'nope2::x\n')
    _write(tmp_path, '.git/hooks/x.R', 'library(nope3)\n')
    _write(tmp_path, 'renv/activate.R', 'library(nope4)\n')
    _write(tmp_path, 'packrat/init.R', 'library(nope5)\n')
    _write(tmp_path, 'sub/renv/x.R', 'library(nope6)\n')
    outside = tmp_path.parent / (tmp_path.name + '-outside')
    _write(outside, 'x.R', 'library(nope7)\n')
    os.symlink(str(outside), str(tmp_path / 'linked'))
    os.symlink(str(tmp_path / 'missing.R'), str(tmp_path / 'broken.R'))
    os.mkdir(str(tmp_path / 'dir.R'))
    os.mkfifo(str(tmp_path / 'pipe.R'))
    return tmp_path


def test_scan_tree(api_tree):
    assert scan_tree(str(api_tree)) == [
        {'name': 'tidyr', 'file': 'R/a.r', 'line': 2},
        {'name': 'dplyr', 'file': 'R/helpers.R', 'line': 3},
        {'name': 'stringr', 'file': 'R/helpers.R', 'line': 4},
        {'name': 'httr', 'file': 'bom.R', 'line': 1},
        {'name': 'readr', 'file': 'docs/page.qmd', 'line': 3},
        {'name': 'jsonlite', 'file': 'latin1.R', 'line': 2},
        {'name': 'plumber', 'file': 'plumber.R', 'line': 1},
        {'name': 'helpers', 'file': 'plumber.R', 'line': 3},
        {'name': 'glue', 'file': 'report.Rmd', 'line': 3},
    ]


def test_scan_tree_exclude(api_tree):
    names = [use['name'] for use in scan_tree(str(api_tree), exclude=['plumber', 'helpers', 'dplyr'])]
    assert names == ['tidyr', 'stringr', 'httr', 'readr', 'jsonlite', 'glue']


def test_scan_tree_accepts_a_path_object(api_tree):
    assert scan_tree(api_tree) == scan_tree(str(api_tree))


def test_scan_tree_first_use_on_one_line_keeps_text_order(tmp_path):
    _write(tmp_path, 'app.R', 'x <- zoo::a(); y <- abind::b()\n')
    assert [use['name'] for use in scan_tree(str(tmp_path))] == ['zoo', 'abind']


def test_scan_tree_of_nothing(tmp_path):
    assert scan_tree(str(tmp_path)) == []
    assert scan_tree(str(tmp_path / 'absent')) == []
