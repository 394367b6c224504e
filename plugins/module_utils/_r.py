# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""R on the managed host: package names, version constraints, Debian's r-cran-* packages, Rscript.

Everything a module needs to drive R lives here once: the rules R applies to package names and
versions (so a bad value is rejected before anything runs), the mapping of a Debian version to the R
version it packages, the R snippets the modules run and the strict parser of what they print.

The R snippets are constants: a module runs ``Rscript --vanilla -e <SNIPPET> <args...>`` and the
snippet reads its variable data from ``commandArgs(trailingOnly = TRUE)``. They print one record per
line to stdout, ``key<TAB>value<TAB>...``; everything else R says (messages, compiler output) goes to
stderr.
"""

from __future__ import annotations

import operator
import re

PACKAGE_NAME_RE = re.compile(r'^[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]$')

# R's package_version(): at least two non-negative integers separated by '.' or '-'.
VERSION_RE = re.compile(r'^[0-9]+(?:[.-][0-9]+)+$')

OPERATORS = {
    '==': operator.eq,
    '!=': operator.ne,
    '>=': operator.ge,
    '<=': operator.le,
    '>': operator.gt,
    '<': operator.lt,
}
_CLAUSE_RE = re.compile(r'^(==|!=|>=|<=|>|<)?\s*([^\s<>=!]+)$')

R_ENVIRON = {'LC_ALL': 'C'}
APT_ENVIRON = {'LC_ALL': 'C', 'DEBIAN_FRONTEND': 'noninteractive'}


class RConstraintError(ValueError):
    """A version constraint that does not parse."""


class ROutputError(ValueError):
    """Output of an R snippet that does not parse."""


def valid_package_name(name):
    """True when ``name`` is a valid R package name (letters, digits and dots, starting with a letter)."""
    return bool(PACKAGE_NAME_RE.match(name))


def valid_version(text):
    return bool(VERSION_RE.match(text))


def version_key(text):
    """Sort key of an R version, ordering versions as R's ``package_version`` does.

    R compares component by component as integers and pads the shorter version with zeros, so
    ``1.10 > 1.9``, ``1.2-3 == 1.2.3`` and ``0.1 == 0.1.0``. Dropping trailing zeros gives a tuple
    that Python compares the same way.
    """
    if not valid_version(text):
        raise ValueError('%r is not an R version' % (text,))
    parts = [int(part) for part in re.split(r'[.-]', text)]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def compare_versions(left, right):
    """-1, 0 or 1 as R's ``package_version(left)`` is lower than, equal to or higher than ``right``."""
    a, b = version_key(left), version_key(right)
    return (a > b) - (a < b)


def newest(versions):
    """The highest of the R versions given, or None."""
    versions = list(versions)
    return max(versions, key=version_key) if versions else None


class VersionConstraint:
    """One or more clauses ``OP VERSION``, all of which a version must satisfy."""

    def __init__(self, clauses):
        self.clauses = tuple(clauses)

    def allows(self, version):
        key = version_key(version)
        return all(OPERATORS[op](key, version_key(bound)) for op, bound in self.clauses)

    @property
    def pinned(self):
        """The version of an ``==`` clause, or None."""
        for op, bound in self.clauses:
            if op == '==':
                return bound
        return None

    def __str__(self):
        return ', '.join('%s %s' % clause for clause in self.clauses)

    def __repr__(self):
        return 'VersionConstraint(%r)' % (str(self),)


def parse_constraint(text):
    """Parse ``1.2.3`` (meaning ``== 1.2.3``) or comma-separated clauses such as ``>= 1.0, < 2.0``.

    Raises RConstraintError saying which part is wrong.
    """
    if not isinstance(text, str) or not text.strip():
        raise RConstraintError('a version constraint must be a non-empty string such as "1.2.3" or ">= 1.0, < 2.0"')
    clauses = []
    for raw in text.split(','):
        clause = raw.strip()
        match = _CLAUSE_RE.match(clause)
        if not match:
            raise RConstraintError('clause %r is not "OP VERSION" with OP one of %s' % (clause, ' '.join(OPERATORS)))
        op, version = match.group(1) or '==', match.group(2)
        if not valid_version(version):
            raise RConstraintError('%r in clause %r is not an R version (at least two numbers separated by "." or "-")' % (version, clause))
        clauses.append((op, version))
    return VersionConstraint(clauses)


def debian_to_r_version(debian_version):
    """The R version a Debian package version packages, or None when it is not one.

    ``1:1.8.4+dfsg-1`` -> ``1.8.4``: drop the epoch, the Debian revision (after the last ``-``) and
    the repack suffix Debian appends with ``+`` (``+dfsg``, ``+ds``). R versions can contain ``-``
    themselves: ``0.1.7-1-1`` packages ``0.1.7-1``. A pre-release (``2.0~rc1``) is no R version.
    """
    if not debian_version:
        return None
    upstream = re.sub(r'^[0-9]+:', '', debian_version.strip())
    if '-' in upstream:
        upstream = upstream.rsplit('-', 1)[0]
    upstream = upstream.split('+', 1)[0]
    return upstream if valid_version(upstream) else None


def debian_package_name(name):
    """Debian's package of the CRAN package ``name``: r-cran-<lowercased name>."""
    return 'r-cran-' + name.lower()


def parse_apt_policy(stdout):
    """(installed, candidate) Debian versions from ``apt-cache policy PKG``; None for ``(none)``.

    An unknown package prints nothing: (None, None).
    """
    if not stdout.strip():
        return None, None
    found = {}
    for line in stdout.splitlines():
        match = re.match(r'^\s+(Installed|Candidate):\s*(\S+)\s*$', line)
        if match:
            found.setdefault(match.group(1), None if match.group(2) == '(none)' else match.group(2))
    if 'Candidate' not in found:
        raise ROutputError('no "Candidate:" line in the output of apt-cache policy')
    return found.get('Installed'), found['Candidate']


def parse_dpkg_owner(stdout):
    """The packages that ``dpkg -S PATH`` says own PATH (``pkg1, pkg2: /path``)."""
    owners = []
    for line in stdout.splitlines():
        if ': ' not in line or line.startswith('diversion by'):
            continue
        owners.extend(name.strip() for name in line.split(': ', 1)[0].split(','))
    if not owners:
        raise ROutputError('no "package: path" line in the output of dpkg -S')
    return [owner.split(':', 1)[0] for owner in owners]


def parse_apt_simulation(stdout):
    """The packages ``apt-get -s remove`` would remove (its ``Remv NAME [...]`` lines)."""
    return [line.split()[1] for line in stdout.splitlines() if line.startswith('Remv ') and len(line.split()) > 1]


# Every record an R snippet prints, with the number of values after the key.
RECORD_FIELDS = {
    'libpath': 1,      # a library of .libPaths(), in order
    'installed': 2,    # version, library: one per library holding the package
    'reachable': 1,    # repository whose index was read
    'unreachable': 2,  # repository, R's message
    'available': 2,    # version, repository
    'archive': 2,      # version, URL of the tarball in <repo>/src/contrib/Archive/<name>/
    'unlisted': 1,     # archive directory URL that could not be listed
    'failure': 1,      # an error or warning while installing or removing
}


def parse_records(stdout, fields=None):
    """Parse ``key<TAB>value...`` lines strictly: an unknown key or a wrong number of values raises ROutputError."""
    fields = RECORD_FIELDS if fields is None else fields
    records = []
    for number, line in enumerate(stdout.splitlines(), 1):
        if not line:
            continue
        key, values = line.split('\t', 1)[0], line.split('\t')[1:]
        if key not in fields:
            raise ROutputError('line %d is not a record: %r' % (number, line))
        if len(values) != fields[key]:
            raise ROutputError('line %d: record %r needs %d values, got %d: %r' % (number, key, fields[key], len(values), line))
        records.append((key, values))
    return records


def parse_marked_records(stdout, marker, fields):
    """Parse the lines that start with ``marker<TAB>`` as parse_records does; every other line is ignored.

    For snippets that run someone else's code, which may print anything (an API's top-level code):
    only a line that starts with the marker is a record.
    """
    prefix = marker + '\t'
    return parse_records('\n'.join(line[len(prefix):] for line in stdout.splitlines() if line.startswith(prefix)), fields)


def record_values(records, key):
    """The values of every record ``key``, in order."""
    return [values for name, values in records if name == key]


def output_tail(text, lines=20):
    """The last ``lines`` non-empty lines of ``text``: where R and the compiler say what went wrong."""
    kept = [line for line in (text or '').splitlines() if line.strip()]
    return '\n'.join(kept[-lines:])


# --- R snippets --------------------------------------------------------------------------------
# Each starts with _PRELUDE. emit() collapses whitespace inside values so a record stays one line.

_PRELUDE = r'''args <- commandArgs(trailingOnly = TRUE)
emit <- function(key, ...) cat(paste(c(key, gsub("[[:space:]]+", " ", c(...))), collapse = "\t"), "\n", sep = "")
'''

# Runs expr with R's console on stderr; errors and warnings become failure records, except the
# ones about an unreachable extra repository (the package may still come from another one).
_GUARDED = r'''failures <- character()
guarded <- function(expr) {
  sink(stderr())
  on.exit(sink())
  withCallingHandlers(
    tryCatch(expr, error = function(e) failures <<- c(failures, conditionMessage(e))),
    warning = function(w) {
      message <- conditionMessage(w)
      if (!grepl("unable to access index|^URL '.*': status was", message)) failures <<- c(failures, message)
      invokeRestart("muffleWarning")
    })
  invisible(NULL)
}
'''

# args: name [lib]. Prints .libPaths() and every library (lib first) holding the package.
STATE_SCRIPT = _PRELUDE + r'''name <- args[[1L]]
for (lib in .libPaths()) emit("libpath", lib)
for (lib in unique(normalizePath(c(args[-1L], .libPaths()), mustWork = FALSE))) {
  # What find.package() checks, without its shortcut that finds base packages in any library.
  if (file.exists(file.path(lib, name, "Meta", "package.rds"))) {
    emit("installed", read.dcf(file.path(lib, name, "DESCRIPTION"), fields = "Version")[1L, 1L], lib)
  }
}
'''

# args: name repo... Reads each repository's source index on its own, to say which one failed.
AVAILABLE_SCRIPT = _PRELUDE + r'''name <- args[[1L]]
for (repo in args[-1L]) {
  problems <- character()
  db <- withCallingHandlers(
    tryCatch(utils::available.packages(repos = repo, type = "source"),
             error = function(e) { problems <<- c(problems, conditionMessage(e)); NULL }),
    warning = function(w) { problems <<- c(problems, conditionMessage(w)); invokeRestart("muffleWarning") })
  if (is.null(db) || any(grepl("unable to access index", problems, fixed = TRUE))) {
    emit("unreachable", repo, paste(unique(c(problems[length(problems)], problems[1L])), collapse = "; "))
  } else {
    emit("reachable", repo)
    for (version in db[db[, "Package"] == name, "Version"]) emit("available", version, repo)
  }
}
'''

# args: name version repo... CRAN's archive has no index: with a version, probe its tarball's URL;
# with an empty version, list the directory (file:// or an HTTP server's directory listing).
ARCHIVE_SCRIPT = _PRELUDE + r'''name <- args[[1L]]
version <- args[[2L]]
pattern <- paste0(gsub(".", "\\.", name, fixed = TRUE), "_([0-9]+([.-][0-9]+)+)[.]tar[.]gz")
for (repo in args[-(1:2)]) {
  dir <- sprintf("%s/src/contrib/Archive/%s/", sub("/+$", "", repo), name)
  local <- startsWith(dir, "file://")
  if (nzchar(version)) {
    url <- paste0(dir, name, "_", version, ".tar.gz")
    found <- if (local) file.exists(sub("^file://", "", url)) else
      isTRUE(tryCatch(attr(curlGetHeaders(url), "status") == 200L, error = function(e) FALSE))
    if (found) emit("archive", version, url)
    next
  }
  files <- if (local) list.files(sub("^file://", "", dir)) else
    tryCatch(suppressWarnings(unlist(regmatches(html <- readLines(dir, warn = FALSE), gregexpr(pattern, html)))),
             error = function(e) NULL)
  if (is.null(files)) {
    emit("unlisted", dir)
    next
  }
  for (file in unique(grep(paste0("^", pattern, "$"), files, value = TRUE))) {
    emit("archive", sub(paste0("^", pattern, "$"), "\\1", file), paste0(dir, file))
  }
}
'''

# args: name lib repo...
INSTALL_SCRIPT = _PRELUDE + _GUARDED + r'''guarded(utils::install.packages(args[[1L]], lib = args[[2L]], repos = args[-(1:2)], type = "source",
                                keep_outputs = file.path(tempdir(), "logs")))
for (failure in failures) emit("failure", failure)
'''

# args: name url lib repo... Downloads an archived tarball, installs the dependencies it names that
# are missing from the repositories, then the tarball itself (R CMD INSTALL, as install.packages
# with repos = NULL does, but with its output kept in order on stderr).
ARCHIVE_INSTALL_SCRIPT = _PRELUDE + _GUARDED + r'''name <- args[[1L]]
url <- args[[2L]]
lib <- args[[3L]]
repos <- args[-(1:3)]
work <- tempfile("archive")
dir.create(work)
tarball <- file.path(work, basename(url))
guarded({
  utils::download.file(url, tarball, mode = "wb", quiet = TRUE)
  utils::untar(tarball, files = paste0(name, "/DESCRIPTION"), exdir = work)
  fields <- read.dcf(file.path(work, name, "DESCRIPTION"), fields = c("Depends", "Imports", "LinkingTo"))
  deps <- trimws(sub("[(].*", "", unlist(strsplit(fields[!is.na(fields)], ","))))
  deps <- unique(deps[nzchar(deps) & deps != "R"])
  libs <- c(lib, .libPaths())
  missing <- deps[!vapply(deps, function(dep) length(find.package(dep, lib.loc = libs, quiet = TRUE)) > 0L, logical(1L))]
  if (length(missing)) {
    utils::install.packages(missing, lib = lib, repos = repos, type = "source", keep_outputs = file.path(work, "logs"))
  }
  log <- file.path(work, "install.log")
  status <- system2(file.path(R.home("bin"), "R"), c("CMD", "INSTALL", paste0("--library=", shQuote(lib)), shQuote(tarball)),
                    stdout = log, stderr = log, env = paste0("R_LIBS=", shQuote(paste(unique(libs), collapse = ":"))))
  writeLines(readLines(log), stderr())
  if (status != 0L) stop(sprintf("installation of %s had non-zero exit status %d", basename(url), status))
})
for (failure in failures) emit("failure", failure)
'''

# args: name lib
REMOVE_SCRIPT = _PRELUDE + _GUARDED + r'''guarded(utils::remove.packages(args[[1L]], lib = args[[2L]]))
for (failure in failures) emit("failure", failure)
'''


class RResult:
    def __init__(self, cmd, rc, stdout, stderr, records):
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.records = records

    def values(self, key):
        return record_values(self.records, key)

    @property
    def failures(self):
        return [values[0] for values in self.values('failure')]


class Rscript:
    """Runs the snippets above with ``module.run_command`` and parses their records."""

    def __init__(self, module, executable):
        self.module = module
        self.executable = executable

    def command(self, script, *args):
        return [self.executable, '--vanilla', '-e', script] + list(args)

    def run(self, script, *args):
        """Run a snippet; output that does not parse fails the module, whatever the exit code."""
        cmd = self.command(script, *args)
        # No expansion of '$' or '~': the snippet and the arguments reach R as they are.
        rc, stdout, stderr = self.module.run_command(cmd, environ_update=R_ENVIRON, expand_user_and_vars=False)
        try:
            records = parse_records(stdout)
        except ROutputError as exc:
            self.module.fail_json(msg='could not parse the output of Rscript (rc %s): %s' % (rc, exc),
                                  cmd=cmd, rc=rc, stdout=stdout, stderr=stderr)
        return RResult(cmd, rc, stdout, stderr, records)

    def query(self, script, *args):
        """Run a read-only snippet; a non-zero exit code fails the module with R's stderr."""
        result = self.run(script, *args)
        if result.rc != 0:
            self.module.fail_json(msg='Rscript failed (rc %s): %s' % (result.rc, output_tail(result.stderr) or 'no output'),
                                  cmd=result.cmd, rc=result.rc, stdout=result.stdout, stderr=result.stderr)
        return result
