"""Consultations' use cases (公共政策讨论): staff open one (question, options or free text, an open period)
and read the results; residents answer in chat (through the router), once each."""
from __future__ import annotations

import json
import uuid
from types import SimpleNamespace
from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.auth.scope import communities_in_scope, require
from chalicelib.domain.activities import parse_local_time
from chalicelib.domain.consultations import check_consultation
from chalicelib.domain.errors import NotFound
from chalicelib.domain.suggestions import suggestion_scope
from chalicelib.store import consultations as store


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


def _json(c) -> dict[str, Any]:
    return {"id": c.consultation_id, "question": c.question, "options": json.loads(c.options),
            "free_text": bool(c.free_text), "opens_at": c.opens_at.isoformat(), "closes_at": c.closes_at.isoformat(),
            "community_id": c.community_id}


def create(principal: Principal, body: Any) -> dict[str, Any]:
    community_id = _community(principal, body.get("community_id") if isinstance(body, dict) else None)
    fields = check_consultation(body, parse_local_time)
    c = store.Consultation(f"pc-{uuid.uuid4().hex[:10]}", scope=suggestion_scope(principal.district_id, community_id),
                           district_id=principal.district_id, community_id=community_id, question=fields["question"],
                           options=json.dumps(fields["options"], ensure_ascii=False), free_text=fields["free_text"],
                           opens_at=fields["opens_at"], closes_at=fields["closes_at"], created_by=principal.username)
    c.save(condition=store.Consultation.consultation_id.does_not_exist())
    return _json(c)


def listing(principal: Principal, community_id: str | None) -> dict[str, Any]:
    community_id = _community(principal, community_id)
    found = store.Consultation.by_scope.query(suggestion_scope(principal.district_id, community_id),
                                              scan_index_forward=False, limit=50)
    return {"items": [_json(c) for c in found]}


def results(principal: Principal, consultation_id: str) -> dict[str, Any]:
    try:
        c = store.Consultation.get(consultation_id)
    except store.Consultation.DoesNotExist as exc:
        raise NotFound("讨论不存在") from exc
    require(principal, "suggestion.answer", c)
    return {**_json(c), **store.results(c)}
