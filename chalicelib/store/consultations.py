"""Consultations (公共政策讨论) and their answers: one answer a resident (conditional put), a counter per
option, results read by staff."""
from __future__ import annotations

import json
from datetime import datetime

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.domain.consultations import ConsultationView
from chalicelib.domain.effects import AnswerConsultation
from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta
from chalicelib.store.counters import Counter


class ConsultationsByScope(GlobalSecondaryIndex):
    Meta = index_meta("by_scope")
    scope = UnicodeAttribute(hash_key=True)  # community#<id> | district#<id>
    closes_at = UTCDateTimeAttribute(range_key=True)


class Consultation(Model):
    Meta = table_meta("consultations")
    consultation_id = UnicodeAttribute(hash_key=True)
    scope = UnicodeAttribute()
    district_id = UnicodeAttribute()
    community_id = UnicodeAttribute(null=True)
    question = UnicodeAttribute()
    options = UnicodeAttribute(default="[]")  # JSON list
    free_text = BooleanAttribute(default=False)
    opens_at = UTCDateTimeAttribute()
    closes_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=clock.now)

    by_scope = ConsultationsByScope()


class ConsultationAnswer(Model):
    Meta = table_meta("consultation_answers")
    consultation_id = UnicodeAttribute(hash_key=True)
    resident_key = UnicodeAttribute(range_key=True)  # account#openid
    account_id = UnicodeAttribute()
    option = NumberAttribute(null=True)
    text = UnicodeAttribute(default="")
    created_at = UTCDateTimeAttribute(default=clock.now)


def option_counter(consultation_id: str, option: int | None) -> str:
    return f"consultation#{consultation_id}#{option or 'text'}"


def view(c: Consultation) -> ConsultationView:
    return ConsultationView(c.consultation_id, c.scope, c.question, tuple(json.loads(c.options)), bool(c.free_text),
                            c.opens_at, c.closes_at)


class ConsultationReads:
    """`domain.consultations.ConsultationReads` (a mixin of `store.ports.DynamoPorts`)."""

    def open_consultations(self, district_id: str, community_id: str | None, now: datetime) -> list[ConsultationView]:
        scopes = ([f"community#{community_id}"] if community_id else []) + [f"district#{district_id}"]
        found = [view(c) for s in scopes for c in Consultation.by_scope.query(s, Consultation.closes_at > now, limit=20)]
        return sorted((c for c in found if c.open_at(now)), key=lambda c: (c.closes_at, c.consultation_id))

    def has_answered(self, consultation_id: str, resident_key: str) -> bool:
        try:
            ConsultationAnswer.get(consultation_id, resident_key, consistent_read=True)
            return True
        except ConsultationAnswer.DoesNotExist:
            return False


def write_answer(tx, effect: AnswerConsultation, now: datetime) -> None:
    tx.save(ConsultationAnswer(effect.consultation_id, effect.resident_key, account_id=effect.account_id,
                               option=effect.option, text=effect.text, created_at=now), "transition",
            effect.resident_key, condition=ConsultationAnswer.resident_key.does_not_exist())
    tx.update(Counter(option_counter(effect.consultation_id, effect.option)), "counter",
              actions=[Counter.value.add(1)])


def results(c: Consultation) -> dict:
    options = json.loads(c.options)
    ids = [option_counter(c.consultation_id, i) for i in range(1, len(options) + 1)]
    ids.append(option_counter(c.consultation_id, None))
    counts = {x.counter_id: int(x.value or 0) for x in Counter.batch_get(ids)}
    texts = [a.text for a in ConsultationAnswer.query(c.consultation_id, limit=200) if a.text]
    return {"options": [{"option": o, "count": counts.get(ids[i], 0)} for i, o in enumerate(options)],
            "free_text_answers": counts.get(ids[-1], 0), "texts": texts,
            "answers": sum(counts.values())}
