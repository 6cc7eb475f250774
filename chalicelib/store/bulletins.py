"""The monthly bulletin (月通报): its versions, the appeals of its deductions, the 便民纸条 month counters
kept at write time, and the reads it makes (one per account or a batch per 100 communities, never a scan).
"""
from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from datetime import date, datetime
from typing import Any, Iterable

from pynamodb.attributes import (
    BinaryAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store import alliance_settings, page_tokens
from chalicelib.store.accounts import Account
from chalicelib.store.base import table_meta
from chalicelib.store.community_months import community_months  # noqa: F401 - read through this repository
from chalicelib.store.counters import Counter
from chalicelib.store.org import Community, SubDistrict
from chalicelib.store.outbox import OutboxMessage
from chalicelib.store.posts import PostDay, PostItem
from chalicelib.store.staff import StaffUser
from chalicelib.store.stats import AccountDailyStats



# ---- the bulletin and its appeals --------------------------------------------------------------------

class Bulletin(Model):
    """One version of a district's bulletin for a month: a draft (rebuilt by each run) until issued, then
    never changed; a correction is the next version, saying what changed."""

    Meta = table_meta("bulletins")
    bulletin_key = UnicodeAttribute(hash_key=True)  # district#YYYY-MM
    version = NumberAttribute(range_key=True)
    district_id = UnicodeAttribute()
    month = UnicodeAttribute()
    status = UnicodeAttribute()  # draft / issued
    body = BinaryAttribute(legacy_encoding=False)  # zlib-compressed JSON (rows, sums, rules, index)
    reason = UnicodeAttribute(null=True)  # a correction's reason
    built_at = UTCDateTimeAttribute(default=clock.now)
    issued_at = UTCDateTimeAttribute(null=True)
    issued_by = UnicodeAttribute(null=True)
    notified = NumberAttribute(default=0)  # the directors' and reviewers' messages are in the outbox
    build_id = UnicodeAttribute(null=True)  # the parts holding its rows (`bulletin_parts`)
    parts = NumberAttribute(default=0)


class BulletinPart(Model):
    """A slice of a version's rows (ROWS_PER_PART a part, compressed), so that a district of 10,000
    communities stays far below DynamoDB's 400 KB per item. Parts are written under a fresh build id
    before their version's item, which names them: an issued version's parts are never written again."""

    Meta = table_meta("bulletin_parts")
    part_key = UnicodeAttribute(hash_key=True)  # <district>#YYYY-MM#<build id>
    part = NumberAttribute(range_key=True)
    rows = BinaryAttribute(legacy_encoding=False)  # zlib-compressed JSON list of rows


ROWS_PER_PART = 1000


class BulletinAppeal(Model):
    """申诉: one per deduction line of a month (all versions share it); its trail is append-only."""

    Meta = table_meta("bulletin_appeals")
    bulletin_key = UnicodeAttribute(hash_key=True)  # district#YYYY-MM
    line_id = UnicodeAttribute(range_key=True)  # community_id:rule_id
    data = UnicodeAttribute()  # JSON: state, reason, decision, trail
    version = NumberAttribute(default=1)


def key_of(district_id: str, month: str) -> str:
    return f"{district_id}#{month}"


def pack(body: Any) -> bytes:
    return zlib.compress(json.dumps(body, ensure_ascii=False, default=str).encode("utf-8"))


def unpack(raw: bytes) -> Any:
    return json.loads(zlib.decompress(raw).decode("utf-8"))


def body_of(item: Bulletin) -> dict[str, Any]:
    """A version's body with its rows (one Query of its parts when it has any)."""
    body = unpack(item.body)
    if item.parts:
        rows: list = []
        for part in BulletinPart.query(f"{item.bulletin_key}#{item.build_id}", consistent_read=True):
            rows += unpack(part.rows)
        body["rows"] = rows
    return body


def _delete_parts(bulletin_key: str, build_id: str | None) -> None:
    if not build_id:
        return
    with BulletinPart.batch_write() as batch:
        for part in BulletinPart.query(f"{bulletin_key}#{build_id}", attributes_to_get=["part_key", "part"]):
            batch.delete(part)


def latest(district_id: str, month: str) -> Bulletin | None:
    """The newest version (one Query, newest first, limit 1)."""
    for item in Bulletin.query(key_of(district_id, month), scan_index_forward=False, limit=1,
                               consistent_read=True):
        return item
    return None


def version_body(district_id: str, month: str, version: int) -> dict[str, Any] | None:
    try:
        return body_of(Bulletin.get(key_of(district_id, month), int(version)))
    except Bulletin.DoesNotExist:
        return None


def versions(district_id: str, month: str) -> list[dict[str, Any]]:
    return [{"version": int(b.version), "status": b.status, "reason": b.reason,
             "issued_at": b.issued_at.isoformat() if b.issued_at else None, "issued_by": b.issued_by}
            for b in Bulletin.query(key_of(district_id, month), attributes_to_get=[
                "version", "status", "reason", "issued_at", "issued_by"])]


def save_draft(district_id: str, month: str, version: int, body: dict[str, Any], now: datetime,
               reason: str | None = None) -> bool:
    """Write the draft of `version`: only over a draft (never over an issued version). False: it was issued.
    The rows go to parts under a fresh build id first; the replaced draft's parts are deleted after."""
    bulletin_key = key_of(district_id, month)
    try:
        previous = Bulletin.get(bulletin_key, version, consistent_read=True).build_id
    except Bulletin.DoesNotExist:
        previous = None
    rows = body.get("rows", [])
    build_id = uuid.uuid4().hex[:12]
    with BulletinPart.batch_write() as batch:
        for n in range(0, len(rows), ROWS_PER_PART):
            batch.save(BulletinPart(f"{bulletin_key}#{build_id}", n // ROWS_PER_PART,
                                    rows=pack(rows[n:n + ROWS_PER_PART])))
    item = Bulletin(bulletin_key, version, district_id=district_id, month=month, status="draft",
                    body=pack({**body, "rows": []}), reason=reason, built_at=now, build_id=build_id,
                    parts=(len(rows) + ROWS_PER_PART - 1) // ROWS_PER_PART)
    try:
        item.save(condition=Bulletin.bulletin_key.does_not_exist() | (Bulletin.status == "draft"))
    except PutError as exc:
        _delete_parts(bulletin_key, build_id)
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    _delete_parts(bulletin_key, previous)
    return True


def issue(item: Bulletin, actor: str, now: datetime) -> bool:
    """Draft -> issued, once (conditional). False: someone issued it first."""
    try:
        item.update(actions=[Bulletin.status.set("issued"), Bulletin.issued_at.set(now),
                             Bulletin.issued_by.set(actor)], condition=Bulletin.status == "draft")
        return True
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise


def outbox_id(district_id: str, month: str, version: int, username: str) -> str:
    """One message per staff member and version, whatever runs again: the id is the duplicate check."""
    return "bulletin-" + hashlib.sha256(f"{district_id}|{month}|{version}|{username}".encode()).hexdigest()[:32]


def write_notices(item: Bulletin, messages: Iterable[dict[str, Any]], now: datetime) -> list[str]:
    """The messages into the outbox (each a conditional put on its fixed id), then the bulletin marked as
    notified. Returns the ids written now (a repeat writes none)."""
    written = []
    for m in messages:
        oid = outbox_id(item.district_id, item.month, int(item.version), m["username"])
        try:
            OutboxMessage(oid, account_id=m["account_id"], openid=m["openid"], purpose="bulletin",
                          body=m["body"], fields=json.dumps(m.get("fields", {}), ensure_ascii=False),
                          state="pending", created_at=now).save(condition=OutboxMessage.outbox_id.does_not_exist())
            written.append(oid)
        except PutError as exc:
            if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise
    item.update(actions=[Bulletin.notified.set(1)])
    return written


def appeals(district_id: str, month: str) -> dict[str, dict[str, Any]]:
    return {a.line_id: json.loads(a.data) for a in BulletinAppeal.query(key_of(district_id, month))}


def appeal_of(district_id: str, month: str, line_id: str) -> tuple[dict[str, Any] | None, int]:
    try:
        item = BulletinAppeal.get(key_of(district_id, month), line_id, consistent_read=True)
        return json.loads(item.data), int(item.version)
    except BulletinAppeal.DoesNotExist:
        return None, 0


def save_appeal(district_id: str, month: str, data: dict[str, Any], expected_version: int) -> bool:
    """Conditional on the version read: two deciders never overwrite each other. False: it changed."""
    item = BulletinAppeal(key_of(district_id, month), data["line_id"], data=json.dumps(data, ensure_ascii=False),
                          version=expected_version + 1)
    condition = (BulletinAppeal.line_id.does_not_exist() if expected_version == 0
                 else BulletinAppeal.version == expected_version)
    try:
        item.save(condition=condition)
        return True
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise


# ---- the district's rules and index formula (data) ---------------------------------------------------

def settings(district_id: str) -> dict[str, Any] | None:
    return alliance_settings.read(f"bulletin#district#{district_id}")


def save_settings(district_id: str, body: dict[str, Any], actor: str) -> None:
    alliance_settings.write(f"bulletin#district#{district_id}", body, actor)


def public_base(district_id: str) -> str | None:
    """The https origin the district set for its pages (the menus' template), for links in messages."""
    return (alliance_settings.read(f"menu#district#{district_id}") or {}).get("public_base")


# ---- what the bulletin reads -------------------------------------------------------------------------

def directory(district_id: str) -> list[dict[str, Any]]:
    """The district's community accounts with their community and sub-district names: one Query of the
    accounts, one of the sub-districts, and one BatchGetItem per 100 communities."""
    accounts = [a for a in Account.by_district.query(district_id, attributes_to_get=["account_id", "community_id"])
                if a.community_id]
    subs = {s.subdistrict_id: s.name for s in SubDistrict.query(district_id)}
    communities = {c.community_id: c for c in Community.batch_get(sorted({a.community_id for a in accounts}))}
    out = []
    for a in accounts:
        c = communities.get(a.community_id)
        if c is None:
            continue
        out.append({"account_id": a.account_id, "community_id": c.community_id, "community_name": c.name,
                    "subdistrict_id": c.subdistrict_id, "subdistrict_name": subs.get(c.subdistrict_id, "")})
    return sorted(out, key=lambda r: r["community_id"])


def daily_stats(account_id: str, first: date, last: date) -> list[AccountDailyStats]:
    """The account's days from `first` to `last` (one Query)."""
    return list(AccountDailyStats.query(account_id, AccountDailyStats.day.between(first.isoformat(),
                                                                                  last.isoformat())))


def post_days(account_id: str, first: date, last: date) -> list[PostDay]:
    """The account's publishing outcomes over the days (one Query, two attributes)."""
    return list(PostDay.query(account_id, PostDay.day.between(first.isoformat(), last.isoformat()),
                              attributes_to_get=["day", "outcome"]))


def bulletin_recipients(district_id: str, scope_keys: list[str]) -> list[StaffUser]:
    """Directors and sub-district reviewers of the scopes (one Query per scope on the staff index)."""
    found = []
    for key in scope_keys:
        found += [s for s in StaffUser.by_scope.query(key) if s.role in ("director", "subdistrict_reviewer")
                  and s.district_id == district_id]
    return found




# ---- the district overview (O(page): batch gets and one or two queries per row) ----------------------

def communities_page(district_id: str, subdistrict_id: str | None, limit: int, cursor: str | None):
    """A page of the district's (or one sub-district's) communities, in id order, and the next cursor."""
    query = f"overview#{district_id}#{subdistrict_id or ''}"
    start = page_tokens.decode(cursor, query)
    if subdistrict_id:
        result = Community.by_subdistrict.query(subdistrict_id, limit=limit, last_evaluated_key=start)
    else:
        result = Community.by_district.query(district_id, limit=limit, last_evaluated_key=start)
    items = list(result)  # both indexes project every attribute
    return items, page_tokens.encode(result.last_evaluated_key, query)


def counters(ids: list[str]) -> dict[str, int]:
    """Counter values (BatchGetItem, 100 a request); missing ones are 0."""
    return {c.counter_id: int(c.value or 0) for c in Counter.batch_get(ids)} if ids else {}


def post_states_on(account_id: str, day: date) -> list[str]:
    """The states of the account's posts planned for the day (one Query on the calendar index)."""
    return [p.state for p in PostItem.by_account_day.query(account_id, PostItem.planned_day == day.isoformat())]


def latest_followers(account_id: str, last: date) -> int | None:
    """The newest day's followers up to `last` (one Query, newest first, limit 1)."""
    for item in AccountDailyStats.query(account_id, AccountDailyStats.day <= last.isoformat(),
                                        scan_index_forward=False, limit=1):
        return int(item.followers)
    return None


def subdistrict_names(district_id: str) -> dict[str, str]:
    return {s.subdistrict_id: s.name for s in SubDistrict.query(district_id)}
