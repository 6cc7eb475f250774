"""The staff console in a real browser, against the platform started for real.

Debian's Chromium (`apt-get install chromium`, no browser download) driven by Playwright: a resident asks
for meals through the WeChat emulator, a social worker logs in to the console, opens the meal-delivery
request and assigns it to the 365便民服务队; the outbox worker (the Lambda handler, through Chalice's test
client) then tells the resident, which the WeChat emulator's log shows. axe checks the main pages; the
screenshots stay in test-artifacts/console/ (gitignored).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "console"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ACCOUNT = "xianggang-huayuan"
TEAM = "365便民服务队"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen | None = None, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def post_json(url: str, payload: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def meal_request_text(now: datetime | None = None) -> str:
    """Orders for tomorrow close at 20:00 Shanghai time; after that the resident asks for the day after."""
    now = now or datetime.now(ZoneInfo("Asia/Shanghai"))
    when = "明天" if now.hour < 20 else "后天中午"
    return f"我们老两口身体不便，社区能否{when}派人送饭？"


def test_meal_request_text_follows_the_cutoff():
    tz = ZoneInfo("Asia/Shanghai")
    assert "明天" in meal_request_text(datetime(2026, 11, 27, 19, 59, tzinfo=tz))
    assert "后天中午" in meal_request_text(datetime(2026, 11, 27, 20, 0, tzinfo=tz))


def launch_chromium(p, chromium_path: str, tmp_path, width: int = 1280):
    """Debian's Chromium under Playwright, headless, with a fresh profile in `tmp_path` (Simplified Chinese)."""
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return p.chromium.launch_persistent_context(str(profile), executable_path=chromium_path, headless=True,
                                                args=CHROMIUM_FLAGS, viewport={"width": width, "height": 900},
                                                locale="zh-CN")


@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install Debian's package with "
                    "`apt-get update && apt-get install -y chromium` (make test does this; no browser download)",
                    pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """moto (the AWS endpoint) and the WeChat emulator in threads, the seed, and `chalice local`."""
    from local import seed as seed_module
    from local.aws_endpoint import start_in_thread as start_aws
    from local.stack import DEMO_CREDENTIALS
    from local.wechat_emulator import start_in_thread as start_wechat

    tmp = tmp_path_factory.mktemp("console-stack")
    aws_server, aws_url = start_aws()
    urllib.request.urlopen(urllib.request.Request(f"{aws_url}/moto-api/reset", method="POST"))
    port = free_port()
    platform = f"http://127.0.0.1:{port}"
    log_path = tmp / "wechat-api.jsonl"
    wechat_server, wechat_url = start_wechat(port=0, accounts=seed_module.read().data["accounts"],
                                             log_path=log_path, platform_url=platform)
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE",)}
    env.update(DEMO_CREDENTIALS)
    env.update({
        "AWS_ENDPOINT_URL": aws_url, "AWS_DEFAULT_REGION": "cn-north-1", "AWS_REGION": "cn-north-1",
        "STAGE": "local", "APP_VERSION": "local", "SSM_PREFIX": "/wechat-alliance/local",
        "WECHAT_API_BASE": wechat_url, "WECHAT_EMULATOR_LOG": str(log_path), "PLATFORM_URL": platform,
        "PORT": str(port), "PYTHONPATH": str(ROOT), "ARGON2_PROFILE": "CHEAPEST", "LOG_LEVEL": "WARNING",
    })
    py = sys.executable
    subprocess.run([py, "-m", "local.seed"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    chalice_log = open(tmp / "chalice-local.log", "wb")  # noqa: SIM115 - closed below
    chalice = subprocess.Popen([str(Path(py).parent / "chalice"), "local", "--stage", "local", "--port", str(port),
                                "--no-autoreload"], cwd=ROOT, env=env, stdout=chalice_log, stderr=subprocess.STDOUT)
    try:
        wait_http(platform + "/health", chalice)
        yield {"url": platform, "wechat": wechat_url, "env": env, "log": log_path, "tmp": tmp}
    finally:
        chalice.terminate()
        try:
            chalice.wait(timeout=10)
        except subprocess.TimeoutExpired:
            chalice.kill()
            chalice.wait()
        chalice_log.close()
        for server in (wechat_server, aws_server):
            server.shutdown()
            server.server_close()


DRAIN = """
import json, os
from chalice.test import Client
from chalicelib import config
config.settings()  # pin this process's settings (WECHAT_API_BASE: the test's emulator) before the stage's
from app import app
from local.jobs import drain
with Client(app, stage_name="local", project_dir=os.environ["PYTHONPATH"]) as client:
    print(json.dumps(drain(client, "outbox", "outbox_worker")))
"""


def drain_outbox(env: dict) -> dict:
    """The outbox worker's Lambda handler over every queued message (what SQS does in AWS)."""
    done = subprocess.run([sys.executable, "-c", DRAIN], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def axe_check(page, name: str) -> None:
    """No axe violation of impact serious or critical; the full report is kept with the screenshots."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response.get("violations", [])
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(violations, ensure_ascii=False, indent=1), encoding="utf-8")
    bad = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
           for v in violations if v.get("impact") in ("serious", "critical")]
    assert not bad, f"axe on {name}:\n" + "\n".join(bad)


def test_a_social_worker_assigns_the_meal_request_and_the_resident_is_told(stack, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # 1. the resident, in WeChat: an address, then the meal request
    for text in ("地址 香港中路10号3单元502", meal_request_text()):
        answer = post_json(stack["wechat"] + "/__emulator/user-message",
                           {"account_id": ACCOUNT, "openid": "o-elder", "content": text})
        assert answer.get("status") == 200, answer

    # 2. the social worker, in the console
    with sync_playwright() as p:
        browser = launch_chromium(p, chromium_path, tmp_path)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(stack["url"] + "/console")
            expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "01-login.png"), full_page=True)
            axe_check(page, "login")

            page.get_by_label("账号").fill("sw.xianggang-huayuan")
            page.get_by_label("密码").fill("Demo#2026")
            page.get_by_role("button", name="登录").click()
            try:
                expect(page.get_by_role("heading", level=1)).to_contain_text("香港花园社区", timeout=15000)
            except AssertionError:
                raise AssertionError("after login the page says: " + page.locator("main").inner_text()) from None
            expect(page.get_by_text("今日送餐")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "02-home.png"), full_page=True)
            axe_check(page, "home")

            page.get_by_role("navigation", name="主导航").get_by_role("link", name="便民纸条").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("便民纸条")
            meal = page.locator("li.card", has_text="送餐").first
            expect(meal).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "03-inbox.png"), full_page=True)
            axe_check(page, "inbox")

            meal.get_by_role("link").first.click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("纸条")
            expect(page.get_by_text("老两口")).to_be_visible()
            team = page.get_by_label("派给服务队")
            team.select_option(label=next(o for o in team.locator("option").all_inner_texts() if TEAM in o))
            page.get_by_role("button", name="派单", exact=True).click()
            expect(page.locator("#assigned-to")).to_contain_text(TEAM)
            expect(page.locator("ol.timeline")).to_contain_text("派单")
            page.screenshot(path=str(ARTIFACTS / "04-detail-assigned.png"), full_page=True)
            axe_check(page, "detail")

            # the other pages open without error and pass axe too
            for name, heading in (("canteen", "食堂"), ("accounts", "账号与队伍"), ("audit", "操作记录")):
                page.get_by_role("navigation", name="主导航").get_by_role("link", name=heading).click()
                expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
                expect(page.locator("main .error")).to_have_count(0)
                page.screenshot(path=str(ARTIFACTS / f"06-{name}.png"), full_page=True)
                axe_check(page, name)
            expect(page.locator("main table")).to_contain_text("派单")  # the audit log holds the assignment
            page.get_by_role("navigation", name="主导航").get_by_role("link", name="便民纸条").click()
            page.locator("li.card", has_text="送餐").first.get_by_role("link").first.click()
            expect(page.locator("#assigned-to")).to_contain_text(TEAM)

            page.get_by_role("button", name="大字").click()
            expect(page.locator("html")).to_have_class("large")
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(ARTIFACTS / "05-detail-phone-large.png"), full_page=True)
            axe_check(page, "detail-phone-large")
            assert not errors, errors
        finally:
            browser.close()

    # 3. the outbox worker sends the notice; the emulator saw it go to the resident
    drained = drain_outbox(stack["env"])
    assert drained["handled"] >= 1, drained
    sends = [json.loads(line) for line in stack["log"].read_text(encoding="utf-8").splitlines()]
    sends = [c for c in sends if c["path"] in ("/cgi-bin/message/custom/send", "/cgi-bin/message/template/send",
                                               "/cgi-bin/message/subscribe/bizsend")
             and (c.get("body") or {}).get("touser") == "o-elder"]
    told = [c for c in sends if TEAM in json.dumps(c["body"], ensure_ascii=False)
            and (c.get("response") or {}).get("errcode") == 0]
    assert told, f"no message to o-elder naming {TEAM}: {sends}"
    shutil.copy(stack["log"], ARTIFACTS / "wechat-api.jsonl")
