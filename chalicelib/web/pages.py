"""Server-rendered pages (页面) for residents: the H5 forms and the canteen's large-type menu.

Templates are HTML files in `web/templates/`; a file holds named blocks, each starting at a line
`<!--# name -->`, addressed as "file:block" (`render("h5:filed", number=...)`). A block is a
`string.Template`: `$name` or `${name}` is replaced by a value, and every value is HTML-escaped (quotes
included) unless it is `Markup` — what `render` itself returns, so blocks nest without double escaping
and nothing a resident typed can reach the page unescaped. A missing value is an error, not a blank.

One stylesheet, `web/static/pages.css`, read once at import, is inlined into every page's `<style>`
and allowed by its SHA-256 hash in the Content-Security-Policy: no `'unsafe-inline'`, no script at all,
no outside asset, no extra request on a slow phone. 大字 (large type) is the class `large` on `<html>`.

Jinja2 was measured and left out: it adds ~45 ms to a cold `import app` (12% of chalice + botocore +
pynamodb alone) for pages that need no more than substitution and escaping.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import html
import re
from pathlib import Path
from string import Template
from typing import Any, Iterable

from chalice import Response

from chalicelib.domain.patterns import lazy_re

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STYLESHEET = (HERE / "static" / "pages.css").read_text(encoding="utf-8")
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLESHEET.encode("utf-8")).digest()).decode()
BLOCK_RE = lazy_re(r"^<!--# ([a-z_]+) -->\n", re.MULTILINE)

CSP = (f"default-src 'none'; style-src '{STYLE_HASH}'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
BASE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Referrer-Policy": "no-referrer",  # the OAuth callback's URL holds a code
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CSP,
}
# Personal data, and forms carrying a session's token.
PRIVATE_HEADERS = {**BASE_HEADERS, "Cache-Control": "no-store"}
# Public pages (the canteen menu): a short shared cache.
PUBLIC_HEADERS = {**BASE_HEADERS, "Cache-Control": "public, max-age=300"}


class Markup(str):
    """HTML that is already safe (rendered from a template): inserted as is."""


class _Block(Template):
    pass


def escape(value: Any) -> Markup:
    """A value as HTML: Markup unchanged, None as nothing, anything else escaped (quotes too)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


@functools.cache
def _blocks(file: str) -> dict[str, _Block]:
    text = (TEMPLATES / f"{file}.html").read_text(encoding="utf-8")
    parts = BLOCK_RE.split(text)
    if parts[0].strip():
        raise ValueError(f"{file}.html: text before the first block")
    names, bodies = parts[1::2], parts[2::2]
    if len(set(names)) != len(names):
        raise ValueError(f"{file}.html: a block name is used twice")
    return {name: _Block(body.rstrip("\n")) for name, body in zip(names, bodies)}


def render(name: str, /, **values: Any) -> Markup:
    """Block `name` ("file:block") with `values` escaped (except Markup)."""
    file, _, block = name.partition(":")
    template = _blocks(file)[block]
    return Markup(template.substitute({key: escape(value) for key, value in values.items()}))


def each(name: str, /, rows: Iterable[dict[str, Any]]) -> Markup:
    """Block `name` once per row, joined."""
    return Markup("".join(render(name, **row) for row in rows))


def when(condition: Any, name: str, /, **values: Any) -> Markup:
    """Block `name` if `condition`, else nothing."""
    return render(name, **values) if condition else Markup("")


def block_names(file: str) -> list[str]:
    return list(_blocks(file))


def document(title: str, body: Markup, large: bool = False, top: Markup = Markup("")) -> str:
    """A whole page: the shared stylesheet, `top` (the type-size link) above `<main>`."""
    return render("document:page", title=title, style=Markup(STYLESHEET), html_class="large" if large else "standard",
                  top=top, body=body)


def respond(title: str, body: Markup, status: int = 200, large: bool = False, top: Markup = Markup(""),
            public: bool = False) -> Response:
    return Response(body=document(title, body, large, top), status_code=status,
                    headers=dict(PUBLIC_HEADERS if public else PRIVATE_HEADERS))
