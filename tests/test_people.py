"""People and accounts (人员与账号): who manages whom, one-time passwords, deactivation, unlock, role changes,
the audit trail, service teams."""
from __future__ import annotations

import json

from tests.staff import login


def _call(http, method, path, headers, body=None):
    kwargs = {"body": json.dumps(body, ensure_ascii=False)} if body is not None else {}
    answer = getattr(http, method)(path, headers=headers, **kwargs)
    return answer.status_code, json.loads(answer.body or b"null")


def _login(http, username, password):
    answer = http.post("/api/v1/auth/login", headers={"Content-Type": "application/json"},
                       body=json.dumps({"username": username, "password": password}))
    return answer.status_code, json.loads(answer.body)


def test_a_director_creates_a_social_worker_who_must_change_the_one_time_password(http):
    director = login(http, "director.xianggang-huayuan")
    status, made = _call(http, "post", "/api/v1/staff", director, {
        "username": "sw2.xianggang-huayuan", "display_name": "钱小梅", "role": "social_worker"})
    assert status == 201, made
    assert made["user"]["community_id"] == "xianggang-huayuan" and made["user"]["must_change_password"]
    password = made["one_time_password"]
    status, session = _login(http, "sw2.xianggang-huayuan", password)
    assert status == 200 and session["user"]["must_change_password"] is True
    headers = {"Authorization": "Bearer " + session["token"], "Content-Type": "application/json"}
    status, _ = _call(http, "get", "/api/v1/requests", headers)
    assert status == 403  # only the password change is open
    status, fresh = _call(http, "post", "/api/v1/auth/password", headers,
                          {"old_password": password, "new_password": "Qian#Xiaomei2026"})
    assert status == 200 and fresh["user"]["must_change_password"] is False
    headers["Authorization"] = "Bearer " + fresh["token"]
    status, _ = _call(http, "get", "/api/v1/requests", headers)
    assert status == 200
    # audited, with the director's name
    status, seen = _call(http, "get", "/api/v1/staff/sw2.xianggang-huayuan", director)
    assert seen["history"][0]["action"] == "create" and seen["history"][0]["actor_label"] == "董作兰（社区主任）"


def test_a_director_cannot_make_a_director_nor_touch_another_community_nor_themselves(http):
    director = login(http, "director.xianggang-huayuan")
    status, _ = _call(http, "post", "/api/v1/staff", director, {
        "username": "boss.xianggang-huayuan", "display_name": "大主任", "role": "director"})
    assert status == 403
    status, _ = _call(http, "post", "/api/v1/staff/sw.jiangsu-lu/actions", director, {"action": "deactivate"})
    assert status == 404
    status, _ = _call(http, "post", "/api/v1/staff/director.xianggang-huayuan/actions", director,
                      {"action": "change_role", "role": "district_admin"})
    assert status == 403
    status, _ = _call(http, "post", "/api/v1/staff/sw.xianggang-huayuan/actions", director,
                      {"action": "change_role", "role": "director"})
    assert status == 403  # above what a director may give
    sw = login(http, "sw.xianggang-huayuan")
    status, _ = _call(http, "post", "/api/v1/staff", sw, {
        "username": "x.xianggang-huayuan", "display_name": "某某", "role": "social_worker"})
    assert status == 403
    admin = login(http, "admin.shinan")
    status, _ = _call(http, "post", "/api/v1/staff/admin.shinan/actions", admin,
                      {"action": "change_role", "role": "social_worker", "community_id": "xianggang-huayuan"})
    assert status == 403


def test_deactivating_refuses_the_tokens_at_once_and_reactivating_lets_the_person_in_again(http):
    director = login(http, "director.xianggang-huayuan")
    sw = login(http, "sw.xianggang-huayuan")
    assert _call(http, "get", "/api/v1/auth/me", sw)[0] == 200
    status, done = _call(http, "post", "/api/v1/staff/sw.xianggang-huayuan/actions", director, {"action": "deactivate"})
    assert status == 200 and done["user"]["active"] is False
    assert _call(http, "get", "/api/v1/auth/me", sw)[0] == 401
    assert _login(http, "sw.xianggang-huayuan", "Demo#2026")[0] == 401
    _call(http, "post", "/api/v1/staff/sw.xianggang-huayuan/actions", director, {"action": "reactivate"})
    assert _login(http, "sw.xianggang-huayuan", "Demo#2026")[0] == 200


def test_a_district_admin_unlocks_an_account_locked_by_failed_logins(http):
    for _ in range(5):
        assert _login(http, "sw.jiangsu-lu", "wrong#Password1")[0] == 401
    assert _login(http, "sw.jiangsu-lu", "Demo#2026")[0] == 401  # barred from this address
    admin = login(http, "admin.shinan")
    status, listed = _call(http, "get", "/api/v1/staff?community=jiangsu-lu", admin)
    assert status == 200
    row = next(u for u in listed["items"] if u["username"] == "sw.jiangsu-lu")
    assert row["locked"] and row["recent_failures"] == 6
    status, done = _call(http, "post", "/api/v1/staff/sw.jiangsu-lu/actions", admin, {"action": "unlock"})
    assert status == 200 and not done["user"]["locked"]
    assert _login(http, "sw.jiangsu-lu", "Demo#2026")[0] == 200


def test_reset_password_and_role_change_revoke_tokens_and_are_audited(http):
    admin = login(http, "admin.shinan")
    team = login(http, "team.xianggang-huayuan-365")
    status, done = _call(http, "post", "/api/v1/staff/team.xianggang-huayuan-365/actions", admin,
                         {"action": "reset_password"})
    assert status == 200 and len(done["one_time_password"]) == 12
    assert _call(http, "get", "/api/v1/auth/me", team)[0] == 401
    status, done = _call(http, "post", "/api/v1/staff/sw.zhanshan/actions", admin,
                         {"action": "change_role", "role": "director"})
    assert status == 200 and done["user"]["role"] == "director" and done["user"]["community_id"] == "zhanshan"
    status, seen = _call(http, "get", "/api/v1/staff/sw.zhanshan", admin)
    assert [h["action"] for h in seen["history"]] == ["change_role"]
    assert seen["history"][0]["fields"]["from_role"] == "social_worker"


def test_teams_and_their_members_are_managed_per_community(http):
    director = login(http, "director.xianggang-huayuan")
    status, team = _call(http, "post", "/api/v1/communities/xianggang-huayuan/teams", director,
                         {"name": "香港花园社区志愿者服务队", "kind": "volunteer"})
    assert status == 201, team
    status, made = _call(http, "post", "/api/v1/staff", director, {
        "username": "vol.xianggang-huayuan", "display_name": "志愿者甲", "role": "team_member", "team_id": team["id"]})
    assert status == 201, made
    status, listed = _call(http, "get", "/api/v1/staff", director)
    assert "vol.xianggang-huayuan" in [u["username"] for u in listed["items"]]
    assert team["id"] in [t["id"] for t in listed["teams"]]
    status, _ = _call(http, "post", "/api/v1/communities/jiangsu-lu/teams", director, {"name": "别人的队", "kind": "volunteer"})
    assert status == 404
    status, _ = _call(http, "post", "/api/v1/staff", director, {
        "username": "vol2.xianggang-huayuan", "display_name": "志愿者乙", "role": "team_member",
        "team_id": "jiangsu-lu-service-365"})
    assert status == 400
    admin = login(http, "admin.shinan")
    status, district = _call(http, "get", "/api/v1/staff", admin)
    assert {"admin.shinan", "reviewer.jinhu-lu", "dept.consumer-rights"} <= {u["username"] for u in district["items"]}
