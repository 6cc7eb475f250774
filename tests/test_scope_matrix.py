"""Every protected /api/v1 route × every role × own and other scope: nothing leaks out of scope, and in
scope each role gets what `scope.ROLE_ACTIONS` gives it.

The world (built per test on the `seed` district, at 09:00 so meal orders are open):

* own scope is 香港花园社区 (xianggang-huayuan), its sub-district jinhu-lu, its 365 team, the consumer-rights
  department; "other" scope is 江苏路社区 (jiangsu-lu) and its sub-district.
* A: a 便民纸条 filed by sw.xianggang-huayuan, "明天中午送一份饭" -> meal_delivery, routed to the 365 team;
  B: one filed in xianggang-huayuan about a shop -> consumer_complaint, routed to the consumer-rights
  department (so the team and the department each have an object of their own community they must
  not see); C: a meal request filed by sw.jiangsu-lu in jiangsu-lu;
  D / E: meal orders by WeChat residents of xianggang-huayuan / jiangsu-lu (on the canteens' delivery lists).
* For each role: one user of the own scope, and (where the seed has one) a user of the same role in the
  other scope. Every principal calls every route on every object it must not see: 403 or 404, and none
  of the object's data (number, words, name, phone, address) in the body. On objects it does see, the
  status follows `ROLE_ACTIONS` (200, or 403 when the role lacks the action; 404 when out of scope).

Failures are collected and reported together, one line per route × user × object.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.auth.scope import ROLE_ACTIONS
from tests.wechat_driver import WeChat

OWN, OTHER = "xianggang-huayuan", "jiangsu-lu"
OWN_SUBDISTRICT, OTHER_SUBDISTRICT = "jinhu-lu", "jiangsu-lu"
TEAM, DEPARTMENT = "xianggang-huayuan-service-365", "consumer-rights"
CANTEENS = {OWN: "xianggang-huayuan-canteen", OTHER: "jiangsu-lu-canteen"}
PASSWORD = "Demo#2026"
FAR_DAY = "2030-01-08"  # menus written by the matrix land far from anything else
DENIED = (403, 404)


# ---- who, derived from the seed ---------------------------------------------------------------------

def _staff_of(seed, role: str, community: str, subdistrict: str, team: str | None, department: str | None):
    """The seed's user of `role` whose scope is the given one (None if the seed has none)."""
    for s in seed.records("staff"):
        if s["role"] != role:
            continue
        if role == "district_admin":
            return s
        if role in ("social_worker", "director") and s["community_id"] == community:
            return s
        if role == "subdistrict_reviewer" and s["subdistrict_id"] == subdistrict:
            return s
        if role == "team_member" and team and s["team_id"] == team:
            return s
        if role == "department" and department and s["department_id"] == department:
            return s
    return None


@dataclass
class User:
    username: str
    role: str
    record: dict
    headers: dict = field(default_factory=dict)
    side: str = "own"

    @property
    def label(self) -> str:
        return f"{self.role}:{self.username}"

    def may(self, action: str) -> bool:
        return action in ROLE_ACTIONS[self.role]


@dataclass
class Obj:
    key: str
    community: str
    number: str
    team_id: str | None
    department_id: str | None
    secrets: tuple[str, ...]  # strings that must never reach a principal out of scope
    canteen: str


class World:
    """Logins, objects, and an independent (seed-based) model of who sees what."""

    def __init__(self, http, seed):
        self.http = http
        self.seed = seed
        self.subdistrict_of = {c["id"]: c["subdistrict_id"] for c in seed.records("communities")}
        self.failures: list[str] = []
        self.checks = 0
        self.users: list[User] = []
        for role in ROLE_ACTIONS:
            own = _staff_of(seed, role, OWN, OWN_SUBDISTRICT, TEAM, DEPARTMENT)
            assert own is not None, f"the seed has no {role} in the own scope"
            self.users.append(User(own["username"], role, own))
            other = _staff_of(seed, role, OTHER, OTHER_SUBDISTRICT, None, None)
            if other is not None and other["username"] != own["username"]:
                self.users.append(User(other["username"], role, other, side="other"))
        for user in self.users:
            user.headers = login(http, user.username)
        self.objects: dict[str, Obj] = {}

    # -- the independent model of scope --
    def communities_of(self, user: User) -> set[str]:
        """The communities whose community-level data the user may see."""
        r = user.record
        if user.role == "district_admin":
            return set(self.subdistrict_of)
        if user.role in ("social_worker", "director"):
            return {r["community_id"]}
        if user.role == "subdistrict_reviewer":
            return {c for c, s in self.subdistrict_of.items() if s == r["subdistrict_id"]}
        return set()  # teams and departments see by assignment

    def sees(self, user: User, obj: Obj) -> bool:
        r = user.record
        if user.role == "team_member":
            return obj.team_id is not None and obj.team_id == r["team_id"]
        if user.role == "department":
            return obj.department_id is not None and obj.department_id == r["department_id"]
        return obj.community in self.communities_of(user)

    def hidden(self, user: User) -> list[Obj]:
        return [o for o in self.objects.values() if not self.sees(user, o)]

    # -- calling and checking --
    def call(self, user: User | None, method: str, path: str, body: Any = None):
        headers = user.headers if user else {"Content-Type": "application/json"}
        kwargs = {"body": json.dumps(body, ensure_ascii=False)} if body is not None else {}
        answer = getattr(self.http, method.lower())(path, headers=headers, **kwargs)
        raw = answer.body if isinstance(answer.body, bytes) else (answer.body or "").encode()
        return answer.status_code, raw.decode("utf-8", "replace")

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def expect(self, where: str, status: int, text: str, allowed: tuple[int, ...] | int,
               hidden: list[Obj] | None = None) -> None:
        """`status` among `allowed`, and nothing of the hidden objects in the body."""
        self.checks += 1
        allowed = (allowed,) if isinstance(allowed, int) else allowed
        if status not in allowed:
            self.fail(f"{where}: status {status}, expected {allowed}; body {text[:200]}")
        for obj in hidden or ():
            for secret in (obj.number, *obj.secrets):
                if secret and secret in text:
                    self.fail(f"LEAK {where}: body holds {secret!r} of {obj.key} ({obj.community}) "
                              f"[status {status}]")

    def done(self) -> None:
        assert not self.failures, f"{len(self.failures)} of {self.checks} checks failed:\n" + "\n".join(
            self.failures)


def login(http, username: str) -> dict:
    answer = http.post("/api/v1/auth/login", headers={"Content-Type": "application/json"},
                       body=json.dumps({"username": username, "password": PASSWORD}))
    assert answer.status_code == 200, (username, answer.body)
    return {"Authorization": "Bearer " + json.loads(answer.body)["token"], "Content-Type": "application/json"}


def expected(visible: bool, allowed: bool, ok: int = 200) -> int:
    """What `scope.require` promises: out of scope 404 (checked first), in scope 403 or `ok`."""
    return 404 if not visible else (ok if allowed else 403)


def _file(world: World, username: str, key: str, community: str, text: str, contact: dict) -> Obj:
    headers = login(world.http, username)
    answer = world.http.post("/api/v1/requests", headers=headers, body=json.dumps(
        {"community_id": community, "text": text, "contact": contact}, ensure_ascii=False))
    assert answer.status_code == 201, answer.body
    body = json.loads(answer.body)
    return Obj(key, community, body["number"], body["team_id"], body["department_id"],
               (text, *contact.values()), CANTEENS[community])


def _order(world: World, key: str, community: str, openid: str, address: str, phone: str, text: str,
           day: str) -> Obj:
    wx = WeChat(world.http, community, world.seed)
    wx.text(openid, f"地址 {address}")
    wx.text(openid, f"电话 {phone}")
    reply = wx.text(openid, text).text or ""
    assert "编号" in reply, reply
    from chalicelib.store.requests import HelpRequest

    [request] = [r for r in HelpRequest.by_resident.query(f"{community}#{openid}")]
    assert request.delivery_key == f"{CANTEENS[community]}#{day}#lunch", request.delivery_key
    return Obj(key, community, request.number, request.team_id, request.department_id,
               (text, address, phone), CANTEENS[community])


@pytest.fixture
def world(seed, morning):
    from chalicelib import clock
    from chalicelib.domain import dates

    with Client(app, stage_name="test") as client:
        w = World(client.http, seed)
        w.tomorrow = (dates.local_date(clock.now()) + timedelta(days=1)).isoformat()
        a = _file(w, "sw.xianggang-huayuan", "A", OWN, "明天中午送一份饭",
                  {"name": "花园甲婆婆", "phone": "13900001111", "address": "香港中路甲号楼101"})
        b = _file(w, "sw.xianggang-huayuan", "B", OWN, "商家卖假货不给退款，想维权",
                  {"name": "花园乙先生", "phone": "13900002222", "address": "香港中路乙号楼202"})
        c = _file(w, "sw.jiangsu-lu", "C", OTHER, "明天中午送一份饭，江苏路丙号院",
                  {"name": "江苏丙奶奶", "phone": "13900003333", "address": "江苏路丙号院303"})
        d = _order(w, "D", OWN, "o-matrix-own", "香港中路丁号楼404", "13900004444", "明天中午送一份饭，丁家两位老人",
                   w.tomorrow)
        e = _order(w, "E", OTHER, "o-matrix-other", "江苏路戊号楼505", "13900005555", "明天中午送一份饭，戊家老人",
                   w.tomorrow)
        # the fixtures are what the matrix needs: the team test and the department test are meaningful
        assert (a.team_id, a.department_id) == (TEAM, None)
        assert (b.team_id, b.department_id) == (None, DEPARTMENT)
        assert c.team_id == "jiangsu-lu-service-365" and d.team_id == TEAM and e.team_id == "jiangsu-lu-service-365"
        # a secret is only what is unique to its object (A's words are a part of C's, say)
        for o in (a, b, c, d, e):
            others = " ".join(s for x in (a, b, c, d, e) if x is not o for s in (x.number, *x.secrets))
            o.secrets = tuple(s for s in o.secrets if s not in others)
            assert o.secrets, o.key
        w.objects = {o.key: o for o in (a, b, c, d, e)}
        yield w


def _state(world: World, number: str) -> str:
    admin = next(u for u in world.users if u.role == "district_admin")
    return json.loads(world.call(admin, "GET", f"/api/v1/requests/{number}")[1])["state"]


# ---- 便民纸条: view, note, category, transitions, delivered -------------------------------------------

def test_request_routes(world):
    w = world
    states_before = {k: _state(w, o.number) for k, o in w.objects.items()}
    for user in w.users:
        hidden = w.hidden(user)
        for obj in w.objects.values():
            visible = w.sees(user, obj)
            n = obj.number
            leak_guard = hidden
            where = f"{{}} {n} ({obj.key}) as {user.label}"
            # the WeChat orders D and E are the same kinds of object as A and C: here they are only tried
            # out of scope, and by the delivered route
            full_row = obj.key in "ABC"
            if not full_row and visible:
                continue

            status, text = w.call(user, "GET", f"/api/v1/requests/{n}")
            w.expect(where.format("GET /api/v1/requests/{number}"), status, text,
                     expected(visible, user.may("request.view")), leak_guard)
            if visible and status == 200:  # contact shown in full only to those who serve it
                contact = json.loads(text).get("contact") or {}
                serving = user.may("request.transition") or (
                    user.role == "team_member" and obj.team_id == user.record["team_id"]) or (
                    user.role == "department" and obj.department_id == user.record["department_id"])
                full = contact.get("phone") in obj.secrets
                if full != bool(serving):
                    w.fail(f"GET /api/v1/requests/{n} as {user.label}: full contact {full}, serving {serving}")

            if not visible:
                status, text = w.call(user, "POST", f"/api/v1/canteens/{obj.canteen}/deliveries/{n}/delivered")
                w.expect(where.format(f"POST /api/v1/canteens/{obj.canteen}/deliveries/{{number}}/delivered"),
                         status, text, DENIED, leak_guard)
            if not full_row:
                continue

            status, text = w.call(user, "POST", f"/api/v1/requests/{n}/notes", {"note": f"矩阵 {user.username}"})
            w.expect(where.format("POST /api/v1/requests/{number}/notes"), status, text,
                     expected(visible, user.may("request.note")), leak_guard)

            # the same category again: allowed roles change nothing (same route), others are refused
            category = "meal_delivery" if obj.key in "ACDE" else "consumer_complaint"
            status, text = w.call(user, "POST", f"/api/v1/requests/{n}/category", {"category": category})
            w.expect(where.format("POST /api/v1/requests/{number}/category"), status, text,
                     expected(visible, user.may("request.recategorise")), leak_guard)

            # "reopen" on a submitted request needs request.transition and is then an invalid move (409):
            # the role's right is checked, and nothing changes
            status, text = w.call(user, "POST", f"/api/v1/requests/{n}/transitions", {"action": "reopen"})
            w.expect(where.format("POST /api/v1/requests/{number}/transitions reopen"), status, text,
                     expected(visible, user.may("request.transition"), ok=409), leak_guard)
            if not visible:  # in scope these would move the request: only refusal is checked
                for action in ("assign", "start"):  # request.assign, request.progress
                    status, text = w.call(user, "POST", f"/api/v1/requests/{n}/transitions", {"action": action})
                    w.expect(where.format(f"POST /api/v1/requests/{{number}}/transitions {action}"), status, text,
                             DENIED, leak_guard)

    # nothing above moved a request
    for key, obj in w.objects.items():
        if _state(w, obj.number) != states_before[key]:
            w.fail(f"{key} moved from {states_before[key]} to {_state(w, obj.number)} during the matrix")
        status, text = w.call(next(u for u in w.users if u.role == "district_admin"), "GET",
                              f"/api/v1/requests/{obj.number}")
        detail = json.loads(text)
        if (detail["category"], detail["team_id"], detail["department_id"]) != (
                "meal_delivery" if key in "ACDE" else "consumer_complaint", obj.team_id, obj.department_id):
            w.fail(f"{key} category or route changed: {detail['category']} {detail['team_id']} "
                   f"{detail['department_id']}")

    # delivered, on own scope: roles that see the order but may not progress it are refused; last, the
    # team that serves D marks it delivered
    d = w.objects["D"]
    for user in w.users:
        if w.sees(user, d) and not user.may("request.progress"):
            status, text = w.call(user, "POST", f"/api/v1/canteens/{d.canteen}/deliveries/{d.number}/delivered")
            w.expect(f"POST delivered {d.number} as {user.label}", status, text, 403)
    team = next(u for u in w.users if u.role == "team_member" and u.side == "own")
    status, text = w.call(team, "POST", f"/api/v1/canteens/{d.canteen}/deliveries/{d.number}/delivered")
    w.expect(f"POST delivered {d.number} as {team.label}", status, text, 200, w.hidden(team))
    if status == 200 and json.loads(text)["state"] != "done":
        w.fail(f"delivered by {team.label}: state {json.loads(text)['state']}")
    w.done()


# ---- community-level reads, and filing --------------------------------------------------------------

def test_community_routes(world):
    w = world
    for user in w.users:
        hidden = w.hidden(user)
        mine = w.communities_of(user)
        by_assignment = user.role in ("team_member", "department")
        for community in (OWN, OTHER):
            visible = community in mine
            where = f"{{}} community={community} as {user.label}"

            status, text = w.call(user, "GET", f"/api/v1/requests?community={community}&limit=100")
            if by_assignment:  # teams and departments list what is assigned to them, whatever the filter
                w.expect(where.format("GET /api/v1/requests"), status, text, (200, 403, 404), hidden)
            else:
                w.expect(where.format("GET /api/v1/requests"), status, text,
                         expected(visible, user.may("request.view")), hidden)
            if status == 200:
                listed = {i["number"] for i in json.loads(text)["items"]}
                should = {o.number for o in w.objects.values() if w.sees(user, o) and (
                    by_assignment or o.community == community)}
                if listed & {o.number for o in w.objects.values()} != should:
                    w.fail(f"GET /api/v1/requests?community={community} as {user.label}: listed {sorted(listed)}, "
                           f"expected {sorted(should)}")
            status, text = w.call(user, "GET", f"/api/v1/requests/overdue?community={community}")
            w.expect(where.format("GET /api/v1/requests/overdue"), status, text,
                     expected(visible, user.may("request.view")), hidden)

            status, text = w.call(user, "GET", f"/api/v1/audit?community={community}&limit=100")
            w.expect(where.format("GET /api/v1/audit"), status, text,
                     expected(visible, user.may("audit.view")), hidden)
            if status == 200:
                numbers = {i["number"] for i in json.loads(text)["items"]}
                want = {o.number for o in w.objects.values() if o.community == community}
                if not want <= numbers:
                    w.fail(f"GET /api/v1/audit?community={community} as {user.label}: misses {want - numbers}")

            status, text = w.call(user, "GET", f"/api/v1/communities/{community}")
            w.expect(where.format("GET /api/v1/communities/{community_id}"), status, text,
                     expected(visible, True), hidden)
            if status == 200 and ("staff" in json.loads(text)) != user.may("staff.view"):
                w.fail(f"GET /api/v1/communities/{community} as {user.label}: staff list shown "
                       f"{'staff' in json.loads(text)}, staff.view {user.may('staff.view')}")

            status, text = w.call(user, "GET", f"/api/v1/communities/{community}/request-counts")
            w.expect(where.format("GET /api/v1/communities/{community_id}/request-counts"), status, text,
                     expected(visible, user.may("request.view")), hidden)

            status, text = w.call(user, "POST", "/api/v1/requests", {
                "community_id": community, "text": f"楼道灯坏了 {user.username}"})
            w.expect(where.format("POST /api/v1/requests"), status, text,
                     expected(visible, user.may("request.file"), ok=201), hidden)

        status, text = w.call(user, "GET", "/api/v1/communities")
        w.expect(f"GET /api/v1/communities as {user.label}", status, text, 200, hidden)
        if status == 200:
            listed = {c["id"] for c in json.loads(text)["items"]}
            allowed = mine | ({user.record["community_id"]} if by_assignment and user.record["community_id"] else set())
            if not listed <= allowed or (mine and not mine <= listed):
                w.fail(f"GET /api/v1/communities as {user.label}: listed {sorted(listed)[:8]}…, "
                       f"allowed {sorted(allowed)[:8]}…")
    w.done()


# ---- canteens: delivery list (3 formats), menus, copy-week ----------------------------------------

def test_canteen_routes(world):
    w = world
    menu = {"meals": {"lunch": {"dishes": [{"name": "矩阵炖菜", "price_fen": 1200}]}}, "published": False}
    for user in w.users:
        hidden = w.hidden(user)
        by_assignment = user.role in ("team_member", "department")
        for community, canteen in CANTEENS.items():
            visible = community in w.communities_of(user)
            where = f"{{}} canteen={canteen} as {user.label}"
            rows_seen = None
            for fmt in ("json", "csv", "html"):
                status, text = w.call(user, "GET", f"/api/v1/canteens/{canteen}/deliveries?date={w.tomorrow}"
                                                   f"&meal=lunch&format={fmt}")
                if by_assignment:  # the list is filtered to the orders routed to them
                    w.expect(where.format(f"GET deliveries format={fmt}"), status, text, (200, 403, 404), hidden)
                else:
                    w.expect(where.format(f"GET deliveries format={fmt}"), status, text,
                             expected(visible, user.may("request.view")), hidden)
                if fmt == "json" and status == 200:
                    rows_seen = {r["number"] for r in json.loads(text)["items"]}
            if rows_seen is not None:
                should = {o.number for o in w.objects.values() if w.sees(user, o) and o.canteen == canteen
                          and o.key in "ACDE"}  # staff-filed meal orders are orders too (one filing path)
                if rows_seen != should:
                    w.fail(f"GET deliveries {canteen} as {user.label}: rows {sorted(rows_seen)}, "
                           f"expected {sorted(should)}")

            status, text = w.call(user, "PUT", f"/api/v1/canteens/{canteen}/menus/{FAR_DAY}", menu)
            w.expect(where.format("PUT /api/v1/canteens/{canteen_id}/menus/{day}"), status, text,
                     expected(visible, user.may("canteen.edit")), hidden)
            status, text = w.call(user, "POST", f"/api/v1/canteens/{canteen}/menus/copy-week",
                                  {"from": FAR_DAY, "to": "2030-01-15"})
            w.expect(where.format("POST /api/v1/canteens/{canteen_id}/menus/copy-week"), status, text,
                     expected(visible, user.may("canteen.edit")), hidden)

    # the public menu stays public and shows no request data; the far day was written by allowed roles only
    for community, canteen in CANTEENS.items():
        status, text = w.call(None, "GET", f"/api/v1/canteens/{canteen}/menus?date={FAR_DAY}")
        w.expect(f"GET public menus {canteen}", status, text, 200, list(w.objects.values()))
        editors = [u for u in w.users if u.may("canteen.edit") and community in w.communities_of(u)]
        published_meals = json.loads(text)["menus"][0]
        if editors and published_meals["published"]:
            w.fail(f"{canteen}: the matrix's unpublished menu shows as published")
    w.done()


# ---- residents: blocking a sender ------------------------------------------------------------------

def test_resident_routes(world):
    """Block / unblock the sender of each object: out of scope 404, without `resident.block` 403; in scope
    a WeChat order's sender is blocked and unblocked (200), a staff-filed request has no sender (400)."""
    from chalicelib.store.windows import is_blocked

    w = world
    for user in w.users:
        hidden = w.hidden(user)
        for obj in w.objects.values():
            visible = w.sees(user, obj)
            has_sender = obj.key in "DE"
            for path in ("/api/v1/residents/block", "/api/v1/residents/unblock"):
                status, text = w.call(user, "POST", path, {"number": obj.number, "reason": f"矩阵 {user.username}"})
                w.expect(f"POST {path} {obj.number} ({obj.key}) as {user.label}", status, text,
                         expected(visible, user.may("resident.block"), ok=200 if has_sender else 400), hidden)
    for key in "DE":
        from chalicelib.store.requests import HelpRequest

        request = HelpRequest.get(w.objects[key].number)
        if is_blocked(request.account_id, request.openid):
            w.fail(f"the sender of {key} is still blocked after the matrix")
    w.done()


# ---- auth routes: self only ------------------------------------------------------------------------

def test_auth_routes(world):
    w = world
    for user in w.users:
        status, text = w.call(user, "GET", "/api/v1/auth/me")
        w.expect(f"GET /api/v1/auth/me as {user.label}", status, text, 200, w.hidden(user))
        if status == 200 and json.loads(text)["user"]["username"] != user.username:
            w.fail(f"GET /api/v1/auth/me as {user.label}: answered {json.loads(text)['user']['username']}")
        status, text = w.call(user, "POST", "/api/v1/auth/password",
                              {"old_password": "wrong#Guess1", "new_password": "Another#Pass2027"})
        w.expect(f"POST /api/v1/auth/password (wrong old) as {user.label}", status, text, 403, w.hidden(user))
    for user in w.users:  # last: logout, and the token is refused afterwards
        status, text = w.call(user, "POST", "/api/v1/auth/logout")
        w.expect(f"POST /api/v1/auth/logout as {user.label}", status, text, 200)
        status, text = w.call(user, "GET", "/api/v1/auth/me")
        w.expect(f"GET /api/v1/auth/me after logout as {user.label}", status, text, 401)
    w.done()


# ---- the team filter of the list -------------------------------------------------------------------

def test_the_team_filter_of_the_list_reveals_nothing_of_another_community(seed, morning):
    """`GET /api/v1/requests?community=<own>&team=<a team of another community>`: no item, and no cursor
    that names another community's request (the cursor is the index's last key, base64 JSON)."""
    import base64

    with Client(app, stage_name="test") as client:
        http = client.http
        other = login(http, "sw.jiangsu-lu")
        numbers = []
        for text in ("明天中午送一份饭，江苏路一号", "明天中午送一份饭，江苏路二号"):
            answer = http.post("/api/v1/requests", headers=other, body=json.dumps(
                {"community_id": OTHER, "text": text}, ensure_ascii=False))
            numbers.append(json.loads(answer.body)["number"])
        failures = []
        for username in ("sw.xianggang-huayuan", "director.xianggang-huayuan", "reviewer.jinhu-lu"):
            headers = login(http, username)
            cursor, pages = "", 0
            while pages < 5:
                answer = http.get(f"/api/v1/requests?community={OWN}&team=jiangsu-lu-service-365&limit=1"
                                  + (f"&cursor={cursor}" if cursor else ""), headers=headers)
                pages += 1
                if answer.status_code != 200:
                    break
                body = json.loads(answer.body)
                cursor = body.get("cursor") or ""
                payload = cursor.split(".")[0]  # a page token is base64 JSON of the key, then its tag
                seen = answer.body.decode() + (
                    base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode() if cursor else "")
                failures += [f"LEAK GET /api/v1/requests?community={OWN}&team=jiangsu-lu-service-365&limit=1 "
                             f"as {username} (page {pages}): {n} of {OTHER} in the body or its cursor"
                             for n in numbers if n in seen]
                if not cursor:
                    break
        assert not failures, "\n".join(failures)


# ---- publishing: posts, steps, calendar, policy ----------------------------------------------------

def _post_in_review(world: World, community: str, topic: str) -> Obj:
    """A post of `community` waiting for its first review (written and submitted by its social worker)."""
    headers = login(world.http, f"sw.{community}")
    article = {"title": topic, "content": "<p>矩阵</p>", "cover_media_id": "demo-cover"}
    answer = world.http.post("/api/v1/posts", headers=headers, body=json.dumps(
        {"topic": topic, "planned_day": world.tomorrow, "articles": [article]}, ensure_ascii=False))
    assert answer.status_code == 201, answer.body
    post_id = json.loads(answer.body)["post_id"]
    answer = world.http.post(f"/api/v1/posts/{post_id}/steps", headers=headers, body=json.dumps({"action": "submit"}))
    assert answer.status_code == 200, answer.body
    return Obj(f"post-{community}", community, post_id, None, None, (topic,), CANTEENS[community])


def test_post_routes(world):
    w = world
    w.objects = {o.key: o for o in (_post_in_review(w, OWN, "矩阵稿件甲花园"), _post_in_review(w, OTHER, "矩阵稿件乙江苏"))}
    for user in w.users:
        hidden = w.hidden(user)
        for obj in w.objects.values():
            visible = w.sees(user, obj)
            where = f"{{}} {obj.number} as {user.label}"
            status, text = w.call(user, "GET", f"/api/v1/posts/{obj.number}")
            w.expect(where.format("GET /api/v1/posts/{post_id}"), status, text,
                     expected(visible, user.may("post.view")), hidden)
            status, text = w.call(user, "GET", f"/api/v1/posts/{obj.number}/history")
            w.expect(where.format("GET /api/v1/posts/{post_id}/history"), status, text,
                     expected(visible, user.may("post.view")), hidden)
            # in first review: an edit is refused as locked (409) for writers; nothing changes
            status, text = w.call(user, "PUT", f"/api/v1/posts/{obj.number}", {"topic": "改"})
            w.expect(where.format("PUT /api/v1/posts/{post_id}"), status, text,
                     expected(visible, user.may("post.write"), ok=409), hidden)
            # sending back without a comment: 400 for the first reviewer, refused for the rest
            status, text = w.call(user, "POST", f"/api/v1/posts/{obj.number}/steps", {"action": "send_back"})
            w.expect(where.format("POST /api/v1/posts/{post_id}/steps"), status, text,
                     expected(visible, user.may("post.review_first"), ok=400), hidden)
        for community in (OWN, OTHER):
            visible = community in w.communities_of(user)
            status, text = w.call(user, "GET", f"/api/v1/communities/{community}/post-calendar")
            w.expect(f"GET post-calendar {community} as {user.label}", status, text,
                     expected(visible, user.may("post.view")), hidden)
            # an invalid time: 400 for whoever may set it (the director, district staff), refused for the rest
            status, text = w.call(user, "PUT", f"/api/v1/communities/{community}/post-time", {"time": "08:15"})
            w.expect(f"PUT post-time {community} as {user.label}", status, text,
                     expected(visible, user.may("post.review_first"), ok=400), hidden)
            status, text = w.call(user, "POST", "/api/v1/posts", {"community_id": community, "topic": "x",
                                                                 "planned_day": "bad"})
            w.expect(f"POST /api/v1/posts {community} as {user.label}", status, text,
                     expected(visible, user.may("post.propose"), ok=400), hidden)
        status, text = w.call(user, "GET", "/api/v1/publishing/queue")
        w.expect(f"GET /api/v1/publishing/queue as {user.label}", status, text, 200, hidden)
        status, text = w.call(user, "PUT", "/api/v1/publishing/policy", {"levels": {"nope": "x"}})
        w.expect(f"PUT /api/v1/publishing/policy as {user.label}", status, text,
                 400 if user.may("post.policy_edit") else 403)
    for obj in w.objects.values():  # nothing moved
        admin = next(u for u in w.users if u.role == "district_admin")
        status, text = w.call(admin, "GET", f"/api/v1/posts/{obj.number}")
        if json.loads(text)["state"] != "first_review":
            w.fail(f"{obj.key} moved to {json.loads(text)['state']} during the matrix")


# ---- the alliance: matrix, activities, suggestions, menus, rules -------------------------------------

def test_alliance_routes(world):
    w = world
    from datetime import datetime as _dt

    from chalicelib.domain.dates import SHANGHAI

    starts = (_dt.now(SHANGHAI) + timedelta(days=9)).strftime("%Y-%m-%dT09:30")
    for user in w.users:
        hidden = w.hidden(user)
        status, text = w.call(user, "GET", "/api/v1/matrix")
        w.expect(f"GET /api/v1/matrix as {user.label}", status, text, 200, hidden)
        status, text = w.call(user, "PUT", "/api/v1/matrix/scope-test", {
            "name": "范围测试", "platform": "wechat", "category": "服务", "owner": "测试", "wechat_id": "scope_test"})
        w.expect(f"PUT /api/v1/matrix/{{entry_id}} as {user.label}", status, text,
                 200 if user.may("matrix.edit") else 403, hidden)
        for community in (OWN, OTHER):
            visible = community in w.communities_of(user)
            where = f"{{}} community={community} as {user.label}"
            status, text = w.call(user, "POST", "/api/v1/activities", {
                "community_id": community, "title": "范围测试活动", "starts_at": starts, "place": "活动室", "capacity": 5})
            w.expect(where.format("POST /api/v1/activities"), status, text,
                     expected(visible, user.may("activity.manage"), ok=201), hidden)
            status, text = w.call(user, "GET", f"/api/v1/activities?community={community}")
            w.expect(where.format("GET /api/v1/activities"), status, text,
                     expected(visible, user.may("activity.manage")), hidden)
            status, text = w.call(user, "GET", f"/api/v1/suggestions?community={community}")
            w.expect(where.format("GET /api/v1/suggestions"), status, text,
                     expected(visible, user.may("suggestion.answer")), hidden)
            status, text = w.call(user, "GET", f"/api/v1/suggestions/counts?community={community}")
            w.expect(where.format("GET /api/v1/suggestions/counts"), status, text,
                     expected(visible, user.may("suggestion.answer")), hidden)
            status, text = w.call(user, "PUT", f"/api/v1/menus/communities/{community}", {})
            w.expect(where.format("PUT /api/v1/menus/communities/{community_id}"), status, text,
                     expected(visible, user.may("menu.edit")), hidden)
            status, text = w.call(user, "GET", f"/api/v1/rules/{community}")
            w.expect(where.format("GET /api/v1/rules/{account_id}"), status, text,
                     expected(visible, user.may("rules.edit")), hidden)
            status, text = w.call(user, "GET", "/api/v1/activities/act-demo-phone-3/signups")  # jiangsu-lu's class
            if community == OTHER:
                w.expect(where.format("GET /api/v1/activities/{activity_id}/signups"), status, text,
                         expected(visible, user.may("activity.manage")), hidden)
        status, text = w.call(user, "PUT", "/api/v1/rules/district", {"rules": []})
        w.expect(f"PUT /api/v1/rules/district as {user.label}", status, text,
                 400 if user.role == "district_admin" else 403, hidden)
    w.done()


# ---- staff operations: people, teams, one's own alerts, the filing form's suggestion -----------------

def test_staff_operations_routes(world):
    """People are managed by directors (their community) and the district admin (all); nobody reaches another
    community's accounts; one's own alerts are one's own; the suggestion follows request.file's scope."""
    w = world
    accounts = {OWN: "sw.xianggang-huayuan", OTHER: "sw.jiangsu-lu"}
    for i, user in enumerate(w.users):
        hidden = w.hidden(user)
        manages = user.may("staff.manage")
        for community in (OWN, OTHER):
            visible = community in w.communities_of(user)
            where = f"{{}} community={community} as {user.label}"
            may = manages and visible
            status, text = w.call(user, "GET", f"/api/v1/staff?community={community}")
            w.expect(where.format("GET /api/v1/staff"), status, text, 200 if may else DENIED, hidden)
            if status == 200 and accounts[community] not in text:
                w.fail(f"GET /api/v1/staff?community={community} as {user.label}: misses {accounts[community]}")
            if status == 200 and accounts[OTHER if community == OWN else OWN] in text:
                w.fail(f"LEAK GET /api/v1/staff?community={community} as {user.label}: another community's account")
            status, text = w.call(user, "GET", f"/api/v1/staff/{accounts[community]}")
            w.expect(where.format("GET /api/v1/staff/{username}"), status, text, 200 if may else DENIED, hidden)
            status, text = w.call(user, "POST", f"/api/v1/staff/{accounts[community]}/actions", {"action": "unlock"})
            w.expect(where.format("POST /api/v1/staff/{username}/actions"), status, text, 200 if may else DENIED,
                     hidden)
            status, text = w.call(user, "POST", "/api/v1/staff", {
                "username": f"m{i}.{community}", "display_name": "矩阵新人", "role": "social_worker",
                "community_id": community})
            w.expect(where.format("POST /api/v1/staff"), status, text, 201 if may else DENIED, hidden)
            if status == 201 and json.loads(text)["user"]["community_id"] != community:
                w.fail(f"POST /api/v1/staff community={community} as {user.label}: made in another community")
            status, text = w.call(user, "POST", f"/api/v1/communities/{community}/teams",
                                  {"name": f"矩阵服务队{i}", "kind": "volunteer"})
            w.expect(where.format("POST /api/v1/communities/{community_id}/teams"), status, text,
                     201 if may else DENIED, hidden)
            status, text = w.call(user, "POST", "/api/v1/requests/suggestion",
                                  {"community_id": community, "text": "明天中午送一份饭"})
            w.expect(where.format("POST /api/v1/requests/suggestion"), status, text,
                     expected(visible, user.may("request.file")), hidden)
        status, text = w.call(user, "GET", "/api/v1/staff")  # the district's own accounts, or one's community
        w.expect(f"GET /api/v1/staff as {user.label}", status, text,
                 200 if manages and (user.role == "district_admin" or user.record.get("community_id")) else DENIED,
                 hidden)
        for method, path, body, ok in (("GET", "/api/v1/me/alerts", None, 200),
                                       ("PUT", "/api/v1/me/alerts", {"alert_kinds": ["escalation"]}, 200),
                                       ("POST", "/api/v1/me/alerts/code", {}, 201),
                                       ("DELETE", "/api/v1/me/alerts/binding", None, 200)):
            status, text = w.call(user, method, path, body)
            w.expect(f"{method} {path} as {user.label}", status, text, ok, hidden)
        status, text = w.call(user, "GET", "/api/v1/me/alerts")
        if status == 200 and json.loads(text)["alert_kinds"] != ["escalation"]:
            w.fail(f"GET /api/v1/me/alerts as {user.label}: not its own choice")


# ---- the monthly bulletin and the overview ----------------------------------------------------------

def test_bulletin_routes(world):
    w = world
    from local.jobs import run

    month = "2026-10"  # nothing was sent that month: every community has deduction lines
    assert run("monthly-bulletin", {"month": month, "issue": True})["result"]["status"] == "issued"
    rows = {c: Obj(f"bulletin-{c}", c, f"{c}:few-posts", None, None, (f"{c}:missed-days",), CANTEENS[c])
            for c in (OWN, OTHER)}
    for user in w.users:
        seen = w.communities_of(user)
        hidden = [o for o in rows.values() if o.community not in seen]
        view = user.may("bulletin.view")
        status, text = w.call(user, "GET", f"/api/v1/bulletins/{month}")
        w.expect(f"GET /api/v1/bulletins/{{month}} as {user.label}", status, text, 200 if view else 403, hidden)
        if view and status == 200:
            got = {r["community_id"] for r in json.loads(text)["rows"]}
            if not got <= seen or not ({OWN, OTHER} & seen) <= got:
                w.fail(f"GET /api/v1/bulletins/{{month}} as {user.label}: rows {sorted(got)[:5]}… not its scope")
        status, text = w.call(user, "GET", f"/api/v1/bulletins/{month}/export?format=csv")
        w.expect(f"GET /api/v1/bulletins/{{month}}/export as {user.label}", status, text, 200 if view else 403,
                 [o for o in hidden])
        status, text = w.call(user, "GET", "/api/v1/bulletin-rules")
        w.expect(f"GET /api/v1/bulletin-rules as {user.label}", status, text, 200 if view else 403)
        status, text = w.call(user, "PUT", "/api/v1/bulletin-rules", {"rules": "x"})
        w.expect(f"PUT /api/v1/bulletin-rules as {user.label}", status, text,
                 400 if user.may("bulletin.rules_edit") else 403)
        issue = user.may("bulletin.issue")
        status, text = w.call(user, "POST", f"/api/v1/bulletins/{month}/issue")
        w.expect(f"POST /api/v1/bulletins/{{month}}/issue as {user.label}", status, text, 409 if issue else 403)
        status, text = w.call(user, "POST", f"/api/v1/bulletins/{month}/build")
        w.expect(f"POST /api/v1/bulletins/{{month}}/build as {user.label}", status, text, 200 if issue else 403)
        status, text = w.call(user, "POST", f"/api/v1/bulletins/{month}/corrections", {})
        w.expect(f"POST /api/v1/bulletins/{{month}}/corrections as {user.label}", status, text,
                 400 if issue else 403)
        for obj in rows.values():
            visible = obj.community in seen
            status, text = w.call(user, "POST", f"/api/v1/bulletins/{month}/appeals",
                                  {"line_id": obj.number, "reason": ""})
            w.expect(f"POST /api/v1/bulletins/{{month}}/appeals {obj.community} as {user.label}", status, text,
                     (400 if visible else 404) if user.may("bulletin.appeal") else 403, hidden)
            status, text = w.call(user, "POST", f"/api/v1/bulletins/{month}/decisions",
                                  {"line_id": obj.number, "decision": "accept"})
            w.expect(f"POST /api/v1/bulletins/{{month}}/decisions {obj.community} as {user.label}", status, text,
                     404 if user.may("bulletin.decide") else 403, hidden)  # no appeal on the line yet: 404
        status, text = w.call(user, "GET", "/api/v1/overview")
        w.expect(f"GET /api/v1/overview as {user.label}", status, text, 200 if user.may("overview.view") else 403)
        if status == 200:
            got = {r["community_id"] for r in json.loads(text)["rows"]}
            if not got <= seen:
                w.fail(f"LEAK GET /api/v1/overview as {user.label}: {sorted(got - seen)}")
    w.done()
