# Copyright: (c) 2026, plumber.hosting contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A plumber API's bundle for Posit Connect, as Posit's own tools (rsconnect's writeManifest) make it: the API's files
with their MD5 checksums and a manifest.json naming the R version and every R package the API needs with the fields of
its DESCRIPTION. The archive is built the same way from the same files every time (names sorted, times and owners
zeroed), so an unchanged API gives an identical manifest, which is how connect_deploy knows not to deploy it again."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tarfile

# Connect's content names: "URL-friendly", letters, digits, '-' and '_'.
CONTENT_NAME_RE = re.compile(r'^[A-Za-z0-9_-]{1,64}\Z')
# An environment variable name Connect accepts and R reads with Sys.getenv().
ENV_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*\Z')
URL_RE = re.compile(r'^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?\Z')
ENTRYPOINTS = ('plumber.R', 'entrypoint.R')
# Not part of a bundle: version control, editor and deployment state, R libraries, the manifest (it is made anew).
_SKIPPED_DIRECTORIES = frozenset(('.git', '.svn', '.hg', '.Rproj.user', 'rsconnect', 'rsconnect-python', 'packrat', '__pycache__'))
_SKIPPED_FILES = frozenset(('manifest.json', '.Rhistory', '.RData', '.DS_Store', '.Renviron'))
# renv's library (the lock file and activate script stay).
_SKIPPED_PATHS = frozenset(('renv/library', 'renv/staging', 'renv/local'))
# Connect's environment variable that records which values this module last set (its name holds the digest,
# as Connect returns the names of variables but never their values).
ENV_DIGEST_PREFIX = 'PLUMBER_HOSTING_ENV_'

# Prints, for the packages given as arguments and everything they need (Depends, Imports, LinkingTo, recursively),
# "package<TAB>name<TAB>hex of its DESCRIPTION file", or "missing<TAB>name"; R's base packages left out; then
# "r<TAB>version".
PACKAGES_SCRIPT = r'''args <- commandArgs(trailingOnly = TRUE)
ip <- installed.packages()
deps <- tools::package_dependencies(args, db = ip, which = c("Depends", "Imports", "LinkingTo"), recursive = TRUE)
wanted <- sort(unique(c(args, unlist(deps, use.names = FALSE))))
base <- rownames(ip)[ip[, "Priority"] %in% "base"]
for (name in setdiff(wanted, c(base, "R"))) {
  at <- match(name, rownames(ip))
  if (is.na(at)) {
    cat("missing\t", name, "\n", sep = "")
  } else {
    path <- file.path(ip[at, "LibPath"], name, "DESCRIPTION")
    bytes <- readBin(path, "raw", file.size(path))
    cat("package\t", name, "\t", paste(as.character(bytes), collapse = ""), "\n", sep = "")
  }
}
cat("r\t", R.version$major, ".", R.version$minor, "\n", sep = "")
'''
PACKAGES_RECORDS = {'package': 2, 'missing': 1, 'r': 1}


class BundleError(ValueError):
    """The directory cannot be a bundle (no entry point, nothing readable)."""


def bundle_files(src):
    """The files of the bundle: {path relative to src ('/'-separated): absolute path}, symbolic links followed."""
    files = {}
    for root, dirs, names in os.walk(src, followlinks=True):
        relative_root = os.path.relpath(root, src).replace(os.sep, '/')
        relative_root = '' if relative_root == '.' else relative_root + '/'
        dirs[:] = sorted(name for name in dirs
                         if name not in _SKIPPED_DIRECTORIES and relative_root + name not in _SKIPPED_PATHS)
        for name in sorted(names):
            if (relative_root == '' and name in _SKIPPED_FILES) or name in ('.DS_Store', '.Rhistory'):
                continue
            path = os.path.join(root, name)
            if os.path.isfile(path):
                files[relative_root + name] = path
    if not any(entry in files for entry in ENTRYPOINTS):
        raise BundleError('%s has neither plumber.R nor entrypoint.R at its root: Connect runs the API from one of them' % src)
    return files


def md5(path):
    digest = hashlib.md5()  # nosec: Connect's manifest checksums are MD5
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def parse_dcf(text):
    """The fields of a DESCRIPTION file (one record); continuation lines are kept, joined with newlines, as rsconnect
    writes them into the manifest."""
    fields, key = {}, None
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0] in ' \t' and key is not None:
            fields[key] += '\n' + line
            continue
        key, sep, value = line.partition(':')
        if not sep:
            raise ValueError('not a DESCRIPTION line: %r' % line)
        key = key.strip()
        fields[key] = value.strip()
    return fields


def package_source(description, repository):
    """(Source, Repository) of the manifest for an installed package, as rsconnect tells them, or raises ValueError
    when Connect could not install it (no repository or remote recorded: installed from a local file)."""
    remote = description.get('RemoteType')
    if remote in ('github', 'gitlab', 'bitbucket'):
        return remote, None
    if description.get('Repository'):
        return description['Repository'], repository
    if 'biocViews' in description:
        return 'Bioconductor', 'https://bioconductor.org/packages/release/bioc'
    raise ValueError('R package %s %s records no repository (installed from a local file?): Connect could not install it'
                     % (description.get('Package'), description.get('Version')))


def manifest(files, r_version, descriptions, repository):
    """The manifest.json of a plumber API (as a dict): files {path: absolute path}, descriptions {package: DESCRIPTION
    fields}."""
    packages = {}
    for name in sorted(descriptions):
        description = descriptions[name]
        source, repo = package_source(description, repository)
        entry = {'Source': source, 'Repository': repo, 'description': description}
        if repo is None:
            del entry['Repository']
        packages[name] = entry
    return {
        'version': 1,
        'locale': 'en_US',
        'platform': r_version,
        'metadata': {'appmode': 'api', 'primary_rmd': None, 'primary_html': None, 'content_category': None,
                     'has_parameters': False},
        'packages': packages,
        'files': dict((path, {'checksum': md5(files[path])}) for path in sorted(files)),
        'users': None,
    }


def manifest_from_file(path, files):
    """The manifest of a bundle from a manifest.json the user keeps with the code (rsconnect's writeManifest(), as for
    Connect's git-backed publishing): its R version and packages as they are, the files and their checksums made anew.
    Raises ValueError when it is not a plumber API's manifest."""
    try:
        with open(path, encoding='utf-8') as handle:
            given = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ValueError('%s does not parse as JSON: %s' % (path, exc))
    if not isinstance(given, dict) or given.get('version') != 1:
        raise ValueError('%s is not a Connect manifest (version 1)' % path)
    appmode = (given.get('metadata') or {}).get('appmode')
    if appmode != 'api':
        raise ValueError("%s has app mode %r; a plumber API's is 'api' (rsconnect::writeManifest(appMode = \"api\"))" % (path, appmode))
    packages = given.get('packages')
    if not isinstance(packages, dict) or 'plumber' not in packages:
        raise ValueError('%s lists no packages, or not plumber' % path)
    if not re.match(r'^[0-9]+\.[0-9]+(\.[0-9]+)?\Z', str(given.get('platform'))):
        raise ValueError('%s names no R version (platform %r)' % (path, given.get('platform')))
    document = dict(given)
    document['files'] = dict((name, {'checksum': md5(files[name])}) for name in sorted(files))
    return document


def manifest_text(document):
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + '\n'


def archive(files, document):
    """The bundle: a gzipped tar of manifest.json and the files, the same bytes for the same input."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode='w', format=tarfile.PAX_FORMAT) as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
        add('manifest.json', manifest_text(document).encode('utf-8'))
        for path in sorted(files):
            with open(files[path], 'rb') as handle:
                add(path, handle.read())
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode='wb', mtime=0) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def manifest_of_archive(data):
    """The manifest.json inside a bundle (bytes of a tar.gz), as a dict, or None when it has none or it does not
    parse."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode='r:*') as tar:
            for member in tar.getmembers():
                if member.name.lstrip('./') == 'manifest.json' and member.isfile():
                    return json.loads(tar.extractfile(member).read().decode('utf-8'))
    except (tarfile.TarError, OSError, ValueError, EOFError):
        return None
    return None


def files_diff(before, after):
    """'+ path', '~ path', '- path' lines between two manifests' files."""
    old = (before or {}).get('files', {})
    new = after.get('files', {})
    lines = ['+ ' + path for path in sorted(set(new) - set(old))]
    lines += ['~ ' + path for path in sorted(set(new) & set(old)) if new[path] != old[path]]
    lines += ['- ' + path for path in sorted(set(old) - set(new))]
    return lines


def env_digest_name(guid, env):
    """The name of the variable that records, on Connect, that env was set on content guid."""
    text = json.dumps([guid, sorted(env.items())], separators=(',', ':'))
    return ENV_DIGEST_PREFIX + hashlib.sha256(text.encode('utf-8')).hexdigest()[:24].upper()
