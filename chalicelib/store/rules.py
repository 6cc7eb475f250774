"""Each account's routing rules, as data staff can edit (one item per account; `district#<id>` holds the
district's defaults for accounts without their own)."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.domain.rules import rules_from_json, rules_to_json
from chalicelib.store.base import table_meta


class RuleSet(Model):
    """The account's rules as a JSON list (see `chalicelib.domain.rules.Rule`); absent → the defaults."""

    Meta = table_meta("rules")
    account_id = UnicodeAttribute(hash_key=True)
    rules = UnicodeAttribute()  # JSON list of rule objects
    updated_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(default=clock.now)


def load(key: str):
    """The rules stored under `key` (an account, or `district#<id>`), or None."""
    try:
        return rules_from_json(RuleSet.get(key, consistent_read=True).rules)
    except RuleSet.DoesNotExist:
        return None


def save(key: str, rules, actor: str) -> None:
    RuleSet(key, rules=rules_to_json(rules), updated_by=actor, updated_at=clock.now()).save()


def delete(key: str) -> None:
    RuleSet(key).delete()
