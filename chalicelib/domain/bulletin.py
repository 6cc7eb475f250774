"""The monthly bulletin (月通报) and its assessment (绩效考核): plain rules over per-account monthly figures.

Every month the district reports each community account's posts (发稿量), followers (粉丝数) and reads
(阅读量), ranks the communities in the district and within each sub-district (with the change from last
month), sums them per sub-district, and deducts performance points (绩效分值) by rules the district edits.

* Figures come in per community as `CommunityFigures`, built by the service from the daily statistics,
  the publishing day records and the 便民纸条 month counters (all kept at write time).
* The composite index (传播力指数, like the WCI of the provinces' 政务微信 rankings) is data: weighted
  terms over named figures, each `ln(1+x)` or linear, times a scale; every row shows its computation.
* Deduction rules are data (`DEFAULT_RULES`, the district edits them); the kinds are the code below,
  each explaining itself line by line (rule, figures, points).
* Appeals (申诉): the sub-district appeals a line, the district accepts (the line's points drop to what it
  decides, 0 by default) or rejects it; `final_points` applies the decided appeals.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.records import record

MONTH = lazy_re(r"^(\d{4})-(0[1-9]|1[0-2])$")
BASE_POINTS = 100.0


def median(values: Iterable[float]) -> float:
    """The middle value (the mean of the two middle ones for an even count), as `statistics.median`, whose
    module (with `fractions` and `decimal` behind it) would cost every cold start ~7 million instructions."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if not ordered:
        raise ValueError("median of no values")
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def parse_month(text: str | None) -> tuple[date, date]:
    """'2026-11' -> (first day, last day); a clear 400 otherwise."""
    found = MONTH.match(text or "")
    if not found:
        raise BadRequest("月份格式应为 YYYY-MM，例如 2026-11", code="bad_month")
    first = date(int(found.group(1)), int(found.group(2)), 1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(month: str) -> str:
    first, _ = parse_month(month)
    return month_of(first - timedelta(days=1))


# ---- 便民纸条 month counters, kept at write time ------------------------------------------------------

@record
class MonthTally:
    """What one write adds to its community's month counters (`store.bulletins.CommunityMonth`)."""

    month: str
    add: dict[str, int] = field(default_factory=dict)  # counter name -> delta
    hours: float | None = None  # hours from filing to done (a completion)
    review_hours: float | None = None  # hours a post waited for a review step (审核用时)


def tally_review(at_local_day: date, waited_hours: float) -> MonthTally:
    """A review step (approve or send back) of one of the community's posts, with how long it waited."""
    return MonthTally(month_of(at_local_day), {"reviews": 1}, review_hours=round(max(0.0, waited_hours), 2))


def tally_filed(at_local_day: date) -> MonthTally:
    return MonthTally(month_of(at_local_day), {"filed": 1})


def tally_transition(action: str, to_state: str, at_local_day: date, at: datetime, created_at: datetime | None,
                     due_at: datetime | None, portions: int, rating: int | None,
                     escalation_from: int | None = None, escalation_to: int | None = None) -> MonthTally | None:
    """The month counters a transition moves: completions (on time, hours, meals), ratings, first escalations."""
    add: dict[str, int] = {}
    hours = None
    if action == "complete" and to_state == "done":
        add["completed"] = 1
        if due_at is None or at <= due_at:
            add["completed_on_time"] = 1
        if portions:
            add["meals_delivered"] = portions
        if created_at is not None:
            hours = round(max(0.0, (at - created_at).total_seconds() / 3600), 2)
    if action == "rate" and rating:
        add.update(rated=1, rating_sum=int(rating))
    if escalation_from == 0 and (escalation_to or 0) > 0:
        add["overdue"] = 1  # became overdue this month (the sweep's first escalation)
    if not add:
        return None
    return MonthTally(month_of(at_local_day), add, hours)


# ---- the bulletin's rows -----------------------------------------------------------------------------

@record(frozen=False)
class CommunityFigures:
    """One community account's month, as read from the counters and daily items."""

    account_id: str
    community_id: str
    community_name: str
    subdistrict_id: str
    subdistrict_name: str
    days_in_month: int
    posts_sent: int = 0
    days_failed: int = 0  # failed or filtered sends
    followers_start: int = 0
    followers_end: int = 0
    new_followers: int = 0
    lost_followers: int = 0
    reads_total: int = 0  # reads of the month's sends (getarticletotal, up to seven days each)
    headline_reads: int = 0
    account_reads: int = 0  # every article read during the month (getuserread)
    shares: int = 0
    requests_filed: int = 0
    requests_completed: int = 0
    requests_completed_on_time: int = 0
    requests_overdue: int = 0
    completion_hours: list[float] = field(default_factory=list)
    rated: int = 0
    rating_sum: int = 0
    meals_delivered: int = 0
    review_hours: list[float] = field(default_factory=list)  # each review step's wait (first and second review)


def row_of(f: CommunityFigures) -> dict[str, Any]:
    """The bulletin's row: the figures and what follows from them."""
    return {
        "account_id": f.account_id, "community_id": f.community_id, "community_name": f.community_name,
        "subdistrict_id": f.subdistrict_id, "subdistrict_name": f.subdistrict_name,
        "posts_sent": f.posts_sent, "days_missed": max(0, f.days_in_month - f.posts_sent),
        "days_failed": f.days_failed, "days_in_month": f.days_in_month,
        "followers_start": f.followers_start, "followers_end": f.followers_end,
        "followers_growth": f.followers_end - f.followers_start,
        "new_followers": f.new_followers, "lost_followers": f.lost_followers,
        "reads_total": f.reads_total, "reads_per_post": round(f.reads_total / f.posts_sent, 1) if f.posts_sent else 0,
        "headline_reads": f.headline_reads, "account_reads": f.account_reads, "shares": f.shares,
        "requests_filed": f.requests_filed, "requests_completed": f.requests_completed,
        "requests_completed_on_time": f.requests_completed_on_time, "requests_overdue": f.requests_overdue,
        "median_hours_to_complete": round(median(f.completion_hours), 1) if f.completion_hours else None,
        "ratings": f.rated, "satisfaction": round(f.rating_sum / f.rated, 2) if f.rated else None,
        "meals_delivered": f.meals_delivered,
        "reviews": len(f.review_hours),
        "median_review_hours": round(median(f.review_hours), 1) if f.review_hours else None,
        "max_review_hours": round(max(f.review_hours), 1) if f.review_hours else None,
    }


SUM_FIELDS = ("posts_sent", "days_missed", "followers_end", "followers_growth", "new_followers", "lost_followers",
              "reads_total", "headline_reads", "account_reads", "shares", "requests_filed", "requests_completed",
              "requests_completed_on_time", "requests_overdue", "meals_delivered")


# ---- the composite index, as data --------------------------------------------------------------------

DEFAULT_INDEX = {
    "name": "传播力指数",
    "scale": 100,
    "terms": [
        {"field": "posts_sent", "weight": 0.3, "transform": "ln1p", "label": "发稿量"},
        {"field": "reads_total", "weight": 0.3, "transform": "ln1p", "label": "总阅读数"},
        {"field": "headline_reads", "weight": 0.2, "transform": "ln1p", "label": "头条阅读数"},
        {"field": "reads_per_post", "weight": 0.1, "transform": "ln1p", "label": "篇均阅读数"},
        {"field": "followers_end", "weight": 0.1, "transform": "ln1p", "label": "粉丝数"},
    ],
    "divisor": 10,  # the index is scale × Σ(weight × term) / divisor
}
TRANSFORMS = ("ln1p", "linear")


def check_index(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The district's index formula, checked: known fields and transforms, numeric weights."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("terms"), list) or not spec["terms"]:
        raise BadRequest("指数公式需要 terms 列表", code="bad_index")
    terms = []
    for t in spec["terms"]:
        if not isinstance(t, Mapping) or t.get("field") not in NUMERIC_FIELDS or t.get("transform", "ln1p") \
                not in TRANSFORMS or not isinstance(t.get("weight"), (int, float)):
            raise BadRequest(f"指数公式的项无效：{t}", code="bad_index")
        terms.append({"field": t["field"], "weight": float(t["weight"]), "transform": t.get("transform", "ln1p"),
                      "label": str(t.get("label") or t["field"])[:20]})
    scale, divisor = spec.get("scale", 100), spec.get("divisor", 10)
    if not isinstance(scale, (int, float)) or not isinstance(divisor, (int, float)) or divisor <= 0:
        raise BadRequest("指数公式的 scale / divisor 无效", code="bad_index")
    return {"name": str(spec.get("name") or "综合指数")[:20], "scale": scale, "divisor": divisor, "terms": terms}


NUMERIC_FIELDS = ("posts_sent", "days_missed", "followers_end", "followers_growth", "new_followers",
                  "reads_total", "reads_per_post", "headline_reads", "account_reads", "shares", "requests_filed",
                  "requests_completed", "requests_completed_on_time", "meals_delivered")


def index_of(row: Mapping[str, Any], spec: Mapping[str, Any]) -> tuple[float, str]:
    """The row's index and its computation written out, e.g. `100×(0.3×ln(1+28) + …)/10 = 62.41`."""
    parts, total = [], 0.0
    for t in spec["terms"]:
        x = float(row.get(t["field"]) or 0)
        if t["transform"] == "ln1p":
            value = math.log1p(max(0.0, x))
            parts.append(f"{t['weight']:g}×ln(1+{x:g})")
        else:
            value = x
            parts.append(f"{t['weight']:g}×{x:g}")
        total += t["weight"] * value
    result = round(spec["scale"] * total / spec["divisor"], 2)
    return result, f"{spec['scale']:g}×({' + '.join(parts)})/{spec['divisor']:g} = {result:g}"


# ---- deduction rules, as data ------------------------------------------------------------------------

DEFAULT_RULES = [
    {"id": "few-posts", "kind": "min_posts", "label": "月发稿量不足", "min_posts": 20, "points": 2},
    {"id": "missed-days", "kind": "max_days_missed", "label": "未发稿天数过多", "max_days": 8,
     "points_per_day": 0.5, "max_points": 5},
    {"id": "follower-loss", "kind": "follower_loss", "label": "粉丝数下降", "points": 1},
    {"id": "overdue-requests", "kind": "overdue_share", "label": "便民纸条超时率过高", "max_percent": 10, "points": 2},
    {"id": "late-reviews", "kind": "late_reviews", "label": "稿件审核不及时", "max_hours": 24, "max_times": 3,
     "points": 1},
]
RULE_KINDS = {
    "min_posts": ("min_posts", "points"),
    "max_days_missed": ("max_days", "points_per_day", "max_points"),
    "follower_loss": ("points",),
    "overdue_share": ("max_percent", "points"),
    "late_reviews": ("max_hours", "max_times", "points"),
}


def check_rules(rules: Any) -> list[dict[str, Any]]:
    """The district's rules, checked (a 400 names the rule and the field)."""
    if not isinstance(rules, list) or len(rules) > 30:
        raise BadRequest("扣分规则应为列表（最多 30 条）", code="bad_rules")
    seen, out = set(), []
    for n, rule in enumerate(rules, start=1):
        if not isinstance(rule, Mapping) or rule.get("kind") not in RULE_KINDS:
            raise BadRequest(f"第 {n} 条规则的 kind 应为 {'、'.join(RULE_KINDS)}", code="bad_rules")
        rid = str(rule.get("id") or "")
        if not re.match(r"^[a-z0-9-]{1,40}$", rid) or rid in seen:
            raise BadRequest(f"第 {n} 条规则的 id 无效或重复", code="bad_rules")
        seen.add(rid)
        clean = {"id": rid, "kind": rule["kind"], "label": str(rule.get("label") or rid)[:40]}
        for name in RULE_KINDS[rule["kind"]]:
            value = rule.get(name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 or value > 1000:
                raise BadRequest(f"第 {n} 条规则的 {name} 应为 0–1000 的数", code="bad_rules")
            clean[name] = value
        out.append(clean)
    return out


def deductions_of(row: Mapping[str, Any], rules: list[Mapping[str, Any]],
                  review_hours: Iterable[float] = ()) -> list[dict[str, Any]]:
    """Each rule that applies to the row: one line with the rule, the figures and the points
    (`review_hours`: each review step's wait this month, for `late_reviews`)."""
    lines = []
    review_hours = list(review_hours)
    for rule in rules:
        kind, points, figures, why = rule["kind"], 0.0, {}, ""
        if kind == "min_posts":
            figures = {"posts_sent": row["posts_sent"], "min_posts": rule["min_posts"]}
            if row["posts_sent"] < rule["min_posts"]:
                points = float(rule["points"])
                why = f"发稿 {row['posts_sent']} 篇，少于 {rule['min_posts']:g} 篇，扣 {points:g} 分"
        elif kind == "max_days_missed":
            over = row["days_missed"] - rule["max_days"]
            figures = {"days_missed": row["days_missed"], "max_days": rule["max_days"]}
            if over > 0:
                points = min(float(rule["max_points"]), over * float(rule["points_per_day"]))
                why = (f"未发稿 {row['days_missed']} 天，超过 {rule['max_days']:g} 天 {over:g} 天，"
                       f"每天扣 {rule['points_per_day']:g} 分（最多 {rule['max_points']:g} 分），扣 {points:g} 分")
        elif kind == "follower_loss":
            figures = {"followers_start": row["followers_start"], "followers_end": row["followers_end"]}
            if row["followers_end"] < row["followers_start"]:
                points = float(rule["points"])
                why = f"粉丝由 {row['followers_start']} 降至 {row['followers_end']}，扣 {points:g} 分"
        elif kind == "overdue_share":
            filed, overdue = row["requests_filed"], row["requests_overdue"]
            percent = round(100.0 * overdue / filed, 1) if filed else 0.0
            figures = {"requests_filed": filed, "requests_overdue": overdue, "percent": percent,
                       "max_percent": rule["max_percent"]}
            if percent > rule["max_percent"]:
                points = float(rule["points"])
                why = f"便民纸条 {filed} 件中超时 {overdue} 件（{percent:g}%），超过 {rule['max_percent']:g}%，扣 {points:g} 分"
        elif kind == "late_reviews":
            late = sum(1 for h in review_hours if h > rule["max_hours"])
            figures = {"reviews": len(review_hours), "late_reviews": late, "max_hours": rule["max_hours"],
                       "max_times": rule["max_times"]}
            if late > rule["max_times"]:
                points = float(rule["points"])
                why = (f"稿件审核 {len(review_hours)} 次中 {late} 次超过 {rule['max_hours']:g} 小时，"
                       f"多于 {rule['max_times']:g} 次，扣 {points:g} 分")
        if points > 0:
            lines.append({"line_id": f"{row['community_id']}:{rule['id']}", "rule_id": rule["id"],
                          "rule": rule["label"], "figures": figures, "points": points, "explanation": why})
    return lines


# ---- ranking, sums, month over month -----------------------------------------------------------------

def _rank(rows: list[dict[str, Any]], key) -> dict[str, int]:
    ordered = sorted(rows, key=key)
    return {r["community_id"]: n for n, r in enumerate(ordered, start=1)}


def rank_key(row: Mapping[str, Any]):
    """By the index (if any), then posts, total reads, followers, and the community id (a stable order)."""
    return (-(row.get("index") or 0), -row["posts_sent"], -row["reads_total"], -row["followers_end"],
            row["community_id"])


def build(month: str, figures: Iterable[CommunityFigures], rules: list[Mapping[str, Any]],
          index_spec: Mapping[str, Any] | None, previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """The bulletin's body: rows (ranked, indexed, with deductions), sub-district sums, last month's ranks."""
    figures = list(figures)
    rows = [row_of(f) for f in figures]
    waits = {f.community_id: f.review_hours for f in figures}
    for row in rows:
        if index_spec:
            row["index"], row["index_computation"] = index_of(row, index_spec)
    by_district = _rank(rows, rank_key)
    by_sub: dict[str, int] = {}
    for sub in sorted({r["subdistrict_id"] for r in rows}):
        by_sub.update(_rank([r for r in rows if r["subdistrict_id"] == sub], rank_key))
    prev_rows = {r["community_id"]: r for r in (previous or {}).get("rows", [])}
    for row in rows:
        row["rank_district"] = by_district[row["community_id"]]
        row["rank_subdistrict"] = by_sub[row["community_id"]]
        before = prev_rows.get(row["community_id"])
        row["previous"] = ({k: before.get(k) for k in ("rank_district", "rank_subdistrict", "posts_sent",
                                                        "followers_end", "reads_total", "index")}
                           if before else None)
        # positive: moved up (a smaller rank number than last month)
        row["rank_change"] = (before["rank_district"] - row["rank_district"]) if before else None
        row["deductions"] = deductions_of(row, rules, waits.get(row["community_id"], ()))
        row["points_deducted"] = round(sum(d["points"] for d in row["deductions"]), 2)
        row["points"] = round(BASE_POINTS - row["points_deducted"], 2)
    rows.sort(key=lambda r: r["rank_district"])
    return {"month": month, "rows": rows, "subdistricts": subdistrict_sums(rows),
            "rules": [dict(r) for r in rules], "index_formula": dict(index_spec) if index_spec else None,
            "base_points": BASE_POINTS, "previous_month": (previous or {}).get("month")}


def subdistrict_sums(rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    sums: dict[str, dict[str, Any]] = {}
    for row in rows:
        s = sums.setdefault(row["subdistrict_id"], {"subdistrict_id": row["subdistrict_id"],
                                                     "subdistrict_name": row["subdistrict_name"], "communities": 0,
                                                     "points_deducted": 0.0, **{k: 0 for k in SUM_FIELDS}})
        s["communities"] += 1
        s["points_deducted"] = round(s["points_deducted"] + row.get("points_deducted", 0), 2)
        for k in SUM_FIELDS:
            s[k] += row.get(k) or 0
    out = sorted(sums.values(), key=lambda s: s["subdistrict_id"])
    for s in out:
        s["reads_per_post"] = round(s["reads_total"] / s["posts_sent"], 1) if s["posts_sent"] else 0
    return out


# ---- appeals and final points ------------------------------------------------------------------------

APPEAL_STATES = ("pending", "accepted", "rejected")


def apply_appeals(body: Mapping[str, Any], appeals: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The body with each deduction's appeal and the final points: an accepted appeal's line counts the
    points the district decided (0 unless it said otherwise); pending and rejected lines count in full."""
    out = dict(body)
    rows = []
    for row in body.get("rows", []):
        row = dict(row)
        lines, deducted = [], 0.0
        for line in row.get("deductions", []):
            line = dict(line)
            appeal = appeals.get(line["line_id"])
            line["appeal"] = dict(appeal) if appeal else None
            effective = line["points"]
            if appeal and appeal.get("state") == "accepted":
                effective = float(appeal.get("decided_points") or 0)
            line["final_points"] = effective
            deducted += effective
            lines.append(line)
        row["deductions"] = lines
        row["final_points_deducted"] = round(deducted, 2)
        row["final_points"] = round(BASE_POINTS - deducted, 2)
        rows.append(row)
    out["rows"] = rows
    return out


def plan_appeal(existing: Mapping[str, Any] | None, line: Mapping[str, Any], reason: str, actor: str,
                at: datetime) -> dict[str, Any]:
    """A sub-district's appeal of one deduction line (again after a rejection is refused: one appeal a line)."""
    reason = (reason or "").strip()
    if not reason:
        raise BadRequest("申诉需要写明理由", code="empty_reason")
    if existing:
        raise BadRequest("该扣分项已申诉，请等待区里的决定", code="already_appealed")
    return {"line_id": line["line_id"], "community_id": line["line_id"].split(":")[0], "state": "pending",
            "points": line["points"], "reason": reason[:1000], "appealed_by": actor, "appealed_at": at.isoformat(),
            "trail": [{"action": "appeal", "by": actor, "at": at.isoformat(), "note": reason[:1000]}]}


def decide_appeal(appeal: Mapping[str, Any], accept: bool, note: str, actor: str, at: datetime,
                  decided_points: float | None = None) -> dict[str, Any]:
    """The district's decision on a pending appeal, added to its trail."""
    if appeal.get("state") != "pending":
        raise BadRequest("该申诉已有决定", code="already_decided")
    points = 0.0 if decided_points is None else float(decided_points)
    if accept and not 0 <= points < float(appeal["points"]):
        raise BadRequest("改判的扣分应在 0 与原扣分之间", code="bad_points")
    out = dict(appeal)
    out.update(state="accepted" if accept else "rejected", decided_by=actor, decided_at=at.isoformat(),
               decision_note=(note or "")[:1000], decided_points=points if accept else None)
    out["trail"] = list(appeal.get("trail", [])) + [{"action": "accept" if accept else "reject", "by": actor,
                                                     "at": at.isoformat(), "note": (note or "")[:1000],
                                                     **({"decided_points": points} if accept else {})}]
    return out


# ---- versions: what a correction changed -------------------------------------------------------------

COMPARED = ("posts_sent", "days_missed", "followers_end", "followers_growth", "reads_total", "headline_reads",
            "requests_filed", "requests_completed", "rank_district", "points")


def changes_between(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per community and figure: what the new version says differently."""
    before = {r["community_id"]: r for r in old.get("rows", [])}
    out = []
    for row in new.get("rows", []):
        was = before.get(row["community_id"], {})
        for k in COMPARED:
            if was.get(k) != row.get(k):
                out.append({"community_id": row["community_id"], "community_name": row.get("community_name"),
                            "field": k, "from": was.get(k), "to": row.get(k)})
    return out


def as_plain(obj: Any) -> Any:
    return asdict(obj) if hasattr(obj, "__dataclass_fields__") else obj
