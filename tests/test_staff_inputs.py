"""Staff inputs are checked by one schema per route: the wrong type, too long, too many, out of range, an
unknown field or another community's grid is a 400 naming the field, and nothing is stored."""
from __future__ import annotations

import json

import pytest
from chalice.test import Client

from app import app
from chalicelib.store.canteens import Menu
from chalicelib.store.requests import HelpRequest

SAFE = "xianggang-huayuan"
CANTEEN = "xianggang-huayuan-canteen"
DAY = "2030-02-04"


@pytest.fixture
def staff(seed):
    with Client(app, stage_name="test") as client:
        answer = client.http.post("/api/v1/auth/login", headers={"Content-Type": "application/json"},
                                  body=json.dumps({"username": "sw.xianggang-huayuan", "password": "Demo#2026"}))
        headers = {"Authorization": "Bearer " + json.loads(answer.body)["token"], "Content-Type": "application/json"}

        def call(method, path, body):
            raw = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
            response = getattr(client.http, method)(path, headers=headers, body=raw)
            return response.status_code, json.loads(response.body)
        yield call


def dish(**kw):
    return {"name": "红烧鲅鱼", "price_fen": 1500, **kw}


@pytest.mark.parametrize("meals, field", [
    ({"lunch": {"dishes": 5}}, "meals.lunch.dishes"),
    ({"lunch": {"dishes": [dish()] * 20_000}}, "meals.lunch.dishes"),
    ({"lunch": {"dishes": [dish(name="鱼" * 200_000)]}}, "meals.lunch.dishes[0].name"),
    ({"lunch": {"dishes": [dish(price_fen=-100)]}}, "meals.lunch.dishes[0].price_fen"),
    ({"lunch": {"dishes": [dish(price_fen="15元")]}}, "meals.lunch.dishes[0].price_fen"),
    ({"lunch": {"dishes": [dish(price_fen=True)]}}, "meals.lunch.dishes[0].price_fen"),
    ({"lunch": {"dishes": [dish(marks=["好吃"])]}}, "meals.lunch.dishes[0].marks[0]"),
    ({"lunch": {"sets": [{"name": "套餐", "price_fen": -1, "dishes": []}]}}, "meals.lunch.sets[0].price_fen"),
    ({"lunch": {"sets": [{"name": "套餐", "price_fen": 100, "dishes": 5}]}}, "meals.lunch.sets[0].dishes"),
    ({"supper": {"dishes": []}}, "meals.supper"),
    ({"lunch": {"dishes": [dish(colour="red")]}}, "meals.lunch.dishes[0].colour"),
    ("not an object", "meals"),
])
def test_a_bad_menu_is_a_400_naming_the_field_and_nothing_is_saved(staff, meals, field):
    status, body = staff("put", f"/api/v1/canteens/{CANTEEN}/menus/{DAY}", {"meals": meals})
    assert status == 400 and body["code"] == "invalid_field" and f"字段 {field}" in body["message"], body
    assert len(body["message"]) < 300  # the message names the field, it does not echo the input
    assert Menu.count(CANTEEN, Menu.day == DAY) == 0


def test_a_good_menu_and_other_bodies(staff):
    status, body = staff("put", f"/api/v1/canteens/{CANTEEN}/menus/{DAY}",
                         {"meals": {"lunch": {"dishes": [dish(marks=["少刺"])]}}, "published": True})
    assert status == 200 and body["meals"]["lunch"]["dishes"][0]["name"] == "红烧鲅鱼"
    status, body = staff("put", f"/api/v1/canteens/{CANTEEN}/menus/{DAY}", {"meals": {}, "published": "yes"})
    assert status == 400 and "published" in body["message"]
    for copy, field in (({"from": "2030-02-04"}, "to"), ({"from": "2030-02-30", "to": "2030-03-04"}, "from"),
                        ({"from": 20300204, "to": "2030-03-04"}, "from")):
        status, body = staff("post", f"/api/v1/canteens/{CANTEEN}/menus/copy-week", copy)
        assert status == 400 and f"字段 {field}" in body["message"], copy


@pytest.mark.parametrize("body, field", [
    ({"community_id": SAFE, "text": "灯" * 200_000}, "text"),
    ({"community_id": SAFE, "text": "灯坏了", "contact": "13800000000"}, "contact"),
    ({"community_id": SAFE, "text": "灯坏了", "contact": {"phone": "call me maybe"}}, "contact.phone"),
    ({"community_id": SAFE, "text": "灯坏了", "contact": {"address": "路" * 5000}}, "contact.address"),
    ({"community_id": SAFE, "text": "灯坏了", "grid": ["XG-01"]}, "grid"),
    ({"community_id": 5, "text": "灯坏了"}, "community_id"),
])
def test_a_bad_new_request_is_a_400_naming_the_field(staff, body, field):
    status, answer = staff("post", "/api/v1/requests", body)
    assert status == 400 and f"字段 {field}" in answer["message"], answer
    assert HelpRequest.count() == 0


def test_a_grid_of_another_community_is_refused(staff, seed):
    other_grid = next(c for c in seed.records("communities") if c["id"] == "jiangsu-lu")["grids"][0]
    status, answer = staff("post", "/api/v1/requests", {"community_id": SAFE, "text": "灯坏了", "grid": other_grid})
    assert status == 400 and other_grid in answer["message"] and HelpRequest.count() == 0
    own_grid = next(c for c in seed.records("communities") if c["id"] == SAFE)["grids"][0]
    status, answer = staff("post", "/api/v1/requests", {"community_id": SAFE, "text": "灯坏了", "grid": own_grid})
    assert status == 201 and answer["grid"] == own_grid
    number = answer["number"]
    status, answer = staff("post", f"/api/v1/requests/{number}/notes", {"note": "记" * 5000})
    assert status == 400 and "字段 note" in answer["message"]
    status, answer = staff("post", f"/api/v1/requests/{number}/transitions", {"action": ["accept"]})
    assert status == 400 and "字段 action" in answer["message"]
