"""Staff operations in a real browser (Debian's Chromium through Playwright), against the platform started
for real (`tests/test_console_browser.py`'s stack): a director creates a social worker, who signs in with the
one-time password and must change it; a district admin unlocks a locked account; a social worker files for a
walk-in resident and is told to phone them; a team member opens today's delivery list from their home.
Screenshots and axe reports land in test-artifacts/console/."""
from __future__ import annotations

import json
import urllib.error

from tests.test_console_browser import (  # noqa: F401 - fixtures
    ARTIFACTS,
    axe_check,
    chromium_path,
    launch_chromium,
    post_json,
    stack,
)


def _browser(p, chromium_path, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return launch_chromium(p, chromium_path, tmp_path)


def _login(page, url, username, password="Demo#2026"):
    from playwright.sync_api import expect

    page.goto(url + "/console#/login")
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def _nav(page, name):
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=name).click()


def _api_login(url, username, password):
    try:
        return 200, post_json(url + "/api/v1/auth/login", {"username": username, "password": password})
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_a_director_creates_a_social_worker_who_must_change_the_one_time_password(stack, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = _browser(p, chromium_path, tmp_path)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            _login(page, stack["url"], "director.xianggang-huayuan")
            expect(page.get_by_role("heading", level=1)).to_contain_text("香港花园社区", timeout=15000)
            _nav(page, "人员与账号")
            expect(page.get_by_role("heading", level=1)).to_contain_text("人员与账号")
            form = page.get_by_role("form", name="新建账号")
            form.get_by_label("账号").fill("sw3.xianggang-huayuan")
            form.get_by_label("姓名").fill("周小燕")
            form.get_by_label("角色").select_option("social_worker")
            form.get_by_role("button", name="新建账号").click()
            otp = page.locator("#one-time-password code")
            expect(otp).to_be_visible()
            password = otp.inner_text().strip()
            assert len(password) == 12
            expect(page.locator('li[data-username="sw3.xianggang-huayuan"]')).to_contain_text("待改密码")
            page.screenshot(path=str(ARTIFACTS / "people-created.png"), full_page=True)
            axe_check(page, "people")
            page.get_by_role("button", name="退出").click()
            expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()

            _login(page, stack["url"], "sw3.xianggang-huayuan", password)
            expect(page.get_by_role("heading", level=1)).to_have_text("设置新密码", timeout=15000)
            page.goto(stack["url"] + "/console#/inbox")  # every other page leads back here
            expect(page.get_by_role("heading", level=1)).to_have_text("设置新密码")
            page.screenshot(path=str(ARTIFACTS / "password-first-login.png"), full_page=True)
            axe_check(page, "password")
            page.get_by_label("一次性密码（或原密码）").fill(password)
            page.get_by_label("新密码", exact=True).fill("Zhou#Xiaoyan2026")
            page.get_by_label("再输入一次新密码").fill("Zhou#Xiaoyan2026")
            page.get_by_role("button", name="设置新密码").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("香港花园社区", timeout=15000)
            assert not errors, errors
        finally:
            browser.close()
    assert _api_login(stack["url"], "sw3.xianggang-huayuan", password)[0] == 401
    assert _api_login(stack["url"], "sw3.xianggang-huayuan", "Zhou#Xiaoyan2026")[0] == 200


def test_a_district_admin_unlocks_a_locked_account(stack, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    for _ in range(5):
        assert _api_login(stack["url"], "sw.zhanshan", "not#The1password")[0] == 401
    assert _api_login(stack["url"], "sw.zhanshan", "Demo#2026")[0] == 401  # locked from this address
    with sync_playwright() as p:
        browser = _browser(p, chromium_path, tmp_path)
        try:
            page = browser.new_page()
            _login(page, stack["url"], "admin.shinan")
            expect(page.get_by_role("heading", level=1)).to_contain_text("工作台", timeout=15000)
            _nav(page, "人员与账号")
            page.get_by_label("查看").select_option(label="湛山社区")
            card = page.locator('li[data-username="sw.zhanshan"]')
            expect(card).to_contain_text("已锁定")
            page.screenshot(path=str(ARTIFACTS / "people-locked.png"), full_page=True)
            card.get_by_role("button", name="解锁 李明轩").click()
            expect(page.locator('li[data-username="sw.zhanshan"]')).to_contain_text("正常")
            page.locator('li[data-username="sw.zhanshan"]').get_by_role("link").click()
            expect(page.locator("ol.timeline")).to_contain_text("解锁")
            expect(page.locator("ol.timeline")).to_contain_text("王建国（区管理员）")
            axe_check(page, "person")
        finally:
            browser.close()
    assert _api_login(stack["url"], "sw.zhanshan", "Demo#2026")[0] == 200


def test_a_social_worker_files_for_a_walk_in_resident(stack, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = _browser(p, chromium_path, tmp_path)
        try:
            page = browser.new_page()
            _login(page, stack["url"], "sw.xianggang-huayuan")
            expect(page.get_by_role("heading", level=1)).to_contain_text("香港花园社区", timeout=15000)
            _nav(page, "代居民登记")
            expect(page.get_by_role("heading", level=1)).to_contain_text("代居民登记")
            page.get_by_label("来源").select_option("walk_in")
            page.get_by_label("姓名", exact=True).fill("上门的刘奶奶")
            page.get_by_label("电话", exact=True).fill("13900006666")
            page.get_by_label("居民的需求").fill("家里水管坏了漏水，请派人上门维修")
            expect(page.locator("#category-hint")).to_contain_text("按文字建议")
            page.get_by_role("button", name="提交纸条").click()
            expect(page.locator("form[aria-label='代居民登记'] .error")).to_contain_text("居民同意")
            page.get_by_label("居民同意留下电话和地址，只用于这次服务").check()
            page.get_by_role("button", name="提交纸条").click()
            told = page.locator("#tell-by-phone")
            expect(told).to_contain_text("请电话告知居民")
            expect(told).to_contain_text("13900006666")
            number = page.locator("#file-result h2").inner_text().split("纸条 ")[1].strip()
            page.screenshot(path=str(ARTIFACTS / "file-walk-in.png"), full_page=True)
            axe_check(page, "file")
            page.get_by_role("link", name=f"打开纸条 {number}").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(f"纸条 {number}")
            expect(page.locator("dl.facts").first).to_contain_text("上门")
            expect(page.locator("ol.timeline")).to_contain_text("孙晓雨（社工）")

            # binding her WeChat from the console: a one-time code sent to the community's account
            _nav(page, "微信提醒")
            expect(page.get_by_role("heading", level=1)).to_have_text("我的微信提醒")
            page.get_by_role("button", name="获取绑定码").click()
            message = page.locator("#binding-message").inner_text().strip()
            assert message.startswith("绑定 ")
            page.screenshot(path=str(ARTIFACTS / "alerts-code.png"), full_page=True)
            axe_check(page, "alerts")
            answer = post_json(stack["wechat"] + "/__emulator/user-message",
                               {"account_id": "xianggang-huayuan", "openid": "o-staff-sun", "content": message})
            assert answer.get("status") == 200, answer
            assert "已绑定社区工作台账号：孙晓雨（社工）" in json.dumps(answer, ensure_ascii=False)
            page.reload()
            expect(page.locator("#binding-state")).to_contain_text("已绑定微信：香港花园社区")
            page.get_by_label("超时提醒").uncheck()
            page.get_by_role("button", name="保存").click()
            expect(page.locator("#toast")).to_have_text("已保存")
            page.reload()
            expect(page.get_by_label("超时提醒")).not_to_be_checked()
            page.get_by_role("button", name="解除绑定").click()
            expect(page.locator("#binding-state")).to_contain_text("还没有绑定微信")
        finally:
            browser.close()


def test_a_team_member_opens_todays_delivery_list_from_home(stack, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = _browser(p, chromium_path, tmp_path)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            _login(page, stack["url"], "team.xianggang-huayuan-365")
            expect(page.get_by_role("heading", level=1)).to_have_text("刘海涛，您好", timeout=15000)
            expect(page.get_by_role("heading", name="今日送餐", exact=False)).to_be_visible()
            expect(page.get_by_role("heading", name="待办的纸条", exact=False)).to_be_visible()
            expect(page.locator("main")).not_to_contain_text("出错了")
            page.screenshot(path=str(ARTIFACTS / "team-home.png"), full_page=True)
            axe_check(page, "team-home")
            page.get_by_role("link", name="午餐", exact=False).first.click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("送餐单 · 香港花园社区食堂")
            expect(page.get_by_role("status").filter(has_text="午餐：共")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "team-deliveries.png"), full_page=True)
            axe_check(page, "team-deliveries")
            page.get_by_role("button", name="退出").click()
            expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
            _login(page, stack["url"], "dept.consumer-rights")
            expect(page.get_by_role("heading", level=1)).to_have_text("陈静，您好", timeout=15000)
            expect(page.locator("main")).not_to_contain_text("出错了")
            assert not errors, errors
        finally:
            browser.close()
