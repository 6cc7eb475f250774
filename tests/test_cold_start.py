"""A container's first callback pays for no library it does not need: zhconv's table is read without
`pkg_resources` (which cost ~80 ms on first use). Checked in a fresh interpreter."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_traditional_input_is_converted_without_importing_pkg_resources():
    script = ("import sys\n"
              "from chalicelib.domain.text import normalise\n"
              "assert normalise('後天有沒有餃子　ＯＫ') == '后天有没有饺子 OK', normalise('後天有沒有餃子　ＯＫ')\n"
              "assert 'pkg_resources' not in sys.modules\n"
              "import pkg_resources  # still importable afterwards: only zhconv's own import was spared it\n")
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
