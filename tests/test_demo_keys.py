"""Demo material never reaches a deployed stage: the seed refuses, the app refuses demo or weak keys
(503, /health failing, a CRITICAL log line), and H5 sessions have their own key."""
from __future__ import annotations

import json
import secrets as random_secrets

import jwt
import pytest
from chalice.test import Client

from app import app
from chalicelib import config
from chalicelib.auth import deployment, tokens
from chalicelib.web import session as h5_session
from chalicelib.store.accounts import Account
from chalicelib.store.staff import StaffUser
from local import seed as seed_module


@pytest.fixture
def stage(monkeypatch):
    """Switch the running stage (settings are read once per container)."""
    def switch(name: str) -> None:
        monkeypatch.setenv("STAGE", name)
        config.settings.cache_clear()
        deployment.CHECK_CACHE.clear()
        tokens.reset()
    yield switch
    config.settings.cache_clear()
    deployment.CHECK_CACHE.clear()
    tokens.reset()


def ssm_names() -> list[str]:
    from chalicelib.secrets import secret_store

    ssm = secret_store()._ssm()
    pages = ssm.get_paginator("describe_parameters").paginate()
    return [p["Name"] for page in pages for p in page["Parameters"]]


def test_the_seed_refuses_stage_prod(aws, stage, capsys):
    stage("prod")
    assert seed_module.main(["seed"]) == 3
    err = capsys.readouterr().err
    assert "refusing to load into stage 'prod'" in err and "--allow-stage prod" in err
    assert ssm_names() == [] and Account.count() == 0
    with pytest.raises(seed_module.SeedRefused):
        seed_module.load(seed_module.read(), demo_material=True)
    assert ssm_names() == []


def test_the_seed_told_explicitly_writes_directory_data_but_no_demo_material(aws, stage):
    stage("prod")
    assert seed_module.main(["seed", "--allow-stage", "prod"]) == 0
    assert Account.count() == 66
    assert ssm_names() == []  # no account secrets, no signing key
    user = StaffUser.get("admin.shinan")
    assert user.password_hash == seed_module.UNUSABLE_PASSWORD_HASH
    from chalicelib.store.partners import Partner

    assert Partner.count() == 0  # no demo api keys


def test_the_app_refuses_the_demo_key_on_a_deployed_stage(seed, stage, capsys):
    with Client(app, stage_name="test") as client:
        stage("test")
        assert client.http.get("/health").status_code == 200  # the laptop's stages use the demo keys
        stage("prod")
        health = client.http.get("/health")
        assert health.status_code == 503
        body = json.loads(health.body)
        assert body["status"] == "refused" and any("demo" in p for p in body["problems"])
        login = client.http.post("/api/v1/auth/login", headers={"Content-Type": "application/json"},
                                 body=json.dumps({"username": "admin.shinan", "password": "Demo#2026"}))
        assert login.status_code == 503 and json.loads(login.body)["code"] == "misconfigured"
        assert client.http.get("/wechat/xianggang-huayuan?signature=x&timestamp=1&nonce=1&echostr=1").status_code \
            == 503
        out = capsys.readouterr().out
        assert "refusing to serve stage prod" in out and '"level": "CRITICAL"' in out
        assert seed_module.DEMO_JWT_KEY not in out

        # A key shorter than 32 bytes is refused as well.
        ssm = tokens.signing_key_store()._ssm()
        ssm.put_parameter(Name=tokens.key_path(), Value="short-key", Type="SecureString", Overwrite=True)
        tokens.h5_key_store().put(random_secrets.token_urlsafe(48))
        deployment.CHECK_CACHE.clear()
        tokens.reset()
        body = json.loads(client.http.get("/health").body)
        assert body["problems"] == [f"console JWT key: SSM parameter {tokens.key_path()} is shorter than 32 bytes"]

        # Real keys: the stage serves.
        tokens.signing_key_store().put(random_secrets.token_urlsafe(48))
        deployment.CHECK_CACHE.clear()
        tokens.reset()
        assert client.http.get("/health").status_code == 200
        assert client.http.post("/api/v1/auth/login", headers={"Content-Type": "application/json"},
                                body=json.dumps({"username": "admin.shinan", "password": "Demo#2026"})
                                ).status_code == 200


def test_h5_sessions_use_their_own_key(seed):
    token, session = h5_session.issue("xianggang-huayuan", "o-resident-h5-1")
    assert h5_session.decode(token, "xianggang-huayuan").openid == "o-resident-h5-1"
    assert tokens.h5_key_store().get() == seed_module.DEMO_H5_KEY.encode() != tokens.signing_key_store().get()
    claims = jwt.decode(token, seed_module.DEMO_H5_KEY, algorithms=["HS256"], audience="h5")
    # A session forged with the console's key is refused: one leaked key does not forge both.
    forged = jwt.encode(claims, seed_module.DEMO_JWT_KEY, algorithm="HS256")
    with pytest.raises(h5_session.SessionInvalid):
        h5_session.decode(forged, "xianggang-huayuan")
