"""Service teams (服务队) of a community: the people a 便民纸条 is routed to."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.domain.vocabulary import TEAM_KINDS
from chalicelib.store.base import table_meta

__all__ = ["TEAM_KINDS", "Team"]


class Team(Model):
    """服务队: belongs to one community; queried by community."""

    Meta = table_meta("teams")
    community_id = UnicodeAttribute(hash_key=True)
    team_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # a key of TEAM_KINDS
    name = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute(default=clock.now)
