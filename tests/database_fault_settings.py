"""Production settings for the server of tests/apu/test_database_faults.py.

The same settings as production, but static files are collected into the test's own
temporary folder, so the test never writes into this checkout's .data/staticfiles.
"""

import os
from pathlib import Path

from apu.settings import *  # noqa: F403 (every production setting, unchanged)

STATIC_ROOT = Path(os.environ["APU_TEST_STATIC_ROOT"])
