"""The services against in-memory fakes (tests/fakes.py): no moto, no Chalice — the domain and the use cases
alone, swapped in through `chalicelib.bootstrap.override`."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.auth.principal import Principal
from chalicelib.domain.canteen import CanteenView, Household, MenuInvalid
from chalicelib.domain.dates import SHANGHAI
from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.domain.filing import Need, plan_need
from chalicelib.domain.ports import AccountView
from chalicelib.domain.requests import InvalidTransition
from chalicelib.services import canteens, filing, requests as desk, sla
from tests.fakes import FakePorts, FakeWorld

COMMUNITY = "xianggang-huayuan"
ACCOUNT = AccountView(COMMUNITY, "香港花园社区", "subscription", "shinan", COMMUNITY, "XG")
SW = Principal("sw.xg", "孙晓雨", "social_worker", "shinan", "jinhu-lu", COMMUNITY)
DIRECTOR = Principal("director.xg", "主任", "director", "shinan", "jinhu-lu", COMMUNITY)
OTHER_SW = Principal("sw.js", "社工", "social_worker", "shinan", "jiangsu-lu", "jiangsu-lu")
TEAM = Principal("team.xg-365", "队员", "team_member", "shinan", None, COMMUNITY, team_id="xg-365")
MORNING = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
CANTEEN = CanteenView("xg-canteen", "香港花园社区食堂", COMMUNITY, "20:00", {"lunch": 2, "dinner": 2},
                      {"lunch": ("11:00", "13:00"), "dinner": ("17:00", "18:30")})


@pytest.fixture
def world():
    w = FakeWorld(accounts={COMMUNITY: ACCOUNT},
                  teams={COMMUNITY: {"xg-365": ("service_365", "365便民服务队"),
                                     "xg-pro": ("professional", "专业服务队"),
                                     "xg-comp": ("comprehensive", "综合服务队")}},
                  departments={"judge-zhangyu": "张玉法官工作室"}, canteens={CANTEEN.canteen_id: CANTEEN})
    w.menus[(CANTEEN.canteen_id, "2026-12-01")] = {"lunch": {"dishes": [{"name": "梅菜扣肉", "price_fen": 1200}]}}
    with bootstrap.override(clock=MORNING, **w.adapters()):
        yield w


def test_staff_file_for_a_walk_in_resident_and_the_desk_moves_it_to_done(world):
    filed = desk.file_for_resident(SW, COMMUNITY, "王大爷来电：水管漏水", contact={"name": "王大爷", "phone": "13812345678"})
    number = filed["number"]
    assert number == "XG-20261130-0001" and filed["team_id"] == "xg-pro" and filed["category"] == "repairs"
    assert filed["contact"]["phone"] == "13812345678"  # the social worker serves it: full contact
    desk.move(SW, number, "accept")
    desk.move(SW, number, "assign")  # the routing table's team
    done = desk.move(DIRECTOR, number, "complete", note="已修好")
    assert done["state"] == "done"
    assert [e["action"] for e in done["timeline"]] == ["file", "accept", "assign", "complete"]
    assert world.outbox == []  # no WeChat: the resident hears by phone, nothing is queued
    assert world.counters[f"count#{COMMUNITY}#done"] == 1 and world.counters[f"count#{COMMUNITY}#submitted"] == 0


def test_the_desk_refuses_what_the_state_table_or_scope_forbid(world):
    number = desk.file_for_resident(SW, COMMUNITY, "想咨询一下养老政策")["number"]
    with pytest.raises(InvalidTransition):
        desk.move(SW, number, "complete")
    with pytest.raises(NotFound):
        desk.move(OTHER_SW, number, "accept")  # another community's request looks missing
    with pytest.raises(NotFound):
        desk.move(TEAM, number, "start")  # not routed to their team
    with pytest.raises(desk.DeskError):
        desk.add_note(SW, number, "   ")


def test_notes_recategorising_and_escalation_all_write_the_audit_trail(world):
    number = desk.file_for_resident(SW, COMMUNITY, "想咨询一下")["number"]
    changed = desk.recategorise(SW, number, "legal", note="其实是遗产纠纷")
    assert (changed["category"], changed["team_id"], changed["department_id"]) == ("legal", None, "judge-zhangyu")
    desk.add_note(SW, number, "已电话联系")
    later = MORNING + timedelta(hours=80)  # legal: 72 hours
    assert sla.sweep(later) == {"escalated": 1, "skipped": 0}
    assert sla.sweep(later) == {"escalated": 0, "skipped": 0}  # idempotent
    actions = [e.action for e in world.events if e.number == number]
    assert actions == ["file", "recategorise", "note", "escalate"]
    assert world.requests[number].escalation == 1


def test_a_resident_with_wechat_hears_of_the_assignment(world):
    decision = plan_need(FakePorts(world), ACCOUNT, MORNING, Need(text="楼道灯坏了能否来修", channel="wechat",
                                                                  openid="o-1"))
    bootstrap.unit_of_work().commit("d1", decision.reply, decision.effects, MORNING)
    number = next(iter(world.requests))
    desk.move(SW, number, "assign")
    assert [n.body for n in world.outbox] == [f"您的便民纸条 {number} 已派给专业服务队，他们会尽快与您联系。"]
    assert world.published == ["outbox-1"]  # the unit of work published it after the commit


def test_meal_orders_are_filed_first_whatever_rule_applies(world):
    ports = FakePorts(world)
    evening = datetime(2026, 11, 30, 20, 30, tzinfo=SHANGHAI)
    late = plan_need(ports, ACCOUNT, evening, Need(text="明天中午送两份饭", channel="wechat", openid="o-late"))
    [request] = [e for e in late.effects if e.__class__.__name__ == "NewRequest"]
    assert request.flags == ("late", "needs_address") and request.number in late.reply.text
    assert "截止" in late.reply.text and "联系您" in late.reply.text
    world.households[(COMMUNITY, "o-home")] = Household("p1", "王秀英", "香港中路10号", None, "1网格", 2, None, None,
                                                         "self")
    ok = plan_need(ports, ACCOUNT, MORNING, Need(text="明天中午送一份饭", channel="wechat", openid="o-home"))
    [request] = [e for e in ok.effects if e.__class__.__name__ == "NewRequest"]
    assert request.flags == () and request.delivery_key == "xg-canteen#2026-12-01#lunch"
    assert request.due_at == datetime(2026, 12, 1, 13, 0, tzinfo=SHANGHAI)  # due when the meal is
    no_menu = plan_need(ports, ACCOUNT, MORNING, Need(text="后天中午送一份饭", channel="wechat", openid="o-home"))
    assert [e for e in no_menu.effects if e.__class__.__name__ == "NewRequest"][0].flags == ("no_menu",)


def test_the_last_places_gone_still_files_the_need_flagged(world):
    world.households[(COMMUNITY, "o-a")] = Household("pa", None, "香港中路1号", None, None, None, None, None, "self")
    world.households[(COMMUNITY, "o-b")] = Household("pb", None, "香港中路2号", None, None, None, None, None, "self")
    first = filing.file_need(ACCOUNT, Need(text="明天中午送两份饭", channel="h5", openid="o-a"))
    second = filing.file_need(ACCOUNT, Need(text="明天中午送一份饭", channel="h5", openid="o-b"))
    assert first.flags == () and second.flags == ("capacity_full",)
    assert second.number in second.reply and "名额已满" in second.reply
    assert world.requests[second.number].delivery_key is None and world.counters[
        "capacity#xg-canteen#2026-12-01#lunch"] == 2


def test_the_same_need_again_points_to_the_open_request(world):
    first = filing.file_need(ACCOUNT, Need(text="楼道灯坏了", channel="h5", openid="o-1"))
    again = filing.file_need(ACCOUNT, Need(text="楼道灯坏了", channel="h5", openid="o-1"))
    assert again.duplicate and again.number == first.number and len(world.requests) == 1


def test_the_canteen_desk_validates_menus_and_lists_deliveries_safely(world):
    with pytest.raises(MenuInvalid):
        canteens.save_menu(SW, CANTEEN.canteen_id, "2026-12-02", {"lunch": {"dishes": [{"name": "x"}]}}, True)
    with pytest.raises(NotFound):
        canteens.save_menu(OTHER_SW, CANTEEN.canteen_id, "2026-12-02", {}, True)
    with pytest.raises(NotFound):  # a team sees by assignment: the canteen's menus are not theirs to edit
        canteens.save_menu(TEAM, CANTEEN.canteen_id, "2026-12-02", {}, True)
    admin = Principal("admin", "区管理员", "district_admin", "shinan")
    with pytest.raises(Forbidden):  # in scope, but the role may not take the action
        from chalicelib.auth.scope import require

        require(Principal("dept", "部门", "department", "shinan", department_id="judge-zhangyu"), "canteen.edit")
    assert canteens.save_menu(admin, CANTEEN.canteen_id, "2026-12-03", {}, False)["published"] is False
    saved = canteens.save_menu(SW, CANTEEN.canteen_id, "2026-12-02",
                               {"lunch": {"dishes": [{"name": "炖豆腐", "price_fen": 800}]}}, True)
    assert saved["published"] and world.menus[(CANTEEN.canteen_id, "2026-12-02")]
    filed = filing.file_need(ACCOUNT, Need(text="明天中午送一份饭", channel="staff", actor="sw.xg",
                                           contact={"name": "=HYPERLINK(\"http://x\")", "address": "+香港中路3号",
                                                    "phone": "13812345678"}))
    rows = canteens.deliveries(TEAM, CANTEEN.canteen_id, "2026-12-01", "lunch")
    assert [r["number"] for r in rows] == [filed.number] and rows[0]["phone"] == "13812345678"  # they deliver
    masked = canteens.deliveries(Principal("reviewer", "审核", "district_admin", "shinan"), CANTEEN.canteen_id,
                                 "2026-12-01", "lunch")
    assert masked[0]["phone"] == "13812345678"  # the admin may transition: serves it
    text = canteens.deliveries_csv(rows)
    assert "'=HYPERLINK" in text and "'+香港中路3号" in text  # formulas neutralised
    done = canteens.mark_delivered(TEAM, CANTEEN.canteen_id, filed.number)
    assert done["state"] == "done"
    assert world.counters["capacity#xg-canteen#2026-12-01#lunch"] == 1


def test_a_changed_state_is_reported_not_overwritten(world):
    number = desk.file_for_resident(SW, COMMUNITY, "想咨询一下")["number"]
    record = world.requests[number]
    stale = bootstrap.requests().as_view(record)
    desk.move(SW, number, "accept")
    from chalicelib.domain.effects import Transition
    from chalicelib.domain.errors import StaleState
    from chalicelib.domain.requests import Actor, plan_transition

    plan = plan_transition(stale, "reject", Actor("staff", "x"), MORNING, "重复")
    with pytest.raises(StaleState):
        bootstrap.unit_of_work().commit(None, None, (Transition(plan),), MORNING)
    assert world.requests[number].state == "accepted"
    assert json.loads(world.requests[number].details) == {}
    assert date(2026, 11, 30) == MORNING.date()
    assert datetime.now(timezone.utc) > MORNING  # the fake clock is the platform's only
