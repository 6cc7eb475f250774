"""Committing a routed message exactly once: the delivery record and the decision's effects in one write.

No effects: one conditional PutItem of the delivery. Effects: one TransactWriteItems holding the
delivery (same condition) and every record the effects make. Either way a second copy of the message
fails the condition and raises `Duplicate`, with nothing written; its caller answers with the stored
reply of the first copy.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import lru_cache

from chalicelib.config import settings
from chalicelib.domain.messages import Article, Reply
from chalicelib.domain.router import FollowChanged, NewRequest, Notify
from chalicelib.store.inbox import Delivery

DELIVERY_TTL = timedelta(days=2)  # WeChat retries within seconds; two days keep the record for inquiries


class Duplicate(Exception):
    """This delivery was already committed (by an earlier or a concurrent copy)."""


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


def commit(delivery_key: str, reply: Reply, effects: tuple, now: datetime) -> list[str]:
    """Write the delivery and its effects once; returns the outbox ids to hand to the outbox queue."""
    from pynamodb.exceptions import PutError, TransactWriteError
    from pynamodb.transactions import TransactWrite

    delivery = Delivery(delivery_key, reply=reply_to_json(reply), created_at=now, expires_at=now + DELIVERY_TTL)
    fresh = Delivery.delivery_key.does_not_exist() | (Delivery.expires_at < now)
    if not effects:
        try:
            delivery.save(condition=fresh)
        except PutError as exc:
            if _is_condition_failure(exc):
                raise Duplicate(delivery_key) from exc
            raise
        return []
    outbox_ids: list[str] = []
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.save(delivery, condition=fresh)
            for effect in effects:
                outbox_ids += _write(tx, effect, now)
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
            raise Duplicate(delivery_key) from exc
        raise
    return outbox_ids


def stored_reply(delivery_key: str) -> Reply:
    """The reply the first copy of a delivery got (consistent read: it is committed)."""
    return reply_from_json(Delivery.get(delivery_key, consistent_read=True).reply)


def _write(tx, effect, now: datetime) -> list[str]:
    """Add one effect's records to the transaction; returns outbox ids it creates."""
    if isinstance(effect, NewRequest):
        from chalicelib.store.requests import HelpRequest

        request = HelpRequest(
            effect.number, district_id=effect.district_id, community_id=effect.community_id,
            account_id=effect.account_id, openid=effect.openid,
            resident_key=f"{effect.account_id}#{effect.openid}" if effect.openid else None,
            channel=effect.channel, text=effect.text, media_id=effect.media_id, category=effect.category,
            state="submitted", created_at=now, updated_at=now)
        tx.save(request, condition=HelpRequest.number.does_not_exist())
        return []
    if isinstance(effect, Notify):
        from chalicelib.store.outbox import OutboxMessage

        outbox_id = uuid.uuid4().hex
        tx.save(OutboxMessage(outbox_id, account_id=effect.account_id, openid=effect.openid, purpose=effect.purpose,
                              body=effect.body, fields=json.dumps(effect.fields, ensure_ascii=False),
                              state="pending", created_at=now))
        return [outbox_id]
    if isinstance(effect, FollowChanged):
        from chalicelib.store.residents import Resident

        actions = [Resident.subscribed.set(effect.subscribed),
                   Resident.first_seen_at.set(Resident.first_seen_at | now)]
        tx.update(Resident(effect.account_id, effect.openid), actions=actions)
        return []
    raise TypeError(f"no writer for effect {type(effect).__name__}")
