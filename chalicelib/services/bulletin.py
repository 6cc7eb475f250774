"""The monthly bulletin (月通报) with its assessment (绩效考核): the job that builds and issues it, the staff
views, the rules, appeals and corrections, the exports. The figures are read from items kept at write time
(`store.bulletins`: one Query per account for its daily statistics and one for its publishing days, a
BatchGetItem per 100 communities for the 便民纸条 month counters), never from requests, messages or posts.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from chalicelib import bootstrap, log
from chalicelib.auth.principal import Principal
from chalicelib.auth.scope import communities_in_scope, require
from chalicelib.config import settings
from chalicelib.domain import bulletin as bl
from chalicelib.domain.dates import local_date
from chalicelib.domain.errors import BadRequest, ConflictError, NotFound
from chalicelib.domain.exports import csv_text, xlsx_bytes

LOG = log.get_logger("services.bulletin")
SENT = "sent"
FAILED = ("failed", "filtered")


def _district(principal: Principal | None = None) -> str:
    return principal.district_id if principal else settings().district_id


def rules_and_index(district_id: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    stored = bootstrap.bulletins().settings(district_id) or {}
    rules = stored.get("rules", bl.DEFAULT_RULES)
    index = stored.get("index", bl.DEFAULT_INDEX) if stored.get("use_index", True) else None
    return rules, index


# ---- the figures --------------------------------------------------------------------------------------

def figures(district_id: str, month: str, until: date | None = None) -> list[bl.CommunityFigures]:
    """Each community account's month (to `until`, for a month still running), O(accounts) reads."""
    repo = bootstrap.bulletins()
    first, last = bl.parse_month(month)
    if until is not None and until < last:
        last = until
    days_in_month = max(0, (last - first).days + 1)
    directory = repo.directory(district_id)
    months = repo.community_months([d["community_id"] for d in directory], month)
    out = []
    for d in directory:
        f = bl.CommunityFigures(account_id=d["account_id"], community_id=d["community_id"],
                                community_name=d["community_name"], subdistrict_id=d["subdistrict_id"],
                                subdistrict_name=d["subdistrict_name"], days_in_month=days_in_month)
        if days_in_month:
            _add_stats(f, repo.daily_stats(d["account_id"], first - timedelta(days=1), last), first)
            for record in repo.post_days(d["account_id"], first, last):
                f.posts_sent += record.outcome == SENT
                f.days_failed += record.outcome in FAILED
        m = months.get(d["community_id"])
        if m is not None:
            f.requests_filed, f.requests_completed = int(m.filed or 0), int(m.completed or 0)
            f.requests_completed_on_time, f.requests_overdue = int(m.completed_on_time or 0), int(m.overdue or 0)
            f.rated, f.rating_sum, f.meals_delivered = int(m.rated or 0), int(m.rating_sum or 0), int(m.meals_delivered or 0)
            f.completion_hours = [float(h) for h in (m.hours or [])]
            f.review_hours = [float(h) for h in (m.review_hours or [])]
        out.append(f)
    return out


def _add_stats(f: bl.CommunityFigures, items: list, first: date) -> None:
    before = [i for i in items if i.day < first.isoformat()]
    inside = [i for i in items if i.day >= first.isoformat()]
    if not inside:
        return
    f.followers_end = int(inside[-1].followers)
    if before:
        f.followers_start = int(before[-1].followers)
    else:  # no figure for the day before the month: its first day's start
        f.followers_start = int(inside[0].followers) - int(inside[0].new_followers) + int(inside[0].lost_followers)
    for i in inside:
        f.new_followers += int(i.new_followers or 0)
        f.lost_followers += int(i.lost_followers or 0)
        f.reads_total += int(i.post_reads or 0)
        f.headline_reads += int(i.headline_reads or 0)
        f.account_reads += int(i.article_reads or 0)
        f.shares += int(i.article_shares or 0)


def compute(district_id: str, month: str) -> dict[str, Any]:
    """The bulletin's body for the month, compared with last month's issued (or draft) bulletin."""
    rules, index = rules_and_index(district_id)
    previous = bootstrap.bulletins().latest(district_id, bl.previous_month(month))
    prev_body = bootstrap.bulletins().body_of(previous) if previous else None
    return bl.build(month, figures(district_id, month), rules, index, prev_body)


# ---- the job ------------------------------------------------------------------------------------------

def run_job(month: str | None = None, issue: bool = False) -> dict[str, Any]:
    """Scheduled (the 1st, 10:00 Shanghai: last month) or `make job NAME=monthly-bulletin ARGS="--month
    2026-11 [--issue]"`. A draft is (re)built until it is issued; an issued month is never rebuilt and
    nobody is told again (the messages' ids are fixed per version and staff member)."""
    district_id = _district()
    now = bootstrap.now()
    month = month or bl.previous_month(bl.month_of(local_date(now)))
    bl.parse_month(month)
    repo = bootstrap.bulletins()
    current = repo.latest(district_id, month)
    result: dict[str, Any] = {"month": month}
    if current is None or current.status == "draft":
        version = int(current.version) if current else 1
        body = compute(district_id, month)
        if current is not None and current.reason:
            body = _with_changes(district_id, month, version, body, current.reason)
        repo.save_draft(district_id, month, version, body, now, reason=current.reason if current else None)
        result.update(built=True, version=version, communities=len(body["rows"]))
        current = repo.latest(district_id, month)
        if issue:
            repo.issue(current, "monthly-bulletin", now)
            current = repo.latest(district_id, month)
    result.update(status=current.status, version=int(current.version))
    if current.status == "issued" and not current.notified:
        result["notified"] = _notify(current)
    elif current.status == "issued":
        result["notified"] = {"written": 0, "note": "already told"}
    log.event(LOG, "monthly bulletin", **{k: v for k, v in result.items() if k != "notified"})
    return result


def _with_changes(district_id: str, month: str, version: int, body: dict[str, Any], reason: str) -> dict:
    repo = bootstrap.bulletins()
    issued = [v for v in repo.versions(district_id, month) if v["status"] == "issued" and v["version"] < version]
    if not issued:
        return body
    old = repo.version_body(district_id, month, issued[-1]["version"])
    return {**body, "correction": {"of_version": issued[-1]["version"], "reason": reason,
                                   "changes": bl.changes_between(old, body)}}


def _notify(item) -> dict[str, Any]:
    """One WeChat message per director and sub-district reviewer (bound WeChat), through the outbox."""
    repo = bootstrap.bulletins()
    body = repo.body_of(item)
    rows = {r["community_id"]: r for r in body["rows"]}
    subs = {s["subdistrict_id"]: s for s in body["subdistricts"]}
    keys = [f"community#{c}" for c in rows] + [f"subdistrict#{s}" for s in subs]
    base = (repo.public_base(item.district_id) or "").rstrip("/")
    link = f"{base}/console/#/bulletin?month={item.month}"
    messages, unbound = [], []
    for staff in repo.bulletin_recipients(item.district_id, keys):
        if not (staff.wechat_account_id and staff.wechat_openid):
            unbound.append(staff.username)
            continue
        if staff.alert_kinds is not None and "bulletin" not in staff.alert_kinds:
            continue
        messages.append({"username": staff.username, "account_id": staff.wechat_account_id,
                         "openid": staff.wechat_openid, "body": _message_text(item, staff, rows, subs, link),
                         "fields": {"month": item.month, "version": str(int(item.version)), "url": link}})
    written = repo.write_notices(item, messages, bootstrap.now())
    if written:
        bootstrap.publish_outbox(written)
    if unbound:
        log.event(LOG, "bulletin: staff without a bound WeChat were not told", staff=unbound)
    return {"written": len(written), "recipients": len(messages), "not_bound": unbound}


def _message_text(item, staff, rows, subs, link) -> str:
    year, month = item.month.split("-")
    head = f"{year}年{int(month)}月社区微信平台月通报已发布"
    if int(item.version) > 1:
        head += f"（第{int(item.version)}版更正）"
    row = rows.get(staff.community_id) if staff.role == "director" else None
    if row:
        change = row.get("rank_change")
        moved = "" if change in (None, 0) else (f"，较上月上升{change}位" if change > 0 else f"，较上月下降{-change}位")
        detail = (f"{row['community_name']}：发稿{row['posts_sent']}篇，全区第{row['rank_district']}名{moved}，"
                  f"绩效{row['points']:g}分")
    else:
        s = subs.get(staff.subdistrict_id or "")
        detail = (f"{s['subdistrict_name']}：{s['communities']}个社区共发稿{s['posts_sent']}篇，"
                  f"扣分合计{s['points_deducted']:g}分") if s else ""
    return f"{head}。{detail}。详情：{link}"


# ---- staff views --------------------------------------------------------------------------------------

def _scoped(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    seen = communities_in_scope(principal)
    if seen is None:
        return body
    rows = [r for r in body["rows"] if r["community_id"] in seen]
    subs = {r["subdistrict_id"] for r in rows}
    return {**body, "rows": rows, "subdistricts": [s for s in body["subdistricts"] if s["subdistrict_id"] in subs]}


def _month(month: str) -> str:
    bl.parse_month(month)
    return month


def view(principal: Principal, month: str, version: int | None = None) -> dict[str, Any]:
    """The bulletin of the month (newest version, or `version`) with appeals and final points, in scope."""
    require(principal, "bulletin.view")
    repo = bootstrap.bulletins()
    month = _month(month)
    item = repo.latest(principal.district_id, month)
    if item is None:
        raise NotFound("该月通报尚未生成", code="no_bulletin")
    body = repo.body_of(item) if version in (None, int(item.version)) else repo.version_body(
        principal.district_id, month, version)
    if body is None:
        raise NotFound("没有这一版通报", code="no_version")
    body = bl.apply_appeals(body, repo.appeals(principal.district_id, month))
    out = _scoped(principal, body)
    out.update(month=month, status=item.status if version in (None, int(item.version)) else "issued",
               version=version or int(item.version), latest_version=int(item.version),
               issued_at=item.issued_at.isoformat() if item.issued_at else None, issued_by=item.issued_by,
               versions=repo.versions(principal.district_id, month))
    return out


def issue(principal: Principal, month: str) -> dict[str, Any]:
    """The district admin issues the draft: immutable from now on, and the directors and reviewers told."""
    require(principal, "bulletin.issue")
    repo = bootstrap.bulletins()
    month = _month(month)
    item = repo.latest(principal.district_id, month)
    if item is None:
        raise NotFound("该月通报尚未生成", code="no_bulletin")
    if item.status == "issued" and not item.notified:  # issued, but the messages never reached the outbox
        return {"month": month, "status": "issued", "version": int(item.version), "notified": _notify(item)}
    if item.status == "issued":
        raise ConflictError(f"第{int(item.version)}版已发布，不能再改；如需更正请生成新版本", code="already_issued")
    if not repo.issue(item, principal.username, bootstrap.now()):
        raise ConflictError("通报刚被别人发布", code="already_issued")
    item = repo.latest(principal.district_id, month)
    told = _notify(item)
    return {"month": month, "status": "issued", "version": int(item.version), "notified": told}


def correct(principal: Principal, month: str, body: dict[str, Any]) -> dict[str, Any]:
    """A correction of an issued bulletin: a new draft version built from today's figures, listing what
    changed and why; the district admin issues it like the first."""
    require(principal, "bulletin.issue")
    reason = str((body or {}).get("reason") or "").strip()
    if not reason:
        raise BadRequest("更正需要写明原因", code="empty_reason")
    repo = bootstrap.bulletins()
    month = _month(month)
    item = repo.latest(principal.district_id, month)
    if item is None or item.status != "issued":
        raise ConflictError("只有已发布的通报可以更正；草稿请直接重新生成", code="not_issued")
    version = int(item.version) + 1
    new = _with_changes(principal.district_id, month, version, compute(principal.district_id, month), reason[:500])
    if not repo.save_draft(principal.district_id, month, version, new, bootstrap.now(), reason=reason[:500]):
        raise ConflictError("该版本刚被别人发布", code="already_issued")
    return {"month": month, "status": "draft", "version": version, "changes": new.get("correction", {})}


def rebuild(principal: Principal, month: str) -> dict[str, Any]:
    """The district admin rebuilds the draft now (after editing the rules, say)."""
    require(principal, "bulletin.issue")
    return run_job(month=_month(month))


# ---- rules and index (data the district edits) --------------------------------------------------------

def get_rules(principal: Principal) -> dict[str, Any]:
    require(principal, "bulletin.view")
    rules, index = rules_and_index(principal.district_id)
    return {"rules": rules, "index": index, "kinds": {k: list(v) for k, v in bl.RULE_KINDS.items()},
            "index_fields": list(bl.NUMERIC_FIELDS), "base_points": bl.BASE_POINTS}


def save_rules(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """PUT the district's deduction rules and (optionally) the index formula; `index: null` turns it off.
    Applies to drafts built from now on; an issued bulletin keeps the rules it was built with."""
    require(principal, "bulletin.rules_edit")
    if not isinstance(body, dict) or "rules" not in body:
        raise BadRequest("需要 rules", code="missing_field")
    unknown = set(body) - {"rules", "index"}
    if unknown:
        raise BadRequest(f"未知字段：{'、'.join(sorted(unknown))}", code="unknown_field")
    stored = {"rules": bl.check_rules(body["rules"])}
    if "index" in body:
        stored.update(index=bl.check_index(body["index"]) if body["index"] is not None else None,
                      use_index=body["index"] is not None)
    else:
        _, index = rules_and_index(principal.district_id)
        stored.update(index=index, use_index=index is not None)
    bootstrap.bulletins().save_settings(principal.district_id, stored, principal.username)
    return get_rules(principal)


# ---- appeals ------------------------------------------------------------------------------------------

def _line(principal: Principal, month: str, line_id: str) -> dict[str, Any]:
    repo = bootstrap.bulletins()
    item = repo.latest(principal.district_id, month)
    if item is None or item.status != "issued":
        raise NotFound("该月通报尚未发布", code="no_bulletin")
    seen = communities_in_scope(principal)
    for row in repo.body_of(item)["rows"]:
        if seen is not None and row["community_id"] not in seen:
            continue
        for line in row["deductions"]:
            if line["line_id"] == line_id:
                return line
    raise NotFound("没有这一扣分项", code="no_line")


def appeal(principal: Principal, month: str, body: dict[str, Any]) -> dict[str, Any]:
    """申诉: the sub-district's reviewer appeals one deduction line of an issued bulletin, with a reason."""
    require(principal, "bulletin.appeal")
    month = _month(month)
    line_id = str((body or {}).get("line_id") or "")
    line = _line(principal, month, line_id)
    repo = bootstrap.bulletins()
    existing, version = repo.appeal_of(principal.district_id, month, line_id)
    data = bl.plan_appeal(existing, line, str(body.get("reason") or ""), principal.username, bootstrap.now())
    if not repo.save_appeal(principal.district_id, month, data, version):
        raise ConflictError("该扣分项刚被申诉", code="stale")
    return data


def decide(principal: Principal, month: str, body: dict[str, Any]) -> dict[str, Any]:
    """The district decides an appeal: accept (the line's points become `points`, 0 by default) or reject."""
    require(principal, "bulletin.decide")
    month = _month(month)
    body = body or {}
    line_id = str(body.get("line_id") or "")
    decision = body.get("decision")
    if decision not in ("accept", "reject"):
        raise BadRequest("decision 应为 accept 或 reject", code="bad_decision")
    points = body.get("points")
    if points is not None and (not isinstance(points, (int, float)) or isinstance(points, bool)):
        raise BadRequest("points 应为数字", code="bad_points")
    _line(principal, month, line_id)
    repo = bootstrap.bulletins()
    existing, version = repo.appeal_of(principal.district_id, month, line_id)
    if existing is None:
        raise NotFound("该扣分项没有申诉", code="no_appeal")
    data = bl.decide_appeal(existing, decision == "accept", str(body.get("note") or ""), principal.username,
                            bootstrap.now(), points)
    if not repo.save_appeal(principal.district_id, month, data, version):
        raise ConflictError("该申诉刚被别人处理", code="stale")
    return data


# ---- exports ------------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    ("rank_district", "全区排名"), ("rank_subdistrict", "街道内排名"), ("rank_change", "排名变化"),
    ("community_name", "社区"), ("subdistrict_name", "街道"), ("posts_sent", "发稿量"), ("days_missed", "未发稿天数"),
    ("followers_end", "月末粉丝数"), ("followers_growth", "粉丝增长"), ("reads_total", "总阅读数"),
    ("reads_per_post", "篇均阅读"), ("headline_reads", "头条阅读数"), ("shares", "分享次数"),
    ("requests_filed", "便民纸条受理"), ("requests_completed", "办结"), ("requests_completed_on_time", "按时办结"),
    ("median_hours_to_complete", "办结时长中位数(小时)"), ("satisfaction", "满意度"), ("meals_delivered", "送餐份数"),
    ("reviews", "稿件审核次数"), ("median_review_hours", "审核用时中位数(小时)"), ("max_review_hours", "最长审核用时(小时)"),
    ("index", "传播力指数"), ("points_deducted", "扣分"), ("final_points", "最终绩效分"),
)


def export(principal: Principal, month: str, fmt: str) -> tuple[Any, str, str]:
    """(content, content type, file name) of the bulletin in CSV (UTF-8 with BOM) or XLSX."""
    if fmt not in ("csv", "xlsx"):
        raise BadRequest("format 应为 csv 或 xlsx", code="bad_format")
    data = view(principal, month)
    header = [label for _, label in EXPORT_COLUMNS]
    rows = [[r.get(k) if r.get(k) is not None else "" for k, _ in EXPORT_COLUMNS] for r in data["rows"]]
    name = f"bulletin-{data['month']}-v{data['version']}"
    if fmt == "csv":
        return csv_text(header, rows), "text/csv; charset=utf-8", f"{name}.csv"
    return xlsx_bytes(header, rows, sheet="月通报"), "xlsx", f"{name}.xlsx"
