"""A district at scale, generated in the demo's shape with batch writes (laptop, tests and `make bench` only).

`requests(...)` writes many 便民纸条 into one community, in every state and category, so that lists can be
measured against a long history; `communities(...)` writes many communities (and their accounts and
teams) into the district. Items are written the way the platform writes them (`list_keys` included),
just without the transactions, so that 10,000 of them take seconds, not minutes.
"""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from chalicelib.domain.requests import OPEN_STATES
from chalicelib.store.accounts import Account
from chalicelib.store.org import Community
from chalicelib.store.requests import HelpRequest, list_keys
from chalicelib.store.teams import Team

STATES = ("closed",) * 6 + ("done", "cancelled", "submitted", "assigned", "in_progress", "rejected")
CATEGORIES = ("repairs", "cleaning", "care_visit", "consultation", "other")


def requests(district_id: str, community_id: str, code: str, count: int, now: datetime, *,
             team_id: str | None = None, overdue_every: int = 50, states=STATES) -> list[str]:
    """`count` requests of one community, newest `now`, one a minute backwards; an open one every
    `overdue_every` is past its time. Returns their numbers, newest first."""
    numbers = []
    cycle_states, cycle_categories = itertools.cycle(states), itertools.cycle(CATEGORIES)
    with HelpRequest.batch_write() as batch:
        for i in range(count):
            created = now - timedelta(minutes=i + 1)
            state, category = next(cycle_states), next(cycle_categories)
            number = f"{code}-{created:%Y%m%d}-{i:05d}"
            team = team_id if state in ("assigned", "in_progress", "done", "closed") else None
            due = created + (timedelta(minutes=1) if i % overdue_every == 0 else timedelta(days=30))
            is_open = state in OPEN_STATES
            batch.save(HelpRequest(
                number, district_id=district_id, community_id=community_id, community_key=community_id,
                account_id=community_id, openid=f"o-scale-{i % 500}", resident_key=f"{community_id}#o-scale-{i % 500}",
                channel="wechat", text="楼道灯坏了", category=category, state=state, team_id=team,
                due_at=due, sla_open=district_id if is_open else None, due_community=community_id if is_open else None,
                created_at=created, updated_at=created,
                **list_keys(community_id, state, team, None, category)))
            numbers.append(number)
    return numbers


def communities(district_id: str, count: int, *, subdistricts: int = 100, teams_each: int = 5,
                prefix: str = "scale") -> list[str]:
    """`count` communities of the district, each with its account (plain mode, a subscription account) and
    `teams_each` teams, spread over `subdistricts` sub-districts. Returns the community ids."""
    ids = []
    kinds = ("service_365", "bangdaojia", "comprehensive", "delivery", "volunteer")
    with Community.batch_write() as c_batch, Account.batch_write() as a_batch, Team.batch_write() as t_batch:
        for i in range(count):
            cid = f"{prefix}-{i:05d}"
            code = "S" + _letters(i)
            c_batch.save(Community(cid, district_id=district_id, subdistrict_id=f"{prefix}-sub-{i % subdistricts:03d}",
                                   name=f"第{i}社区", code=code, grids=["1", "2"], canteen_id=""))
            a_batch.save(Account(cid, district_id=district_id, community_id=cid, name=f"第{i}社区",
                                 account_type="subscription", appid=f"wx{i:016d}", original_id=f"gh_{i:012d}",
                                 encryption_mode="plain"))
            for t in range(teams_each):
                t_batch.save(Team(cid, f"{cid}-t{t}", kind=kinds[t % len(kinds)], name=f"服务队{t}"))
            ids.append(cid)
    return ids


def _letters(i: int) -> str:
    """A two-letter code suffix, distinct for 676 communities, then with digits (codes are 2-3 chars)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[i // 26 % 26] + letters[i % 26]


def matrix_entries(count: int, *, subdistricts: int = 100, prefix: str = "scale") -> list:
    """The district's alliance matrix in the seed's shape (`local/seed.matrix.json`): one entry per
    community account of `communities(...)` (same ids and names), one per sub-district, and the seed's
    departments, courts, schools and services."""
    import json
    from pathlib import Path

    from chalicelib.domain.matrix import SHARDED_CATEGORY, MatrixEntry, entry_from_dict

    seed = json.loads((Path(__file__).parent / "seed.matrix.json").read_text(encoding="utf-8"))["matrix"]
    entries = [entry_from_dict(r) for r in seed if r["category"] not in (SHARDED_CATEGORY, "街道")]
    for s in range(subdistricts):
        entries.append(MatrixEntry(f"{prefix}-sub-{s:03d}", f"第{s}街道", "wechat", f"第{s}街道办事处", "街道",
                                   f"第{s}街道的政务公众号：街道通知、办事指南", wechat_id=f"jd{s:06d}"))
    for i in range(count):
        cid = f"{prefix}-{i:05d}"
        entries.append(MatrixEntry(cid, f"第{i}社区", "wechat", f"第{i % subdistricts}街道第{i}社区居委会", SHARDED_CATEGORY,
                                   f"第{i}社区的公众号：便民纸条、社区食堂、活动报名和社区大事小情",
                                   wechat_id=f"gh_{i:012d}", account_id=cid))
    return entries
