"""Suggestions' use cases (意见建议): residents file them (chat through the router, or the H5 form), the
director answers from the queue, and the month's counts feed the monthly bulletin."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from chalicelib import bootstrap
from chalicelib.auth.principal import Principal
from chalicelib.auth.scope import communities_in_scope, require
from chalicelib.domain.dates import local_date
from chalicelib.domain.errors import BadRequest, ConflictError, NotFound, StaleState
from chalicelib.domain.messages import NO_REPLY
from chalicelib.domain.suggestions import STATES, filed_text, new_suggestion, plan_answer, suggestion_scope


def _scope(principal: Principal, community_id: str | None) -> str:
    community_id = community_id or principal.community_id
    if community_id == "district":
        community_id = None
    allowed = communities_in_scope(principal)
    if community_id is not None and allowed is not None and community_id not in allowed:
        raise NotFound("社区不存在")
    require(principal, "suggestion.answer", SimpleNamespace(district_id=principal.district_id,
                                                            community_id=community_id, team_id=None,
                                                            department_id=None))
    return suggestion_scope(principal.district_id, community_id)


def _json(s: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in s.items() if k != "district_id"}, "state_name": STATES.get(s["state"], s["state"])}


def queue(principal: Principal, community_id: str | None, state: str | None) -> dict[str, Any]:
    scope = _scope(principal, community_id)
    if state not in (None, "", "open", "answered"):
        raise BadRequest("state 应为 open 或 answered", code="bad_state")
    return {"items": [_json(s) for s in bootstrap.alliance().suggestions_of(scope, state or None)]}


def answer(principal: Principal, suggestion_id: str, body: Any) -> dict[str, Any]:
    found = bootstrap.alliance().suggestion(suggestion_id)
    if found is None:
        raise NotFound("建议不存在")
    view, data = found
    require(principal, "suggestion.answer", SimpleNamespace(district_id=data["district_id"],
                                                            community_id=data["community_id"], team_id=None,
                                                            department_id=None))
    if not isinstance(body, dict) or not isinstance(body.get("answer"), str):
        raise BadRequest("需要 answer（答复内容）", code="missing_field")
    effect = plan_answer(view, body["answer"], principal.username)
    try:
        bootstrap.unit_of_work().commit(None, NO_REPLY, (effect,), bootstrap.now())
    except StaleState as exc:
        raise ConflictError("这条建议刚刚已被答复", code="already_answered") from exc
    return _json(bootstrap.alliance().suggestion(suggestion_id)[1])


def counts(principal: Principal, community_id: str | None, month: str | None) -> dict[str, Any]:
    """The month's suggestions filed and answered (for the monthly bulletin)."""
    scope = _scope(principal, community_id)
    month = month or local_date(bootstrap.now()).strftime("%Y-%m")
    if len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit():
        raise BadRequest("month 应为 YYYY-MM", code="bad_month")
    return {"scope": scope, "month": month, **bootstrap.alliance().month_counts(scope, month)}


def file_from_h5(account, openid: str, text: str) -> str:
    """The H5 form: the same suggestion the chat files (`建议 …`)."""
    suggestion = new_suggestion(bootstrap.ports(), account, openid, text, "h5", bootstrap.now())
    bootstrap.unit_of_work().commit(None, NO_REPLY, (suggestion,), bootstrap.now())
    return filed_text(suggestion.suggestion_id)
