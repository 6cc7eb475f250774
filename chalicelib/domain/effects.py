"""Effects (效果): what a decision asks the platform to do, as plain data.

Actions and use cases return effects; the unit of work (`chalicelib.store.unit_of_work`) writes each one
with the delivery record in one transaction, and publishes the outbox messages after the commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Union

from chalicelib.domain.messages import NO_REPLY, Reply


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Notify:
    """Effect: a message to a resident through the outbox (customer service, else template/subscribe)."""

    account_id: str
    openid: str
    purpose: str
    body: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FollowChanged:
    """Effect: a resident followed (with the QR scene, if any) or unfollowed an account."""

    account_id: str
    openid: str
    subscribed: bool
    scene: str | None = None


@dataclass(frozen=True)
class ReserveCapacity:
    """Effect: take `portions` of a meal's delivery capacity, refused once `limit` would be passed."""

    counter_id: str
    portions: int
    limit: int
    refused_reply: str  # what the resident hears when the last places are gone


@dataclass(frozen=True)
class SaveConversation:
    """Effect: remember a question asked of the resident (until `expires_at`)."""

    account_id: str
    openid: str
    awaiting: str
    pending: dict[str, Any]
    expires_at: datetime


@dataclass(frozen=True)
class EndConversation:
    account_id: str
    openid: str


@dataclass(frozen=True)
class SaveProfile:
    """Effect: create or update the resident's household profile (with consent) and link the openid."""

    account_id: str
    openid: str
    profile_id: str
    community_id: str | None
    fields: dict[str, Any]
    relation: str = "self"


@dataclass(frozen=True)
class DeleteProfile:
    account_id: str
    openid: str
    profile_id: str


@dataclass(frozen=True)
class Transition:
    """Effect: apply a planned transition of a 便民纸条 (`chalicelib.domain.requests.TransitionPlan`)."""

    plan: Any


@dataclass(frozen=True)
class ClaimDelivery:
    """Effect: record that something happened once under `key` (e.g. a parked message's follow-up was
    sent); a later commit that claims the same key again fails as a duplicate."""

    key: str
    at: datetime


Effect = Union[ClaimDelivery, NewRequest, Notify, FollowChanged, ReserveCapacity, SaveConversation, EndConversation, SaveProfile,
               DeleteProfile, Transition]


@dataclass(frozen=True)
class Decision:
    reply: Reply = NO_REPLY
    effects: tuple[Effect, ...] = ()
