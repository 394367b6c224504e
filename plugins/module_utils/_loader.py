# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way plumber.hosting loads a plumber API, written once in R.

Three programs run it: the Rscript wrapper of every worker (``roles/api/templates/run-api.R.j2``
embeds it through the lookup ``plumber.hosting.r_code``), the pre-flight check of
``plumber.hosting.plumber_api`` (before a deploy replaces the running code) and the image build
(``run-<name>.R --check``). So an API that passes the check is loaded by the workers exactly as it
was checked: plumber attached, the same working directory, environment variables and R options,
the same choice of file, the same health route.
"""

from __future__ import annotations

import math

# Defines .plumber_hosting, an environment with:
#   load_api(dir, entrypoint, health, docs, name, worker, data, options) -> the router to run
#   routes(pr) -> data.frame(method, path) of every endpoint, mounted routers included
# `entrypoint` "" finds the API as plumb(dir = ".") does: entrypoint.R (sourced; the router it
# returns is the API) else plumber.R. An entrypoint.R named explicitly is loaded the same way, from
# its own directory; any other file is parsed as an annotated plumber file.
LOADER_R = r'''.plumber_hosting <- local({
  routes <- function(pr, prefix = "") {
    found <- data.frame(method = character(), path = character(), stringsAsFactors = FALSE)
    for (group in pr$endpoints) for (endpoint in group) for (verb in endpoint$verbs) {
      found[nrow(found) + 1L, ] <- c(toupper(verb), paste0(prefix, endpoint$path))
    }
    for (mount in names(pr$mounts)) {
      if (inherits(pr$mounts[[mount]], "Plumber")) found <- rbind(found, routes(pr$mounts[[mount]], paste0(prefix, sub("/$", "", mount))))
    }
    found
  }
  # Static file mounts (@assets, pr_static) answer requests too: an API of only those is an API.
  static_mounts <- function(pr) {
    sum(vapply(pr$mounts, function(mount) if (inherits(mount, "PlumberStatic")) 1L else static_mounts(mount), integer(1L)))
  }

  # The API's environment file, as the api role writes it: NAME="JSON string" per line, so any
  # value (quotes, $, backslashes, newlines) arrives exactly as given; readRenviron() would expand
  # ${...} and stop at a newline.
  read_env <- function(file) {
    for (line in readLines(file, warn = FALSE, encoding = "UTF-8")) {
      found <- regmatches(line, regexec('^([A-Za-z_][A-Za-z0-9_]*)=(".*")$', line))[[1L]]
      if (length(found) == 3L) do.call(Sys.setenv, stats::setNames(list(jsonlite::fromJSON(found[[3L]])), found[[2L]]))
    }
  }

  load_api <- function(dir, entrypoint = "", health = "/healthz", docs = FALSE, name = "api", worker = NA,
                       data = "", options = list()) {
    if (length(options)) base::options(options)
    Sys.setenv(PLUMBER_API = name, PLUMBER_WORKER = as.character(worker), PLUMBER_DATA = data)
    # Attached, as in a session that ran library(plumber): APIs use its exports (%>%, pr_*, Plumber)
    # without attaching it themselves.
    suppressPackageStartupMessages(library(plumber))
    setwd(dir)
    if (!nzchar(entrypoint)) {
      found <- c(list.files(".", "^entrypoint[.]r$", ignore.case = TRUE), list.files(".", "^plumber[.]r$", ignore.case = TRUE))
      if (!length(found)) plumber::plumb(dir = ".")  # fails with plumber's own message
      entrypoint <- found[[1L]]
    }
    # For a syntax error plumb() only says "Error sourcing <file>": parse first, for R's message with line and column.
    parse(entrypoint, keep.source = FALSE, encoding = "UTF-8")
    sourced <- tolower(basename(entrypoint)) == "entrypoint.r"
    pr <- if (sourced) plumber::plumb(dir = dirname(entrypoint)) else plumber::plumb(entrypoint)
    own <- routes(pr)
    if (nrow(own) == 0L && static_mounts(pr) == 0L) {
      stop(entrypoint, " defines no routes (no @get, @post ... endpoint, no mounted router or static files)",
           if (sourced) ": entrypoint.R must end with the router it builds" else "",
           call. = FALSE)
    }
    # The health path answers before any filter of the API (an authentication filter would refuse
    # the balancer's checks), unless the API defines that path itself.
    if (!health %in% own$path) {
      pr <- plumber::pr_get(pr, health, function() list(status = "ok", api = name, worker = worker),
                            serializer = plumber::serializer_unboxed_json(), preempt = "__first__")
    }
    plumber::pr_set_docs(pr, isTRUE(docs))
  }

  environment()
})
'''

# Adds to .plumber_hosting, for the workers only (the pre-flight check serves nothing):
#   recycle(pr, health, memory_mb, requests) -> pr, whose worker recycles itself past those limits
RECYCLE_R = r'''# The API's `recycle`: once past memory_mb of resident memory or `requests` answered, the worker
# answers its health path with 503, so each balancer that checks it takes it out of rotation
# (HAProxy: after `fall` failed checks). When every address that checked it in the last 15 s has
# seen that many failures, no request is in flight and none came for a second, it exits, and its
# process manager starts a new one, which the balancers let in once healthy. No request is lost:
# none is sent to it any more when it exits. Unchecked (no balancer), it exits once idle; after
# 10 minutes of draining it exits anyway.
.plumber_hosting$recycle <- function(pr, health = "/healthz", memory_mb = 0, requests = 0, fall = 3L) {
  if (memory_mb <= 0 && requests <= 0) return(invisible(pr))
  state <- new.env()
  state$served <- 0
  state$inflight <- 0L
  state$recycling <- FALSE
  state$checks <- list()
  state$last <- Sys.time()
  resident_mb <- function() {
    status <- tryCatch(readLines("/proc/self/status", warn = FALSE), error = function(e) character())
    kb <- suppressWarnings(as.numeric(sub("^VmRSS:[[:space:]]*([0-9]+) kB$", "\\1", grep("^VmRSS:", status, value = TRUE))))
    if (length(kb) == 1L && !is.na(kb)) kb / 1024 else 0
  }
  seconds <- function(since) as.numeric(difftime(Sys.time(), since, units = "secs"))
  watch <- function() {
    recent <- Filter(function(check) seconds(check$at) < 15, state$checks)
    drained <- all(vapply(recent, function(check) check$failed >= fall, logical(1L)))
    if ((drained && state$inflight == 0L && seconds(state$last) >= 1) || seconds(state$since) >= 600) {
      message(sprintf("plumber.hosting: worker recycled (%s): it exits, its process manager starts a new one", state$why))
      quit(save = "no", status = 0L)
    }
    later::later(watch, 0.25)
  }
  pr$registerHooks(list(
    preroute = function(req) {
      if (!identical(req$PATH_INFO, health)) state$inflight <- state$inflight + 1L
    },
    postroute = function(req, res, value) {
      if (!identical(req$PATH_INFO, health)) return(value)
      if (state$recycling) {
        res$status <- 503L
        check <- state$checks[[req$REMOTE_ADDR]]
        state$checks[[req$REMOTE_ADDR]] <- list(failed = if (is.null(check)) 1L else check$failed + 1L, at = Sys.time())
      }
      value
    },
    postserialize = function(req, res, value) {
      if (identical(req$PATH_INFO, health)) return(value)
      state$inflight <- max(0L, state$inflight - 1L)
      state$served <- state$served + 1
      state$last <- Sys.time()
      if (!state$recycling) {
        mb <- if (memory_mb > 0) resident_mb() else 0
        why <- if (requests > 0 && state$served >= requests) {
          sprintf("%.0f requests answered", state$served)
        } else if (memory_mb > 0 && mb > memory_mb) {
          sprintf("%.0f MB resident, past %.0f MB", mb, memory_mb)
        }
        if (!is.null(why)) {
          state$recycling <- TRUE
          state$why <- why
          state$since <- Sys.time()
          message(sprintf("plumber.hosting: recycling this worker (%s): its health checks fail until the balancers drain it", why))
          later::later(watch, 0.25)
        }
      }
      value
    }
  ))
  invisible(pr)
}
'''

# What the Rscript wrapper of every worker embeds (lookup plumber.hosting.r_code, `loader`).
WORKER_R = LOADER_R + RECYCLE_R

_ESCAPES = {'\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t'}


def _r_string(text):
    if '\x00' in text:
        raise ValueError('R strings cannot hold a NUL character: %r' % (text,))
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7f:
            out.append('\\x%02x' % ord(char))
        else:
            out.append(char)
    return '"%s"' % ''.join(out)


def r_literal(value):
    """``value`` as R source that evaluates to it: whatever a string holds, R reads back the same string.

    The wrapper template (filter ``plumber.hosting.r_literal``) and plumber_api write the R options
    of an API with it, so both hand R the same text. Raises ValueError for what R cannot hold.
    """
    if value is None:
        return 'NULL'
    if isinstance(value, bool):
        return 'TRUE' if value else 'FALSE'
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value):
            return 'NaN'
        if math.isinf(value):
            return 'Inf' if value > 0 else '-Inf'
        return repr(value)
    if isinstance(value, str):
        return _r_string(value)
    if isinstance(value, dict):
        return 'list(%s)' % ', '.join('%s = %s' % (_r_string(str(key)), r_literal(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return 'list(%s)' % ', '.join(r_literal(item) for item in value)
    raise ValueError('cannot write a %s as R: %r' % (type(value).__name__, value))
