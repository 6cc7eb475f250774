"""The monthly bulletin in a real browser, against the platform started for real (the stack of
test_console_browser, whose seed carries the demo months): the `monthly-bulletin` job issues November's
bulletin, the district admin opens 月通报 and finds its four charts drawn by Chart.js (served by the app, no
CDN) with no console error, the tables and the deductions; a sub-district reviewer sees only their
sub-district; the overview lists the communities. axe checks the pages."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.test_console_browser import (  # noqa: F401 - fixtures
    ARTIFACTS, ROOT, axe_check, chromium_path, launch_chromium, stack,
)
from tests.test_publishing_browser import login

RUN_JOB = """
import json, os
from chalice.test import Client
from chalicelib import config
config.settings()
from app import app
from local.jobs import drain
with Client(app, stage_name="local", project_dir=os.environ["PYTHONPATH"]) as client:
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                            detail={"month": "2026-11", "issue": True}, resources=["test"])
    result = client.lambda_.invoke("monthly_bulletin", event).payload
    print(json.dumps({"result": result, "queue": drain(client, "outbox", "outbox_worker")}))
"""

CHARTS_DRAWN = """() => [...document.querySelectorAll("canvas[data-chart]")].map((c) => {
  const chart = window.Chart && window.Chart.getChart(c);
  return {label: c.dataset.chart, width: c.width, height: c.height, drawn: !!chart,
          points: chart ? chart.data.datasets.reduce((n, d) => n + d.data.filter((v) => v !== null).length, 0) : 0};
})"""


def test_the_bulletin_page_draws_its_charts_and_the_overview_lists_the_communities(stack, chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    done = subprocess.run([sys.executable, "-c", RUN_JOB], cwd=ROOT, env=stack["env"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["result"]["status"] == "issued" and outcome["result"]["notified"]["written"] == 15
    log = [json.loads(line) for line in stack["log"].read_text().splitlines()]
    assert len([c for c in log if c["path"] == "/cgi-bin/message/template/send"
                and c["body"].get("template_id") == "demo-tmpl-bulletin"]) == 15

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p, chromium_path, tmp_path)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(f"{m.text} @ {m.location}") if m.type == "error" else None)
            vendor: list[str] = []
            page.on("response", lambda r: vendor.append(r.url) if "chart.umd" in r.url else None)

            login(page, stack["url"], "admin.shinan")
            page.get_by_role("navigation", name="主导航").get_by_role("link", name="月通报").click()
            page.goto(f"{stack['url']}/console#/bulletin?month=2026-11")
            expect(page.get_by_role("heading", level=1)).to_contain_text("2026年11月社区微信平台月通报")
            expect(page.locator(".bulletin-status")).to_contain_text("已发布")
            page.wait_for_function("() => document.querySelectorAll('canvas[data-chart]').length === 4 && "
                                   "[...document.querySelectorAll('canvas[data-chart]')].every((c) => "
                                   "window.Chart && window.Chart.getChart(c))", timeout=15000)
            charts = page.evaluate(CHARTS_DRAWN)
            assert [c["label"] for c in charts] == ["各社区发稿量", "各街道粉丝数", "各街道阅读量", "各社区阅读量"]
            assert all(c["drawn"] and c["width"] > 100 and c["height"] > 100 and c["points"] > 10 for c in charts)
            assert vendor and all(u.startswith(stack["url"]) for u in vendor)  # the app's own copy, no CDN
            assert page.locator("table.bulletin-rows tbody tr").count() == 65
            expect(page.get_by_role("heading", name="绩效扣分（基础分 100）")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "bulletin.png"), full_page=True)
            assert errors == []  # the charts drew without a console error (axe, below, injects its own script)
            page.emulate_media(media="print")
            expect(page.get_by_role("navigation", name="主导航")).to_be_hidden()
            page.emulate_media(media="screen")
            axe_check(page, "bulletin")

            page.goto(f"{stack['url']}/console#/overview")
            expect(page.get_by_role("heading", level=1)).to_contain_text("全区总览", timeout=20000)
            assert page.locator("table.overview-rows tbody tr").count() == 20  # the first page
            axe_check(page, "overview")

            login(page, stack["url"], "reviewer.jinhu-lu")
            page.goto(f"{stack['url']}/console#/bulletin?month=2026-11")
            expect(page.get_by_role("heading", level=1)).to_contain_text("月通报")
            expect(page.locator("table.bulletin-rows tbody tr")).to_have_count(5)
            page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart]')].length === 4 && "
                                   "[...document.querySelectorAll('canvas[data-chart]')].every((c) => "
                                   "window.Chart && window.Chart.getChart(c))", timeout=15000)
            assert errors == []
        finally:
            browser.close()
