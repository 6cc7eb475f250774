"""Demo posts for the laptop (`local/seed.posts.json`): posts in every state for a few communities, approved
posts for today (so `make job NAME=daily-post` shows the cadence in `.local/wechat-api.jsonl`), sent, failed
and missed days (so the console's calendar has history).

Each post is walked through the real workflow (`chalicelib.domain.publishing`) by the community's own staff,
so its history reads as it would. Days are offsets from today (Asia/Shanghai). Post ids are derived from
the day and the position in the file: loading twice leaves the same state.
"""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from chalicelib import clock
from chalicelib.domain import checks, dates, publishing as pub
from chalicelib.domain.errors import NotFound
from chalicelib.store import posts as repo
from chalicelib.store.org import Community

POSTS_FILE = Path(__file__).resolve().parent / "seed.posts.json"
IMAGE = "http://mmbiz.qpic.cn/mmbiz_png/demo-seed/0"


def _walk(spec: dict, index: int, today, now) -> str:
    community = Community.get(spec["community"])
    c = community.community_id
    day = today + timedelta(days=int(spec["day"]))
    post_id = f"P{day:%Y%m%d}-demo{index:02d}"
    try:
        repo.get_post(post_id)
        return "kept"
    except NotFound:
        pass
    author, director, reviewer = f"sw.{c}", f"director.{c}", f"reviewer.{community.subdistrict_id}"
    articles = ()
    if spec.get("title"):
        articles = (pub.ArticleDraft(title=spec["title"], author="社区小编", digest=spec["topic"],
                                     content=spec["body"] + f'<p><img src="{IMAGE}" alt="{spec["topic"]}配图"></p>',
                                     cover_media_id=f"demo-cover-{c}", cover_url=IMAGE),)
    plan = pub.new_post(post_id, c, c, community.subdistrict_id, community.district_id, spec["topic"], day, author,
                        now, articles=articles)
    post = repo.save_post(plan, now, None)
    checklist = tuple(i["id"] for i in checks.DEFAULT_CHECKLIST)
    actors = {"submit": author, "approve1": director, "approve2": reviewer, "send_back1": director,
              "send_back2": reviewer}
    for step in spec.get("steps", []):
        now += timedelta(minutes=7)
        action = {"approve1": "approve", "approve2": "approve", "send_back1": "send_back",
                  "send_back2": "send_back"}.get(step, step)
        plan = pub.plan_step(post, action, actors[step], now, comment=spec.get("comment", ""), checklist=checklist)
        post = repo.save_post(plan, now, post.version)
    outcome = spec.get("outcome")
    if outcome:
        record = repo.claim_day(c, day, post_id, c, now, timedelta(minutes=5))
        if record is not None:
            label = "已群发" if outcome == "sent" else "发送失败"
            repo.finish_day(record, outcome, now, mode="mass", job_id=f"demo-{post_id}" if outcome == "sent" else None,
                            error=None if outcome == "sent" else "微信拒绝发送（演示数据）", post_state=outcome,
                            event={"kind": "system", "action": outcome, "label": label, "from": "scheduled",
                                   "to": outcome, "by": "daily-post", "at": now.isoformat(), "comment": ""})
        return outcome
    return post.state


def load_demo_posts(path: Path = POSTS_FILE) -> dict[str, int]:
    """Load the demo posts; returns how many posts end in each state, and the missed days recorded."""
    data = json.loads(path.read_text(encoding="utf-8"))
    now = clock.now()
    counts: dict[str, int] = {}
    for index, spec in enumerate(data["posts"]):
        state = _walk(spec, index, dates.local_date(now), min(now, now + timedelta(days=int(spec["day"]))) - timedelta(days=7))
        counts[state] = counts.get(state, 0) + 1
    for spec in data.get("missed", []):
        day = dates.local_date(now) + timedelta(days=int(spec["day"]))
        counts["missed"] = counts.get("missed", 0) + repo.mark_missed([(spec["community"], spec["community"])], day, now)
    return counts
