"""Each account's routing rules, as data staff can edit (one item per account)."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store.base import table_meta


class RuleSet(Model):
    """The account's rules as a JSON list (see `chalicelib.domain.rules.Rule`); absent → the defaults."""

    Meta = table_meta("rules")
    account_id = UnicodeAttribute(hash_key=True)
    rules = UnicodeAttribute()  # JSON list of rule objects
    updated_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(default=clock.now)
