"""Test instances only: Python keeps the bytecode of the modules Ansible sends.

Ansible runs each task's module from a zip file in a new temporary directory, and Python compiles
every source file it imports from a zip anew (zipimport writes no bytecode). On these instances,
which run thousands of tasks per scenario, that compilation was about half of each module's time
(a `ping`: 0.45 s, 0.21 s with this). Compiled code is kept by the SHA-256 of the interpreter's
magic number, the file's path inside the zip and its source, so what runs is what the source says;
file names in tracebacks are the current ones. Loaded at interpreter start by
ansible-bytecode-cache.pth; anything that goes wrong here falls back to compiling.
"""
import _imp
import hashlib
import marshal
import os
import zipimport
from importlib._bootstrap_external import MAGIC_NUMBER

_DIR = '/var/cache/ansible-bytecode'
_compile = zipimport._compile_source


def _compile_source(pathname, source):
    inner = pathname.rsplit('.zip' + os.sep, 1)[-1]
    key = hashlib.sha256(MAGIC_NUMBER + inner.encode('utf-8', 'surrogateescape') + b'\0' + source).hexdigest()
    path = os.path.join(_DIR, key)
    try:
        with open(path, 'rb') as handle:
            code = marshal.load(handle)
        _imp._fix_co_filename(code, pathname)
        return code
    except (OSError, ValueError, EOFError, TypeError):
        pass
    code = _compile(pathname, source)
    try:
        os.makedirs(_DIR, mode=0o700, exist_ok=True)
        tmp = '%s.%d' % (path, os.getpid())
        with open(tmp, 'wb') as handle:
            marshal.dump(code, handle)
        os.replace(tmp, path)
    except OSError:
        pass
    return code


zipimport._compile_source = _compile_source
