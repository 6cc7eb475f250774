"""`make simulate`, short: a compressed day of the demo district with faults on, through the laptop stack's
real HTTP surface (its own private stack on free ports). Nothing a resident said is lost, nothing is done
twice, the faults really happened, and the report is written."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_short_day_with_faults_loses_nothing_and_duplicates_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "LOCAL_DIR", "SEED_FILE",
                                                             "LOCAL_CLOCK", "LOCAL_CLOCK_FILE")}
    done = subprocess.run([sys.executable, "-m", "local.simulate", "--faults", "--short", "--residents", "60",
                           "--out", str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    tail = (done.stdout + done.stderr)[-4000:]
    assert "lost: 0" in done.stdout and "duplicated: 0" in done.stdout, tail
    assert done.returncode == 0, tail
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["lost"] == 0 and report["duplicated"] == 0
    assert report["messages"] >= 90 and report["deliveries"] > report["messages"]  # WeChat's retries and copies
    assert report["requests"]["total"] > 0 and report["notices_by_channel"]
    injected = report["faults"]
    assert sum(injected["aws"].values()) > 0 and sum(injected["wechat"].values()) > 0, injected
    assert injected["wechat"].get("kill") == 1, injected  # a queue worker died mid-batch
    assert any("restarted" in e for e in report["events"]), report["events"]
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "lost: 0" in html and "new Chart(" in html and (tmp_path / "chart.umd.min.js").exists()


def test_the_bulletin_is_checked_against_the_simulators_own_counts():
    from collections import Counter

    from local.simulate.ledger import check_bulletin

    filed = Counter({"xianggang-huayuan": 3})
    posts = Counter({("xianggang-huayuan", "2026-11-30"): 1})
    assert check_bulletin(None, filed, posts, {})["status"].startswith("not run")
    assert check_bulletin({"available": False, "month": "2026-11"}, filed, posts, {})["status"] == \
        "bulletin: job not available"
    answer = {"month": "2026-11", "status": "final", "version": 1, "rows": [
        {"account_id": "xianggang-huayuan", "community_id": "xianggang-huayuan", "subdistrict_id": "jinhu-lu",
         "posts_sent": 1, "days_missed": 0, "requests_filed": 3, "requests_completed": 1}]}
    ok = check_bulletin({"available": True, "month": "2026-11", "answer": answer}, filed, posts, {})
    assert ok["status"] == "checked" and ok["rows"] == 1 and ok["mismatches"] == []
    answer["rows"][0].update(requests_filed=2, posts_sent=0)
    short = check_bulletin({"available": True, "month": "2026-11", "answer": answer}, filed, posts, {})
    assert len(short["mismatches"]) == 2, short
    before = {"rows": [{"account_id": "xianggang-huayuan", "community_id": "xianggang-huayuan",
                        "posts_sent": 4, "requests_filed": 10}]}
    answer["rows"][0].update(requests_filed=13, posts_sent=5)
    exact = check_bulletin({"available": True, "month": "2026-11", "answer": answer, "before": before}, filed,
                           posts, {})
    assert exact["exact"] and exact["mismatches"] == []  # the day added exactly 3 requests and 1 post
    answer["rows"][0].update(requests_filed=14)
    extra = check_bulletin({"available": True, "month": "2026-11", "answer": answer, "before": before}, filed,
                           posts, {})
    assert extra["mismatches"] == ["xianggang-huayuan: bulletin requests_filed grew by 4, simulated 3"]
    refused = check_bulletin({"available": True, "month": "2026-11", "answer": {"_status": 404}}, filed, posts, {})
    assert "404" in refused["status"]
