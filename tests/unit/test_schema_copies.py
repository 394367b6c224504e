"""The API schema is written once (module_utils/_apis.py); its documented copies must match it."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_schema_copies_are_current():
    proc = subprocess.run([sys.executable, str(ROOT / 'tests/harness/sync_schema.py'), '--check'],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
