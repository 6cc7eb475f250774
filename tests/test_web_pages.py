"""The residents' pages render from templates (`chalicelib/web/templates/`) with the one stylesheet
(`chalicelib/web/static/pages.css`), allowed by its hash in a strict Content-Security-Policy, and escape
everything a resident (or staff) typed: the renderer on its own, then every page the routes serve, with
hostile input in every field a page echoes. Last, the pages in Chromium: the stylesheet applies under
the CSP (its hash is right), 大字 is larger, and axe finds no serious or critical violation."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from string import Template
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from app import app
from chalicelib.routes import canteens as canteen_routes
from chalicelib.web import pages, session
from chalicelib.web.pages import Markup, each, render, when

SAFE = "xianggang-huayuan"
RESIDENT = "o-web-resident"
CANTEEN = "xianggang-huayuan-canteen"
HOSTILE = '<script>alert("x")</script>\'"&'
HOST = {"Host": "h5.test"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


# ---- the renderer ----------------------------------------------------------------------------------

def test_values_are_escaped_by_default_and_markup_is_not_escaped_twice():
    shown = render("common:message", title=HOSTILE, text=Markup("<b>粗</b>"))
    assert "<script>" not in shown and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#x27;&quot;&amp;" in shown
    assert "<b>粗</b>" in shown and isinstance(shown, Markup)
    nested = render("common:message", title="外", text=render("common:message", title=HOSTILE, text=""))
    assert "&amp;lt;" not in nested and "&lt;script&gt;" in nested  # a rendered block is not escaped again
    assert each("h5:error_item", [{"text": "<i>"}, {"text": "b"}]) == "<li>&lt;i&gt;</li><li>b</li>"
    assert when(False, "h5:error_item", text="x") == "" and when(None, "h5:error_item") == ""
    assert render("h5:error_item", text=None) == "<li></li>"


def test_a_missing_value_is_an_error_not_a_blank():
    with pytest.raises(KeyError):
        render("common:message", title="只有标题")


def blocks():
    for path in sorted((ROOT / "chalicelib" / "web" / "templates").glob("*.html")):
        for name in pages.block_names(path.stem):
            yield f"{path.stem}:{name}"


def test_every_block_of_every_template_renders_hostile_values_escaped():
    found = list(blocks())
    assert {"document:page", "h5:request_form", "h5:profile_form", "canteen:menu"} <= set(found)
    for name in found:
        file, _, block = name.partition(":")
        identifiers = Template(pages._blocks(file)[block].template).get_identifiers()
        shown = render(name, **{key: HOSTILE for key in identifiers})
        assert "<script" not in shown and "alert(&quot;x&quot;)" in shown or not identifiers, name
        assert re.search(r"\$\w", shown) is None, name  # every placeholder was filled


def test_the_stylesheet_is_one_file_its_hash_is_in_the_csp_and_nothing_is_inline_else():
    assert "'unsafe-inline'" not in pages.CSP and "script-src" not in pages.CSP
    assert pages.STYLE_HASH in pages.CSP and "default-src 'none'" in pages.CSP
    for path in (ROOT / "chalicelib" / "web" / "templates").glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "style=" not in text and "<script" not in text and "http" not in text, path.name
    assert (ROOT / "chalicelib" / "routes" / "canteens.py").read_text().count("font:") <= 1  # only the staff print page
    assert "<style" not in (ROOT / "chalicelib" / "routes" / "h5.py").read_text()


# ---- every page the routes serve -----------------------------------------------------------------

@pytest.fixture
def http(seed, morning):
    with Client(app, stage_name="test") as client:
        yield client.http


def signed_in(openid: str = RESIDENT) -> tuple[dict[str, str], str]:
    token, resident = session.issue(SAFE, openid)
    return {**HOST, "Cookie": f"h5s={token}"}, resident.csrf


def post(http, page: str, headers: dict, fields: dict):
    return http.post(f"/h5/{SAFE}/{page}", headers={**headers, **FORM}, body=urlencode(fields))


def assert_house_page(answer, status: int = 200) -> str:
    """A page of the house: the one stylesheet inlined once, the strict CSP, hostile input escaped."""
    assert answer.status_code == status, answer.body[:500]
    body = answer.body.decode()
    assert answer.headers["Content-Security-Policy"] == pages.CSP
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert re.findall(r"<style>(.*?)</style>", body, re.S) == [pages.STYLESHEET]
    assert body.count("<style") == 1 and "<script" not in body and "style=" not in body
    assert "alert(\"x\")" not in body and "'\"&" not in body
    return body


def test_the_request_form_echoes_hostile_input_escaped(http):
    headers, csrf = signed_in()
    form = assert_house_page(http.get(f"/h5/{SAFE}/request", headers=headers))
    assert 'name="text"' in form and "no-store" in http.get(f"/h5/{SAFE}/request", headers=headers).headers[
        "Cache-Control"]
    # phone and address without consent: the form comes back with everything typed, escaped
    again = post(http, "request", headers, {"csrf": csrf, "text": HOSTILE, "phone": HOSTILE, "address": HOSTILE})
    body = assert_house_page(again, 400)
    assert body.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#x27;&quot;&amp;") >= 3
    # filed: the page echoes the number, the team and the reply
    filed = post(http, "request", headers, {"csrf": csrf, "text": "楼道灯坏了" + HOSTILE})
    assert "纸条编号" in assert_house_page(filed)
    duplicate = post(http, "request", headers, {"csrf": csrf, "text": "楼道灯坏了" + HOSTILE})
    assert "已经提交过" in assert_house_page(duplicate)
    forged = post(http, "request", headers, {"csrf": HOSTILE, "text": "灯坏了"})
    assert "页面已过期" in assert_house_page(forged, 403)


def test_the_profile_pages_echo_hostile_input_escaped(http):
    headers, csrf = signed_in()
    assert "还没有登记" in assert_house_page(http.get(f"/h5/{SAFE}/profile", headers=headers))
    fields = {"csrf": csrf, "name": HOSTILE[:40], "address": HOSTILE, "phone": "13812345678",
              "household_size": "2", "mobility": "行动不便", "dietary_notes": HOSTILE, "relation": "self",
              "consent": "yes"}
    saved = assert_house_page(post(http, "profile", headers, fields))
    assert "<dd>&lt;script&gt;" in saved
    shown = assert_house_page(http.get(f"/h5/{SAFE}/profile", headers=headers))
    assert 'value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#x27;&quot;&amp;"' in shown
    assert "删除我的资料" in shown
    rejected = post(http, "profile", headers, {**fields, "phone": HOSTILE, "household_size": HOSTILE,
                                               "mobility": HOSTILE, "relation": HOSTILE})
    body = assert_house_page(rejected, 400)
    assert '<option value="&lt;script&gt;' in body and "删除我的资料" in body  # still registered: may delete
    assert "请选择是本人登记" in body and 'id="relation-self" type="radio" name="relation" value="self" checked' in body
    asked = assert_house_page(post(http, "profile", headers, {"csrf": csrf, "action": "delete"}))
    assert "确定删除" in asked
    deleted = assert_house_page(post(http, "profile", headers, {"csrf": csrf, "action": "delete", "confirm": "yes"}))
    assert "已删除" in deleted
    nothing = assert_house_page(post(http, "profile", headers, {"csrf": csrf, "action": "delete"}))
    assert "没有登记过" in nothing


def test_refusals_and_unknown_accounts_are_house_pages(http):
    assert "没有这个公众号" in assert_house_page(http.get("/h5/no-such-account/request", headers=HOST), 404)
    bad_next = http.get(f"/h5/{SAFE}/start?" + urlencode({"next": HOSTILE}), headers=HOST)
    assert "链接不正确" in assert_house_page(bad_next, 400)
    stale = http.get(f"/h5/{SAFE}/oauth?" + urlencode({"code": "abc", "state": HOSTILE}), headers=HOST)
    body = assert_house_page(stale, 400)
    assert "链接已过期" in body and f'href="/h5/{SAFE}/start?next=/h5/{SAFE}/request"' in body
    large = assert_house_page(http.get(f"/h5/{SAFE}/profile?large=1", headers=signed_in()[0]))
    assert '<html lang="zh-CN" class="large">' in large and f'href="/h5/{SAFE}/profile">标准字号' in large


def test_the_canteen_menu_is_a_house_page_and_escapes_dish_names(http, monkeypatch):
    page = http.get(f"/h5/canteens/{CANTEEN}")
    body = assert_house_page(page)
    assert "public" in page.headers["Cache-Control"] and 'class="menu"' in body and ">大字</a>" in body
    assert '<html lang="zh-CN" class="large">' in assert_house_page(http.get(f"/h5/canteens/{CANTEEN}?large=1"))
    assert "没有这个食堂" in assert_house_page(http.get("/h5/canteens/nowhere"), 404)

    hostile_menu = {"canteen": {"name": HOSTILE, "elder_subsidy_fen": 300}, "menus": [
        {"date": "2026-12-01", "published": True, "meals": {"lunch": {
            "dishes": [{"name": HOSTILE, "price_fen": 1200, "marks": [HOSTILE]}],
            "sets": [{"name": HOSTILE, "dishes": [HOSTILE, "米饭"], "price_fen": 1500}]}}},
        {"date": "2026-12-02", "published": False, "meals": {}}]}
    monkeypatch.setattr(canteen_routes.canteen_desk, "public_menus", lambda *args: hostile_menu)
    body = assert_house_page(http.get(f"/h5/canteens/{CANTEEN}"))
    assert body.count("&lt;script&gt;alert(&quot;x&quot;)") >= 5  # title, heading, dish, mark, set and its dishes
    assert "每餐补贴" in body and "菜单还没有发布" in body and "午餐" in body


# ---- in Chromium: the CSP lets the stylesheet apply, and axe ------------------------------------

@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install Debian's package (`apt-get install -y chromium`)",
                    pytrace=False)
    return CHROMIUM


def test_the_pages_in_chromium_styled_under_the_csp_and_pass_axe(http, chromium_path, tmp_path):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    headers, csrf = signed_in()
    served = {  # path -> (status, headers, body) as the platform answered
        "/request": http.get(f"/h5/{SAFE}/request", headers=headers),
        "/request-errors": post(http, "request", headers, {"csrf": csrf, "text": " ", "phone": "x"}),
        "/profile": http.get(f"/h5/{SAFE}/profile", headers=headers),
        "/profile-large": http.get(f"/h5/{SAFE}/profile?large=1", headers=headers),
        "/filed": post(http, "request", headers, {"csrf": csrf, "text": "3号楼楼道灯坏了"}),
        "/menu": http.get(f"/h5/canteens/{CANTEEN}"),
        "/menu-large": http.get(f"/h5/canteens/{CANTEEN}?large=1"),
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            blocked: list[str] = []
            page.on("console", lambda message: blocked.append(message.text)
                    if "Content Security Policy" in message.text else None)

            def answer(route):
                response = served[route.request.url.removeprefix("http://h5.test")]
                route.fulfill(status=response.status_code, body=response.body,
                              headers={k: v for k, v in response.headers.items() if k.lower() != "set-cookie"})
            page.route("http://h5.test/**", answer)
            violations = {}
            for path, response in served.items():
                assert response.status_code in (200, 400), (path, response.status_code)
                page.goto(f"http://h5.test{path}")
                size = page.evaluate("getComputedStyle(document.documentElement).fontSize")
                assert size == ("28px" if path.endswith("-large") else "22px"), (path, size, blocked)
                results = Axe().run(page).response.get("violations", [])
                violations[path] = [f"{v['id']} ({v['impact']}): {v['help']}" for v in results
                                    if v.get("impact") in ("serious", "critical")]
            assert not blocked, blocked
            assert not any(violations.values()), json.dumps(violations, ensure_ascii=False, indent=1)
        finally:
            browser.close()


def test_the_pages_cost_no_template_library_at_import():
    """Jinja2 was measured (~45 ms of a cold start) and not taken: the renderer is `string.Template`."""
    code = "import sys, app; sys.exit(1 if {'jinja2', 'markupsafe'} & set(sys.modules) else 0)"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "STAGE": "test", "AWS_DEFAULT_REGION": "cn-north-1"})
    assert run.returncode == 0, run.stderr[-2000:]
