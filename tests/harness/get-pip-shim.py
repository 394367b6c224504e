"""Stand-in for pip's get-pip.py, which ansible-test downloads from a host this network cannot reach.

ansible-test runs it inside a fresh venv with pip-install arguments (for example `pip==24.2
--no-setuptools --no-wheel`); Python's own ensurepip plus PyPI give the same result. ansible-test
hides pip's configuration (PIP_CONFIG_FILE=/dev/null), so the system CA bundle is named here:
HTTPS to PyPI goes through an intercepting proxy. pip >= 24.2 then trusts the system store itself.
"""

import ensurepip
import os
import subprocess
import sys

BUNDLE = '/etc/ssl/certs/ca-certificates.crt'
ensurepip.bootstrap(upgrade=True)
args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
if os.path.exists(BUNDLE):
    args = ['--cert', BUNDLE] + args
subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--disable-pip-version-check', '-q'] + args)
