"""Committing exactly once (工作单元): a delivery record and a decision's effects in one write, then the outbox.

No effects: one conditional PutItem of the delivery, or, for a callback, one TransactWriteItems of the
delivery and the callback's stamp (timestamp, nonce, signature: single use). Effects: one
TransactWriteItems holding the stamp, the delivery (same condition) and every record the effects make.
Either way a second copy of the message fails the condition and raises `Duplicate`, with nothing
written; its caller answers with the stored reply of the first copy. After the commit, the outbox messages the effects made are handed to the
outbox queue by the unit of work itself (`publish`), so no caller has to remember it.

`WRITERS` is the table of effect type → writer; a new effect adds a line there.
"""
from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Callable, Sequence

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import PutError, PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import clock
from chalicelib.domain.effects import (
    AnswerConsultation,
    AnswerSuggestion,
    BindStaff,
    CancelSignup,
    ClaimDelivery,
    DeleteProfile,
    EndConversation,
    FollowChanged,
    NewRequest,
    Notify,
    NewSuggestion,
    ReserveCapacity,
    SaveConversation,
    SaveProfile,
    SenderBlock,
    SaveSignup,
    Transition,
)
from chalicelib.domain.errors import (
    Duplicate,
    DuplicateNeed,
    OverLimit,
    Refused,
    Replayed,
    StaleState,
    StorageUnavailable,
)
from chalicelib.domain.limits import SenderQuota
from chalicelib.domain.ports import Stamp
from chalicelib.domain.messages import Article, Reply
from chalicelib.domain.publishing import PostJobReported
from chalicelib.store.activities import write_cancel_signup, write_signup
from chalicelib.store.base import transaction_connection
from chalicelib.store.consultations import write_answer as write_consultation_answer
from chalicelib.store.counters import Counter
from chalicelib.store.household_writes import write_household
from chalicelib.store.inbox import CallbackStamp, Delivery
from chalicelib.store.outbox import OutboxMessage
from chalicelib.store.posts import write_job_report
from chalicelib.store.request_writes import write_new_request, write_transition
from chalicelib.store.staff_store import write_binding
from chalicelib.store.requests import RequestGuard
from chalicelib.store.residents import Resident
from chalicelib.store.windows import block_id, write_sender_quota
from chalicelib.store.suggestions import write_answer, write_new_suggestion

DELIVERY_TTL = timedelta(days=2)  # WeChat retries within seconds; two days keep the record for inquiries
STORAGE_ERRORS: tuple[type[BaseException], ...] = (PynamoDBException, BotoCoreError)
CONFLICT_RETRIES = 3  # shared items (a community's counts, a meal's places) may be busy in another transaction

__all__ = ["DynamoUnitOfWork", "Duplicate", "DuplicateNeed", "Refused", "Replayed", "StaleState", "commit",
           "remember_stamp", "stored_reply"]


def _stamp_item(stamp: Stamp, delivery_key: str, now: datetime):
    """The stamp's item and its condition: unseen, forgotten, or seen with this same delivery (a retry)."""
    condition = (CallbackStamp.stamp_key.does_not_exist() | (CallbackStamp.expires_at < now)
                 | (CallbackStamp.delivery_key == delivery_key))
    return CallbackStamp(stamp.key, delivery_key=delivery_key, expires_at=stamp.expires_at), condition


def remember_stamp(stamp: Stamp | None, delivery_key: str, now: datetime) -> None:
    """Record a stamp alone (a retry of a committed delivery arriving with a new URL); `Replayed` when it
    already carried another delivery."""
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


def commit(delivery_key: str | None, reply: Reply, effects: Sequence, now: datetime,
           stamp: Stamp | None = None) -> list[str]:
    """Write the delivery (if any) and its effects once; returns the outbox ids it created (not published).

    `stamp`: the callback's (timestamp, nonce, signature), recorded in the same request (a keyword reply
    stays one request). Raises Replayed (the stamp carried another delivery), Duplicate (the delivery was
    handled before), DuplicateNeed (the resident's same need is already open), Refused (a capacity said
    no; OverLimit: the sender's quota) or StaleState (a change raced another); in each case nothing was
    written.
    """
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
            with TransactWrite(connection=transaction_connection()) as raw:
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
        if role == "quota":
            raise OverLimit(detail) from exc
        if role == "guard":
            raise DuplicateNeed(_guarded_number(detail)) from exc
        if role == "transition":
            raise StaleState(detail) from exc
        if role in ("capacity", "bind"):
            raise Refused(detail) from exc


def _guarded_number(guard_key: str) -> str:
    return RequestGuard.get(guard_key, consistent_read=True).number


def stored_reply(delivery_key: str) -> Reply:
    """The reply the first copy of a delivery got (consistent read: it is committed)."""
    return reply_from_json(Delivery.get(delivery_key, consistent_read=True).reply)


def _write_transition(tx: _Tx, effect: Transition, now: datetime) -> list[str]:
    notice = write_transition(tx, effect.plan)
    return _write_notify(tx, notice, now) if notice else []


def _write_notify(tx: _Tx, effect: Notify, now: datetime) -> list[str]:
    outbox_id = uuid.uuid4().hex
    tx.save(OutboxMessage(outbox_id, account_id=effect.account_id, openid=effect.openid, purpose=effect.purpose,
                          body=effect.body, fields=json.dumps(effect.fields, ensure_ascii=False),
                          state="pending", created_at=now), "outbox")
    return [outbox_id]


def _write_follow(tx: _Tx, effect: FollowChanged, now: datetime) -> list[str]:
    actions = [Resident.subscribed.set(effect.subscribed), Resident.first_seen_at.set(Resident.first_seen_at | now)]
    tx.update(Resident(effect.account_id, effect.openid), "resident", actions=actions)
    return []


def _write_capacity(tx: _Tx, effect: ReserveCapacity, now: datetime) -> list[str]:
    room = effect.limit - effect.portions
    tx.update(Counter(effect.counter_id), "capacity", effect.refused_reply,
              actions=[Counter.value.add(effect.portions)],
              condition=Counter.value.does_not_exist() | (Counter.value <= room))
    return []


def _write_sender_block(tx: _Tx, effect: SenderBlock, now: datetime) -> list[str]:
    marker = Counter(block_id(effect.account_id, effect.openid))
    if effect.blocked:
        tx.save(Counter(marker.counter_id, value=1), "sender-block")
    else:
        tx.delete(marker, "sender-unblock")
    return []


def _write_claim(tx: _Tx, effect: ClaimDelivery, now: datetime) -> list[str]:
    claim = Delivery(effect.key, reply=reply_to_json(Reply()), created_at=now, expires_at=now + DELIVERY_TTL)
    tx.save(claim, "delivery", condition=Delivery.delivery_key.does_not_exist() | (Delivery.expires_at < now))
    return []


def _records(write: Callable) -> Callable[[_Tx, object, datetime], list[str]]:
    """A store writer that adds the effect's records to the transaction and sends nothing."""
    def writer(tx: _Tx, effect, now: datetime) -> list[str]:
        write(tx, effect, now)
        return []
    return writer


def _records_and_notice(write: Callable) -> Callable[[_Tx, object, datetime], list[str]]:
    """A store writer whose effect also carries a `notice` (a `Notify`, or None) for the resident."""
    def writer(tx: _Tx, effect, now: datetime) -> list[str]:
        write(tx, effect, now)
        return _write_notify(tx, effect.notice, now) if effect.notice else []
    return writer


# Effect type -> writer (adds the effect's records to the transaction; returns the outbox ids it makes).
WRITERS: dict[type, Callable[[_Tx, object, datetime], list[str]]] = {
    ClaimDelivery: _write_claim,
    NewRequest: _records(write_new_request),
    Transition: _write_transition,
    Notify: _write_notify,
    FollowChanged: _write_follow,
    ReserveCapacity: _write_capacity,
    SenderQuota: _records(write_sender_quota),
    SenderBlock: _write_sender_block,
    SaveConversation: _records(write_household),
    EndConversation: _records(write_household),
    SaveProfile: _records(write_household),
    DeleteProfile: _records(write_household),
    PostJobReported: write_job_report,  # publishing: WeChat's report on a mass send or publish
    SaveSignup: _records(write_signup),
    CancelSignup: _records_and_notice(write_cancel_signup),
    NewSuggestion: _records(write_new_suggestion),
    AnswerSuggestion: _records_and_notice(write_answer),
    AnswerConsultation: _records(write_consultation_answer),
    BindStaff: _records(write_binding),  # staff bind their WeChat for alerts
}


def _write(tx: _Tx, effect, now: datetime) -> list[str]:
    writer = WRITERS.get(type(effect))
    if writer is None:
        raise TypeError(f"no writer for effect {type(effect).__name__}")
    return writer(tx, effect, now)


class DynamoUnitOfWork:
    """The unit of work over DynamoDB (`domain.ports.UnitOfWork`): commit, then publish the outbox."""

    def __init__(self, publish: Callable[[list[str]], None]):
        self._publish = publish

    def commit(self, delivery_key: str | None, reply: Reply, effects: Sequence, now: datetime,
               stamp: Stamp | None = None) -> list[str]:
        try:
            outbox_ids = commit(delivery_key, reply, effects, now, stamp)
        except (Duplicate, DuplicateNeed, Refused, Replayed, StaleState):
            raise
        except STORAGE_ERRORS as exc:  # throttled, timed out, down: nothing (or everything) was written
            raise StorageUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if outbox_ids:
            self._publish(outbox_ids)
        return outbox_ids

    def stored_reply(self, delivery_key: str) -> Reply:
        return stored_reply(delivery_key)

    def remember_stamp(self, stamp: Stamp | None, delivery_key: str, now: datetime) -> None:
        remember_stamp(stamp, delivery_key, now)

    def delivered(self, delivery_key: str) -> bool:
        try:
            found = Delivery.get(delivery_key, consistent_read=True)
        except Delivery.DoesNotExist:
            return False
        return found.expires_at > clock.now()


