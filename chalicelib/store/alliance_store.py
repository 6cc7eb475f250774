"""The alliance's repository for its use cases (`bootstrap.alliance()`): the matrix, activities and
sign-ups, suggestions, consultations, settings (menus, links), rules, and the district's accounts.

Services never touch PynamoDB: they call these functions and get plain values (domain views, dicts).
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from chalicelib.domain.activities import ActivityView, SignupView, activity_scope, places_counter
from chalicelib.domain.ports import AccountView
from chalicelib.domain.suggestions import SuggestionView
from chalicelib.store import alliance_settings, rules as rules_store
from chalicelib.store.accounts import Account
from chalicelib.store.activities import Activity, Signup, activity_view, places_taken, signup_view
from chalicelib.store.consultations import Consultation
from chalicelib.store.consultations import results as consultation_results
from chalicelib.store.matrix import delete_entry, load_index, put_entry  # noqa: F401 - the matrix's repository
from chalicelib.store.matrix import entries_page, load_head, lookup  # noqa: F401 - the matrix's repository
from chalicelib.store.ports import gateway_account
from chalicelib.store.suggestions import Suggestion, month_counts  # noqa: F401 - month_counts re-exported
from chalicelib.store.suggestions import view as suggestion_view

read_setting = alliance_settings.read
read_settings = alliance_settings.read_many
write_setting = alliance_settings.write
load_rules = rules_store.load
save_rules = rules_store.save
delete_rules = rules_store.delete


def district_accounts(district_id: str) -> list[AccountView]:
    """Every account of the district (a Query of the index, then the cached account facts)."""
    found = [gateway_account(a.account_id) for a in Account.by_district.query(district_id)]
    return [a.view for a in found if a is not None]


# ---- activities ------------------------------------------------------------------------------------

def create_activity(fields: dict, district_id: str, community_id: str | None, actor: str) -> ActivityView:
    activity = Activity(f"act-{uuid.uuid4().hex[:10]}", scope=activity_scope(district_id, community_id),
                        district_id=district_id, community_id=community_id, created_by=actor, **fields)
    activity.save(condition=Activity.activity_id.does_not_exist())
    return activity_view(activity)


def activity(activity_id: str) -> ActivityView | None:
    try:
        a = Activity.get(activity_id)
    except Activity.DoesNotExist:
        return None
    counter = places_counter(activity_id)
    return activity_view(a, places_taken([counter]).get(counter, 0))


def activities_of(scope: str, limit: int = 50) -> list[ActivityView]:
    """A scope's activities, latest first, with the places taken."""
    found = list(Activity.by_scope.query(scope, scan_index_forward=False, limit=limit))
    taken = places_taken([places_counter(a.activity_id) for a in found])
    return [activity_view(a, taken.get(places_counter(a.activity_id), 0)) for a in found]


def activities_between(district_id: str, start: datetime, end: datetime) -> list[ActivityView]:
    return [activity_view(a) for a in Activity.by_district_start.query(district_id,
                                                                       Activity.starts_at.between(start, end))]


def signup_rows(activity_id: str) -> list[dict[str, Any]]:
    return [{"key": s.signup_key, "person": s.person, "openid": s.openid, "account_id": s.account_id,
             "state": s.state, "queue_key": s.queue_key or "", "attended": s.attended,
             "created_at": s.created_at} for s in Signup.query(activity_id)]


def confirmed_signups(activity_id: str) -> list[SignupView]:
    return [signup_view(s) for s in Signup.query(activity_id, filter_condition=Signup.state == "confirmed")]


def mark_attended(activity_id: str, key: str, attended: bool) -> None:
    Signup(activity_id, key).update(actions=[Signup.attended.set(attended)],
                                    condition=Signup.state == "confirmed")


# ---- suggestions -----------------------------------------------------------------------------------

def _suggestion_json(s: Suggestion) -> dict[str, Any]:
    return {"id": s.suggestion_id, "text": s.text, "state": s.state, "channel": s.channel,
            "community_id": s.community_id, "created_at": s.created_at.isoformat(), "answer": s.answer,
            "answered_by": s.answered_by, "answered_at": s.answered_at.isoformat() if s.answered_at else None,
            "district_id": s.district_id}


def suggestion(suggestion_id: str) -> tuple[SuggestionView, dict[str, Any]] | None:
    try:
        s = Suggestion.get(suggestion_id, consistent_read=True)
    except Suggestion.DoesNotExist:
        return None
    return suggestion_view(s), _suggestion_json(s)


def suggestions_of(scope: str, state: str | None) -> list[dict[str, Any]]:
    condition = (Suggestion.state == state) if state else None
    return [_suggestion_json(s) for s in Suggestion.by_scope.query(scope, scan_index_forward=False, limit=100,
                                                                    filter_condition=condition)]


# ---- consultations ---------------------------------------------------------------------------------

def _consultation_json(c: Consultation) -> dict[str, Any]:
    return {"id": c.consultation_id, "question": c.question, "options": json.loads(c.options),
            "free_text": bool(c.free_text), "opens_at": c.opens_at.isoformat(), "closes_at": c.closes_at.isoformat(),
            "community_id": c.community_id, "district_id": c.district_id}


def create_consultation(fields: dict, scope: str, district_id: str, community_id: str | None,
                        actor: str) -> dict[str, Any]:
    c = Consultation(f"pc-{uuid.uuid4().hex[:10]}", scope=scope, district_id=district_id, community_id=community_id,
                     question=fields["question"], options=json.dumps(fields["options"], ensure_ascii=False),
                     free_text=fields["free_text"], opens_at=fields["opens_at"], closes_at=fields["closes_at"],
                     created_by=actor)
    c.save(condition=Consultation.consultation_id.does_not_exist())
    return _consultation_json(c)


def consultations_of(scope: str) -> list[dict[str, Any]]:
    return [_consultation_json(c) for c in Consultation.by_scope.query(scope, scan_index_forward=False, limit=50)]


def consultation_with_results(consultation_id: str) -> dict[str, Any] | None:
    try:
        c = Consultation.get(consultation_id)
    except Consultation.DoesNotExist:
        return None
    return {**_consultation_json(c), **consultation_results(c)}
