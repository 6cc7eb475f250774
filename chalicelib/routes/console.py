"""The staff console at `/console`: a small single-page app (simplified Chinese, phone and desktop) served by
the same Chalice app as the JSON API it calls, so there is no CORS and no outside asset.

The files live in `chalicelib/console/` and ship in the Lambda zip. `index.html` is answered for `/console`
and for the page names (`/console/inbox` …), with `{{ROOT}}` replaced by the path the app is mounted under
(API Gateway's stage prefix, or nothing under a custom domain and `chalice local`), for the assets' and the
API's URLs. The pages are
routed in the browser by the URL's hash (`#/inbox`, `#/requests/<number>` …); the data comes from
`/api/v1/...` with the Bearer token kept in sessionStorage.
"""
from __future__ import annotations

import functools
import html
import json
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.domain import vocabulary

bp = Blueprint(__name__)

ROOT = Path(__file__).resolve().parent.parent / "console"
# Only these files are served (no directory walking); text only, so API Gateway needs no binary types.
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
# Feature pages: every `console/pages/<name>.js` is served as `/console/pages/<name>.js` and loaded by
# index.html after app.js; each registers its own page(s) with `window.Console.register`.
PAGE_SCRIPTS = tuple(sorted(p.name for p in (ROOT / "pages").glob("*.js"))) if (ROOT / "pages").is_dir() else ()
# The page names the app knows (its own and one per feature file); `/console/<page>` answers the app,
# which opens that page.
PAGES = ("login", "home", "inbox", "requests", "canteen", "accounts", "audit",
         *(name.removesuffix(".js") for name in PAGE_SCRIPTS))
ASSET_CACHE = "public, max-age=300"  # short: a deploy shows within five minutes
# Third-party libraries shipped with the app (no CDN): `console/vendor/<file>.js`, each pinned and named by its
# version in console/vendor/README.md; loaded only by the pages that draw with them.
VENDOR_SCRIPTS = tuple(sorted(p.name for p in (ROOT / "vendor").glob("*.js"))) if (ROOT / "vendor").is_dir() else ()
VENDOR_CACHE = "public, max-age=86400"
SECURITY = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@functools.lru_cache(maxsize=None)
def _read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def _mount(actual_path: str) -> str:
    """The path prefix the browser sees: behind API Gateway's default URL the path carries the stage
    (`/api/console`), under a custom domain or `chalice local` it does not."""
    context = getattr(bp.current_request, "context", None) or {}
    full = str(context.get("path") or actual_path)
    return full[: -len(actual_path)] if full.endswith(actual_path) else ""


def _app(actual_path: str) -> Response:
    root = html.escape(_mount(actual_path), quote=True)
    scripts = "\n".join(f'<script src="{root}/console/pages/{name}" defer></script>' for name in PAGE_SCRIPTS)
    page = _read("index.html").replace("{{PAGE_SCRIPTS}}", scripts).replace("{{ROOT}}", root)
    return Response(page, status_code=200, headers={"Content-Type": "text/html; charset=utf-8",
                                                   "Cache-Control": "no-cache", **SECURITY})


def _not_found() -> Response:
    return Response('<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>未找到</title>'
                    '<p>没有这个页面。</p></html>', status_code=404,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache", **SECURITY})


@bp.route("/console", methods=["GET"])
def console_index():
    return _app("/console")


@functools.lru_cache(maxsize=1)
def vocabulary_js() -> str:
    """The platform's vocabularies for the console's scripts (one home: `domain.vocabulary`)."""
    return "window.VOCABULARY = " + json.dumps(vocabulary.as_dict(), ensure_ascii=False, sort_keys=True) + ";\n"


@bp.route("/console/{name}", methods=["GET"])
def console_file(name):
    if name == "vocabulary.js":
        return Response(vocabulary_js(), status_code=200, headers={"Content-Type": ASSETS["app.js"],
                                                                   "Cache-Control": ASSET_CACHE, **SECURITY})
    if name in ASSETS:
        return Response(_read(name), status_code=200, headers={"Content-Type": ASSETS[name],
                                                               "Cache-Control": ASSET_CACHE, **SECURITY})
    if name in PAGES or name == "index.html":
        return _app(f"/console/{name}")
    return _not_found()


@bp.route("/console/pages/{name}", methods=["GET"])
def console_page_script(name):
    if name in PAGE_SCRIPTS:
        return Response((ROOT / "pages" / name).read_text(encoding="utf-8"), status_code=200,
                        headers={"Content-Type": ASSETS["app.js"], "Cache-Control": ASSET_CACHE, **SECURITY})
    return _not_found()


@bp.route("/console/vendor/{name}", methods=["GET"])
def console_vendor_script(name):
    if name in VENDOR_SCRIPTS:
        return Response(_read(f"vendor/{name}"), status_code=200,
                        headers={"Content-Type": ASSETS["app.js"], "Cache-Control": VENDOR_CACHE, **SECURITY})
    return _not_found()
