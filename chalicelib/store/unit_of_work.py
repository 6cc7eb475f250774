"""Committing a routed message exactly once: the delivery record and the decision's effects in one write.

No effects: one conditional PutItem of the delivery, or, for a callback, one TransactWriteItems of the
delivery and the callback's stamp (timestamp, nonce, signature: single use). Effects: one
TransactWriteItems holding the stamp, the delivery (same condition) and every record the effects make.
Either way a second copy of the message fails the condition and raises `Duplicate`, with nothing
written; its caller answers with the stored reply of the first copy.
"""
from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from chalicelib.config import settings
from chalicelib.domain.limits import SenderQuota
from chalicelib.domain.messages import Article, Reply
from chalicelib.domain.router import (
    DeleteProfile,
    EndConversation,
    FollowChanged,
    NewRequest,
    Notify,
    ReserveCapacity,
    SaveConversation,
    SaveProfile,
    Transition,
)
from chalicelib.store.inbox import Delivery

DELIVERY_TTL = timedelta(days=2)
CONFLICT_RETRIES = 3  # shared items (a community's counts, a meal's places) may be busy in another transaction  # WeChat retries within seconds; two days keep the record for inquiries


class Duplicate(Exception):
    """This delivery was already committed (by an earlier or a concurrent copy)."""


class DuplicateNeed(Exception):
    """The resident already has an open request for the same need (its number in `.number`)."""

    def __init__(self, number: str):
        super().__init__(number)
        self.number = number


class Refused(Exception):
    """An effect's condition says no (e.g. the last delivery places are gone); `.reply` says so kindly."""

    def __init__(self, reply: str):
        super().__init__(reply)
        self.reply = reply


class StaleState(Exception):
    """A transition lost a race: the request's state changed since it was read."""


class Replayed(Exception):
    """This callback URL (timestamp, nonce, signature) already carried another delivery: a replay."""


@dataclass(frozen=True)
class Stamp:
    """A callback's (timestamp, nonce, signature) to record with its delivery, and when it may be forgotten."""

    key: str  # account_id#timestamp#nonce#signature
    expires_at: datetime


def _stamp_item(stamp: Stamp, delivery_key: str, now: datetime):
    """The stamp's item and its condition: unseen, forgotten, or seen with this same delivery (a retry)."""
    from chalicelib.store.inbox import CallbackStamp

    condition = (CallbackStamp.stamp_key.does_not_exist() | (CallbackStamp.expires_at < now)
                 | (CallbackStamp.delivery_key == delivery_key))
    return CallbackStamp(stamp.key, delivery_key=delivery_key, expires_at=stamp.expires_at), condition


def remember_stamp(stamp: Stamp | None, delivery_key: str, now: datetime) -> None:
    """Record a stamp alone (a retry of a committed delivery arriving with a new URL); `Replayed` when it
    already carried another delivery."""
    from pynamodb.exceptions import PutError

    if stamp is None:
        return
    item, condition = _stamp_item(stamp, delivery_key, now)
    try:
        item.save(condition=condition)
    except PutError as exc:
        if _is_condition_failure(exc):
            raise Replayed(stamp.key) from exc
        raise


def reply_to_json(reply: Reply) -> str:
    return json.dumps({"text": reply.text, "articles": [asdict(a) for a in reply.articles]}, ensure_ascii=False)


def reply_from_json(text: str) -> Reply:
    data = json.loads(text)
    return Reply(text=data.get("text"), articles=tuple(Article(**a) for a in data.get("articles", [])))


@lru_cache(maxsize=1)
def _connection():
    from pynamodb.connection import Connection

    return Connection(region=settings().region)


def _is_condition_failure(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class _Tx:
    """A TransactWrite that remembers what each of its items is, to explain a cancellation."""

    def __init__(self, tx):
        self.tx = tx
        self._roles: dict[str, list[tuple[str, str]]] = {"check": [], "delete": [], "put": [], "update": []}
        self.after: list = []  # best-effort follow-ups once the transaction has committed

    @property
    def roles(self) -> list[tuple[str, str]]:
        """(role, detail) per item in the order DynamoDB gets them: PynamoDB sends condition checks,
        deletes, puts, then updates, whatever order they were added in."""
        return [r for kind in ("check", "delete", "put", "update") for r in self._roles[kind]]

    def save(self, item, role: str = "", detail: str = "", **kwargs) -> None:
        self.tx.save(item, **kwargs)
        self._roles["put"].append((role, detail))

    def update(self, item, role: str = "", detail: str = "", **kwargs) -> None:
        self.tx.update(item, **kwargs)
        self._roles["update"].append((role, detail))

    def delete(self, item, role: str = "", detail: str = "", **kwargs) -> None:
        self.tx.delete(item, **kwargs)
        self._roles["delete"].append((role, detail))

    def condition_check(self, model, hash_key, role: str = "", detail: str = "", **kwargs) -> None:
        self.tx.condition_check(model, hash_key, **kwargs)
        self._roles["check"].append((role, detail))


def commit(delivery_key: str | None, reply: Reply, effects: tuple, now: datetime,
           stamp: Stamp | None = None) -> list[str]:
    """Write the delivery (if any) and its effects once; returns the outbox ids for the outbox queue.

    `stamp`: the callback's (timestamp, nonce, signature), recorded in the same request (a keyword reply
    stays one TransactWriteItems).

    Raises Replayed (the stamp carried another delivery), Duplicate (the delivery was handled before),
    DuplicateNeed (the resident's same need is already open) or StaleState (a transition raced another);
    in each case nothing was written.
    """
    from pynamodb.exceptions import PutError, TransactWriteError
    from pynamodb.transactions import TransactWrite

    delivery = None
    if delivery_key is not None:
        delivery = Delivery(delivery_key, reply=reply_to_json(reply), created_at=now,
                            expires_at=now + DELIVERY_TTL)
    fresh = Delivery.delivery_key.does_not_exist() | (Delivery.expires_at < now)
    if delivery is None:
        stamp = None
    if not effects and stamp is None:
        if delivery is None:
            return []
        try:
            delivery.save(condition=fresh)
        except PutError as exc:
            if _is_condition_failure(exc):
                raise Duplicate(delivery_key) from exc
            raise
        return []
    for attempt in range(CONFLICT_RETRIES + 1):
        outbox_ids: list[str] = []
        tx = None
        try:
            with TransactWrite(connection=_connection()) as raw:
                tx = _Tx(raw)
                if stamp is not None:
                    item, stamp_ok = _stamp_item(stamp, delivery_key, now)
                    tx.save(item, "stamp", condition=stamp_ok)
                if delivery is not None:
                    tx.save(delivery, "delivery", condition=fresh)
                for effect in effects:
                    outbox_ids += _write(tx, effect, now)
            break
        except TransactWriteError as exc:
            _explain(exc, tx, delivery_key)
            codes = {r.code for r in (exc.cancellation_reasons or []) if r is not None}
            if "TransactionConflict" not in codes or attempt == CONFLICT_RETRIES:
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # another transaction held a shared item
    for follow_up in tx.after:
        follow_up()
    return outbox_ids


def _explain(exc, tx: "_Tx | None", delivery_key: str | None) -> None:
    """Turn a cancelled transaction into the domain's reason, when a condition of ours failed."""
    reasons = exc.cancellation_reasons or []
    roles = tx.roles if tx else []
    for (role, detail), reason in zip(roles, reasons):
        if reason is None or reason.code != "ConditionalCheckFailed":
            continue
        if role == "stamp":
            raise Replayed(delivery_key or "") from exc
        if role == "delivery":
            raise Duplicate(delivery_key or "") from exc
        if role == "guard":
            raise DuplicateNeed(_guarded_number(detail)) from exc
        if role == "transition":
            raise StaleState(detail) from exc
        if role == "capacity":
            raise Refused(detail) from exc


def _guarded_number(guard_key: str) -> str:
    from chalicelib.store.requests import RequestGuard

    return RequestGuard.get(guard_key, consistent_read=True).number


def stored_reply(delivery_key: str) -> Reply:
    """The reply the first copy of a delivery got (consistent read: it is committed)."""
    return reply_from_json(Delivery.get(delivery_key, consistent_read=True).reply)


def _write(tx: _Tx, effect, now: datetime) -> list[str]:
    """Add one effect's records to the transaction; returns outbox ids it creates."""
    if isinstance(effect, NewRequest):
        from chalicelib.store.request_writes import write_new_request

        write_new_request(tx, effect, now)
        return []
    if isinstance(effect, Transition):
        from chalicelib.store.request_writes import write_transition

        notice = write_transition(tx, effect.plan)
        return _write(tx, notice, now) if notice else []
    if isinstance(effect, Notify):
        from chalicelib.store.outbox import OutboxMessage

        outbox_id = uuid.uuid4().hex
        tx.save(OutboxMessage(outbox_id, account_id=effect.account_id, openid=effect.openid, purpose=effect.purpose,
                              body=effect.body, fields=json.dumps(effect.fields, ensure_ascii=False),
                              state="pending", created_at=now), "outbox")
        return [outbox_id]
    if isinstance(effect, FollowChanged):
        from chalicelib.store.residents import Resident

        actions = [Resident.subscribed.set(effect.subscribed),
                   Resident.first_seen_at.set(Resident.first_seen_at | now)]
        tx.update(Resident(effect.account_id, effect.openid), "resident", actions=actions)
        return []
    if isinstance(effect, ReserveCapacity):
        from chalicelib.store.counters import Counter

        room = effect.limit - effect.portions
        tx.update(Counter(effect.counter_id), "capacity", effect.refused_reply,
                  actions=[Counter.value.add(effect.portions)],
                  condition=Counter.value.does_not_exist() | (Counter.value <= room))
        return []
    if isinstance(effect, SenderQuota):
        from chalicelib.store.windows import write_sender_quota

        write_sender_quota(tx, effect, now)
        return []
    if isinstance(effect, (SaveConversation, EndConversation, SaveProfile, DeleteProfile)):
        from chalicelib.store.household_writes import write_household

        write_household(tx, effect, now)
        return []
    raise TypeError(f"no writer for effect {type(effect).__name__}")
