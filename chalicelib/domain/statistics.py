"""Daily statistics (日统计): followers, reads and shares of each account, the inputs of the monthly bulletin.

Which of WeChat's datacube APIs, and why (数据统计接口):

* `getusersummary` (new and cancelled follows per source, at most 7 days per call) and `getusercumulate`
  (followers at the end of each day, 7 days per call): the follower figures.
* `getuserread` (图文统计数据, 3 days per call): the account's article reads and shares of the day over ALL
  its articles, with no threshold. `getarticlesummary` is not used: WeChat leaves out articles with fewer
  than three readers / shares / favourites, so a small community's day would show zero reads.
* `getarticletotal` (one send day per call): each article of the day's send with its cumulative reads up to
  seven days after it went out; the first article (`msgid` ending `_1`) is the headline (头条). A day's post
  figures are written when the day is collected and refreshed six days later, with the seven-day totals.

WeChat has a day's figures after 08:00 Asia/Shanghai; the job runs at 08:30. A day that failed is back-filled
by the next run: `days_to_collect` lists the missing days of the last `BACKFILL_DAYS`, and `spans` cuts them
into calls that respect each API's range limit.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Iterable, Protocol

BACKFILL_DAYS = 7  # one getusersummary / getusercumulate call covers them
USER_SPAN = 7  # getusersummary, getusercumulate: days per call
READ_SPAN = 3  # getuserread: days per call
POST_REFRESH_AFTER = 6  # getarticletotal gives seven days of cumulative figures: refresh day D-6 on day D

from chalicelib.domain.records import record


class DataCube(Protocol):
    """The slice of WeChat's datacube API this use case needs (one account)."""

    def user_summary(self, begin: date, end: date) -> list[dict]: ...
    def user_cumulate(self, begin: date, end: date) -> list[dict]: ...
    def user_read(self, begin: date, end: date) -> list[dict]: ...
    def article_total(self, day: date) -> list[dict]: ...


@record
class DayFigures:
    new_followers: int
    lost_followers: int
    followers: int
    article_reads: int  # getuserread: page reads of all the account's articles that day
    article_readers: int
    article_shares: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@record
class PostFigures:
    """Reads of the articles sent on one day (getarticletotal, cumulative up to seven days)."""

    articles: int
    post_reads: int
    headline_reads: int
    post_shares: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def days_to_collect(target: date, present: Iterable[str]) -> list[date]:
    """The target day and the missing days before it within `BACKFILL_DAYS`, oldest first."""
    have = set(present)
    window = [target - timedelta(days=n) for n in range(BACKFILL_DAYS - 1, -1, -1)]
    return [d for d in window if d == target or d.isoformat() not in have]


def spans(days: list[date], width: int) -> list[tuple[date, date]]:
    """Cover `days` (sorted) with [begin, end] ranges of at most `width` days each."""
    out: list[tuple[date, date]] = []
    for day in days:
        if out and (day - out[-1][0]).days < width:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def _rows_by_day(rows: Iterable[dict]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for row in rows:
        found.setdefault(str(row.get("ref_date", "")), []).append(row)
    return found


ALL_SOURCES = 99999999  # getuserread's user_source for the total over every source (0 is 会话, chats only)


def _total_rows(rows: list[dict]) -> list[dict]:
    """getuserread answers one row per source and, for the total, user_source 99999999; without that
    row the sources are summed."""
    totals = [r for r in rows if int(r.get("user_source", -1)) == ALL_SOURCES]
    return totals[:1] or rows


def figures_for_days(cube: DataCube, days: list[date]) -> dict[date, DayFigures]:
    """Each day's figures, with as few calls as the range limits allow.

    `getusersummary` answers one row per follow source (search, QR code, …) and day; `getusercumulate` one
    row per day with the total; `getuserread` one row per day and source.
    """
    summary: dict[str, list[dict]] = {}
    cumulate: dict[str, list[dict]] = {}
    reads: dict[str, list[dict]] = {}
    for begin, end in spans(days, USER_SPAN):
        summary.update(_rows_by_day(cube.user_summary(begin, end)))
        cumulate.update(_rows_by_day(cube.user_cumulate(begin, end)))
    for begin, end in spans(days, READ_SPAN):
        reads.update(_rows_by_day(cube.user_read(begin, end)))
    out = {}
    for day in days:
        key = day.isoformat()
        s, c, r = summary.get(key, []), cumulate.get(key, []), _total_rows(reads.get(key, []))
        out[day] = DayFigures(
            new_followers=sum(int(x.get("new_user", 0)) for x in s),
            lost_followers=sum(int(x.get("cancel_user", 0)) for x in s),
            followers=max((int(x.get("cumulate_user", 0)) for x in c), default=0),
            article_reads=sum(int(x.get("int_page_read_count", 0)) for x in r),
            article_readers=sum(int(x.get("int_page_read_user", 0)) for x in r),
            article_shares=sum(int(x.get("share_count", 0)) for x in r),
        )
    return out


def figures_for_day(cube: DataCube, day: date) -> DayFigures:
    return figures_for_days(cube, [day])[day]


def post_figures(rows: list[dict]) -> PostFigures:
    """getarticletotal's rows of one send day: per article, the latest cumulative detail."""
    reads = headline = shares = 0
    for row in rows:
        details = sorted(row.get("details") or [], key=lambda d: str(d.get("stat_date", "")))
        last = details[-1] if details else {}
        count = int(last.get("int_page_read_count", 0))
        reads += count
        shares += int(last.get("share_count", 0))
        if str(row.get("msgid", "")).endswith("_1"):
            headline += count
    return PostFigures(articles=len(rows), post_reads=reads, headline_reads=headline, post_shares=shares)
