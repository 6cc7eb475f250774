"""Normalising what residents type: traditional → simplified (zhconv), full-width → half-width, spaces.

Residents write 聽說社區食堂 as often as 听说社区食堂, and ＡＢＣ１２３ or 'ｈｅｌｐ' from some keyboards; rules
match the normalised text, while the resident's own words are kept as sent.
"""
from __future__ import annotations

import importlib.resources
import json
import sys
import unicodedata
from functools import lru_cache

from chalicelib.domain.patterns import lazy_re

_SPACES = lazy_re(r"\s+")
# Characters outside XML 1.0's Char production: C0 controls other than TAB/LF/CR, lone surrogates, U+FFFE and
# U+FFFF. Listed rather than negated: a negated class spanning Unicode costs a cold start ~5 ms to compile.
_NOT_XML = lazy_re("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}  # ！..～ -> !..~ (ASCII block only)
_FULLWIDTH[0x3000] = 0x20  # ideographic space


def normalise(text: str | None) -> str:
    """Simplified, half-width (，！？ become ,!?; 。、 stay), single spaces, trimmed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).translate(_FULLWIDTH)
    text = _convert()(text, "zh-cn")
    return _SPACES.sub(" ", text).strip()


def xml_safe(value: str | None) -> str:
    """`value` without the characters XML 1.0 cannot carry (for WeChat's XML, Open311's and .xlsx cells)."""
    return _NOT_XML.sub("", value or "")


@lru_cache(maxsize=1)
def _convert():
    """zhconv's `convert`, imported on first use (its table is large) WITHOUT `pkg_resources`: zhconv
    imports it only to open its own JSON table, and that import alone cost ~80 ms of a container's first
    callback. Blocked for that one import, zhconv falls back to a plain file; the table itself is read
    here with `importlib.resources`."""
    blocked = "pkg_resources" not in sys.modules
    if blocked:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment] - makes `import pkg_resources` fail
    try:
        from zhconv import zhconv as module
    finally:
        if blocked:
            del sys.modules["pkg_resources"]
    if module.zhcdicts is None:
        table = json.loads(importlib.resources.files("zhconv").joinpath("zhcdict.json").read_bytes())
        table["SIMPONLY"], table["TRADONLY"] = frozenset(table["SIMPONLY"]), frozenset(table["TRADONLY"])
        module.zhcdicts = table
    return module.convert
