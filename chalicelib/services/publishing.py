"""Publishing use cases for staff (信息发布): propose, write, review, the calendar, the review desk, the
district's check policy, article images. One function per use case; scope from `chalicelib.auth.scope`,
rules from `chalicelib.domain.publishing` and `chalicelib.domain.checks`, storage in `chalicelib.store.posts`.
Every step is written with its audit event in one transaction, and the next person gets a notice."""
from __future__ import annotations

import base64
import binascii
from calendar import monthrange
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from chalicelib import bootstrap
from chalicelib.auth.principal import Principal
from chalicelib.auth.scope import can, communities_in_scope, require
from chalicelib.domain import checks, dates, publishing as pub
from chalicelib.domain.errors import BadRequest, NotFound, StorageUnavailable
from chalicelib.domain.records import record

MAX_IMAGE_BYTES = {"body": 1024 * 1024, "cover": 2 * 1024 * 1024}  # uploadimg: under 1 MB
IMAGE_MAGIC = {b"\x89PNG": "png", b"\xff\xd8\xff": "jpg"}


class _Repository:
    """The publishing repository, reached through the composition root (`bootstrap.posts()`)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(bootstrap.posts(), name)


repo = _Repository()


@record
class _Scope:
    """What scope checks need of a community."""

    community_id: str
    district_id: str


def _today() -> date:
    return dates.local_date(bootstrap.now())


def _policy(district_id: str) -> checks.CheckPolicy:
    data = repo.policy_data(district_id)
    return checks.CheckPolicy.from_dict(data) if data else checks.CheckPolicy()


def _day(value: Any, name: str) -> date:
    if not isinstance(value, str):
        raise BadRequest(f"{name} 应为日期 YYYY-MM-DD", code="invalid_date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} 应为日期 YYYY-MM-DD", code="invalid_date") from None


def _optional_day(body: dict, name: str) -> date | None | str:
    if name not in body:
        return "keep"
    return None if body[name] in (None, "") else _day(body[name], name)


def _community(principal: Principal, community_id: Any, action: str):
    if not isinstance(community_id, str) or not community_id:
        community_id = principal.community_id
    if not community_id:
        raise BadRequest("需要 community_id", code="missing_field")
    require(principal, action, _Scope(community_id, principal.district_id))
    community = repo.community(community_id)
    if community is None or community.district_id != principal.district_id:
        raise NotFound()
    return community


def _post(principal: Principal, post_id: str, action: str) -> pub.Post:
    post = repo.get_post(post_id)
    require(principal, action, post)
    return post


def _findings(post: pub.Post, policy: checks.CheckPolicy) -> list[checks.Finding]:
    same_day = repo.posts_on_day(post.account_id, post.planned_day)
    return checks.all_findings(post, _today(), same_day, policy)


def _actions_for(principal: Principal, post: pub.Post) -> list[str]:
    allowed = [s.action for s in pub.WORKFLOW if s.source == post.state and can(principal, s.permission)]
    if post.state in pub.EDITABLE and can(principal, "post.write"):
        allowed.append("edit")
    return allowed


def _render(principal: Principal, post: pub.Post, policy: checks.CheckPolicy | None = None,
            detail: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "post_id": post.post_id, "account_id": post.account_id, "community_id": post.community_id,
        "subdistrict_id": post.subdistrict_id, "topic": post.topic, "planned_day": post.planned_day.isoformat(),
        "slot": post.slot, "state": post.state, "state_label": pub.STATE_LABELS[post.state],
        "expires_on": post.expires_on.isoformat() if post.expires_on else None, "revision": post.revision,
        "reviewed_revision": post.reviewed_revision, "authors": list(post.authors), "created_by": post.created_by,
        "checklist": list(post.checklist), "version": post.version,
        "articles": [a.to_dict() for a in post.articles], "actions": _actions_for(principal, post),
        "locked": post.state not in pub.EDITABLE,
    }
    if detail:
        policy = policy or _policy(post.district_id)
        events, revisions = repo.history(post.post_id)
        data["findings"] = [f.to_dict() for f in _findings(post, policy)]
        data["policy_checklist"] = [dict(i) for i in policy.checklist]
        data["history"] = events
        def snap(n: int) -> dict[str, Any] | None:
            return (revisions.get(n) or {}).get("snapshot") if n else None

        data["diff"] = pub.diff(snap(post.reviewed_revision), snap(post.revision)) \
            if post.reviewed_revision != post.revision else []
        data["revisions"] = [{"revision": n, "by": r["by"], "at": r["at"]} for n, r in sorted(revisions.items())]
    return data


def _notices(post: pub.Post, tell: str, actor: str, label: str, now) -> list:
    if tell == "first_reviewer":
        who = repo.staff_to_tell(f"community#{post.community_id}", "director")
        text = f"稿件“{post.topic}”（{post.planned_day}）等待您一审"
        kind = "review"
    elif tell == "second_reviewer":
        who = repo.staff_to_tell(f"subdistrict#{post.subdistrict_id}", "subdistrict_reviewer")
        text = f"稿件“{post.topic}”（{post.planned_day}）等待街道二审"
        kind = "review"
    elif tell == "authors":
        who = list(post.authors) or [post.created_by]
        text = f"稿件“{post.topic}”：{label}"
        kind = "sent_back" if "退回" in label else "approved"
    else:
        return []
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    return [repo.notice(u, f"{stamp}#{post.post_id}#{kind}", kind, text, now, post.post_id, post.community_id)
            for u in dict.fromkeys(who) if u and u != actor]


def _articles(body: dict) -> tuple[pub.ArticleDraft, ...] | None:
    return pub.parse_articles(body["articles"]) if "articles" in body else None


# ---- use cases -------------------------------------------------------------------------------------

def propose(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """社区选题 (or a new draft with its articles): any community staff with `post.propose`."""
    community = _community(principal, body.get("community_id"), "post.propose")
    topic = body.get("topic")
    if not isinstance(topic, str):
        raise BadRequest("需要 topic（选题）", code="missing_field")
    articles = _articles(body) or ()
    if articles and not can(principal, "post.write"):
        require(principal, "post.write", _Scope(community.community_id, community.district_id))
    planned = _day(body.get("planned_day"), "planned_day")
    expires = _optional_day(body, "expires_on")
    now = bootstrap.now()
    plan = pub.new_post(repo.new_post_id(planned), community.community_id, community.community_id,
                        community.subdistrict_id, community.district_id, topic, planned, principal.username, now,
                        slot=body.get("slot") or repo.post_time(community.community_id), articles=articles,
                        expires_on=None if expires == "keep" else expires)
    post = repo.save_post(plan, now, None)
    return _render(principal, post)


def view(principal: Principal, post_id: str) -> dict[str, Any]:
    return _render(principal, _post(principal, post_id, "post.view"))


def edit(principal: Principal, post_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Every edit is a revision; locked in review; an edit after approval goes back to the first review."""
    post = _post(principal, post_id, "post.write")
    version = body.get("version", post.version)
    if not isinstance(version, int):
        raise BadRequest("version 应为整数", code="invalid")
    topic = body.get("topic")
    if topic is not None and not isinstance(topic, str):
        raise BadRequest("topic 应为字符串", code="invalid")
    slot = body.get("slot")
    if slot is not None and not isinstance(slot, str):
        raise BadRequest("slot 应为字符串", code="invalid")
    planned = _day(body["planned_day"], "planned_day") if "planned_day" in body else None
    now = bootstrap.now()
    plan = pub.plan_edit(post, principal.username, now, topic=topic, articles=_articles(body), planned_day=planned,
                         slot=slot, expires_on=_optional_day(body, "expires_on"))
    if plan.new_revision is None:
        return _render(principal, post)
    notices = _notices(plan.post, plan.tell, principal.username, plan.event["label"], now)
    saved = repo.save_post(plan, now, version, notices)
    return _render(principal, saved)


def act(principal: Principal, post_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A workflow step: start, submit, approve, send_back (with a comment), withdraw."""
    action = body.get("action")
    if not isinstance(action, str) or not action:
        raise BadRequest("需要 action", code="missing_field")
    post = repo.get_post(post_id)
    step = pub.step_for(post.state, action) if (post.state, action) in pub.STEPS else None
    require(principal, step.permission if step else "post.view", post)
    if step is None:
        pub.step_for(post.state, action)  # raises the conflict with its message
    comment = body.get("comment") or ""
    ticked = body.get("checklist") or []
    if not isinstance(comment, str) or not isinstance(ticked, list) or not all(isinstance(t, str) for t in ticked):
        raise BadRequest("comment 应为字符串，checklist 应为字符串列表", code="invalid")
    policy = _policy(post.district_id)
    findings: list[checks.Finding] = []
    if action == "submit" or step.review:
        findings = _findings(post, policy)
    if step.review and step.target == "scheduled":
        findings += checks.policy_findings(ticked, policy)
    now = bootstrap.now()
    plan = pub.plan_step(post, action, principal.username, now, comment=comment,
                         blocking=checks.blocking(findings), checklist=ticked)
    if findings:
        plan = replace(plan, event={**plan.event, "findings": [f.to_dict() for f in findings]})
    saved = repo.save_post(plan, now, post.version, _notices(plan.post, plan.tell, principal.username,
                                                             plan.event["label"], now))
    return _render(principal, saved, policy)


def history(principal: Principal, post_id: str) -> dict[str, Any]:
    post = _post(principal, post_id, "post.view")
    events, revisions = repo.history(post.post_id)
    return {"post_id": post.post_id, "events": events,
            "revisions": [{"revision": n, "by": r["by"], "at": r["at"], "snapshot": r["snapshot"]}
                          for n, r in sorted(revisions.items())]}


def calendar(principal: Principal, community_id: str, month: str | None) -> dict[str, Any]:
    """A community's month: each day's posts (planned, in review, approved, sent) and outcome (missed…)."""
    community = _community(principal, community_id, "post.view")
    today = _today()
    try:
        first = date.fromisoformat(f"{month}-01") if month else today.replace(day=1)
    except ValueError:
        raise BadRequest("month 应为 YYYY-MM", code="invalid_date") from None
    last = first.replace(day=monthrange(first.year, first.month)[1])
    account_id = community.community_id
    days: dict[str, dict[str, Any]] = {}
    for d in range((last - first).days + 1):
        day = first + timedelta(days=d)
        days[day.isoformat()] = {"day": day.isoformat(), "posts": [], "outcome": None}
    for p in repo.posts_of_account(account_id, first, last):
        p["state_label"] = pub.STATE_LABELS.get(p["state"], p["state"])
        days[p["planned_day"]]["posts"].append(p)
    for delivered in repo.days_of(account_id, first, last):
        days[delivered.day]["outcome"] = delivered.outcome
        days[delivered.day]["mode"] = delivered.mode
        days[delivered.day]["note"] = delivered.note
        days[delivered.day]["error"] = delivered.error
    for key, entry in days.items():
        if entry["outcome"] is None and date.fromisoformat(key) < today and not any(
                p["state"] == "sent" for p in entry["posts"]):
            entry["outcome"] = "missed"
    return {"community_id": account_id, "month": first.strftime("%Y-%m"), "today": today.isoformat(),
            "post_time": repo.post_time(account_id), "days": list(days.values())}


def set_post_time(principal: Principal, community_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The community account's daily post time (每日发布时间): its director, or district staff. New posts
    take it as their send time; `daily-post` sends each account's approved post when its time comes."""
    community = _community(principal, community_id, "post.review_first")
    value = (body or {}).get("time")
    if not pub.valid_slot(value):
        raise BadRequest(pub.SLOT_HINT, code="invalid_slot")
    repo.set_post_time(community.community_id, value, bootstrap.now())
    return {"community_id": community.community_id, "post_time": value}


def review_queue(principal: Principal) -> dict[str, Any]:
    """The principal's desk: what waits for them, with counts (the home page's badge)."""
    desks: list[tuple[str, str]] = []
    communities = communities_in_scope(principal)
    if can(principal, "post.review_first") and principal.role != "district_admin":
        desks += [("first_review", f"first_review#{c}") for c in sorted(communities or ())]
    if can(principal, "post.review_second"):
        if principal.role == "district_admin":
            subs = repo.subdistrict_ids(principal.district_id)
        else:
            subs = [principal.subdistrict_id] if principal.subdistrict_id else []
        desks += [("second_review", f"second_review#{s}") for s in subs]
    if can(principal, "post.write") and principal.role != "district_admin":
        desks += [(state, f"{state}#{c}") for c in sorted(communities or ()) for state in ("draft", "topic")]
    items: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for state, key in desks:
        found = repo.desk(key)
        counts[state] = counts.get(state, 0) + len(found)
        items += [{**f, "state_label": pub.STATE_LABELS[f["state"]]} for f in found]
    items.sort(key=lambda i: (i["planned_day"], i["post_id"]))
    return {"counts": counts, "items": items, "notices": repo.notices_of(principal.username, limit=20)}


def get_policy(principal: Principal) -> dict[str, Any]:
    require(principal, "post.view")
    return _policy(principal.district_id).to_dict()


def save_policy(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """The district edits its 三关: banned and sensitive words, wrong phrases, whitelist, checklist, levels."""
    require(principal, "post.policy_edit")
    policy = checks.CheckPolicy.from_dict(body)
    repo.save_policy(principal.district_id, policy.to_dict(), principal.username, bootstrap.now())
    return policy.to_dict()


def check(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Run 文字关 on articles being written (the editor's 检查 button), without saving."""
    community = _community(principal, body.get("community_id"), "post.write")
    articles = _articles(body) or ()
    return {"findings": [f.to_dict() for f in checks.text_findings(articles, _policy(community.district_id))]}


def upload_image(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """An article's image through WeChat: `body` images via media/uploadimg (a URL for the content),
    `cover` via permanent material (a media_id for thumb_media_id)."""
    community = _community(principal, body.get("community_id"), "post.write")
    kind = body.get("kind")
    if kind not in MAX_IMAGE_BYTES:
        raise BadRequest("kind 应为 body（正文图片）或 cover（封面）", code="invalid")
    try:
        data = base64.b64decode(str(body.get("data_base64") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("data_base64 不是有效的 base64", code="invalid") from None
    ext = next((e for magic, e in IMAGE_MAGIC.items() if data.startswith(magic)), None)
    if ext is None:
        raise BadRequest("只能上传 JPG 或 PNG 图片", code="invalid_image")
    if len(data) >= MAX_IMAGE_BYTES[kind]:
        raise BadRequest(f"图片过大：须小于 {MAX_IMAGE_BYTES[kind] // 1024 // 1024}MB", code="image_too_large")
    client = bootstrap.wechat(community.community_id)
    name = f"image.{ext}"
    try:
        if kind == "body":
            return {"kind": kind, "url": client.publish_media.upload_body_image(name, data)}
        answer = client.publish_media.add_cover(name, data)
        return {"kind": kind, "media_id": answer["media_id"], "url": answer.get("url", "")}
    except bootstrap.wechat_errors().api as exc:
        raise BadRequest(f"微信拒绝了这张图片（{exc.errcode}：{exc.errmsg}）", code="wechat_refused") from exc
    except bootstrap.wechat_errors().transport as exc:
        raise StorageUnavailable("暂时连不上微信，请稍后再试") from exc

