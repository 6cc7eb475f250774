"""Publishing in a real browser, against the platform started for real (the stack of test_console_browser):
a social worker drafts a post for today with a cover uploaded to WeChat, the director sends it back with a
comment, the social worker fixes it, the director and the sub-district approve, the `daily-post` job (its
Lambda handlers, through Chalice's test client) sends it — the WeChat emulator's log shows the mass send —
and the calendar shows the day sent. axe checks the publishing pages."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.test_console_browser import (  # noqa: F401 - fixtures
    ARTIFACTS, ROOT, axe_check, chromium_path, launch_chromium, stack,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
RUN_JOB = """
import json, os, sys
from chalice.test import Client
from chalicelib import config
config.settings()
from app import app
from local.jobs import drain
with Client(app, stage_name="local", project_dir=os.environ["PYTHONPATH"]) as client:
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                            detail={"day": sys.argv[1]}, resources=["test"])
    result = client.lambda_.invoke("daily_post", event).payload
    print(json.dumps({"result": result, "queue": drain(client, "posts", "post_worker")}))
"""


def login(page, url: str, username: str) -> None:
    from playwright.sync_api import expect

    if page.locator("#logout").is_visible():
        page.locator("#logout").click()
        expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    page.goto(f"{url}/console?as={username}#/login")  # a fresh page for each person
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill("Demo#2026")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("工作台", timeout=15000)  # home has rendered


def open_post(page, topic: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="待审稿件").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("待审稿件")
    page.get_by_role("link", name=topic).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(topic)


def test_draft_send_back_fix_approve_twice_send_and_see_it_in_the_calendar(stack, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    topic = "浏览器测试：冬季防滑提示"
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    with sync_playwright() as p:
        browser = launch_chromium(p, chromium_path, tmp_path)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            # 1. the social worker drafts a post for today, with a cover uploaded to WeChat, and submits it
            login(page, stack["url"], "sw.xianggang-huayuan")
            page.get_by_role("navigation", name="主导航").get_by_role("link", name="发布日历").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("发布日历")
            axe_check(page, "post-calendar")
            page.get_by_role("link", name="新建选题", exact=True).click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("新建选题")
            page.get_by_label("选题").fill(topic)
            page.get_by_label("计划发送日").fill(today)
            # 06:00, before the seed's own approved post of today (08:00): one post a day, the earliest goes
            page.get_by_label("发送时间").select_option("06:00")
            page.get_by_label("标题").fill("下雪路滑，出门请注意")
            page.get_by_label("正文（HTML）").fill("<p>雪后路滑，老人出门请穿防滑鞋。</p>")
            page.get_by_label("封面（上传为永久素材）").set_input_files(
                files=[{"name": "cover.png", "mimeType": "image/png", "buffer": PNG}])
            expect(page.locator("#toast")).to_contain_text("封面已上传")
            expect(page.get_by_role("region", name="手机预览")).to_contain_text("下雪路滑")
            page.get_by_role("button", name="保存选题").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text(topic)
            page.screenshot(path=str(ARTIFACTS / "posts-01-editor.png"), full_page=True)
            axe_check(page, "post-editor")
            page.get_by_role("button", name="提交一审").click()
            expect(page.locator("main")).to_contain_text("待一审")

            # 2. the director sends it back with a comment
            login(page, stack["url"], "director.xianggang-huayuan")
            expect(page.locator('#nav a[data-page="desk"] .nav-count')).to_be_visible()
            open_post(page, topic)
            page.get_by_label("审核意见（退回时必填）").fill("标题请写明是哪一天")
            page.get_by_role("button", name="退回修改").click()
            expect(page.locator("main")).to_contain_text("编写中")
            axe_check(page, "post-review")

            # 3. the social worker fixes it and submits again; the director approves
            login(page, stack["url"], "sw.xianggang-huayuan")
            open_post(page, topic)
            expect(page.locator("main table")).to_contain_text("标题请写明是哪一天")
            page.get_by_label("标题").fill("今天下雪路滑，出门请注意")
            page.get_by_role("button", name="保存修改").click()
            expect(page.locator("#toast")).to_contain_text("已保存")
            page.get_by_role("button", name="提交一审").click()
            expect(page.locator("main")).to_contain_text("待一审")
            login(page, stack["url"], "director.xianggang-huayuan")
            open_post(page, topic)
            expect(page.get_by_role("region", name="自上次审核的改动")).to_contain_text("今天下雪路滑")
            page.get_by_role("button", name="审核通过").click()
            expect(page.locator("main")).to_contain_text("待二审")

            # 4. the sub-district ticks the policy checklist and approves
            login(page, stack["url"], "reviewer.jinhu-lu")
            open_post(page, topic)
            for box in page.locator('input[name="checklist"]').all():
                box.check()
            page.get_by_role("button", name="审核通过").click()
            expect(page.locator("main")).to_contain_text("已批准待发")
            page.screenshot(path=str(ARTIFACTS / "posts-02-approved.png"), full_page=True)

            # 5. the daily job sends it
            done = subprocess.run([sys.executable, "-c", RUN_JOB, today], cwd=ROOT, env=stack["env"],
                                  capture_output=True, text=True, timeout=180)
            assert done.returncode == 0, done.stderr[-3000:]
            ran = json.loads(done.stdout.strip().splitlines()[-1])
            assert ran["queue"]["handled"] >= 1 and ran["queue"]["failed_deliveries"] == 0, ran

            # 6. the calendar shows the day sent, and the post's history the whole way
            login(page, stack["url"], "sw.xianggang-huayuan")
            page.get_by_role("navigation", name="主导航").get_by_role("link", name="发布日历").click()
            cell = page.locator(f'.post-cal .day[data-day="{today}"]')
            expect(cell).to_contain_text("已发送")
            expect(cell).to_contain_text(topic)
            expect(page.locator("main")).to_contain_text("每日发布时间：08:00")  # the account's time, shown
            page.screenshot(path=str(ARTIFACTS / "posts-03-calendar-sent.png"), full_page=True)
            cell.get_by_role("link", name=topic).click()
            history = page.locator("main table")
            for label in ("新建稿件", "提交一审", "一审退回修改", "一审通过", "二审通过", "已群发"):
                expect(history).to_contain_text(label, timeout=20_000)  # a loaded CI machine renders slowly
            assert not errors, errors
        finally:
            browser.close()

    calls = [json.loads(line) for line in stack["log"].read_text(encoding="utf-8").splitlines()]
    mass = [c for c in calls if c["path"] == "/cgi-bin/message/mass/sendall" and c["response"].get("errcode") == 0]
    drafts = [c for c in calls if c["path"] == "/cgi-bin/draft/add"
              and any("今天下雪路滑" in a.get("title", "") for a in (c.get("body") or {}).get("articles", []))]
    assert drafts and mass, "the emulator saw no draft and mass send of the post"
