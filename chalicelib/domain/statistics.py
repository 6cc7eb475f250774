"""Daily statistics (日统计): followers and reads of each account, the inputs of the monthly ranking."""
from __future__ import annotations

from datetime import date
from typing import Protocol

from chalicelib.domain.records import record


class DataCube(Protocol):
    """The slice of WeChat's datacube API this use case needs (one account)."""

    def user_summary(self, day: date) -> list[dict]: ...
    def user_cumulate(self, day: date) -> list[dict]: ...
    def article_summary(self, day: date) -> list[dict]: ...


@record
class DayFigures:
    new_followers: int
    lost_followers: int
    followers: int
    article_reads: int
    article_readers: int
    article_shares: int


def figures_for_day(cube: DataCube, day: date) -> DayFigures:
    """Sum WeChat's per-source rows into one day's figures.

    `getusersummary` answers one row per follow source (search, QR code, …); `getusercumulate` one row
    with the day's total; `getarticlesummary` one row per article published that day.
    """
    summary = cube.user_summary(day)
    cumulate = cube.user_cumulate(day)
    articles = cube.article_summary(day)
    return DayFigures(
        new_followers=sum(int(r.get("new_user", 0)) for r in summary),
        lost_followers=sum(int(r.get("cancel_user", 0)) for r in summary),
        followers=max((int(r.get("cumulate_user", 0)) for r in cumulate), default=0),
        article_reads=sum(int(r.get("int_page_read_count", 0)) for r in articles),
        article_readers=sum(int(r.get("int_page_read_user", 0)) for r in articles),
        article_shares=sum(int(r.get("share_count", 0)) for r in articles),
    )
