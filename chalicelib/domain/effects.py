"""Effects (效果): what a decision asks the platform to do, as plain data.

Actions and use cases return effects; the unit of work (`chalicelib.store.unit_of_work`) writes each one
with the delivery record in one transaction, and publishes the outbox messages after the commit.
"""
from __future__ import annotations

from dataclasses import field
from datetime import datetime
from typing import Any, Union

from chalicelib.domain.limits import SenderQuota
from chalicelib.domain.messages import NO_REPLY, Reply
from chalicelib.domain.records import record


@record
class NewRequest:
    """Effect: file a 便民纸条 (with its first audit event, its duplicate guard and its counters)."""

    number: str
    account_id: str
    district_id: str
    community_id: str | None
    openid: str | None
    channel: str
    text: str
    media_id: str | None = None
    category: str = "other"
    team_id: str | None = None
    department_id: str | None = None
    due_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)
    guard_key: str | None = None  # account#openid#fingerprint: one open request per need
    grid: str | None = None
    contact: dict[str, str] = field(default_factory=dict)  # name, phone, address: kept apart
    actor: str = "resident"
    partner: str | None = None
    delivery_key: str | None = None  # meal delivery: canteen#day#meal (the delivery team's list)
    profile_id: str | None = None
    flags: tuple[str, ...] = ()  # what staff must act on (domain.filing.FLAGS): late, capacity_full, …


@record
class Notify:
    """Effect: a message to a resident through the outbox (customer service, else template/subscribe)."""

    account_id: str
    openid: str
    purpose: str
    body: str
    fields: dict[str, str] = field(default_factory=dict)


@record
class FollowChanged:
    """Effect: a resident followed (with the QR scene, if any) or unfollowed an account."""

    account_id: str
    openid: str
    subscribed: bool
    scene: str | None = None


@record
class ReserveCapacity:
    """Effect: take `portions` of a meal's delivery capacity, refused once `limit` would be passed."""

    counter_id: str
    portions: int
    limit: int
    refused_reply: str  # what the resident hears when the last places are gone
    otherwise: tuple = ()  # effects committed instead when the places are gone (e.g. a waiting-list place)


@record
class SaveConversation:
    """Effect: remember a question asked of the resident (until `expires_at`)."""

    account_id: str
    openid: str
    awaiting: str
    pending: dict[str, Any]
    expires_at: datetime


@record
class EndConversation:
    account_id: str
    openid: str


@record
class SaveProfile:
    """Effect: create or update the resident's household profile (with consent) and link the openid."""

    account_id: str
    openid: str
    profile_id: str
    community_id: str | None
    fields: dict[str, Any]
    relation: str = "self"


@record
class DeleteProfile:
    account_id: str
    openid: str
    profile_id: str


@record
class SaveSignup:
    """Effect: a resident's sign-up for a community activity (报名), confirmed or on the waiting list.

    A confirmed one comes with a `ReserveCapacity` of the activity's places whose `otherwise` is the same
    sign-up on the waiting list. Refused (with nothing written) if the person is already signed up."""

    activity_id: str
    signup_key: str  # account#openid#person
    account_id: str
    openid: str
    person: str  # "本人" or the elder's name a relative signs up
    state: str  # confirmed | waiting
    activity_title: str = ""


@record
class CancelSignup:
    """Effect: cancel a sign-up; a confirmed place goes to the first of the waiting list (`promote`, told
    through `notice`), or back to the activity's free places."""

    activity_id: str
    signup_key: str
    was: str  # the state read: confirmed | waiting (the write is conditional on it)
    counter_id: str
    promote: str | None = None  # the signup_key moving up
    notice: Notify | None = None


@record
class NewSuggestion:
    """Effect: a resident's suggestion (意见建议) for the director's queue, and the month's count."""

    suggestion_id: str
    account_id: str
    district_id: str
    community_id: str | None
    openid: str | None
    text: str
    channel: str


@record
class AnswerSuggestion:
    """Effect: the director's answer to a suggestion (only while it is open), told to the resident."""

    suggestion_id: str
    scope: str
    month: str  # YYYY-MM (Shanghai) of the suggestion: the month's answered count
    answer: str
    actor: str
    notice: Notify | None = None


@record
class AnswerConsultation:
    """Effect: a resident's one answer to a consultation (公共政策讨论): an option and/or free text."""

    consultation_id: str
    resident_key: str  # account#openid: one answer a resident
    account_id: str
    option: int | None  # 1-based, or None for free text only
    text: str = ""


@record
class Transition:
    """Effect: apply a planned transition of a 便民纸条 (`chalicelib.domain.requests.TransitionPlan`)."""

    plan: Any


@record
class SenderBlock:
    """Effect: staff block (or unblock) a sender's 便民纸条 (`domain.limits`; checked in every filing's
    transaction)."""

    account_id: str
    openid: str
    blocked: bool


@record
class ClaimDelivery:
    """Effect: record that something happened once under `key` (e.g. a parked message's follow-up was
    sent); a later commit that claims the same key again fails as a duplicate."""

    key: str
    at: datetime


@record
class BindStaff:
    """Effect: a staff member's one-time code, sent in chat, binds this WeChat (account, openid) to their console
    account for alerts (`domain.staff_alerts`); the code is used up in the same transaction."""

    code_hash: str
    username: str
    account_id: str
    openid: str


Effect = Union[ClaimDelivery, SenderBlock, NewRequest, Notify, FollowChanged, ReserveCapacity, SaveConversation, EndConversation, SaveProfile,
               DeleteProfile, Transition, SaveSignup, CancelSignup, NewSuggestion, AnswerSuggestion,
               AnswerConsultation]
# Effects whose write is conditional on what was read: when a commit is declined they are left out (and a
# refused `ReserveCapacity` brings its `otherwise` effects instead).
DECLINABLE = (NewRequest, ReserveCapacity, Transition, SaveSignup, CancelSignup, AnswerSuggestion,
              AnswerConsultation, SenderQuota, BindStaff)


def declined_effects(effects: tuple, refused: bool) -> tuple:
    """What to commit after a decline: the effects that do not depend on the read, plus, when places were
    refused, what the refused reservations offer instead."""
    kept = tuple(e for e in effects if not isinstance(e, DECLINABLE))
    if refused:
        kept += tuple(x for e in effects if isinstance(e, ReserveCapacity) for x in e.otherwise)
    return kept


@record
class Decision:
    reply: Reply = NO_REPLY
    effects: tuple[Effect, ...] = ()
