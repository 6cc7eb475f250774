"""The residents' H5 use cases (`chalicelib.services.residents`) against in-memory fakes, no moto: what
the 便民纸条 form files, what the profile form saves or deletes, and how refusals and storage failures
come out (one error each, its status through `web.http.status_of`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest

from chalicelib import bootstrap
from chalicelib.domain.canteen import Household
from chalicelib.domain.dates import SHANGHAI
from chalicelib.domain.effects import DeleteProfile, SaveProfile
from chalicelib.domain.errors import StorageUnavailable
from chalicelib.domain.ports import AccountView
from chalicelib.services import filing, residents
from chalicelib.services.residents import FormRejected
from chalicelib.web.http import status_of
from tests.fakes import FakeWorld

ACCOUNT = AccountView("acct", "香港花园社区", "service", "shinan", "xianggang-huayuan", "XG")
OPENID = "o-resident-1"


class StorageDown(Exception):
    pass


@dataclass
class FakePorts:
    households: dict = field(default_factory=dict)
    down: bool = False

    def household(self, account_id, openid):
        if self.down:
            raise StorageDown()
        return self.households.get((account_id, openid))


@dataclass
class FakeUnitOfWork:
    commits: list = field(default_factory=list)
    down: bool = False

    def commit(self, delivery_key, reply, effects, now):
        if self.down:
            raise StorageDown()
        self.commits.append(tuple(effects))
        return []


@pytest.fixture
def fakes():
    ports, uow = FakePorts(), FakeUnitOfWork()
    with bootstrap.override(ports=ports, unit_of_work=uow, storage_errors=(StorageDown,)):
        yield ports, uow


@pytest.fixture
def filed(monkeypatch):
    needs = []

    def file_need(account, need, senders=()):
        needs.append(need)
        return filing.Filed("XG-20261201-0001", "repair", "物业", "已收到")
    monkeypatch.setattr(filing, "file_need", file_need)
    return needs


def test_the_form_files_through_the_one_filing_service_with_contact_only_with_consent(fakes, filed):
    assert residents.file_request(ACCOUNT, OPENID, {"text": " 楼道灯坏了 "}).number == "XG-20261201-0001"
    residents.file_request(ACCOUNT, OPENID, {"text": "下水道堵了", "phone": "138 1234 5678", "address": "香港中路10号",
                                             "consent": "yes"})
    assert [(n.text, n.channel, n.openid, n.contact) for n in filed] == [
        ("楼道灯坏了", "h5", OPENID, {}),
        ("下水道堵了", "h5", OPENID, {"phone": "13812345678", "address": "香港中路10号"})]


def test_a_bad_form_is_refused_with_every_problem_and_nothing_filed(fakes, filed):
    with pytest.raises(FormRejected) as refused:
        residents.file_request(ACCOUNT, OPENID, {"text": "   ", "phone": "call me", "address": "地" * 201})
    assert len(refused.value.problems) == 4 and status_of(refused.value) == 400  # text, phone, address, consent
    assert filed == []


def test_a_storage_failure_while_filing_is_storage_unavailable(fakes, monkeypatch):
    def broken(account, need, senders=()):
        raise StorageDown()
    monkeypatch.setattr(filing, "file_need", broken)
    with pytest.raises(StorageUnavailable) as failed:
        residents.file_request(ACCOUNT, OPENID, {"text": "楼道灯坏了"})
    assert status_of(failed.value) == 503


PROFILE = {"name": "王秀英", "address": "香港中路10号3单元502", "phone": "13812345678", "household_size": "２",
           "mobility": "行动不便", "dietary_notes": "少盐", "relation": "relative", "consent": "yes"}


def test_a_profile_is_saved_with_consent_and_shown_as_the_form_shows_it(fakes):
    ports, uow = fakes
    assert residents.profile("acct", OPENID) == residents.ProfileView({"relation": "self"}, False)
    saved = residents.save_profile(ACCOUNT, OPENID, PROFILE)
    [(effect,)] = uow.commits
    assert isinstance(effect, SaveProfile) and effect.community_id == "xianggang-huayuan"
    assert effect.relation == "relative" and effect.fields["household_size"] == 2 and "relation" not in effect.fields
    assert saved.values["household_size"] == 2
    ports.households[("acct", OPENID)] = Household(effect.profile_id, "王秀英", "香港中路10号3单元502", "13812345678",
                                                   None, 2, "行动不便", "少盐", "relative")
    shown = residents.profile("acct", OPENID)
    assert shown.registered and shown.values["household_size"] == "2" and shown.values["relation"] == "relative"
    residents.save_profile(ACCOUNT, OPENID, {**PROFILE, "name": "王秀英（女儿代登）"})
    assert uow.commits[-1][0].profile_id == effect.profile_id  # the same profile, updated


def test_a_profile_needs_consent_and_a_registered_field_cannot_be_emptied(fakes):
    ports, uow = fakes
    with pytest.raises(FormRejected) as refused:
        residents.save_profile(ACCOUNT, OPENID, {**PROFILE, "consent": ""})
    assert refused.value.problems == ("保存前请勾选“同意社区保存以上资料，用于送餐和上门服务”。",)
    assert not refused.value.registered
    ports.households[("acct", OPENID)] = Household("p1", "王秀英", "香港中路10号", "13812345678", None, 2, "卧床",
                                                   None, "self")
    with pytest.raises(FormRejected) as cleared:
        residents.save_profile(ACCOUNT, OPENID, {**PROFILE, "phone": ""})
    assert "不能清空已登记的联系电话" in cleared.value.problems[0] and cleared.value.registered
    assert uow.commits == []


def test_deleting_asks_first_and_knows_when_there_is_nothing(fakes):
    ports, uow = fakes
    assert residents.delete_profile("acct", OPENID, confirmed=True).result == "nothing"
    ports.households[("acct", OPENID)] = Household("p1", None, "香港中路10号", None, None, None, None, None, "self")
    assert residents.delete_profile("acct", OPENID, confirmed=False).result == "ask" and uow.commits == []
    assert residents.delete_profile("acct", OPENID, confirmed=True).result == "deleted"
    assert uow.commits == [(DeleteProfile("acct", OPENID, "p1"),)]


def test_storage_failures_on_the_profile_are_storage_unavailable(fakes):
    ports, uow = fakes
    uow.down = True
    with pytest.raises(StorageUnavailable):
        residents.save_profile(ACCOUNT, OPENID, PROFILE)
    ports.down = True
    for call in (lambda: residents.profile("acct", OPENID), lambda: residents.delete_profile("acct", OPENID, True)):
        with pytest.raises(StorageUnavailable):
            call()


def test_the_form_files_for_real_against_the_shared_fakes():
    """Through the real filing service (tests/fakes.py's world): numbered, routed, a repeat recognised."""
    world = FakeWorld(accounts={"xianggang-huayuan": ACCOUNT},
                      teams={"xianggang-huayuan": {"xg-pro": ("professional", "专业服务队")}})
    with bootstrap.override(clock=datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI), **world.adapters()):
        filed = residents.file_request(ACCOUNT, OPENID, {"text": "家里水管漏水", "phone": "13812345678",
                                                         "consent": "yes"})
        again = residents.file_request(ACCOUNT, OPENID, {"text": "家里水管漏水"})
    assert filed.number == "XG-20261130-0001" and filed.team_name == "专业服务队"
    assert again.duplicate and again.number == filed.number and len(world.requests) == 1
    assert world.requests[filed.number].openid == OPENID and world.requests[filed.number].channel == "h5"
