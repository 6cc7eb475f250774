"""The staff console's files, without a browser: served with the right types, UTF-8, nothing from outside,
every form control labelled. (tests/test_console_browser.py drives it in Chromium.)"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.routes import console

CONSOLE = Path(console.__file__).resolve().parent.parent / "console"
PAGES = ["/console", *(f"/console/{p}" for p in ("login", "home", "inbox", "requests", "canteen", "accounts", "audit"))]


@pytest.fixture(scope="module")
def http():
    """The console's blueprint on its own app: it needs neither AWS nor a login."""
    app = Chalice(app_name="console-test")
    app.register_blueprint(console.bp)
    with Client(app) as client:
        yield client.http


def test_the_platform_app_serves_the_console():
    from app import app

    assert "/console" in app.routes and "/console/{name}" in app.routes, (
        "register the console in app.py: `from chalicelib.routes.console import bp as console_routes` and "
        "`app.register_blueprint(console_routes)`")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_the_app_in_utf8(http, path):
    answer = http.get(path)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["Cache-Control"] == "no-cache"
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
    page = answer.body.decode("utf-8")
    assert '<html lang="zh-CN">' in page and '<meta charset="utf-8">' in page
    assert 'name="viewport"' in page
    assert "{{" not in page  # the mount point was filled in
    assert 'src="/console/app.js"' in page and 'href="/console/app.css"' in page
    assert 'content="/api/v1"' in page


def test_feature_page_scripts_are_loaded_after_the_app_and_served(http):
    page = http.get("/console").body.decode("utf-8")
    for name in console.PAGE_SCRIPTS:
        assert f'src="/console/pages/{name}"' in page
        assert page.index('src="/console/app.js"') < page.index(f'src="/console/pages/{name}"')
        answer = http.get(f"/console/pages/{name}")
        assert answer.status_code == 200 and answer.body == (CONSOLE / "pages" / name).read_bytes()
    assert http.get("/console/pages/..%2Fapp.js").status_code == 404
    assert http.get("/console/pages/nothing.js").status_code == 404


def test_the_chart_library_ships_with_the_app_and_nothing_else_is_served_from_vendor(http):
    assert "chart.umd.min.js" in console.VENDOR_SCRIPTS
    answer = http.get("/console/vendor/chart.umd.min.js")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert answer.body == (CONSOLE / "vendor" / "chart.umd.min.js").read_bytes()
    assert b"window.Chart" in answer.body and b"sourceMappingURL" not in answer.body
    for path in ("/console/vendor/README.md", "/console/vendor/chart.js.LICENSE.md", "/console/vendor/..%2Fapp.js"):
        assert http.get(path).status_code == 404


@pytest.mark.parametrize("name, content_type", sorted(console.ASSETS.items()))
def test_assets_have_their_type_and_a_short_cache(http, name, content_type):
    answer = http.get(f"/console/{name}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == content_type
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.body == (CONSOLE / name).read_bytes()


@pytest.mark.parametrize("path", ["/console/nothing", "/console/..%2Fconfig.py", "/console/index.htm",
                                  "/console/..", "/console/app.py"])
def test_anything_else_is_not_found(http, path):
    answer = http.get(path)
    assert answer.status_code == 404
    assert b"config" not in answer.body


def test_behind_api_gateway_the_stage_prefix_is_kept():
    """API Gateway's default URL carries the stage (`/api/console`): the page's URLs must too."""
    from unittest import mock

    request = mock.Mock(context={"path": "/api/console/inbox"})
    with mock.patch.object(type(console.bp), "current_request", new_callable=mock.PropertyMock, return_value=request):
        page = console._app("/console/inbox").body
    assert 'src="/api/console/app.js"' in page and 'content="/api/v1"' not in page
    assert 'content="/api/api/v1"' in page


def shipped_files() -> list[Path]:
    files = sorted(p for p in CONSOLE.iterdir() if p.is_file())
    assert {p.name for p in files} >= {"index.html", "app.js", "app.css"}
    return files


@pytest.mark.parametrize("path", shipped_files(), ids=lambda p: p.name)
def test_files_are_utf8_with_no_outside_url(path):
    text = path.read_bytes().decode("utf-8")  # raises if not UTF-8
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\(\s*['\"]?(?!data:)[a-z]+:", text, re.I), (
        f"{path.name} refers to something outside the platform")


class Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.open_labels = 0
        self.buttons: list[str] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append({**a, "_tag": tag, "_in_label": self.open_labels > 0})
        elif tag == "button":
            self._button = [a.get("aria-label") or ""]

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1
        elif tag == "button" and self._button is not None:
            self.buttons.append("".join(self._button).strip())
            self._button = None

    def handle_data(self, data):
        if self._button is not None:
            self._button.append(data)


def test_the_page_shell_labels_every_control():
    parser = Controls()
    parser.feed((CONSOLE / "index.html").read_text(encoding="utf-8"))
    for control in parser.controls:
        assert control["_in_label"] or control.get("id") in parser.label_for or control.get("aria-label"), control
    assert parser.buttons and all(parser.buttons), "every button has a name"


def test_every_control_the_app_builds_is_labelled():
    """app.js builds forms with `field(label, control)` (a <label for>) or a <label> around a checkbox; a
    control made any other way would be unlabelled."""
    js = (CONSOLE / "app.js").read_text(encoding="utf-8")
    helper = re.search(r"function select\(.*?\n  \}\n", js, re.S)  # select(): makes the control, callers label it
    assert helper
    js = js.replace(helper.group(0), "")
    made = re.findall(r"const (\w+) = (?:h\(\"(?:input|select|textarea)\"|select\()", js)
    assert len(made) >= 15, made
    for name in made:
        labelled = (re.search(rf"field\(\s*[^,()]+(?:\([^()]*\))?[^,()]*,\s*{name}\b", js)
                    or re.search(rf"h\(\"label\", \{{[^}}]*for: {name}\.id", js))
        assert labelled, f"the control `{name}` in app.js has no label"
    # no control created inline in some other call, where the check above would not see it
    inline = re.findall(r"[^=]\s(h\(\"(?:input|select|textarea)\")", js)
    assert not inline, inline


def test_the_design_rules_are_in_the_stylesheet():
    css = (CONSOLE / "app.css").read_text(encoding="utf-8")
    assert "html.large" in css  # the large-type option
    assert ":focus-visible" in css and "outline: 3px" in css  # visible focus
    assert css.count("min-height: 44px") >= 3  # touch targets
    js = (CONSOLE / "app.js").read_text(encoding="utf-8")
    assert "localStorage" in js and 'classList.toggle("large"' in js
    assert "sessionStorage" in js and "Authorization" in js
    assert ".innerHTML" not in js and "insertAdjacentHTML" not in js  # residents' text is only ever text


def contrast(fg: str, bg: str) -> float:
    def luminance(hex_colour: str) -> float:
        rgb = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("fg, bg", [
    ("#1a1a1a", "#ffffff"), ("#4a4a4a", "#ffffff"), ("#ffffff", "#1a5e20"), ("#1a5e20", "#ffffff"),
    ("#0b4f8a", "#ffffff"), ("#8a1c1c", "#fdecea"), ("#5c4400", "#fff3c4"), ("#123c7a", "#dbeafe"),
    ("#134a18", "#e8f5e9"), ("#4a4a4a", "#f3f5f3"), ("#ffffff", "#8a1c1c"), ("#1a5e20", "#e8f5e9"),
])
def test_the_palette_has_enough_contrast(fg, bg):
    assert fg in (CONSOLE / "app.css").read_text(encoding="utf-8")
    assert contrast(fg, bg) >= 4.5, f"{fg} on {bg}: {contrast(fg, bg):.2f}"
