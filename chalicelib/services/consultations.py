"""Consultations' use cases (公共政策讨论): staff open one (question, options or free text, an open period)
and read the results; residents answer in chat (through the router), once each."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from chalicelib import bootstrap
from chalicelib.auth.principal import Principal
from chalicelib.auth.scope import communities_in_scope, require
from chalicelib.domain.activities import parse_local_time
from chalicelib.domain.consultations import check_consultation
from chalicelib.domain.errors import NotFound
from chalicelib.domain.suggestions import suggestion_scope


def _community(principal: Principal, community_id: str | None) -> str | None:
    community_id = community_id or principal.community_id
    if community_id == "district":
        community_id = None
    allowed = communities_in_scope(principal)
    if community_id is not None and allowed is not None and community_id not in allowed:
        raise NotFound("社区不存在")
    require(principal, "suggestion.answer", SimpleNamespace(district_id=principal.district_id,
                                                            community_id=community_id, team_id=None,
                                                            department_id=None))
    return community_id


def create(principal: Principal, body: Any) -> dict[str, Any]:
    community_id = _community(principal, body.get("community_id") if isinstance(body, dict) else None)
    fields = check_consultation(body, parse_local_time)
    return bootstrap.alliance().create_consultation(fields, suggestion_scope(principal.district_id, community_id),
                                                    principal.district_id, community_id, principal.username)


def listing(principal: Principal, community_id: str | None) -> dict[str, Any]:
    community_id = _community(principal, community_id)
    return {"items": bootstrap.alliance().consultations_of(suggestion_scope(principal.district_id, community_id))}


def results(principal: Principal, consultation_id: str) -> dict[str, Any]:
    found = bootstrap.alliance().consultation_with_results(consultation_id)
    if found is None:
        raise NotFound("讨论不存在")
    require(principal, "suggestion.answer", SimpleNamespace(district_id=found["district_id"],
                                                            community_id=found["community_id"], team_id=None,
                                                            department_id=None))
    return found
