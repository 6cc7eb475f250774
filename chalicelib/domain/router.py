"""The message router: a handler table in the manner of WeRoBot, driven by each account's rules.

    @router.action("help")
    def help_(ctx): return Decision(Reply(text=...))

`decide` normalises the text, finds the first rule that matches (`chalicelib.domain.rules`), and calls
that rule's action. Actions are plain functions of a `Context` returning a `Decision`: the reply and
the effects (records to write, messages to send) that the gateway commits exactly once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Protocol

from chalicelib.domain.messages import NO_REPLY, Inbound, Reply
from chalicelib.domain.rules import DEFAULT_RULES, Rule, first_match
from chalicelib.domain.text import normalise


@dataclass(frozen=True)
class AccountView:
    account_id: str
    name: str
    account_type: str  # subscription | service
    district_id: str
    community_id: str | None
    request_prefix: str  # the community's code (or the district's) in public request numbers


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
class Decision:
    reply: Reply = NO_REPLY
    effects: tuple[Any, ...] = ()


class Ports(Protocol):
    """What actions may ask of the outside world (implemented over DynamoDB in `chalicelib.store.ports`)."""

    def directory(self, district_id: str) -> list[AccountView]: ...
    def next_request_number(self, prefix: str, now: datetime) -> str: ...
    def open_requests(self, account_id: str, openid: str) -> list[dict]: ...
    def policy(self, district_id: str, community_id: str | None) -> Any: ...
    def team_of_kind(self, community_id: str, kind: str) -> tuple[str, str] | None: ...
    def team_name(self, district_id: str, community_id: str | None, team_id: str | None,
                  department_id: str | None) -> str | None: ...
    def request(self, number: str) -> Any: ...
    def canteen_for(self, community_id: str) -> Any: ...
    def menu(self, canteen_id: str, day: Any) -> dict | None: ...
    def household(self, account_id: str, openid: str) -> Any: ...
    def conversation(self, account_id: str, openid: str, now: datetime) -> Any: ...


@dataclass(frozen=True)
class Context:
    message: Inbound
    account: AccountView
    text: str  # normalised
    params: dict[str, Any]
    ports: Ports
    now: datetime


Action = Callable[[Context], Decision]


class Router:
    """The handler table: action name → function. Rules (data) name the actions."""

    def __init__(self) -> None:
        self._actions: dict[str, Action] = {}

    def action(self, name: str) -> Callable[[Action], Action]:
        def register(fn: Action) -> Action:
            if name in self._actions:
                raise ValueError(f"action {name!r} registered twice")
            self._actions[name] = fn
            return fn
        return register

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(self._actions)

    def decide(self, message: Inbound, account: AccountView, ports: Ports, now: datetime,
               rules: Iterable[Rule] = DEFAULT_RULES) -> Decision:
        text = normalise(message.text)
        found = first_match(rules, message, text)
        if found is None:
            return Decision()
        rule, captured = found
        action = self._actions.get(rule.action)
        if action is None:  # a rule naming an action this version lacks: answer nothing rather than fail
            return Decision()
        return action(Context(message, account, text, {**rule.params, **captured}, ports, now))


router = Router()


def load_actions() -> Router:
    """Import every module that registers actions, and return the router."""
    from chalicelib.domain import actions, canteen_actions, request_actions  # noqa: F401 - registrations

    return router
