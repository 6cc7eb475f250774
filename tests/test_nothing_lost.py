"""Nothing lost: every need reaches staff, every resident hears back, every date is read right — the domain
and the chat use case against in-memory fakes, and the callback's time budget with injected latency."""
from __future__ import annotations

import time
from datetime import datetime

import pytest

from chalicelib import bootstrap
from chalicelib.domain.canteen import CanteenView, Household
from chalicelib.domain.dates import SHANGHAI
from chalicelib.domain.handlers import ROUTER
from chalicelib.domain.messages import Inbound
from chalicelib.domain.ports import AccountView, GatewayAccount
from chalicelib.services import chat
from tests.fakes import FakePorts, FakeWorld

COMMUNITY = "xianggang-huayuan"
ACCOUNT = AccountView(COMMUNITY, "香港花园社区", "subscription", "shinan", COMMUNITY, "XG")
GATEWAY = GatewayAccount(ACCOUNT, "wx0000000000000000", "gh_000000000000", "safe")
CANTEEN = CanteenView("xg-canteen", "香港花园社区食堂", COMMUNITY, "20:00", {"lunch": 30},
                      {"lunch": ("11:00", "13:00")})
NOV30_MORNING = datetime(2026, 11, 30, 9, 30, tzinfo=SHANGHAI)
NOV30_EVENING = datetime(2026, 11, 30, 20, 30, tzinfo=SHANGHAI)


@pytest.fixture
def world():
    w = FakeWorld(accounts={COMMUNITY: ACCOUNT}, teams={COMMUNITY: {"xg-365": ("service_365", "365便民服务队")}},
                  canteens={CANTEEN.canteen_id: CANTEEN})
    w.menus[(CANTEEN.canteen_id, "2026-11-30")] = {"lunch": {"dishes": [{"name": "今日炖菜", "price_fen": 900}]}}
    w.menus[(CANTEEN.canteen_id, "2026-12-01")] = {"lunch": {"dishes": [{"name": "明日水饺", "price_fen": 900}]}}
    w.households[(COMMUNITY, "o-elder")] = Household("p1", "王秀英", "香港中路10号", None, None, 2, None, None, "self")
    return w


def text(openid: str, content: str, msg_id: str = "1") -> Inbound:
    return Inbound("text", openid, "gh_000000000000", NOV30_MORNING, msg_id=msg_id, text=content)


def ask(world, content: str, now=NOV30_MORNING, openid="o-elder"):
    return ROUTER.decide(text(openid, content), ACCOUNT, FakePorts(world), now)


def test_a_menu_question_for_next_month_is_answered_for_that_day_not_today(world):
    answer = ask(world, "下个月30号食堂有什么菜").reply.text
    assert "12月30日" in answer and "今日炖菜" not in answer


def test_a_day_named_but_not_pinned_down_is_asked_back(world):
    answer = ask(world, "下个月食堂有什么菜").reply.text
    assert "哪一天" in answer and "下个月" in answer and "今日炖菜" not in answer


def test_the_evening_menu_reply_never_suggests_a_closed_day(world):
    morning = ask(world, "今天食堂有什么菜").reply.text
    evening = ask(world, "今天食堂有什么菜", now=NOV30_EVENING).reply.text
    assert "“明天中午送两份饭”" in morning
    assert "明天中午送" not in evening and "“后天中午送两份饭”" in evening


def test_an_order_for_an_unclear_day_is_filed_and_asked_back(world):
    decision = ask(world, "下个月派人送饭")
    [request] = [e for e in decision.effects if type(e).__name__ == "NewRequest"]
    assert request.flags == ("day_unclear",) and request.number in decision.reply.text
    assert "哪一天" in decision.reply.text and "ReserveCapacity" not in [type(e).__name__ for e in decision.effects]


def test_the_articles_message_after_the_cut_off_reaches_staff(world):
    decision = ask(world, "我们老两口身体不便，社区能否明天派人送饭？", now=NOV30_EVENING)
    [request] = [e for e in decision.effects if type(e).__name__ == "NewRequest"]
    assert request.flags == ("late",) and request.team_id == "xg-365"
    assert request.number in decision.reply.text and "联系您" in decision.reply.text


def test_a_parked_retry_of_a_committed_message_gets_one_follow_up_with_the_number(world):
    with bootstrap.override(clock=NOV30_MORNING, **world.adapters()):
        first = chat.handle(GATEWAY, text("o-1", "楼道灯坏了能否来修", "m-42"), NOV30_MORNING)
        numbers = dict(world.counters)
        # WeChat's retry met a storage outage and was parked; on recovery it is replayed, twice (SQS retry)
        chat.handle(GATEWAY, text("o-1", "楼道灯坏了能否来修", "m-42"), NOV30_MORNING, follow_up=True)
        chat.handle(GATEWAY, text("o-1", "楼道灯坏了能否来修", "m-42"), NOV30_MORNING, follow_up=True)
    [number] = list(world.requests)
    assert number in first.text
    assert [n.body for n in world.outbox] == [first.text]  # exactly one follow-up, with the number
    assert world.counters == numbers  # the replays took no second number


def test_a_slow_store_is_answered_within_the_budget_and_the_message_parked(world, monkeypatch):
    monkeypatch.setenv("WECHAT_CALLBACK_BUDGET_S", "0.5")
    from chalicelib import config

    config.settings.cache_clear()
    parked = []
    monkeypatch.setattr(chat, "park", lambda account_id, message, error: parked.append(error) or chat.Reply(
        text=chat.HOLDING_REPLY_TEXT))

    def slow(*args):
        time.sleep(2)
        return chat.Reply(text="late answer")
    started = time.monotonic()
    try:
        reply = chat.within_budget(slow)
    except chat.BudgetSpent as exc:
        reply = chat.park(COMMUNITY, None, exc)
    finally:
        config.settings.cache_clear()
    assert time.monotonic() - started < 1.5
    assert reply.text == chat.HOLDING_REPLY_TEXT and isinstance(parked[0], chat.BudgetSpent)
