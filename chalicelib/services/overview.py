"""The district overview (全区总览): every community in the caller's scope on one page — open and overdue
便民纸条, today's post (sent / pending / missing), this month's figures so far — each row linking into the
community. Reads are O(page): the communities' index page, batch gets of counters kept at write time
(the state counts and the overdue count of `store.request_writes`, the month items of `store.bulletins`,
and per row: one query of the month's publishing days, one of the day's planned posts (only when nothing
was sent yet) and one of the newest follower count. Rows sort in the browser within the page."""
from __future__ import annotations

from typing import Any

from chalicelib import bootstrap
from chalicelib.auth.principal import Principal
from chalicelib.auth.scope import require
from chalicelib.domain import bulletin as bl
from chalicelib.domain.dates import local_date
from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.requests import OPEN_STATES

DEFAULT_LIMIT, MAX_LIMIT = 20, 100
PENDING_STATES = ("scheduled",)  # approved for the day, not sent yet
IN_REVIEW = ("first_review", "second_review", "draft", "topic")


def _count_id(community_id: str, state: str) -> str:
    return f"count#{community_id}#{state}"  # store.request_writes.count_id


def today_post(outcome: str | None, planned_states: list[str]) -> str:
    """sent / failed / pending (approved, its slot to come) / in_review / missing (nothing planned)."""
    if outcome == "sent":
        return "sent"
    if outcome in ("failed", "filtered"):
        return "failed"
    if outcome == "claimed" or any(s in PENDING_STATES for s in planned_states):
        return "pending"
    if any(s in IN_REVIEW for s in planned_states):
        return "in_review"
    return "missing"


def page(principal: Principal, cursor: str | None = None, limit: Any = None,
         subdistrict: str | None = None) -> dict[str, Any]:
    require(principal, "overview.view")
    try:
        size = max(1, min(int(limit or DEFAULT_LIMIT), MAX_LIMIT))
    except (TypeError, ValueError):
        raise BadRequest("limit 应为 1–100 的整数", code="bad_limit") from None
    if principal.role == "subdistrict_reviewer":
        if subdistrict and subdistrict != principal.subdistrict_id:
            raise NotFound()
        subdistrict = principal.subdistrict_id
    repo = bootstrap.bulletins()
    communities, next_cursor = repo.communities_page(principal.district_id, subdistrict or None, size, cursor)
    today = local_date(bootstrap.now())
    month = bl.month_of(today)
    ids = [c.community_id for c in communities]
    counts = repo.counters([_count_id(c, s) for c in ids for s in (*OPEN_STATES, "overdue")])
    months = repo.community_months(ids, month)
    first, _ = bl.parse_month(month)
    names = repo.subdistrict_names(principal.district_id)
    rows = []
    for c in communities:
        cid = c.community_id  # a community's own account has the community's id
        post_days = {d.day: d.outcome for d in repo.post_days(cid, first, today)}
        outcome = post_days.get(today.isoformat())
        planned = [] if outcome == "sent" else repo.post_states_on(cid, today)
        m = months.get(cid)
        sent = sum(1 for o in post_days.values() if o == "sent")
        rows.append({
            "community_id": cid, "community_name": c.name, "subdistrict_id": c.subdistrict_id,
            "subdistrict_name": names.get(c.subdistrict_id, ""),
            "requests_open": sum(counts.get(_count_id(cid, s), 0) for s in OPEN_STATES),
            "requests_overdue": max(0, counts.get(_count_id(cid, "overdue"), 0)),
            "today_post": today_post(outcome, planned),
            "month": {"posts_sent": sent, "requests_filed": int(m.filed or 0) if m else 0,
                      "requests_completed": int(m.completed or 0) if m else 0,
                      "meals_delivered": int(m.meals_delivered or 0) if m else 0,
                      "followers": repo.latest_followers(cid, today)},
            "link": f"#/requests?community={cid}",
        })
    return {"day": today.isoformat(), "month": month, "rows": rows, "cursor": next_cursor, "limit": size,
            "subdistrict": subdistrict}
