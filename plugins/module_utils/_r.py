# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""R on the managed host: package names, version constraints, Debian's r-cran-* packages, Rscript.

Everything a module needs to drive R lives here once: the rules R applies to package names and
versions (so a bad value is rejected before anything runs), the mapping of a Debian version to the R
version it packages, the R snippets the modules run and the strict parser of what they print.

The R snippets are constants: a module runs ``Rscript --vanilla -e <SNIPPET> <args...>`` and the
snippet reads its variable data from ``commandArgs(trailingOnly = TRUE)``. They print one record per
line to stdout, ``key<TAB>value<TAB>...``; everything else R says (messages, compiler output) goes to
stderr. RESOLVER_R, the package resolution of hosts and images, is R source defining functions; r_package
sends it on stdin (RESOLVER_CALL), the api_image role's packages.R embeds it.
"""

from __future__ import annotations

import operator
import re

PACKAGE_NAME_RE = re.compile(r'^[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]\Z')

# R's package_version(): at least two non-negative integers separated by '.' or '-'.
VERSION_RE = re.compile(r'^[0-9]+(?:[.-][0-9]+)+\Z')

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


def debian_package_name(name):
    """Debian's package of the CRAN package ``name``: r-cran-<lowercased name>."""
    return 'r-cran-' + name.lower()


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
    # RESOLVER_R's records (ph_module_main), besides the ones above:
    'debian': 3,       # Debian package, its candidate version ('' for none), why it is not used ('' when usable)
    'plan': 4,         # source (none, apt, repository, archive), version, URL ('' unless archive), library
    'binary_dependency': 2,  # Debian package installed first for a source install's dependency, its R version
    'after': 2,        # version, library R finds after installing
    'error': 1,        # the message, as the hex of its UTF-8 bytes (it may span lines)
    'done': 0,         # the last record of a run that did not fail
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

# args: name lib
REMOVE_SCRIPT = _PRELUDE + _GUARDED + r'''guarded(utils::remove.packages(args[[1L]], lib = args[[2L]]))
for (failure in failures) emit("failure", failure)
'''


# R package resolution, written once: r_package runs it (RESOLVER_CALL) and every image's packages.R
# embeds it (lookup plumber.hosting.r_code 'packages'). Longer than Rscript -e accepts (10000
# bytes), so r_package sends it on stdin.
RESOLVER_R = r'''# plumber.hosting: R package resolution, one algorithm for hosts (plumber.hosting.r_package) and
# images (the api_image role's packages.R). Defines functions only; nothing runs until one is called.
#
# For one package and a version constraint, the first of these that satisfies it wins:
#   1. the installed copy R finds first (state "present"; with "latest" only when nothing newer is offered),
#   2. Debian's r-cran-<name> binary (apt-get), when R is the distribution's R, apt exists, we are root and
#      no copy in a library searched before the Debian library would hide it,
#   3. the newest version in the CRAN-like repositories (compiled from source),
#   4. the newest matching version in the repositories' Archive/ (CRAN's layout).
# With "latest", 2 and 3 compete and the higher version wins (the binary on a tie).
# A source install first takes its missing hard dependencies from Debian binaries when they satisfy.
# Every failure is an R error naming the package, the constraint and what was found where.

ph_debian_library <- "/usr/lib/R/site-library"

ph_tail <- function(lines, n = 20L) {
  lines <- lines[nzchar(trimws(lines))]
  paste(utils::tail(lines, n), collapse = "\n")
}

# "1.2.3" (meaning == 1.2.3) or clauses "OP VERSION" separated by commas -> list of list(op, version).
ph_clauses <- function(constraint) {
  if (is.null(constraint) || is.na(constraint) || !nzchar(trimws(constraint))) return(list())
  lapply(trimws(strsplit(paste0(constraint, " "), ",", fixed = TRUE)[[1L]]), function(clause) {
    parts <- regmatches(clause, regexec("^(==|!=|>=|<=|>|<)?[[:space:]]*([0-9]+([.-][0-9]+)+)$", clause))[[1L]]
    if (!length(parts)) {
      stop(sprintf("version constraint '%s': clause '%s' is not \"OP VERSION\" with OP one of == != >= <= > <",
                   constraint, clause), call. = FALSE)
    }
    list(op = if (nzchar(parts[[2L]])) parts[[2L]] else "==", version = parts[[3L]])
  })
}

ph_constraint_text <- function(clauses) {
  paste(vapply(clauses, function(clause) paste(clause$op, clause$version), ""), collapse = ", ")
}

ph_allows <- function(version, clauses) {
  if (is.null(version) || is.na(version)) return(FALSE)
  for (clause in clauses) {
    if (!isTRUE(match.fun(clause$op)(package_version(version), package_version(clause$version)))) return(FALSE)
  }
  TRUE
}

ph_pinned <- function(clauses) {
  for (clause in clauses) if (clause$op == "==") return(clause$version)
  ""
}

ph_newest <- function(versions) {
  versions <- unique(versions[!is.na(versions)])
  if (!length(versions)) return(NA_character_)
  versions[[order(package_version(versions), decreasing = TRUE)[[1L]]]]
}

# 1:1.8.4+dfsg-1 -> 1.8.4: no epoch, no Debian revision, no repack suffix; NA when no R version.
ph_debian_to_r <- function(debian) {
  if (is.null(debian) || is.na(debian) || !nzchar(debian)) return(NA_character_)
  upstream <- sub("^[0-9]+:", "", trimws(debian))
  if (grepl("-", upstream, fixed = TRUE)) upstream <- sub("-[^-]*$", "", upstream)
  upstream <- sub("[+].*$", "", upstream)
  if (grepl("^[0-9]+([.-][0-9]+)+$", upstream)) upstream else NA_character_
}

ph_debian_package <- function(name) paste0("r-cran-", tolower(name))

# Can Debian binaries serve this R? They install into the Debian library, for the distribution's R,
# through apt, as root. apt_update: run apt-get update once, before the first binary is looked up
# (images, whose apt lists are usually empty).
ph_system <- function(prefer_binary = TRUE, apt_update = FALSE, debian_library = ph_debian_library,
                      user = Sys.info()[["effective_user"]]) {
  why <- character()
  if (!isTRUE(prefer_binary)) {
    why <- "prefer_binary is off"
  } else {
    home <- normalizePath(R.home(), mustWork = FALSE)
    if (home != "/usr/lib/R") why <- c(why, sprintf("R is not the distribution's R (R.home() is %s)", home))
    if (!normalizePath(debian_library, mustWork = FALSE) %in% normalizePath(.libPaths(), mustWork = FALSE)) {
      why <- c(why, sprintf("%s is not in .libPaths()", debian_library))
    }
    for (tool in c("apt-cache", "apt-get")) if (!nzchar(Sys.which(tool))) why <- c(why, sprintf("no %s on PATH", tool))
    if (user != "root") why <- c(why, sprintf("running as %s, not root", user))
  }
  apt <- new.env()
  apt$updated <- !isTRUE(apt_update)
  list(binaries = !length(why), prefer_binary = isTRUE(prefer_binary), why = paste(why, collapse = "; "),
       debian_library = normalizePath(debian_library, mustWork = FALSE), apt = apt)
}

# Runs a command with its output in a log; the log is copied to stderr. list(status, output).
ph_command <- function(command, args, env = character()) {
  log <- tempfile("command", fileext = ".log")
  status <- suppressWarnings(system2(command, args, stdout = log, stderr = log, env = c("LC_ALL=C", env)))
  output <- if (file.exists(log)) readLines(log, warn = FALSE) else character()
  writeLines(output, stderr())
  list(status = status, output = output)
}

ph_apt_get <- function(args, what) {
  result <- ph_command("apt-get", args, "DEBIAN_FRONTEND=noninteractive")
  if (result$status != 0L) stop(sprintf("%s failed: rc %d\n%s", what, result$status, ph_tail(result$output)), call. = FALSE)
  invisible(result)
}

# The Debian version apt would install for r-cran-<name>, NA when there is none.
ph_apt_candidate <- function(package, system) {
  if (!system$apt$updated) {
    ph_apt_get(c("update"), "apt-get update (to look up Debian's r-cran-* packages)")
    system$apt$updated <- TRUE
  }
  output <- suppressWarnings(system2("apt-cache", c("policy", package), stdout = TRUE, stderr = TRUE, env = "LC_ALL=C"))
  status <- attr(output, "status")
  if (!is.null(status) && status != 0L) {
    stop(sprintf("apt-cache policy %s failed (rc %d): %s", package, status, ph_tail(output)), call. = FALSE)
  }
  candidate <- sub("^[[:space:]]+Candidate:[[:space:]]*", "", grep("^[[:space:]]+Candidate:", output, value = TRUE))
  if (!length(candidate)) {
    if (any(startsWith(output, paste0(package, ":")))) {
      stop(sprintf("apt-cache policy %s printed no \"Candidate:\" line: %s", package, ph_tail(output)), call. = FALSE)
    }
    return(NA_character_)
  }
  if (candidate[[1L]] == "(none)") NA_character_ else trimws(candidate[[1L]])
}

# Every library R searches, lib first, as the worker and this process see them.
ph_libraries <- function(lib = NULL) {
  lib <- if (is.null(lib) || is.na(lib) || !nzchar(lib)) character() else lib
  unique(normalizePath(c(lib, .libPaths()), mustWork = FALSE))
}

# list(list(version, lib)) for every library holding the package, in search order: the first one wins.
ph_installed <- function(name, libs) {
  copies <- list()
  for (lib in libs) {
    # What find.package() checks, without its shortcut that finds base packages in any library.
    if (file.exists(file.path(lib, name, "Meta", "package.rds"))) {
      version <- unname(read.dcf(file.path(lib, name, "DESCRIPTION"), fields = "Version")[1L, 1L])
      copies[[length(copies) + 1L]] <- list(version = version, lib = lib)
    }
  }
  copies
}

# Debian's offer: list(package, debian, version, usable, note). A binary goes to the Debian library: a
# copy in a library R searches before it would hide the binary, so the binary is not used then.
ph_debian_offer <- function(name, libs, system) {
  offer <- list(package = ph_debian_package(name), debian = NA_character_, version = NA_character_, usable = FALSE, note = "")
  if (!system$binaries) {
    offer$note <- system$why
    return(offer)
  }
  offer$debian <- ph_apt_candidate(offer$package, system)
  offer$version <- ph_debian_to_r(offer$debian)
  position <- match(system$debian_library, libs)
  earlier <- if (is.na(position)) libs else libs[seq_len(position - 1L)]
  hiding <- ph_installed(name, earlier)
  if (length(hiding)) {
    offer$note <- sprintf("not used: R finds %s %s in %s before %s", name, hiding[[1L]]$version, hiding[[1L]]$lib,
                          system$debian_library)
  } else {
    offer$usable <- !is.na(offer$version)
  }
  offer
}

# Each repository's source index on its own, to say which one failed.
ph_read_repositories <- function(name, repos) {
  found <- list(reachable = character(), unreachable = list(), available = list(), db = NULL)
  for (repo in repos) {
    problems <- character()
    db <- withCallingHandlers(
      tryCatch(utils::available.packages(repos = repo, type = "source"),
               error = function(e) { problems <<- c(problems, conditionMessage(e)); NULL }),
      warning = function(w) { problems <<- c(problems, conditionMessage(w)); invokeRestart("muffleWarning") })
    if (is.null(db) || any(grepl("unable to access index", problems, fixed = TRUE))) {
      message <- paste(unique(c(problems[length(problems)], problems[1L])), collapse = "; ")
      found$unreachable[[length(found$unreachable) + 1L]] <- list(repo = repo, message = gsub("[[:space:]]+", " ", message))
      next
    }
    found$reachable <- c(found$reachable, repo)
    found$db <- rbind(found$db, db)
    for (version in db[db[, "Package"] == name, "Version"]) {
      found$available[[length(found$available) + 1L]] <- list(version = version, repo = repo)
    }
  }
  found
}

# CRAN's Archive/ has no index: a pinned version's tarball is probed, else the directory is listed
# (file:// or an HTTP server's directory listing).
ph_read_archive <- function(name, pinned, repos) {
  found <- list(archived = list(), unlisted = character())
  pattern <- paste0(gsub(".", "\\.", name, fixed = TRUE), "_([0-9]+([.-][0-9]+)+)[.]tar[.]gz")
  for (repo in repos) {
    dir <- sprintf("%s/src/contrib/Archive/%s/", sub("/+$", "", repo), name)
    local <- startsWith(dir, "file://")
    if (nzchar(pinned)) {
      url <- paste0(dir, name, "_", pinned, ".tar.gz")
      exists <- if (local) file.exists(sub("^file://", "", url)) else
        isTRUE(tryCatch(attr(curlGetHeaders(url), "status") == 200L, error = function(e) FALSE))
      if (exists) found$archived[[length(found$archived) + 1L]] <- list(version = pinned, url = url)
      next
    }
    files <- if (local) list.files(sub("^file://", "", dir)) else
      tryCatch(suppressWarnings(unlist(regmatches(html <- readLines(dir, warn = FALSE), gregexpr(pattern, html)))),
               error = function(e) NULL)
    if (is.null(files)) {
      found$unlisted <- c(found$unlisted, dir)
      next
    }
    for (file in unique(grep(paste0("^", pattern, "$"), files, value = TRUE))) {
      found$archived[[length(found$archived) + 1L]] <-
        list(version = sub(paste0("^", pattern, "$"), "\\1", file), url = paste0(dir, file))
    }
  }
  found
}

ph_found_text <- function(plan) {
  copies <- plan$installed
  found <- sprintf("installed %s", if (length(copies)) sprintf("%s (%s)", copies[[1L]]$version, copies[[1L]]$lib) else "none")
  debian <- plan$debian
  if (!is.null(debian) && plan$system$prefer_binary) {
    found <- c(found, sprintf("Debian package %s %s%s", debian$package, if (is.na(debian$debian)) "none" else debian$debian,
                              if (nzchar(debian$note)) sprintf(" (%s)", debian$note) else ""))
  }
  if (!is.null(plan$repositories)) {
    offered <- vapply(plan$repositories$available, function(a) sprintf("%s (%s)", a$version, a$repo), "")
    found <- c(found, sprintf("repositories %s", if (length(offered)) paste(offered, collapse = ", ") else "none"))
  }
  if (!is.null(plan$archive)) {
    archived <- vapply(plan$archive$archived, function(a) a$version, "")
    found <- c(found, sprintf("archive %s", if (length(archived)) paste(archived, collapse = ", ") else "none"))
  }
  paste(found, collapse = "; ")
}

ph_unreachable_text <- function(unreachable) {
  paste(vapply(unreachable, function(u) sprintf("%s (%s)", u$repo, u$message), ""), collapse = "; ")
}

ph_not_found <- function(plan) {
  unreachable <- plan$repositories$unreachable
  tail <- if (length(unreachable)) sprintf("; these repositories could not be reached: %s", ph_unreachable_text(unreachable)) else ""
  nothing <- !length(plan$installed) && (is.null(plan$debian) || is.na(plan$debian$debian)) &&
    !length(plan$repositories$available) && (is.null(plan$archive) || !length(plan$archive$archived))
  if (nothing) {
    debian <- if (plan$system$binaries) sprintf(" (and no Debian package %s)", plan$debian$package) else
      if (plan$system$prefer_binary) sprintf(" (Debian packages not used: %s)", plan$system$why) else ""
    stop(sprintf("R package '%s' is not available from the repositories %s%s%s", plan$name,
                 paste(plan$repos, collapse = ", "), debian, tail), call. = FALSE)
  }
  hint <- ""
  if (!is.null(plan$archive) && length(plan$archive$unlisted)) {
    hint <- sprintf("; the archives %s cannot be listed: to install an archived version, pin it with \"== VERSION\"",
                    paste(plan$archive$unlisted, collapse = ", "))
  }
  stop(sprintf("no version of R package '%s' satisfies '%s'. Found: %s%s%s", plan$name, plan$constraint,
               ph_found_text(plan), hint, tail), call. = FALSE)
}

# What to do for one package: plan$source is "none", "apt", "repository" or "archive". Reads only.
# emit(key, ...) is told what is found, as it is found (r_package prints it as records).
ph_plan <- function(name, constraint = "", state = c("present", "latest"), repos = getOption("repos"), lib = NULL,
                    system = ph_system(), emit = function(key, ...) invisible(NULL)) {
  state <- match.arg(state)
  clauses <- ph_clauses(constraint)
  libs <- ph_libraries(lib)
  plan <- list(name = name, constraint = ph_constraint_text(clauses), clauses = clauses, state = state, repos = repos,
               libs = libs, system = system, source = "none", version = NA_character_, url = "", lib = libs[[1L]])
  for (path in .libPaths()) emit("libpath", path)
  plan$installed <- ph_installed(name, libs)
  for (copy in plan$installed) emit("installed", copy$version, copy$lib)
  current <- if (length(plan$installed)) plan$installed[[1L]] else NULL
  satisfied <- !is.null(current) && ph_allows(current$version, clauses)
  decide <- function(source, version, url = "") {
    plan$source <- source
    plan$version <- version
    plan$url <- url
    if (source == "apt") plan$lib <- system$debian_library
    if (source == "none") plan$lib <- current$lib
    emit("plan", source, version, url, plan$lib)
    plan
  }
  if (state == "present" && satisfied) return(decide("none", current$version))

  plan$debian <- ph_debian_offer(name, libs, system)
  if (plan$system$prefer_binary) emit("debian", plan$debian$package, if (is.na(plan$debian$debian)) "" else plan$debian$debian, plan$debian$note)
  apt_fits <- plan$debian$usable && ph_allows(plan$debian$version, clauses)
  if (state == "present" && apt_fits) return(decide("apt", plan$debian$version))

  plan$repositories <- ph_read_repositories(name, repos)
  for (repo in plan$repositories$reachable) emit("reachable", repo)
  for (u in plan$repositories$unreachable) emit("unreachable", u$repo, u$message)
  for (a in plan$repositories$available) emit("available", a$version, a$repo)
  if (!length(plan$repositories$reachable)) {
    stop(sprintf("R package '%s'%s: none of the repositories could be reached: %s", name,
                 if (length(clauses)) sprintf(" (%s)", plan$constraint) else "",
                 ph_unreachable_text(plan$repositories$unreachable)), call. = FALSE)
  }
  newest <- ph_newest(vapply(plan$repositories$available, function(a) a$version, ""))
  repo_fits <- !is.na(newest) && ph_allows(newest, clauses)
  if (state == "present" && repo_fits) return(decide("repository", newest))
  if (state == "latest") {
    best <- NULL
    if (apt_fits) best <- list(source = "apt", version = plan$debian$version)
    if (repo_fits && (is.null(best) || package_version(newest) > package_version(best$version))) {
      best <- list(source = "repository", version = newest)
    }
    if (satisfied && (is.null(best) || package_version(current$version) >= package_version(best$version))) {
      return(decide("none", current$version))
    }
    if (!is.null(best)) return(decide(best$source, best$version))
  }
  if (length(clauses)) {
    plan$archive <- ph_read_archive(name, ph_pinned(clauses), plan$repositories$reachable)
    for (a in plan$archive$archived) emit("archive", a$version, a$url)
    for (dir in plan$archive$unlisted) emit("unlisted", dir)
    fitting <- Filter(function(a) ph_allows(a$version, clauses), plan$archive$archived)
    if (length(fitting)) {
      best <- fitting[[order(package_version(vapply(fitting, function(a) a$version, "")), decreasing = TRUE)[[1L]]]]
      return(decide("archive", best$version, best$url))
    }
  }
  ph_not_found(plan)
}

# Runs expr with R's console and messages in a log (copied to stderr afterwards). Errors and
# warnings become failures, except the ones about an unreachable extra repository (the package
# may still come from another one). list(failures, output).
ph_logged <- function(expr) {
  log <- tempfile("install", fileext = ".log")
  con <- file(log, open = "wt")
  failures <- character()
  sink(con)
  sink(con, type = "message")
  tryCatch(
    withCallingHandlers(expr, warning = function(w) {
      message <- conditionMessage(w)
      if (!grepl("unable to access index|^URL '.*': status was", message)) failures <<- c(failures, message)
      invokeRestart("muffleWarning")
    }),
    error = function(e) failures <<- c(failures, conditionMessage(e)),
    finally = {
      sink(type = "message")
      sink()
      close(con)
    })
  output <- readLines(log, warn = FALSE)
  writeLines(output, stderr())
  list(failures = failures, output = output)
}

# list(name, constraint) of the hard dependencies (Depends, Imports, LinkingTo) in DESCRIPTION fields.
ph_requirements <- function(fields) {
  items <- trimws(unlist(strsplit(fields[!is.na(fields)], ",", fixed = TRUE)))
  items <- items[nzchar(items)]
  lapply(items, function(item) {
    list(name = trimws(sub("[(].*", "", item)),
         constraint = if (grepl("(", item, fixed = TRUE)) trimws(sub(".*[(]([^)]*)[)].*", "\\1", item)) else "")
  })
}

# The dependencies a source install would compile that Debian ships as binaries satisfying every
# requirement on them: installed with one apt-get first. Recursive through the repositories' index,
# except below a binary (apt brings its own dependencies). Returns the Debian packages installed.
ph_binary_dependencies <- function(plan, fields, emit) {
  system <- plan$system
  if (!system$binaries) return(character())
  db <- plan$repositories$db
  hard <- c("Depends", "Imports", "LinkingTo")
  wanted <- list()     # name -> constraints asked by the packages to compile
  binaries <- list()   # name -> Debian offer
  queue <- ph_requirements(fields)
  seen <- character()
  while (length(queue)) {
    req <- queue[[1L]]
    queue <- queue[-1L]
    if (req$name == "R" || !nzchar(req$name)) next
    wanted[[req$name]] <- c(wanted[[req$name]], req$constraint)
    if (req$name %in% seen) next
    seen <- c(seen, req$name)
    if (length(ph_installed(req$name, plan$libs))) next
    offer <- ph_debian_offer(req$name, plan$libs, system)
    if (offer$usable) {
      binaries[[req$name]] <- offer
      next
    }
    row <- if (is.null(db)) integer() else which(db[, "Package"] == req$name)
    if (length(row)) queue <- c(queue, ph_requirements(db[row[[1L]], intersect(hard, colnames(db))]))
  }
  fits <- Filter(function(dep) {
    all(vapply(wanted[[dep]], function(constraint) {
      isTRUE(tryCatch(ph_allows(binaries[[dep]]$version, ph_clauses(constraint)), error = function(e) FALSE))
    }, logical(1L)))
  }, names(binaries))
  if (!length(fits)) return(character())
  packages <- vapply(fits, function(dep) binaries[[dep]]$package, "")
  ph_apt_get(c("install", "-y", "--no-install-recommends", packages),
             sprintf("installing the dependencies of R package '%s' from Debian (%s)", plan$name, paste(packages, collapse = " ")))
  for (dep in fits) emit("binary_dependency", binaries[[dep]]$package, binaries[[dep]]$version)
  packages
}

# Carries out a plan and checks that R now finds a version that satisfies it. Returns the plan with
# after = list(version, lib).
ph_install <- function(plan, emit = function(key, ...) invisible(NULL)) {
  if (plan$source == "none") return(plan)
  from <- if (nzchar(plan$url)) plan$url else plan$source
  what <- sprintf("installing R package '%s' %s from %s", plan$name, plan$version, from)
  if (plan$source == "apt") {
    ph_apt_get(c("install", "-y", "--no-install-recommends", plan$debian$package), what)
  } else {
    dir.create(plan$lib, recursive = TRUE, showWarnings = FALSE)
    work <- tempfile("packages")
    dir.create(work)
    hard <- c("Depends", "Imports", "LinkingTo")
    if (plan$source == "repository") {
      db <- plan$repositories$db
      row <- which(db[, "Package"] == plan$name & db[, "Version"] == plan$version)
      ph_binary_dependencies(plan, db[row[[1L]], intersect(hard, colnames(db))], emit)
      result <- ph_logged(utils::install.packages(plan$name, lib = plan$lib, repos = plan$repositories$reachable,
                                                  type = "source", keep_outputs = file.path(work, "logs")))
    } else {
      tarball <- file.path(work, basename(plan$url))
      result <- ph_logged(utils::download.file(plan$url, tarball, mode = "wb", quiet = TRUE))
      if (!length(result$failures)) {
        utils::untar(tarball, files = paste0(plan$name, "/DESCRIPTION"), exdir = work)
        fields <- read.dcf(file.path(work, plan$name, "DESCRIPTION"), fields = hard)[1L, ]
        ph_binary_dependencies(plan, fields, emit)
        result <- ph_logged({
          deps <- vapply(ph_requirements(fields), function(req) req$name, "")
          deps <- unique(deps[deps != "R"])
          missing <- deps[!vapply(deps, function(dep) length(ph_installed(dep, plan$libs)) > 0L, logical(1L))]
          if (length(missing)) {
            utils::install.packages(missing, lib = plan$lib, repos = plan$repositories$reachable, type = "source",
                                    keep_outputs = file.path(work, "logs"))
          }
          log <- file.path(work, "install.log")
          status <- system2(file.path(R.home("bin"), "R"), c("CMD", "INSTALL", paste0("--library=", shQuote(plan$lib)), shQuote(tarball)),
                            stdout = log, stderr = log, env = paste0("R_LIBS=", shQuote(paste(plan$libs, collapse = ":"))))
          writeLines(readLines(log))
          if (status != 0L) stop(sprintf("installation of %s had non-zero exit status %d", basename(tarball), status))
        })
      }
    }
    if (length(result$failures)) {
      stop(sprintf("%s failed: %s\n%s", what, result$failures[[1L]], ph_tail(result$output)), call. = FALSE)
    }
  }
  copies <- ph_installed(plan$name, plan$libs)
  after <- if (length(copies)) copies[[1L]] else NULL
  if (is.null(after) || !ph_allows(after$version, plan$clauses) || package_version(after$version) < package_version(plan$version)) {
    stop(sprintf("installed R package '%s' %s from %s, but R now reports %s", plan$name, plan$version, from,
                 if (is.null(after)) "it is not installed" else sprintf("version %s in %s", after$version, after$lib)), call. = FALSE)
  }
  emit("after", after$version, after$lib)
  plan$after <- after
  plan
}

# Installs several packages in order, the way an image build does: one requirement per name
# (constraints combined, the first repos win), each resolved and installed before the next, apt-get
# update at most once and only when a binary is looked up. Prints one line per package.
ph_install_packages <- function(packages, repos = getOption("repos"), lib = .libPaths()[[1L]], prefer_binary = TRUE) {
  merged <- list()
  for (p in packages) {
    m <- if (is.null(merged[[p$name]])) list(name = p$name, version = character(), repos = NULL) else merged[[p$name]]
    version <- if (is.null(p$version)) "" else p$version
    if (nzchar(version) && !version %in% m$version) m$version <- c(m$version, version)
    if (is.null(m$repos) && length(p$repos)) m$repos <- p$repos
    # Where the code uses a package it does not list (plumber.hosting.api finds those): for the error.
    if (is.null(m$used_at) && length(p$used_at)) m$used_at <- p$used_at
    merged[[p$name]] <- m
  }
  system <- ph_system(prefer_binary = prefer_binary, apt_update = TRUE)
  for (m in merged) {
    constraint <- paste(m$version, collapse = ", ")
    plan <- tryCatch({
      plan <- ph_plan(m$name, constraint, repos = if (is.null(m$repos)) repos else m$repos, lib = lib, system = system)
      ph_install(plan)
    }, error = function(e) {
      if (is.null(m$used_at)) stop(e)
      stop(sprintf("R package '%s', used at %s and not in the API's packages, cannot be installed: %s",
                   m$name, m$used_at, conditionMessage(e)), call. = FALSE)
    })
    shown <- if (nzchar(constraint)) sprintf(" (%s)", constraint) else ""
    if (plan$source == "none") {
      message(sprintf("R package %s%s: %s already installed in %s", m$name, shown, plan$version, plan$lib))
    } else {
      message(sprintf("R package %s%s: installed %s from %s into %s", m$name, shown, plan$after$version,
                      if (nzchar(plan$url)) plan$url else plan$source, plan$after$lib))
    }
  }
  invisible(NULL)
}

# apt's lists older than an hour or never read, as the apt module's cache_valid_time 3600 tells it (the
# stamp of apt's periodic update, else the lists directory): r_package reads them again before it looks
# up a binary then. Hosts whose packages are all installed have had no apt run to refresh them.
ph_apt_lists_stale <- function(max_age = 3600) {
  stamp <- "/var/lib/apt/periodic/update-success-stamp"
  mtime <- file.mtime(if (file.exists(stamp)) stamp else "/var/lib/apt/lists")
  is.na(mtime) || as.numeric(difftime(Sys.time(), mtime, units = "secs")) > max_age
}

# plumber.hosting.r_package's entry point. args: mode (plan|apply) name constraint state lib prefer_binary repo...
# Prints records key<TAB>value...; the last one is "done", or "error" with the message as hex of its UTF-8 bytes.
# system: ph_system() for prefer_binary (tests pass their own, with a stand-in Debian library).
ph_module_main <- function(args, system = ph_system(prefer_binary = args[[6L]] == "true", apt_update = ph_apt_lists_stale())) {
  emit <- function(key, ...) cat(paste(c(key, gsub("[[:space:]]+", " ", c(...))), collapse = "\t"), "\n", sep = "")
  hex <- function(text) paste(as.character(charToRaw(enc2utf8(text))), collapse = "")
  tryCatch({
    plan <- ph_plan(args[[2L]], args[[3L]], args[[4L]], repos = args[-(1:6)], lib = args[[5L]], system = system, emit = emit)
    if (args[[1L]] == "apply") ph_install(plan, emit)
    emit("done")
  }, error = function(e) emit("error", hex(conditionMessage(e))))
  invisible(NULL)
}
'''

# args: mode (plan|apply) name constraint state lib prefer_binary repo...; RESOLVER_R on stdin.
RESOLVER_CALL = 'source(file("stdin")); ph_module_main(commandArgs(trailingOnly = TRUE))'


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

    def run(self, script, *args, **kwargs):
        """Run a snippet (data: what R reads on stdin); output that does not parse fails the module, whatever the exit code."""
        cmd = self.command(script, *args)
        # No expansion of '$' or '~': the snippet and the arguments reach R as they are.
        rc, stdout, stderr = self.module.run_command(cmd, environ_update=R_ENVIRON, expand_user_and_vars=False, data=kwargs.get('data'))
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
