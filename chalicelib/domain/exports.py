"""Files staff download (导出): CSV written one way, every cell made safe for spreadsheet programs.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a formula by
Excel or WPS (`=HYPERLINK(...)`, `=cmd|...`): `safe_cell` puts an apostrophe before it, so what residents
wrote stays text.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet should show it: text that could start a formula is neutralised."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """CSV with a BOM (UTF-8: Excel then reads the Chinese correctly), every cell safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return "\ufeff" + out.getvalue()
