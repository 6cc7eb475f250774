"""A community's month counters (社区月度计数): what the bulletin and the overview read instead of requests
and posts. Every filing and request transition, and every review step of a post, adds to them in its own
transaction (`write_tally`: ADD and list appends, no read)."""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.domain.bulletin import MonthTally
from chalicelib.store.base import table_meta

MONTH_COUNTERS = ("filed", "completed", "completed_on_time", "overdue", "rated", "rating_sum", "meals_delivered")


class CommunityMonth(Model):
    """A community's 便民纸条 figures of one Shanghai month, added to by every filing and transition in the
    same transaction (`write_tally`): what the bulletin and the overview read instead of the requests."""

    Meta = table_meta("community_months")
    community_key = UnicodeAttribute(hash_key=True)  # the community (or district#<id> for untriaged ones)
    month = UnicodeAttribute(range_key=True)  # YYYY-MM
    filed = NumberAttribute(default=0)
    completed = NumberAttribute(default=0)
    completed_on_time = NumberAttribute(default=0)
    overdue = NumberAttribute(default=0)  # became overdue (first escalation) during the month
    rated = NumberAttribute(default=0)
    rating_sum = NumberAttribute(default=0)
    meals_delivered = NumberAttribute(default=0)
    hours = ListAttribute(of=NumberAttribute, null=True)  # hours from filing to done, per completion (median)
    reviews = NumberAttribute(default=0)  # review steps (approve / send back) of the community's posts
    review_hours = ListAttribute(of=NumberAttribute, null=True)  # each review step's wait, in hours


def tally_update(community_key: str, tally: MonthTally) -> tuple[CommunityMonth, list]:
    """The month item and the update actions of a tally (ADD counters, append hours: no read)."""
    item = CommunityMonth(community_key, tally.month)
    actions = [getattr(CommunityMonth, name).add(value) for name, value in tally.add.items()]
    if tally.hours is not None:
        actions.append(CommunityMonth.hours.set((CommunityMonth.hours | []).append([tally.hours])))
    if tally.review_hours is not None:
        actions.append(CommunityMonth.review_hours.set((CommunityMonth.review_hours | []).append([tally.review_hours])))
    return item, actions


def write_tally(tx, community_key: str, tally: MonthTally | None) -> None:
    """Unit-of-work piece: the tally onto the community's month item."""
    if tally is None:
        return
    item, actions = tally_update(community_key, tally)
    tx.update(item, "month-count", f"{community_key}#{tally.month}", actions=actions)


def community_months(keys: list[str], month: str) -> dict[str, CommunityMonth]:
    """The month items of these communities (BatchGetItem, 100 a request)."""
    return {m.community_key: m for m in CommunityMonth.batch_get([(k, month) for k in keys])}
