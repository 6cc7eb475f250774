"""Ports (端口): what the domain may ask of the outside world, as typed protocols.

The store implements them over DynamoDB (`chalicelib.store.ports.DynamoPorts`); unit tests use in-memory
fakes (`tests/fakes.py`). `chalicelib.bootstrap` decides which one a process uses.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol, Sequence

from chalicelib.domain.records import record

if TYPE_CHECKING:  # types only: no import cycle at run time
    from chalicelib.domain.canteen import CanteenView, Household
    from chalicelib.domain.effects import Effect
    from chalicelib.domain.limits import ResidentLimits
    from chalicelib.domain.matrix import MatrixIndex
    from chalicelib.domain.messages import Reply
    from chalicelib.domain.requests import Policy, RequestView
    from chalicelib.domain.rules import Rule


@record
class AccountView:
    account_id: str
    name: str
    account_type: str  # subscription | service
    district_id: str
    community_id: str | None
    request_prefix: str  # the community's code (or the district's) in public request numbers


@record
class GatewayAccount:
    """What a callback needs of an account: its view, and the facts the protocol checks."""

    view: AccountView
    appid: str
    original_id: str
    encryption_mode: str  # plain | compatible | safe


@record
class Stamp:
    """A callback's (timestamp, nonce, signature) to record with its delivery (single use), and when it may
    be forgotten (its timestamp has left the replay window)."""

    key: str  # account_id#timestamp#nonce#signature
    expires_at: datetime


class Ports(Protocol):
    """What actions and use cases read (implemented over DynamoDB in `chalicelib.store.ports`)."""

    def account(self, account_id: str) -> GatewayAccount | None: ...
    def rules(self, account_id: str) -> "tuple[Rule, ...]": ...
    def community_account(self, community_id: str) -> AccountView | None: ...
    def account_templates(self, account_id: str) -> str | None: ...
    def community_grids(self, community_id: str) -> tuple[str, ...]: ...
    def resident_limits(self, district_id: str) -> "ResidentLimits": ...
    def directory(self, district_id: str) -> list[AccountView]: ...
    def matrix(self, district_id: str, query: str | None = None) -> "MatrixIndex": ...
    def next_request_number(self, prefix: str, now: datetime, claim: str | None = None) -> str:
        """The next public number of the day; with `claim` (a delivery key), the number that claim took
        before if it took one (a retried message gets its number back, and no second one)."""
        ...
    def open_requests(self, account_id: str, openid: str) -> list[dict]: ...
    def policy(self, district_id: str, community_id: str | None) -> "Policy": ...
    def teams(self, community_id: str) -> dict[str, tuple[str, str]]: ...
    def team_of_kind(self, community_id: str, kind: str) -> tuple[str, str] | None: ...
    def team_name(self, district_id: str, community_id: str | None, team_id: str | None,
                  department_id: str | None) -> str | None: ...
    def request(self, number: str) -> "RequestView | None": ...
    def canteen_for(self, community_id: str) -> "CanteenView | None": ...
    def menu(self, canteen_id: str, day: date) -> dict | None: ...
    def household(self, account_id: str, openid: str) -> "Household | None": ...
    def conversation(self, account_id: str, openid: str, now: datetime) -> dict | None: ...
    def staff_for_code(self, code_hash: str, now: datetime) -> tuple[str, str] | None: ...


class UnitOfWork(Protocol):
    """Writes a delivery record (optional) and a decision's effects at once, then publishes the outbox.

    Raises `domain.errors.Duplicate`, `DuplicateNeed`, `Refused` or `StaleState` with nothing written.
    """

    def commit(self, delivery_key: str | None, reply: "Reply", effects: Sequence["Effect"],
               now: datetime, stamp: Stamp | None = None) -> list[str]: ...

    def remember_stamp(self, stamp: Stamp | None, delivery_key: str, now: datetime) -> None: ...

    def stored_reply(self, delivery_key: str) -> "Reply": ...

    def delivered(self, delivery_key: str) -> bool:
        """Whether a delivery was committed (a consistent read)."""
        ...
