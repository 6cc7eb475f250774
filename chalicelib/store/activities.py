"""Community activities (社区活动) and sign-ups (报名): tables, the effect writers, and the reads.

Places taken are a `Counter` (`activity#<id>#places`) reserved by the unit of work's conditional write;
the waiting list is a sparse index (`by_queue`: only waiting sign-ups carry a `queue_key`, the time they
joined), so its first is one Query with limit 1.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.domain.activities import ActivityView, SignupView, activity_scope
from chalicelib.domain.effects import CancelSignup, SaveSignup
from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta
from chalicelib.store.counters import Counter


class ActivitiesByScope(GlobalSecondaryIndex):
    Meta = index_meta("by_scope")
    scope = UnicodeAttribute(hash_key=True)  # community#<id> | district#<id>
    starts_at = UTCDateTimeAttribute(range_key=True)


class ActivitiesByDistrict(GlobalSecondaryIndex):
    Meta = index_meta("by_district_start")
    district_id = UnicodeAttribute(hash_key=True)
    starts_at = UTCDateTimeAttribute(range_key=True)


class Activity(Model):
    """社区活动."""

    Meta = table_meta("activities")
    activity_id = UnicodeAttribute(hash_key=True)
    scope = UnicodeAttribute()
    district_id = UnicodeAttribute()
    community_id = UnicodeAttribute(null=True)
    title = UnicodeAttribute()
    place = UnicodeAttribute()
    starts_at = UTCDateTimeAttribute()
    signup_deadline = UTCDateTimeAttribute()
    capacity = NumberAttribute()
    audience = UnicodeAttribute(default="所有居民")
    relatives_allowed = BooleanAttribute(default=False)
    description = UnicodeAttribute(default="")
    state = UnicodeAttribute(default="open")
    created_by = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=clock.now)

    by_scope = ActivitiesByScope()
    by_district_start = ActivitiesByDistrict()


class SignupsByResident(GlobalSecondaryIndex):
    Meta = index_meta("by_resident")
    resident_key = UnicodeAttribute(hash_key=True)  # account#openid
    activity_id = UnicodeAttribute(range_key=True)


class SignupsByQueue(GlobalSecondaryIndex):
    """Sparse: only waiting sign-ups have a queue_key (the time they joined, then their key)."""

    Meta = index_meta("by_queue")
    activity_id = UnicodeAttribute(hash_key=True)
    queue_key = UnicodeAttribute(range_key=True)


class Signup(Model):
    """报名: one person (the resident, or an elder a relative signs up) for one activity."""

    Meta = table_meta("activity_signups")
    activity_id = UnicodeAttribute(hash_key=True)
    signup_key = UnicodeAttribute(range_key=True)  # account#openid#person
    resident_key = UnicodeAttribute()
    account_id = UnicodeAttribute()
    openid = UnicodeAttribute()
    person = UnicodeAttribute()
    state = UnicodeAttribute()  # confirmed | waiting | cancelled
    queue_key = UnicodeAttribute(null=True)
    attended = BooleanAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=clock.now)
    updated_at = UTCDateTimeAttribute(default=clock.now)

    by_resident = SignupsByResident()
    by_queue = SignupsByQueue()


# ---- views -----------------------------------------------------------------------------------------

def activity_view(a: Activity, taken: int = 0) -> ActivityView:
    return ActivityView(a.activity_id, a.district_id, a.community_id, a.title, a.starts_at, a.place,
                        int(a.capacity), a.audience, a.signup_deadline, bool(a.relatives_allowed), a.state,
                        a.description, taken)


def signup_view(s: Signup, position: int = 0) -> SignupView:
    return SignupView(s.activity_id, s.signup_key, s.account_id, s.openid, s.person, s.state, position)


def places_taken(counter_ids: list[str]) -> dict[str, int]:
    """Places taken per counter (one BatchGet)."""
    return {c.counter_id: int(c.value or 0) for c in Counter.batch_get(counter_ids)} if counter_ids else {}


def create(fields: dict, district_id: str, community_id: str | None, actor: str) -> Activity:
    activity = Activity(f"act-{uuid.uuid4().hex[:10]}", scope=activity_scope(district_id, community_id),
                        district_id=district_id, community_id=community_id, created_by=actor, **fields)
    activity.save(condition=Activity.activity_id.does_not_exist())
    return activity


def get(activity_id: str) -> Activity | None:
    try:
        return Activity.get(activity_id)
    except Activity.DoesNotExist:
        return None


def waiting_position(activity_id: str, queue_key: str) -> int:
    """1 for the next to move up (a Query of the sparse index, counting those ahead)."""
    ahead = Signup.by_queue.count(activity_id, Signup.queue_key < queue_key)
    return ahead + 1


class ActivityReads:
    """`domain.activities.ActivityReads` over DynamoDB (a mixin of `store.ports.DynamoPorts`)."""

    def upcoming_activities(self, district_id: str, community_id: str | None, now: datetime) -> list[ActivityView]:
        scopes = [activity_scope(district_id, community_id)] if community_id else []
        scopes.append(activity_scope(district_id, None))
        found = [a for scope in scopes for a in Activity.by_scope.query(scope, Activity.starts_at > now, limit=20)
                 if a.state == "open"]
        found.sort(key=lambda a: (a.starts_at, a.activity_id))
        taken = places_taken([f"activity#{a.activity_id}#places" for a in found])
        return [activity_view(a, taken.get(f"activity#{a.activity_id}#places", 0)) for a in found]

    def activity(self, activity_id: str) -> ActivityView | None:
        a = get(activity_id)
        return activity_view(a) if a else None

    def signup(self, activity_id: str, key: str) -> SignupView | None:
        try:
            return signup_view(Signup.get(activity_id, key, consistent_read=True))
        except Signup.DoesNotExist:
            return None

    def signups_of(self, account_id: str, openid: str) -> list[SignupView]:
        found = []
        for s in Signup.by_resident.query(f"{account_id}#{openid}", limit=50):
            position = waiting_position(s.activity_id, s.queue_key) if s.state == "waiting" and s.queue_key else 0
            found.append(signup_view(s, position))
        return found

    def first_waiting(self, activity_id: str) -> SignupView | None:
        for s in Signup.by_queue.query(activity_id, limit=1):
            return signup_view(Signup.get(s.activity_id, s.signup_key, consistent_read=True))
        return None


# ---- the unit of work's writers --------------------------------------------------------------------

def write_signup(tx, effect: SaveSignup, now: datetime) -> None:
    waiting = effect.state == "waiting"
    item = Signup(effect.activity_id, effect.signup_key, resident_key=f"{effect.account_id}#{effect.openid}",
                  account_id=effect.account_id, openid=effect.openid, person=effect.person, state=effect.state,
                  queue_key=f"{now.isoformat()}#{effect.signup_key}" if waiting else None, created_at=now,
                  updated_at=now)
    # one sign-up a person: a second one (two messages at once) is declined as a changed state
    tx.save(item, "transition", effect.signup_key,
            condition=Signup.signup_key.does_not_exist() | (Signup.state == "cancelled"))


def write_cancel_signup(tx, effect: CancelSignup, now: datetime) -> None:
    tx.update(Signup(effect.activity_id, effect.signup_key), "transition", effect.signup_key,
              actions=[Signup.state.set("cancelled"), Signup.queue_key.remove(), Signup.updated_at.set(now)],
              condition=Signup.state == effect.was)
    if effect.was != "confirmed":
        return
    if effect.promote:  # the place passes to the first waiting: the count of places taken stays
        tx.update(Signup(effect.activity_id, effect.promote), "transition", effect.promote,
                  actions=[Signup.state.set("confirmed"), Signup.queue_key.remove(), Signup.updated_at.set(now)],
                  condition=Signup.state == "waiting")
    else:
        tx.update(Counter(effect.counter_id), "counter", actions=[Counter.value.add(-1)],
                  condition=Counter.value > 0)
