"""The figures a benchmark reports, and the one table `make bench` prints them in."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: str
    goal: str = ""
    ok: bool | None = None  # None: a reference figure without a goal

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("ok" if self.ok else "OVER")


def width(text: str) -> int:
    """Columns on a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def render(sections: list[tuple[str, list[Figure]]]) -> str:
    rows = [(f.name, f.value, f.goal, f.verdict) for _, figures in sections for f in figures]
    heads = ("figure", "value", "goal", "")
    cols = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(heads)]
    rule = "  ".join("-" * c for c in cols)
    lines = ["  ".join(pad(h, c) for h, c in zip(heads, cols)).rstrip(), rule]
    for title, figures in sections:
        lines.append(f"[{title}]")
        lines += ["  ".join(pad(cell, c) for cell, c in zip((f.name, f.value, f.goal, f.verdict), cols)).rstrip()
                  for f in figures]
    return "\n".join(lines)
