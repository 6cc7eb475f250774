"""The alliance's pages in a real browser (Debian's Chromium, Playwright, axe), against `chalice local`:
the matrix's large-type H5 page (category, search, 大字) and the console's rule editor (try a message,
an unsafe regex refused with a clear message). Screenshots land in test-artifacts/alliance/."""
from __future__ import annotations

from pathlib import Path

from tests.test_console_browser import ARTIFACTS as CONSOLE_ARTIFACTS
from tests.test_console_browser import axe_check, chromium_path, launch_chromium, stack  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "alliance"
ACCOUNT = "xianggang-huayuan"


def _browser(p, chromium, tmp_path):
    return launch_chromium(p, chromium, tmp_path, width=420)  # a phone's width


def test_the_matrix_page_by_category_and_search(stack, chromium_path, tmp_path):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    CONSOLE_ARTIFACTS.mkdir(parents=True, exist_ok=True)  # where axe_check keeps its reports
    with sync_playwright() as p:
        browser = _browser(p, chromium_path, tmp_path)
        try:
            page = browser.new_page()
            page.goto(f"{stack['url']}/h5/{ACCOUNT}/matrix")
            expect(page.get_by_role("heading", level=1)).to_have_text("微信联盟 · 微博联盟")
            expect(page.get_by_text("全区共 130 个政务微信和微博账号。")).to_be_visible()
            axe_check(page, "matrix")
            page.get_by_label("查找账号").fill("法官")
            page.get_by_role("button", name="查找").click()
            expect(page.get_by_text("张玉法官工作室", exact=True)).to_be_visible()
            expect(page.get_by_role("status")).to_contain_text("找到 2 个账号")
            page.screenshot(path=str(ARTIFACTS / "matrix-search.png"), full_page=True)
            page.get_by_role("link", name="学校").click()
            expect(page.get_by_role("heading", level=2)).to_have_text(["学校（10）"])
            page.get_by_role("link", name="大字").click()
            assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "28px"
            expect(page.get_by_text("市南学校", exact=True)).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "matrix-schools-large.png"), full_page=True)
            axe_check(page, "matrix-large")
        finally:
            browser.close()


def test_the_rule_editor_tries_a_message_and_refuses_an_unsafe_regex(stack, chromium_path, tmp_path):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    CONSOLE_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = _browser(p, chromium_path, tmp_path)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(stack["url"] + "/console")
            page.get_by_label("账号").fill("sw.xianggang-huayuan")
            page.get_by_label("密码").fill("Demo#2026")
            page.get_by_role("button", name="登录").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("香港花园社区", timeout=15000)
            page.get_by_role("navigation", name="主导航").get_by_role("link", name="关键词规则").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("关键词规则")
            page.get_by_label("居民发来的文字").fill("报名 1")
            page.get_by_role("button", name="试一试").click()
            expect(page.get_by_role("status").filter(has_text="规则回答")).to_contain_text("activity_signup")
            axe_check(page, "rules")
            page.get_by_role("button", name="添加规则").click()
            last = page.locator("tbody tr").last
            last.get_by_label("匹配方式").select_option("regex")
            last.get_by_label("关键词或 key").fill(r"^(\w+\s?)*$")
            last.get_by_label("动作").select_option("help")
            page.get_by_role("button", name="保存规则").click()
            expect(page.get_by_role("alert")).to_contain_text("嵌套的重复")
            page.screenshot(path=str(ARTIFACTS / "rules-refused.png"), full_page=True)

            # the activities page: the demo's 智能手机培训, its sign-up list
            page.get_by_role("navigation", name="主导航").get_by_role("link", name="社区活动").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("社区活动")
            page.get_by_role("link", name="智能手机培训：微信视频通话").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("报名名单")
            expect(page.get_by_role("button", name="导出 CSV")).to_be_visible()
            axe_check(page, "activity-signups")
            assert not errors, errors
        finally:
            browser.close()
