"""Request policies (classification keywords, routing, expected hours) of a district or a community."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store.base import table_meta


class RequestPolicy(Model):
    """`scope_key` district#<id> (the district default) or community#<id> (a community's overrides).

    `policy` is JSON: {"keywords": {category: [words]}, "routes": {category: {"team_kind"|"department_id"}},
    "hours": {category: n}}; any part may be left out.
    """

    Meta = table_meta("request_policies")
    scope_key = UnicodeAttribute(hash_key=True)
    policy = UnicodeAttribute(default="{}")
    updated_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(default=clock.now)
