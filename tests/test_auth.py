"""Staff sign-in and authorisation: login, lockout, tokens, logout, password change, the authorizer (through
Chalice's test client, which runs built-in authorizers like `chalice local`), and scope for every role."""
from __future__ import annotations

import base64
import json
import sys
from datetime import timedelta
from types import SimpleNamespace

import jwt
import pytest
from chalice.test import Client

from app import app
from chalicelib import auth
from chalicelib.auth import scope, service, tokens
from chalicelib.auth.errors import Forbidden, NotFound
from chalicelib.auth.principal import Principal
from chalicelib.domain import limits
from chalicelib.clock import now as utcnow
from chalicelib.store.staff import StaffUser
from local.seed import DEMO_JWT_KEY

PASSWORD = "Demo#2026"
USERS = {
    "social_worker": "sw.xianggang-huayuan",
    "director": "director.xianggang-huayuan",
    "subdistrict_reviewer": "reviewer.jinhu-lu",
    "district_admin": "admin.shinan",
    "team_member": "team.xianggang-huayuan-365",
    "department": "dept.consumer-rights",
}
TEAM = "xianggang-huayuan-service-365"


@pytest.fixture(autouse=True)
def fresh_caches():
    auth.reset_caches()
    yield
    auth.reset_caches()


@pytest.fixture
def client():
    with Client(app, stage_name="test") as test_client:
        yield test_client


def call(client, method, path, body=None, token=None, raw=None, bearer=True):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}" if bearer else token
    data = raw if raw is not None else (json.dumps(body) if body is not None else b"")
    response = getattr(client.http, method)(path, headers=headers, body=data)
    try:
        payload = json.loads(response.body) if response.body else None
    except ValueError:
        payload = response.body
    return response.status_code, payload


def login(client, username, password=PASSWORD):
    return call(client, "post", "/api/v1/auth/login", {"username": username, "password": password})


def token_of(client, username, password=PASSWORD):
    status, body = login(client, username, password)
    assert status == 200, body
    return body["token"]


def me(client, token):
    return call(client, "get", "/api/v1/auth/me", token=token)


def forged(claims_update=None, key=DEMO_JWT_KEY, now=None, username="sw.xianggang-huayuan", **kwargs):
    """A token as the platform would sign it (or not), for the seed's social worker unless told."""
    issued = now or utcnow()
    claims = {"sub": username, "name": "x", "role": "social_worker", "community_id": "xianggang-huayuan",
              "district_id": "shinan", "ver": 0, "iss": tokens.issuer(), "aud": tokens.AUDIENCE,
              "iat": int(issued.timestamp()), "exp": int((issued + tokens.TOKEN_LIFETIME).timestamp())}
    claims.update(claims_update or {})
    return jwt.encode(claims, key, algorithm=kwargs.get("algorithm", "HS256"))


# ---- login, me, anonymous ----------------------------------------------------------------------------

def test_every_role_logs_in_and_me_returns_the_principal(seed, client):
    assert tokens.signing_key_store().get() == DEMO_JWT_KEY.encode()  # the seed put the demo key in SSM
    for role, username in USERS.items():
        status, body = login(client, username)
        assert status == 200, body
        assert body["user"]["username"] == username and body["user"]["role"] == role
        assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
        claims = jwt.decode(body["token"], options={"verify_signature": False})
        assert claims["sub"] == username and claims["role"] == role and claims["ver"] == 0
        assert claims["exp"] - claims["iat"] == 1800 and claims["aud"] == "console"
        status, mine = me(client, body["token"])
        assert status == 200 and mine["user"] == body["user"]
    _, body = login(client, "sw.xianggang-huayuan")
    assert body["user"]["role_name"] == "社工"
    assert body["user"]["scope"] == {"district_id": "shinan", "subdistrict_id": "jinhu-lu",
                                     "community_id": "xianggang-huayuan", "team_id": None, "department_id": None}
    _, team = login(client, USERS["team_member"])
    assert team["user"]["scope"]["team_id"] == TEAM
    # A bare token (no "Bearer") is accepted too; usernames are not case-sensitive.
    assert me(client, token_of(client, " Admin.Shinan "))[0] == 200
    assert call(client, "get", "/api/v1/auth/me", token=token_of(client, "admin.shinan"), bearer=False)[0] == 200
    # Anonymous: 401 on every authorised route, before any view runs.
    assert call(client, "get", "/api/v1/auth/me")[0] == 401
    assert call(client, "post", "/api/v1/auth/logout")[0] == 401
    assert call(client, "post", "/api/v1/auth/password", {"old_password": "a", "new_password": "b"})[0] == 401


def test_unknown_user_and_wrong_password_get_one_answer_and_bad_bodies_get_400(seed, client, monkeypatch, capsys):
    from chalicelib.auth import passwords

    verified = []
    real_verify = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password", lambda h, p: verified.append(1) or real_verify(h, p))
    wrong = login(client, "sw.xianggang-huayuan", "Wrong#Password1")
    unknown = login(client, "nobody.here", "Wrong#Password1")
    assert wrong == unknown == (401, {"code": "invalid_credentials", "message": "用户名或密码错误"})
    assert len(verified) == 2  # the argon2 work is done for the unknown user too
    with pytest.raises(StaffUser.DoesNotExist):
        StaffUser.get("nobody.here")  # and its refused write created nothing

    for raw in ("{not json", "[1, 2]", "", "\"text\""):
        status, body = call(client, "post", "/api/v1/auth/login", raw=raw)
        assert status == 400 and body["code"] == "bad_json" and body["message"], raw
    for body in ({"username": "admin.shinan"}, {"username": "admin.shinan", "password": 123},
                 {"username": "", "password": "x"}):
        status, answer = call(client, "post", "/api/v1/auth/login", body)
        assert status == 400 and answer["code"] == "missing_field", body
    token = token_of(client, "admin.shinan")
    status, body = call(client, "post", "/api/v1/auth/password", raw="nope", token=token)
    assert status == 400 and body["code"] == "bad_json"

    out = capsys.readouterr().out
    assert "login refused" in out  # logged, but never a password or a token
    assert PASSWORD not in out and "Wrong#Password1" not in out and token not in out


def from_address(monkeypatch, address: str) -> None:
    """Requests through the test client come from `address` (API Gateway's sourceIp)."""
    from chalice.local import LambdaEventConverter

    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)


def test_a_lockout_attempt_from_one_address_does_not_lock_another_users_login(seed, client, monkeypatch):
    username = "director.xianggang-huayuan"
    monkeypatch.setattr(service, "sleep", lambda s: None)
    # A success resets this address's count for the user.
    from_address(monkeypatch, "198.51.100.7")
    for _ in range(3):
        assert login(client, username, "wrong-password")[0] == 401
    assert login(client, username)[0] == 200
    # The attacker's address: after five failures even the right password is answered as a wrong one.
    from_address(monkeypatch, "203.0.113.66")
    for _ in range(5):
        assert login(client, username, "wrong-password") == (401, {"code": "invalid_credentials",
                                                                   "message": "用户名或密码错误"})
    assert login(client, username) == (401, {"code": "invalid_credentials", "message": "用户名或密码错误"})
    # The director, from the office, is not locked out, and nothing on the user's item was touched.
    from_address(monkeypatch, "198.51.100.7")
    assert login(client, username)[0] == 200
    user = StaffUser.get(username)
    assert user.locked_until is None and user.failed_logins == 0
    # Failure counts expire: the attacker's address is in good standing again two windows later.
    later = utcnow() + 2 * limits.LOGIN_FAILURE_WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(service, "now", lambda: later)
    from_address(monkeypatch, "203.0.113.66")
    assert login(client, username)[0] == 200


def test_a_barred_answer_is_a_wrong_password_answer_in_status_body_and_time(seed, client, monkeypatch):
    """Same status and body, the same argon2 work and the same writes; measured times agree."""
    import statistics
    import time as time_module

    from argon2 import PasswordHasher

    from chalicelib.auth import passwords

    username = "director.xianggang-huayuan"
    user = StaffUser.get(username)
    user.update(actions=[StaffUser.password_hash.set(  # a costly hash, so that skipped work would show
        PasswordHasher(time_cost=3, memory_cost=32768, parallelism=1).hash(PASSWORD))])
    work = []
    real_verify = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password", lambda h, p: work.append("argon2") or real_verify(h, p))
    from chalicelib.store import windows

    real_add = windows.add
    monkeypatch.setattr(windows, "add", lambda key, *a, **k: work.append(key.split("#")[0]) or real_add(key, *a, **k))
    from_address(monkeypatch, "203.0.113.9")
    monkeypatch.setattr(service, "sleep", lambda s: None)  # the username's delay grows alike for both

    def timed(password):
        del work[:]
        started = time_module.perf_counter()
        answer = login(client, username, password)
        return answer, time_module.perf_counter() - started, list(work)

    wrong = [timed("wrong-password") for _ in range(5)]  # the fifth bars this address
    barred = [timed(PASSWORD) for _ in range(4)]  # the right password, answered as wrong
    for answer, _, _ in wrong + barred:
        assert answer == (401, {"code": "invalid_credentials", "message": "用户名或密码错误"})
    assert {tuple(w[2]) for w in wrong} == {tuple(b[2]) for b in barred} == {
        ("login-rate", "argon2", "login-fail", "login-fail", "login-fail-from")}
    wrong_time = statistics.median(w[1] for w in wrong[1:])
    barred_time = statistics.median(b[1] for b in barred)
    assert 0.6 < barred_time / wrong_time < 1.6, (wrong_time, barred_time)


def test_a_username_under_attack_from_many_addresses_is_slowed_not_locked(seed, client, monkeypatch):
    username = "sw.xianggang-huayuan"
    delays = []
    monkeypatch.setattr(service, "sleep", delays.append)
    for n in range(10):
        from_address(monkeypatch, f"192.0.2.{n}")
        assert login(client, username, "wrong-password")[0] == 401
    assert delays == [limits.login_delay(n) for n in range(6, 10)] == [0.25, 0.5, 1.0, 2.0]
    from_address(monkeypatch, "198.51.100.20")
    assert login(client, username)[0] == 200  # the right password still works, after the delay
    assert delays[-1] == limits.LOGIN_MAX_DELAY_S
    assert limits.login_delay(50) == limits.LOGIN_MAX_DELAY_S


def test_logins_from_one_address_are_rate_limited(seed, client, monkeypatch):
    from chalicelib import config

    monkeypatch.delenv("LOGIN_RATE_PER_ADDRESS")
    config.settings.cache_clear()
    rate = config.settings().login_rate_per_address
    assert rate == 20  # the default
    from datetime import datetime, timezone

    from chalicelib import clock

    clock.set_clock(datetime(2026, 11, 30, 2, 0, 5, tzinfo=timezone.utc))  # one minute's window, however slow the run
    from_address(monkeypatch, "203.0.113.200")
    answers = [login(client, f"guess.{n}", "x")[0] for n in range(rate + 5)]
    assert answers == [401] * rate + [429] * 5
    status, body = login(client, "admin.shinan")
    assert status == 429 and body["code"] == "too_many_requests" and "频繁" in body["message"]
    from_address(monkeypatch, "203.0.113.201")
    assert login(client, "admin.shinan")[0] == 200  # another address is not affected
    later = utcnow() + limits.LOGIN_RATE_WINDOW
    monkeypatch.setattr(service, "now", lambda: later)
    from_address(monkeypatch, "203.0.113.200")
    # The next minute it may try again, but its 20 failures over many usernames (password spraying) bar
    # it: even the right password is answered as a wrong one, until its failures expire.
    assert login(client, "admin.shinan") == (401, {"code": "invalid_credentials", "message": "用户名或密码错误"})
    much_later = utcnow() + 2 * limits.LOGIN_FAILURE_WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(service, "now", lambda: much_later)
    assert login(client, "admin.shinan")[0] == 200


# ---- tokens and the authorizer -------------------------------------------------------------------------

def test_expired_tampered_and_foreign_tokens_are_refused(seed, client, monkeypatch):
    assert me(client, forged())[0] == 200  # the forger is right: a well-made token passes
    assert me(client, forged(now=utcnow() - timedelta(minutes=29)))[0] == 200
    refused = {
        "expired": forged(now=utcnow() - timedelta(minutes=31)),
        "other key": forged(key="another-key-of-at-least-thirty-two-bytes!!"),
        "other stage": forged({"iss": "wechat-alliance:prod"}),
        "other audience": forged({"aud": "resident"}),
        "unknown user": forged(username="nobody.here"),
        "no ver": forged({"ver": None}),
        "role changed": forged({"role": "district_admin"}),
        "unsigned": jwt.encode({"sub": "admin.shinan", "role": "district_admin", "ver": 0}, None, algorithm="none"),
        "garbage": "abc.def.ghi",
    }
    good = token_of(client, "sw.xianggang-huayuan")
    head, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"], claims["community_id"] = "district_admin", None
    refused["tampered claims"] = ".".join(
        [head, base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode(), signature])
    refused["tampered signature"] = ".".join([head, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA"
                                                                               else "BBBB")])
    for why, token in refused.items():
        assert me(client, token)[0] == 401, why
    assert call(client, "get", "/api/v1/auth/me", token="")[0] == 401

    # Deployed, the authorizer is its own Lambda: 401 comes from failing with "Unauthorized", and a valid
    # token gives an Allow policy and a flat string context (API Gateway refuses nulls).
    event = {"type": "TOKEN", "authorizationToken": "Bearer " + good,
             "methodArn": "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/api/GET/api/v1/auth/me"}
    answer = auth.staff_authorizer(event, None)
    assert answer["principalId"] == "sw.xianggang-huayuan"
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert all(isinstance(v, str) for v in answer["context"].values())
    monkeypatch.delitem(sys.modules, "chalice.local")
    with pytest.raises(Exception, match="^Unauthorized$"):
        auth.staff_authorizer({**event, "authorizationToken": refused["expired"]}, None)


def test_the_authorizer_is_registered_for_deployment():
    handlers = {a.name: a for a in app.builtin_auth_handlers}
    config = handlers["staff_authorizer"]
    assert config.ttl_seconds == 0  # API Gateway must not cache: logout takes effect at once
    module, attribute = config.handler_string.rsplit(".", 1)
    assert getattr(sys.modules[module], attribute) is auth.staff_authorizer  # the Lambda's entry point
    assert app.routes["/api/v1/auth/login"]["POST"].authorizer is None
    for path, method in (("/api/v1/auth/me", "GET"), ("/api/v1/auth/logout", "POST"),
                         ("/api/v1/auth/password", "POST")):
        assert app.routes[path][method].authorizer is auth.staff_authorizer


def test_logout_refuses_every_earlier_token(seed, client):
    first, second = token_of(client, "sw.xianggang-huayuan"), token_of(client, "sw.xianggang-huayuan")
    other = token_of(client, "director.xianggang-huayuan")
    assert call(client, "post", "/api/v1/auth/logout", token=first) == (200, {"ok": True})
    assert me(client, first)[0] == 401 and me(client, second)[0] == 401  # every device
    assert call(client, "post", "/api/v1/auth/logout", token=first)[0] == 401
    assert me(client, other)[0] == 200
    fresh = token_of(client, "sw.xianggang-huayuan")
    assert jwt.decode(fresh, options={"verify_signature": False})["ver"] == 1
    assert me(client, fresh)[0] == 200


def test_password_change(seed, client):
    username = "sw.xianggang-huayuan"
    token = token_of(client, username)

    def change(old, new):
        return call(client, "post", "/api/v1/auth/password", {"old_password": old, "new_password": new},
                    token=token)

    status, body = change("Wrong#Password1", "a-good-new-password")
    assert status == 403 and body["code"] == "wrong_password"
    from chalicelib.store import windows

    counted = windows.recent([f"login-fail#{username}"], utcnow(), limits.LOGIN_FAILURE_WINDOW)
    assert counted == {f"login-fail#{username}": 1}  # counts as a failed login
    for weak, why in (("short#1", "至少"), (username, "用户名"), (username.upper(), "用户名"), (PASSWORD, "至少")):
        status, body = change(PASSWORD, weak)
        assert status == 400 and body["code"] == "weak_password" and why in body["message"], weak
    assert me(client, token)[0] == 200  # nothing changed yet

    status, body = change(PASSWORD, "Harbour-view-2026!")
    assert status == 200 and body["user"]["username"] == username
    assert me(client, token)[0] == 401  # the old token is refused
    assert me(client, body["token"])[0] == 200  # the answer is a fresh session
    assert login(client, username)[0] == 401
    assert login(client, username, "Harbour-view-2026!")[0] == 200
    user = StaffUser.get(username)
    assert user.password_changed_at is not None and user.failed_logins == 0 and user.token_version == 1
    assert "Harbour" not in user.password_hash


# ---- scope --------------------------------------------------------------------------------------------

def request_like(community=None, team=None, department=None, district="shinan"):
    return SimpleNamespace(community_id=community, team_id=team, department_id=department, district_id=district)


def test_scope_for_every_role(seed):
    p = {role: Principal.from_user(StaffUser.get(username)) for role, username in USERS.items()}
    jinhu = {c["id"] for c in seed.data["communities"] if c["subdistrict_id"] == "jinhu-lu"}
    assert "xianggang-huayuan" in jinhu and len(jinhu) == 5

    assert scope.communities_in_scope(p["district_admin"]) is None
    assert scope.communities_in_scope(p["social_worker"]) == {"xianggang-huayuan"}
    assert scope.communities_in_scope(p["director"]) == {"xianggang-huayuan"}
    assert scope.communities_in_scope(p["subdistrict_reviewer"]) == jinhu
    assert scope.communities_in_scope(p["team_member"]) == set()
    assert scope.communities_in_scope(p["department"]) == set()

    own = request_like("xianggang-huayuan", team=TEAM, department="consumer-rights")
    same_subdistrict = request_like("nanjing-lu")
    elsewhere = request_like("jiangsu-lu", team="jiangsu-lu-service-365", department="civil-affairs")
    untriaged = request_like(None)  # filed with the district's own account
    other_district = request_like("xianggang-huayuan", team=TEAM, department="consumer-rights", district="laoshan")
    sees = {
        "district_admin": (own, same_subdistrict, elsewhere, untriaged),
        "social_worker": (own,),
        "director": (own,),
        "subdistrict_reviewer": (own, same_subdistrict),
        "team_member": (own,),
        "department": (own,),
    }
    for role, visible in sees.items():
        for obj in (own, same_subdistrict, elsewhere, untriaged, other_district):
            assert scope.can_see_request(p[role], obj) == (obj in visible), (role, obj)
    # Assignment, not community, for teams and departments; no match on a missing id.
    assert scope.can_see_request(p["team_member"], request_like("jiangsu-lu", team=TEAM))
    assert not scope.can_see_request(p["team_member"], request_like("xianggang-huayuan"))
    assert scope.can_see_request(p["department"], request_like(None, department="consumer-rights"))
    no_team = Principal("t", "t", "team_member", "shinan")
    assert not scope.can_see_request(no_team, request_like("xianggang-huayuan"))
    # An object without district_id belongs to the deployment's district (a canteen, a rule set).
    assert scope.can_see_request(p["director"], SimpleNamespace(community_id="xianggang-huayuan"))

    # require: out of scope looks missing (even for an action the role lacks); in scope but not allowed: 403.
    with pytest.raises(NotFound):
        scope.require(p["social_worker"], "request.view", elsewhere)
    with pytest.raises(NotFound):
        scope.require(p["subdistrict_reviewer"], "request.transition", elsewhere)
    with pytest.raises(NotFound):
        scope.require(p["team_member"], "request.view", request_like("xianggang-huayuan", team="other-team"))
    with pytest.raises(Forbidden):
        scope.require(p["subdistrict_reviewer"], "request.transition", same_subdistrict)
    with pytest.raises(Forbidden):
        scope.require(p["team_member"], scope.transition_action("closed"), own)
    with pytest.raises(Forbidden):
        scope.require(p["department"], "canteen.edit")
    scope.require(p["subdistrict_reviewer"], "request.note", same_subdistrict)
    scope.require(p["team_member"], scope.transition_action("in_progress"), own)
    scope.require(p["department"], scope.transition_action("done"), own)
    scope.require(p["director"], "canteen.edit", SimpleNamespace(community_id="xianggang-huayuan"))
    scope.require(p["district_admin"], "audit.view")
    with pytest.raises(ValueError):
        scope.require(p["district_admin"], "request.veiw")  # a typo must fail loudly

    # The reviewer's communities are read once per container (5 minutes), not on every check.
    from chalicelib.store.org import Community

    calls = []
    real_query = Community.by_subdistrict.query
    Community.by_subdistrict.query = lambda *a, **k: calls.append(a) or real_query(*a, **k)
    try:
        for _ in range(3):
            scope.can_see_request(p["subdistrict_reviewer"], same_subdistrict)
    finally:
        Community.by_subdistrict.query = real_query
    assert calls == []  # cached above


def test_the_role_table_is_the_one_agreed():
    request_all = {"request.view", "request.transition", "request.progress", "request.assign",
                   "request.recategorise", "request.note", "request.file"}
    writer = {"post.view", "post.propose", "post.write"}  # publishing: propose, write; the reviews below
    post_all = writer | {"post.review_first", "post.review_second", "post.policy_edit"}
    bulletin_all = {"bulletin.view", "bulletin.issue", "bulletin.rules_edit", "bulletin.appeal", "bulletin.decide",
                    "overview.view"}  # the monthly bulletin: the district issues and decides, sub-districts appeal
    assert {role: set(actions) for role, actions in scope.ROLE_ACTIONS.items()} == {
        "social_worker": request_all | writer | {"canteen.edit", "rules.edit", "audit.view", "resident.block",
                                                 "activity.manage"},
        "director": request_all | writer | {"post.review_first", "canteen.edit", "rules.edit", "audit.view",
                                            "staff.view", "resident.block", "activity.manage", "suggestion.answer",
                                            "menu.edit", "staff.manage", "bulletin.view"},
        "subdistrict_reviewer": {"request.view", "request.note", "audit.view", "post.view", "post.review_second",
                                 "bulletin.view", "bulletin.appeal", "overview.view"},
        "district_admin": request_all | post_all | bulletin_all | {
            "canteen.edit", "rules.edit", "staff.view", "audit.view", "resident.block", "matrix.edit",
            "activity.manage", "suggestion.answer", "menu.edit", "staff.manage"},
        "team_member": {"request.view", "request.progress", "request.note"},
        "department": {"request.view", "request.progress", "request.note"},
    }
    assert set(scope.ROLE_ACTIONS) == set(__import__("chalicelib.store.staff", fromlist=["ROLES"]).ROLES)
    assert scope.transition_action("in_progress") == scope.transition_action("done") == "request.progress"
    assert scope.transition_action("assigned") == "request.transition"
    principal = Principal("x", "x", "social_worker", "shinan", community_id="c")
    assert Principal.from_context(principal.to_context()) == principal
    assert principal.to_context()["team_id"] == ""


def test_the_signing_key_comes_from_ssm_and_must_be_long_enough(aws):
    with pytest.raises(tokens.SigningKeyMissing):
        tokens.signing_key_store().get()  # no key: a configuration error (500), never a 401
    with pytest.raises(ValueError):
        tokens.signing_key_store().put("too-short")
    tokens.signing_key_store().put(DEMO_JWT_KEY)
    token, expires_at = tokens.issue({"sub": "a", "role": "director", "ver": 3})
    assert tokens.decode(token)["ver"] == 3 and expires_at > utcnow() + timedelta(minutes=29)
    with pytest.raises(tokens.TokenInvalid):
        tokens.decode(token + "x")
