"""The demo seed: validation that names file, record and field; idempotent, all-or-nothing loading."""
import copy
import json

import pytest

from chalicelib.secrets import secret_store
from chalicelib.store.accounts import Account
from chalicelib.store.org import Community
from chalicelib.store.staff import StaffUser
from chalicelib.store.teams import Team
from local import seed as seed_module


def demo():
    return json.loads(seed_module.DEFAULT_SEED.read_text(encoding="utf-8"))


def test_demo_seed_describes_shinan():
    data = seed_module.read().data
    accounts = {a["id"]: a for a in data["accounts"]}
    assert len(data["communities"]) == 65
    assert len(accounts) == 66
    assert accounts["wei-shinan"]["community_id"] is None
    assert accounts["xianggang-huayuan"]["encryption_mode"] == "safe"
    assert any(a["encryption_mode"] == "plain" for a in accounts.values())
    roles = {u["role"] for u in data["staff"]}
    assert roles == set(seed_module.ROLE_FIELD)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["accounts"][3].pop("appid"), "accounts[3] ({id}): field 'appid' is missing"),
    (lambda d: d["accounts"][3].__setitem__("encryption_mode", "aes"), "field 'encryption_mode' must be one of"),
    (lambda d: d["accounts"][3]["demo_secrets"].__setitem__("encoding_aes_key", "short"), "'demo_secrets'"),
    (lambda d: d["communities"][0].__setitem__("subdistrict_id", "nowhere"), "names unknown subdistrict 'nowhere'"),
    (lambda d: d["teams"].append(copy.deepcopy(d["teams"][0])), "duplicate id"),
    (lambda d: d["canteens"][0].__setitem__("order_cutoff", "8pm"), "field 'order_cutoff' must be a time HH:MM"),
    (lambda d: d.pop("staff"), "missing the 'staff' section"),
])
def test_a_bad_record_is_named_and_nothing_is_loaded(aws, tmp_path, mutate, message):
    data = demo()
    record_id = data["accounts"][3]["id"]
    mutate(data)
    path = tmp_path / "district.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(seed_module.SeedError) as caught:
        seed_module.read(path)
    assert str(caught.value).startswith(str(path))
    assert message.format(id=record_id) in str(caught.value)
    assert Account.count() == 0 and Community.count() == 0  # validation happens before any write


def test_broken_json_names_the_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"district": {"id": "x",}', encoding="utf-8")
    with pytest.raises(seed_module.SeedError, match=r"broken.json: not valid JSON at line 1"):
        seed_module.read(path)


def test_loading_twice_gives_the_same_state(aws):
    seed = seed_module.read()
    first = seed_module.load(seed)
    hashes = {u.username: u.password_hash for u in StaffUser.scan()}
    second = seed_module.load(seed)
    assert first == second
    assert Account.count() == 66
    assert Team.count("xianggang-huayuan") >= 5
    assert {u.username: u.password_hash for u in StaffUser.scan()} == hashes  # not re-hashed
    director = StaffUser.get("director.xianggang-huayuan")
    assert director.scope_key == "community#xianggang-huayuan"
    assert "Demo#2026" not in director.password_hash


def test_secrets_go_to_ssm_not_tables(aws):
    seed_module.load(seed_module.read())
    account = Account.get("xianggang-huayuan")
    assert "secret" not in json.dumps(account.to_simple_dict()).lower()
    secrets = secret_store().get("xianggang-huayuan")
    demo_account = next(a for a in demo()["accounts"] if a["id"] == "xianggang-huayuan")
    assert secrets.encoding_aes_key == demo_account["demo_secrets"]["encoding_aes_key"]
    assert demo_account["demo_secrets"]["app_secret"] not in repr(secrets)
