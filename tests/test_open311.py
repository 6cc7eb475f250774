"""Open311 GeoReport v2: discovery, services, filing by partners, reading with and without a key."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.auth.principal import Principal
from chalicelib.open311 import wire as open311
from chalicelib.services import requests as request_desk
from chalicelib.domain.requests import CATEGORIES, DEFAULT_POLICY
from chalicelib.routes import open311 as open311_routes
from chalicelib.services import open311 as open311_service
from chalicelib.store.partners import (Partner, PartnerKeyTaken, key_hash, partner_for_key, register_partner,
                                       revoke_key)
from chalicelib.store.requests import HelpRequest, RequestContact, RequestEvent

SAFE = "xianggang-huayuan"
OTHER = "jiangsu-lu"
HOTLINE_KEY = "test-hotline-12345-key-000000000001"
GRID_KEY = "test-grid-system-key-00000000000002"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}
SOCIAL_WORKER = Principal("sw.xianggang-huayuan", "社工", "social_worker", "shinan", "jinhu-lu", SAFE)
PHONE = "13812345678"

from app import app as open311_app  # noqa: E402 - the platform's app, which registers the Open311 blueprint


@pytest.fixture
def partners(seed):
    """The seed, a partners table, the 12345 hotline (every community) and the grid system (江苏路 only)."""
    Partner._connection = None
    if not Partner.exists():
        Partner.create_table(wait=True)
    register_partner("hotline-12345", "12345政务服务便民热线", "shinan", HOTLINE_KEY, [])
    register_partner("grid-system", "市南区网格化管理系统", "shinan", GRID_KEY, [OTHER])
    yield
    Partner._connection = None


@pytest.fixture
def http(partners):
    with Client(open311_app, stage_name="test") as client:
        yield client.http


def post_form(http, fmt="json", **fields):
    return http.post(f"/open311/v2/requests.{fmt}", headers=FORM, body=urlencode(fields).encode())


def post_json(http, body, fmt="json"):
    return http.post(f"/open311/v2/requests.{fmt}", headers=JSON, body=json.dumps(body).encode())


def get(http, path, **params):
    return http.get(path + ("?" + urlencode(params) if params else ""))


def xml(response):
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    return ET.fromstring(response.body)


def file(http, text="楼道的灯不亮了，能否派人来修？", code="repairs", **extra):
    response = post_form(http, api_key=HOTLINE_KEY, jurisdiction_id=SAFE, service_code=code, description=text,
                         **extra)
    assert response.status_code == 200, response.body
    return response.json_body[0]["service_request_id"]


def assert_error(response, status):
    assert response.status_code == status
    [error] = response.json_body
    assert error["code"] == status and error["description"]
    return error


# ---- discovery and services ----------------------------------------------------------------------

def test_discovery_in_both_formats(http):
    data = http.get("/open311/v2/discovery.json").json_body
    [endpoint] = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and endpoint["type"] in ("production", "test")
    assert endpoint["formats"] == ["application/json", "text/xml"]
    assert data["changeset"] and data["contact"] and data["key_service"]
    root = xml(http.get("/open311/v2/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["application/json", "text/xml"]
    assert root.findtext("endpoints/endpoint/specification") == "http://wiki.open311.org/GeoReport_v2"


def test_services_are_the_categories_in_both_formats(http):
    services = get(http, "/open311/v2/services.json", jurisdiction_id=SAFE).json_body
    assert [s["service_code"] for s in services] == list(CATEGORIES)
    by_code = {s["service_code"]: s for s in services}
    assert by_code["meal_delivery"]["service_name"] == "送餐"
    assert "送餐" in by_code["meal_delivery"]["keywords"].split(",")
    assert "12 小时" in by_code["meal_delivery"]["description"]
    assert all(s["type"] == "realtime" and isinstance(s["metadata"], bool) and s["group"] for s in services)
    root = xml(get(http, "/open311/v2/services.xml", jurisdiction_id=SAFE))
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == list(CATEGORIES)
    assert root.find("service").findtext("metadata") in ("true", "false")
    assert http.get("/open311/v2/services.json").status_code == 200  # without a jurisdiction: the district's
    assert_error(get(http, "/open311/v2/services.json", jurisdiction_id="nowhere"), 404)


def test_service_definition_and_unknown_services_or_formats(http):
    definition = http.get("/open311/v2/services/repairs.json").json_body
    assert definition["service_code"] == "repairs"
    assert [a["code"] for a in definition["attributes"]] == ["grid"]
    root = xml(http.get("/open311/v2/services/repairs.xml"))
    assert root.tag == "service_definition" and root.findtext("attributes/attribute/code") == "grid"
    assert root.findtext("attributes/attribute/required") == "false"
    assert_error(http.get("/open311/v2/services/potholes.json"), 404)
    missing = http.get("/open311/v2/services/potholes.xml")
    assert missing.status_code == 404 and xml(missing).findtext("error/code") == "404"
    for path in ("/open311/v2/services.html", "/open311/v2/discovery", "/open311/v2/services/repairs.yaml",
                 "/open311/v2/tokens.json"):
        assert_error(http.get(path), 404)


# ---- filing --------------------------------------------------------------------------------------

def test_a_partner_files_by_form_routed_like_any_request_with_its_contact_apart(http):
    response = post_form(http, api_key=HOTLINE_KEY, jurisdiction_id=SAFE, service_code="repairs",
                         description="王大爷来电：楼道的灯不亮了", address_string="香港中路10号3单元",
                         first_name="大爷", last_name="王", phone=PHONE, email="wang@example.com",
                         device_id="dev-1", account_id="acc-1", **{"attribute[grid]": "XG-02"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    [created] = response.json_body
    assert set(created) == {"service_request_id", "service_notice", "account_id"} and created["account_id"] is None
    number = created["service_request_id"]
    assert number.startswith("XG-") and "专业服务队" in created["service_notice"]
    assert PHONE not in response.body.decode()
    request = HelpRequest.get(number)
    assert (request.channel, request.partner, request.category) == ("open311", "hotline-12345", "repairs")
    assert request.team_id == "xianggang-huayuan-professional"  # category → the community's team
    assert request.openid is None and request.grid == "XG-02" and request.state == "submitted"
    assert request.text == "王大爷来电：楼道的灯不亮了"
    contact = RequestContact.get(number)
    assert (contact.name, contact.phone, contact.address) == ("王大爷", PHONE, "香港中路10号3单元")
    [event] = RequestEvent.query(number)
    assert (event.action, event.actor_kind, event.actor_id) == ("file", "partner", "hotline-12345")


def test_a_partner_files_by_json_and_may_answer_in_xml(http):
    response = post_json(http, {"api_key": HOTLINE_KEY, "jurisdiction_id": SAFE, "service_code": "legal",
                                "description": "和邻居有纠纷，想找法官调解", "lat": 36.0671, "long": 120.3826,
                                "attribute": {"grid": "XG-01"}}, fmt="xml")
    assert response.status_code == 200
    root = xml(response)
    assert root.tag == "service_requests"
    number = root.findtext("request/service_request_id")
    assert "张玉法官工作室" in root.findtext("request/service_notice")
    request = HelpRequest.get(number)
    assert request.department_id == "judge-zhangyu" and request.team_id is None and request.grid == "XG-01"
    assert RequestContact.get(number).address == "坐标 36.067100,120.382600"


def test_filing_needs_a_valid_key_allowed_for_the_community(http):
    fields = {"jurisdiction_id": SAFE, "service_code": "repairs", "description": "灯坏了"}
    assert_error(post_form(http, **fields), 403)
    assert_error(post_form(http, api_key="not-a-key-of-anybody-00000", **fields), 403)
    assert_error(post_json(http, {**fields, "api_key": ""}), 403)
    assert_error(post_form(http, api_key=GRID_KEY, **fields), 403)  # the grid system serves 江苏路 only
    errors = xml(post_form(http, fmt="xml", **fields))
    assert errors.tag == "errors" and errors.findtext("error/code") == "403"
    assert HelpRequest.count() == 0
    assert post_form(http, api_key=GRID_KEY, **{**fields, "jurisdiction_id": OTHER}).status_code == 200


@pytest.mark.parametrize("change, status", [
    ({"jurisdiction_id": "nowhere"}, 404),
    ({"jurisdiction_id": "wei-shinan"}, 404),  # the district's own account is not a community
    ({"jurisdiction_id": "Bad Id!"}, 404),
    ({"jurisdiction_id": ""}, 400),
    ({"service_code": "potholes"}, 404),
    ({"service_code": ""}, 400),
    ({"description": "   "}, 400),
    ({"description": "长" * 4001}, 400),
    ({"lat": "36.06"}, 400),  # lat without long
    ({"lat": "north", "long": "120.38"}, 400),
    ({"lat": "95", "long": "120.38"}, 400),
    ({"phone": "call me maybe"}, 400),
    ({"attribute[grid]": "<grid>"}, 400),
])
def test_bad_or_unknown_parameters_are_named(http, change, status):
    fields = {"api_key": HOTLINE_KEY, "jurisdiction_id": SAFE, "service_code": "repairs", "description": "灯坏了",
              **change}
    assert_error(post_form(http, **fields), status)
    assert HelpRequest.count() == 0


def test_bodies_that_are_not_fields_are_refused(http):
    assert_error(http.post("/open311/v2/requests.json", headers=JSON, body=b"[1, 2]"), 400)
    assert_error(http.post("/open311/v2/requests.json", headers=JSON, body=b"{not json"), 400)
    assert_error(post_json(http, {"api_key": HOTLINE_KEY, "jurisdiction_id": SAFE, "service_code": "repairs",
                                  "description": {"nested": True}}), 400)
    assert_error(http.post("/open311/v2/services.json", headers=FORM, body=b"api_key=x"), 404)
    assert http.post("/open311/v2/requests.json", headers={"Content-Type": "text/plain"},
                     body=b"x").status_code == 415


# ---- reading -------------------------------------------------------------------------------------

def test_reading_shows_personal_data_only_to_a_partner_serving_the_community(http):
    number = file(http, "王大爷家水管漏水", address_string="香港中路10号3单元502", first_name="大爷", last_name="王",
                  phone=PHONE)
    public = get(http, f"/open311/v2/requests/{number}.json", jurisdiction_id=SAFE)
    [shown] = public.json_body
    assert shown["service_request_id"] == number and shown["status"] == "open"
    assert shown["status_notes"] == "已提交" and shown["service_name"] == "维修" and shown["service_code"] == "repairs"
    assert shown["description"] is None and shown["address"] is None
    assert shown["agency_responsible"] == "香港花园社区专业服务队"
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert shown[name].endswith("+08:00")
        datetime.fromisoformat(shown[name])
    assert "水管" not in public.body.decode() and "502" not in public.body.decode()

    keyed = get(http, f"/open311/v2/requests/{number}.json", jurisdiction_id=SAFE, api_key=HOTLINE_KEY)
    [full] = keyed.json_body
    assert full["description"] == "王大爷家水管漏水" and full["address"] == "香港中路10号3单元502"
    assert PHONE not in keyed.body.decode() and "大爷" not in json.dumps(
        {k: v for k, v in full.items() if k != "description"}, ensure_ascii=False)

    other = get(http, f"/open311/v2/requests/{number}.json", jurisdiction_id=SAFE, api_key=GRID_KEY)
    assert other.json_body[0]["description"] is None  # a partner of another community: public view
    assert_error(get(http, f"/open311/v2/requests/{number}.json", jurisdiction_id=SAFE, api_key="wrong-key-123456"),
                 403)

    root = xml(get(http, f"/open311/v2/requests/{number.lower()}.xml", jurisdiction_id=SAFE, api_key=HOTLINE_KEY))
    assert root.tag == "service_requests" and root.findtext("request/service_request_id") == number
    assert root.findtext("request/address") == "香港中路10号3单元502"
    assert PHONE not in ET.tostring(root, encoding="unicode")


def test_a_request_is_found_only_in_its_own_jurisdiction(http):
    number = file(http)
    assert_error(get(http, f"/open311/v2/requests/{number}.json", jurisdiction_id=OTHER), 404)
    assert_error(get(http, f"/open311/v2/requests/{number}.json", jurisdiction_id="nowhere"), 404)
    assert_error(get(http, f"/open311/v2/requests/{number}.json"), 400)
    assert_error(get(http, "/open311/v2/requests/XG-20200101-0001.json", jurisdiction_id=SAFE), 404)
    assert_error(get(http, "/open311/v2/requests/garbage.json", jurisdiction_id=SAFE), 404)
    listed = get(http, "/open311/v2/requests.json", jurisdiction_id=OTHER, service_request_id=number)
    assert listed.json_body == []


def test_list_with_filters_and_closed_after_cancel(http):
    repair = file(http, "楼道灯坏了", address_string="香港中路10号")
    advice = file(http, "请问怎么办理社保卡", code="consultation")
    meal = file(http, "明天中午送饭", code="meal_delivery")
    request_desk.move(SOCIAL_WORKER, advice, "cancel", note="居民来电撤回")
    request_desk.move(SOCIAL_WORKER, meal, "assign")
    request_desk.move(SOCIAL_WORKER, meal, "complete")

    everything = get(http, "/open311/v2/requests.json", jurisdiction_id=SAFE).json_body
    assert [r["service_request_id"] for r in everything] == [meal, advice, repair]  # newest first
    assert all(r["description"] is None and r["address"] is None for r in everything)
    by_number = {r["service_request_id"]: r for r in everything}
    assert (by_number[advice]["status"], by_number[advice]["status_notes"]) == ("closed", "已取消")
    assert (by_number[meal]["status"], by_number[meal]["status_notes"]) == ("closed", "已办结")
    assert by_number[meal]["agency_responsible"] == "香港花园社区365便民服务队"
    assert by_number[repair]["status"] == "open" and by_number[repair]["service_notice"].startswith("预计")
    assert all(r["updated_datetime"].endswith("+08:00") for r in everything)

    def numbers(**params):
        response = get(http, "/open311/v2/requests.json", jurisdiction_id=SAFE, **params)
        assert response.status_code == 200, response.body
        return [r["service_request_id"] for r in response.json_body]

    assert numbers(status="open") == [repair]
    assert numbers(status="closed") == [meal, advice]
    assert numbers(status="open,closed") == [meal, advice, repair]
    assert numbers(service_code="consultation") == [advice]
    assert numbers(service_code="consultation,repairs") == [advice, repair]
    assert numbers(service_code="repairs", status="closed") == []
    assert numbers(service_request_id=f"{repair},{meal.lower()}", status="closed") == [repair, meal]  # others ignored
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    assert numbers(start_date=future) == []
    assert numbers(end_date="2020-01-01T00:00:00Z") == []
    assert numbers(start_date=(datetime.now(timezone.utc) - timedelta(hours=1)).isoformat().replace("+00:00", "Z"))\
        == [meal, advice, repair]

    keyed = get(http, "/open311/v2/requests.json", jurisdiction_id=SAFE, api_key=HOTLINE_KEY).json_body
    shown = {r["service_request_id"]: r for r in keyed}
    assert shown[repair]["description"] == "楼道灯坏了" and shown[repair]["address"] == "香港中路10号"
    assert shown[advice]["address"] is None

    root = xml(get(http, "/open311/v2/requests.xml", jurisdiction_id=SAFE, status="closed"))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [meal, advice]
    assert root.find("request/description").text is None


@pytest.mark.parametrize("params", [
    {"status": "pending"},
    {"service_code": "potholes"},
    {"start_date": "yesterday"},
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2025-12-01T00:00:00Z"},
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},  # over 90 days
    {"service_request_id": "XG-1,nonsense"},
    {"page_token": "%%%"},
    {"jurisdiction_id": ""},
])
def test_bad_search_parameters_are_400(http, params):
    assert_error(get(http, "/open311/v2/requests.json", **{"jurisdiction_id": SAFE, **params}), 400)


def test_paging_hands_a_token_and_walks_every_request_once(http, monkeypatch):
    filed = [file(http, f"第{i}件事需要帮忙", code="other") for i in range(5)]
    monkeypatch.setattr(open311_service, "PAGE_SIZE", 2)
    seen, token, pages = [], None, 0
    while True:
        params = {"jurisdiction_id": SAFE, **({"page_token": token} if token else {})}
        response = get(http, "/open311/v2/requests.json", **params)
        seen += [r["service_request_id"] for r in response.json_body]
        token = response.headers.get(open311_routes.NEXT_PAGE_HEADER)
        pages += 1
        if not token:
            break
    assert seen == list(reversed(filed)) and pages >= 3


def test_xml_escapes_what_residents_write(http):
    text = "<script>alert('x')</script> & \"引号\" \x07铃"
    number = file(http, text, code="other")
    root = xml(get(http, f"/open311/v2/requests/{number}.xml", jurisdiction_id=SAFE, api_key=HOTLINE_KEY))
    assert root.findtext("request/description") == "<script>alert('x')</script> & \"引号\" 铃"
    assert b"<script>" not in get(http, f"/open311/v2/requests/{number}.xml", jurisdiction_id=SAFE,
                                  api_key=HOTLINE_KEY).body


# ---- the partners table, and the pure parts ------------------------------------------------------

def test_partner_keys_are_stored_hashed_and_looked_up_by_hash(partners):
    found = partner_for_key(HOTLINE_KEY)
    assert found.partner_id == "hotline-12345" and found.key_hash == key_hash(HOTLINE_KEY)
    assert HOTLINE_KEY not in json.dumps(found.attribute_values, default=str)
    assert found.serves("shinan", SAFE) and not found.serves("other-district", SAFE)
    grid = partner_for_key(GRID_KEY)
    assert grid.serves("shinan", OTHER) and not grid.serves("shinan", SAFE)
    assert partner_for_key("") is None and partner_for_key("x" * 1000) is None and partner_for_key("nope") is None
    register_partner("hotline-12345", "12345政务服务便民热线", "shinan", HOTLINE_KEY, [])  # again: fine
    with pytest.raises(PartnerKeyTaken):
        register_partner("somebody-else", "别人", "shinan", HOTLINE_KEY, [])
    with pytest.raises(ValueError):
        register_partner("weak", "弱密钥", "shinan", "short", [])
    revoke_key(GRID_KEY)
    assert partner_for_key(GRID_KEY) is None


def test_xml_rendering_of_lists_bools_and_nulls():
    body, content_type = open311.render("services", open311.service_list(DEFAULT_POLICY), "xml")
    assert content_type == "text/xml; charset=utf-8" and body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    assert len(ET.fromstring(body).findall("service")) == len(CATEGORIES)
    errors = ET.fromstring(open311.render("errors", open311.errors_body(403, "api_key <无效> & 过期"), "xml")[0])
    assert errors.findtext("error/code") == "403" and errors.findtext("error/description") == "api_key <无效> & 过期"
    assert open311.split_format("requests.json") == ("requests", "json")
    with pytest.raises(open311.Open311Error):
        open311.split_format(".json")
