"""Filing for a resident from the console's form: the suggestion as chat would file it, consent for a phone or
address, a meal order's day and meal, and escalation alerts' recipients."""
from __future__ import annotations

import json
from datetime import timedelta

from chalicelib import clock
from chalicelib.domain import dates
from chalicelib.domain.staff_alerts import alerts_of_event
from tests.staff import login

COMMUNITY = "xianggang-huayuan"


def test_the_suggestion_reads_the_words_as_chat_does(http):
    sw = login(http, "sw.xianggang-huayuan")
    answer = http.post("/api/v1/requests/suggestion", headers=sw, body=json.dumps(
        {"community_id": COMMUNITY, "text": "后天晚上送两份饭"}, ensure_ascii=False))
    s = json.loads(answer.body)
    day = (dates.local_date(clock.now()) + timedelta(days=2)).isoformat()
    assert s["category"] == "meal_delivery" and s["meal"] == {"day": day, "meal": "dinner", "portions": 2}
    assert s["team"]["id"] == "xianggang-huayuan-service-365"
    s = json.loads(http.post("/api/v1/requests/suggestion", headers=sw, body=json.dumps(
        {"community_id": COMMUNITY, "text": "水管坏了请派人维修"}, ensure_ascii=False)).body)
    assert s["category"] != "meal_delivery" and s["meal"] is None


def test_the_form_needs_consent_for_a_phone_and_files_a_meal_order_with_its_day(http):
    sw = login(http, "sw.xianggang-huayuan")
    day = (dates.local_date(clock.now()) + timedelta(days=1)).isoformat()
    body = {"community_id": COMMUNITY, "text": "老人要订饭", "category": "meal_delivery", "via": "phone",
            "contact": {"name": "电话里的王奶奶", "phone": "13900007777", "address": "香港中路丁号楼9号"},
            "meal": {"day": day, "meal": "dinner", "portions": 2}}
    refused = http.post("/api/v1/requests", headers=sw, body=json.dumps(body, ensure_ascii=False))
    assert refused.status_code == 400 and json.loads(refused.body)["code"] == "consent_required"
    filed = http.post("/api/v1/requests", headers=sw, body=json.dumps({**body, "consent": True}, ensure_ascii=False))
    assert filed.status_code == 201, filed.body
    req = json.loads(filed.body)
    assert req["channel"] == "phone" and req["has_wechat"] is False
    assert (req["details"]["day"], req["details"]["meal"], req["details"]["portions"]) == (day, "dinner", 2)
    assert req["contact"]["phone"] == "13900007777"  # staff serve it: the whole number, to phone the resident
    team = login(http, "team.xianggang-huayuan-365")
    rows = json.loads(http.get(f"/api/v1/canteens/{COMMUNITY}-canteen/deliveries?date={day}&meal=dinner",
                               headers=team).body)["items"]
    assert req["number"] in [r["number"] for r in rows]


def test_escalations_reach_the_director_then_the_subdistrict():
    [first] = alerts_of_event("XG-1", COMMUNITY, "jinhu-lu", "escalate", {"level": 1}, "楼道灯坏了")
    assert first.kind == "escalation" and first.scopes == ((f"community#{COMMUNITY}", ("director",)),)
    [second] = alerts_of_event("XG-1", COMMUNITY, "jinhu-lu", "escalate", {"level": 2}, "楼道灯坏了")
    assert second.scopes == (("subdistrict#jinhu-lu", ("subdistrict_reviewer",)),)
    assert alerts_of_event("XG-1", COMMUNITY, "jinhu-lu", "note", {}, "x") == []
    filed = alerts_of_event("XG-2", COMMUNITY, "jinhu-lu", "file", {"department_id": "consumer-rights"}, "假货")
    assert [a.kind for a in filed] == ["new_request", "assigned"]
    assert filed[1].scopes == (("department#consumer-rights", None),)


def test_a_resident_known_in_wechat_is_told_there(http, seed):
    import re

    from chalicelib.store.outbox import OutboxMessage
    from tests.wechat_driver import WeChat

    reply = WeChat(http, COMMUNITY, seed).text("o-known", "楼道灯坏了请帮忙修一下").text
    earlier = re.search(r"[A-Z]{2,3}-\d{8}-\d{3,4}", reply).group(0)
    sw = login(http, "sw.xianggang-huayuan")
    filed = http.post("/api/v1/requests", headers=sw, body=json.dumps(
        {"community_id": COMMUNITY, "text": "家里水管漏水请派人维修", "via": "walk_in", "resident_request": earlier},
        ensure_ascii=False))
    assert filed.status_code == 201, filed.body
    req = json.loads(filed.body)
    assert req["has_wechat"] is True and req["number"] != earlier
    told = [m.body for m in OutboxMessage.scan() if m.openid == "o-known"]  # test-only read of the fake table
    assert any(req["number"] in b for b in told), told
    other = login(http, "sw.jiangsu-lu")
    refused = http.post("/api/v1/requests", headers=other, body=json.dumps(
        {"community_id": "jiangsu-lu", "text": "水管漏水", "resident_request": earlier}, ensure_ascii=False))
    assert refused.status_code == 404  # another community's request is not there
