"""The console screenshots of docs/quickstart.zh-Hans.md, taken from the running laptop stack.

Reads `.local/stack.env` (start `make run` first, ideally with LOCAL_CLOCK=2026-12-01T09:30+08:00 and after
`make reset`, so the pictures show the same day), files two demo requests through the WeChat emulator,
then drives Debian's Chromium (`make chromium`) with Playwright and writes small PNGs to docs/img/.

    python -m local.screenshots [--out docs/img]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from local.stack import ROOT, StackNotRunning, attach_env

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--force-device-scale-factor=1"]
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def say(emulator: str, openid: str, content: str) -> dict:
    request = urllib.request.Request(emulator + "/__emulator/user-message", method="POST",
                                     data=json.dumps({"account_id": "xianggang-huayuan", "openid": openid,
                                                      "content": content}).encode(),
                                     headers={"Content-Type": "application/json"})
    with OPENER.open(request, timeout=30) as answer:
        return json.loads(answer.read())


def stack_time(env: dict) -> float:
    """Now on the running stack's shared clock (.local/clock.json), as a Unix time."""
    try:
        data = json.loads(Path(env["LOCAL_CLOCK_FILE"]).read_text(encoding="utf-8"))
    except (KeyError, OSError, ValueError):
        return time.time()
    if data.get("frozen_at"):
        from chalicelib.clock import parse_local_clock

        return parse_local_clock(data["frozen_at"]).timestamp()
    return time.time() + float(data.get("offset_seconds") or 0)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.screenshots")
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"))
    args = parser.parse_args(argv)
    try:
        env = attach_env()
    except StackNotRunning as exc:
        print(f"screenshots: {exc}", file=sys.stderr)
        return 1
    from playwright.sync_api import expect, sync_playwright

    base, emulator = env["PLATFORM_URL"], env["WECHAT_API_BASE"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    say(emulator, "o-demo-resident", "地址 香港中路10号3单元502")
    say(emulator, "o-demo-resident", "我们老两口身体不便，社区能否明天派人送饭？")
    say(emulator, "o-demo-li-shu", "楼道灯坏了，晚上上下楼很黑")

    def shot(page, name: str) -> None:
        page.wait_for_timeout(400)
        page.screenshot(path=str(out / f"{name}.png"))
        print(f"screenshots: {out / name}.png")

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
                                                       viewport={"width": 1024, "height": 640}, locale="zh-CN")
        try:
            # The browser's day is the platform's (the console works out "today" in the browser).
            browser.clock.install(time=stack_time(env))
            page = browser.new_page()
            page.goto(base + "/")  # GET / leads to the console
            expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
            page.get_by_label("账号").fill("sw.xianggang-huayuan")
            page.get_by_label("密码").fill("Demo#2026")
            shot(page, "console-login")
            page.get_by_role("button", name="登录").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("香港花园社区", timeout=15000)
            shot(page, "console-home")
            nav = page.get_by_role("navigation", name="主导航")
            nav.get_by_role("link", name="便民纸条").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("便民纸条")
            shot(page, "console-inbox")
            page.locator("li.card", has_text="楼道灯").first.get_by_role("link").first.click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("纸条")
            shot(page, "console-request")
            nav.get_by_role("link", name="食堂").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("食堂")
            shot(page, "console-canteen")
            resident = browser.new_page()
            resident.set_viewport_size({"width": 420, "height": 640})
            resident.goto(base + "/h5/xianggang-huayuan/request")
            expect(resident.get_by_role("heading", name="以哪位居民的身份进入？")).to_be_visible()
            shot(resident, "h5-choose-resident")
            resident.get_by_role("button", name="王阿姨（香港花园社区）").click()
            resident.wait_for_load_state()
            shot(resident, "h5-request-form")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
