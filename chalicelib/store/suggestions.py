"""Residents' suggestions (意见建议): the table, its writers, and the month's counters."""
from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.domain.dates import local_date
from chalicelib.domain.effects import AnswerSuggestion, NewSuggestion
from chalicelib.domain.suggestions import SuggestionView, count_ids, month_of, suggestion_scope
from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta
from chalicelib.store.counters import Counter, next_value


class SuggestionsByScope(GlobalSecondaryIndex):
    Meta = index_meta("by_scope")
    scope = UnicodeAttribute(hash_key=True)  # community#<id> | district#<id>
    created_at = UTCDateTimeAttribute(range_key=True)


class Suggestion(Model):
    """意见建议: text, the resident (to answer), the director's answer."""

    Meta = table_meta("suggestions")
    suggestion_id = UnicodeAttribute(hash_key=True)
    scope = UnicodeAttribute()
    district_id = UnicodeAttribute()
    community_id = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute()
    openid = UnicodeAttribute(null=True)
    channel = UnicodeAttribute()
    text = UnicodeAttribute()
    state = UnicodeAttribute(default="open")  # open | answered
    answer = UnicodeAttribute(null=True)
    answered_by = UnicodeAttribute(null=True)
    answered_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=clock.now)

    by_scope = SuggestionsByScope()


def view(s: Suggestion) -> SuggestionView:
    return SuggestionView(s.suggestion_id, s.scope, s.account_id, s.openid, s.state, s.created_at)


def get(suggestion_id: str) -> Suggestion | None:
    try:
        return Suggestion.get(suggestion_id, consistent_read=True)
    except Suggestion.DoesNotExist:
        return None


def month_counts(scope: str, month: str) -> dict[str, int]:
    filed, answered = count_ids(scope, month)
    found = {c.counter_id: int(c.value or 0) for c in Counter.batch_get([filed, answered])}
    return {"filed": found.get(filed, 0), "answered": found.get(answered, 0)}


class SuggestionReads:
    """`domain.suggestions.SuggestionReads` (a mixin of `store.ports.DynamoPorts`)."""

    def next_suggestion_id(self, prefix: str, now: datetime) -> str:
        day = local_date(now).strftime("%Y%m%d")
        sequence = next_value(f"suggestion#{prefix}#{day}", expires_at=now + timedelta(days=3))
        return f"JY-{prefix}-{day}-{sequence:03d}"


def write_new_suggestion(tx, effect: NewSuggestion, now: datetime) -> None:
    scope = suggestion_scope(effect.district_id, effect.community_id)
    tx.save(Suggestion(effect.suggestion_id, scope=scope, district_id=effect.district_id,
                       community_id=effect.community_id, account_id=effect.account_id, openid=effect.openid,
                       channel=effect.channel, text=effect.text, created_at=now), "suggestion",
            condition=Suggestion.suggestion_id.does_not_exist())
    tx.update(Counter(count_ids(scope, month_of(now))[0]), "counter", actions=[Counter.value.add(1)])


def write_answer(tx, effect: AnswerSuggestion, now: datetime) -> None:
    tx.update(Suggestion(effect.suggestion_id), "transition", effect.suggestion_id,
              actions=[Suggestion.state.set("answered"), Suggestion.answer.set(effect.answer),
                       Suggestion.answered_by.set(effect.actor), Suggestion.answered_at.set(now)],
              condition=Suggestion.state == "open")
    tx.update(Counter(count_ids(effect.scope, effect.month)[1]), "counter", actions=[Counter.value.add(1)])
