"""Property-based fuzzing of the WeChat callback (hypothesis), shared by the test suite (a few hundred
inputs) and `make bench` (bench/callback_fuzz.py, 10,000).

Each input is one POST to `gateway.receive` for a plain, compatible or safe account: a query with a
right or forged signature, odd timestamps and nonces, with or without `encrypt_type=aes`; a body that
is a near-valid message with fields replaced by hostile values (huge, empty, non-digits, control
characters, markup), or bytes that are not XML at all; encrypted with the account's key when asked.

The properties: never a 5xx (nor an exception), and an input answered 4xx stores nothing (no commit, no
stamp, nothing parked on the inbound queue).
"""
from __future__ import annotations

import collections
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.wechat_driver import WeChat, message_xml, sign

FIELDS = ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event", "EventKey",
          "MediaId", "Recognition", "Location_X", "Location_Y", "Label", "Title", "Url", "PicUrl", "Encrypt"]
MSG_TYPES = ["text", "image", "voice", "video", "shortvideo", "location", "link", "event", "miniprogrampage"]
EVENTS = ["subscribe", "unsubscribe", "SCAN", "LOCATION", "CLICK", "VIEW", "MASSSENDJOBFINISH"]


def _long(alphabet: str, low: int, high: int):
    return st.builds(lambda c, n: c * n, st.sampled_from(alphabet), st.integers(low, high))


HOSTILE = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789", min_size=1, max_size=40),
    _long("9o<&]x长", 100, 12_000),
    st.sampled_from(["", " ", "-1", "1e309", "NaN", "0x10", "]]>", "<a>", "&amp;", "\x00", "\x1b[31m", "𝔘",
                     "gh_0000", "o" * 28, "99999999999999999999999999999999999"]),
)


@dataclass(frozen=True)
class Callback:
    """One drawn input, before sealing (encryption uses `random`, which strategies must not)."""

    account_id: str
    query: dict
    xml: str
    encrypt_type: str | None  # None: a plaintext POST
    forged_msg_signature: str | None

    def request(self, wx: WeChat) -> tuple[dict, bytes]:
        """The query and body as sent: sealed with the account's key when encrypt_type is set."""
        query, body = dict(self.query), self.xml.encode("utf-8", "surrogatepass")
        if self.encrypt_type is None:
            return query, body
        query["encrypt_type"] = self.encrypt_type
        try:
            encrypted = ET.fromstring(wx.crypto().encrypt_message(self.xml, query["nonce"], query["timestamp"])
                                      ).findtext("Encrypt")
        except Exception:  # noqa: BLE001 - wechatpy refuses some inputs (not ours to test): send garbage
            encrypted = "bm90IHJlYWxseQ=="
        query["msg_signature"] = self.forged_msg_signature or sign(wx.token, query["timestamp"], query["nonce"],
                                                                   encrypted)
        return query, (f"<xml><ToUserName><![CDATA[x]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
                       "</xml>").encode("utf-8", "surrogatepass")


@st.composite
def callbacks(draw, accounts: tuple[tuple[str, str, str, str], ...]) -> Callback:
    """`accounts`: (mode, account id, token, original id) of one account per mode."""
    mode, account_id, token, original_id = draw(st.sampled_from(accounts))
    fields = {"ToUserName": original_id, "FromUserName": "o-fuzz-" + draw(st.sampled_from("abc")),
              "CreateTime": int(time.time()), "MsgType": draw(st.sampled_from(MSG_TYPES)),
              "Content": "帮助", "MsgId": draw(st.integers(1, 10**12))}
    if fields["MsgType"] == "event":
        fields["Event"] = draw(st.sampled_from(EVENTS))
    if draw(st.integers(0, 9)) < 7:  # most messages get hostile fields, some are left as WeChat sends them
        for name in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4)):
            fields[name] = draw(HOSTILE)
        for name in draw(st.lists(st.sampled_from(list(fields)), max_size=2)):
            fields.pop(name, None)
    shape = draw(st.sampled_from(["xml", "xml", "xml", "bytes", "nested"]))
    if shape == "bytes":
        xml = draw(st.binary(max_size=300)).decode("utf-8", "replace")
    elif shape == "nested":
        xml = "<xml>" + "<a>" * draw(st.integers(1, 40)) + "x" + "</a>" * draw(st.integers(0, 40)) + "</xml>"
    else:
        xml = message_xml(fields)
    ts = str(int(time.time())) if draw(st.integers(0, 9)) < 8 else draw(HOSTILE)
    nonce = draw(st.text(alphabet="abcdef0123456789", min_size=8, max_size=12)) if draw(st.integers(0, 9)) < 8 \
        else draw(HOSTILE)
    signature = sign(token, ts, nonce) if draw(st.integers(0, 9)) < 8 else draw(st.text(max_size=45))
    encrypt = mode != "plain" if draw(st.integers(0, 9)) < 8 else draw(st.booleans())
    encrypt_type = None
    if encrypt:
        encrypt_type = "aes" if draw(st.integers(0, 9)) < 8 else draw(st.sampled_from(["AES", "rc4", ""]))
    forged = draw(st.text(max_size=45)) if draw(st.integers(0, 9)) == 0 else None
    return Callback(account_id, {"timestamp": ts, "nonce": nonce, "signature": signature}, xml, encrypt_type,
                    forged)


@dataclass
class Tally:
    statuses: collections.Counter = field(default_factory=collections.Counter)
    server_errors: list = field(default_factory=list)
    stored_from_invalid: list = field(default_factory=list)
    examples: int = 0


def run(seed, examples: int) -> Tally:
    """Fuzz `examples` callbacks against the loaded seed; returns what was seen (the caller asserts)."""
    from chalicelib import queues
    from chalicelib.store import unit_of_work
    from chalicelib.services import chat as gateway

    writes: list[str] = []
    originals = {(unit_of_work, "commit"): unit_of_work.commit,
                 (unit_of_work, "remember_stamp"): unit_of_work.remember_stamp, (queues, "send"): queues.send}

    def recording(name, real):
        def wrapper(*args, **kwargs):
            result = real(*args, **kwargs)
            writes.append(name)  # only what went through: a refused conditional write stored nothing
            return result
        return wrapper

    for (module, name), real in originals.items():
        setattr(module, name, recording(name, real))
    tally = Tally()
    drivers = {}
    for account in seed.records("accounts"):
        drivers.setdefault(account["encryption_mode"], WeChat(None, account["id"], seed))
    accounts = tuple((mode, wx.account["id"], wx.token, wx.account["original_id"]) for mode, wx in
                     sorted(drivers.items()))
    by_id = {wx.account["id"]: wx for wx in drivers.values()}

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(callbacks(accounts))
    def one(cb: Callback) -> None:
        del writes[:]
        tally.examples += 1
        query, body = cb.request(by_id[cb.account_id])
        try:
            answer = gateway.receive(cb.account_id, query, body)
            status = answer.status
        except Exception as exc:  # noqa: BLE001 - the property: nothing escapes as a 500
            status = 500
            tally.server_errors.append(f"{type(exc).__name__}: {exc}"[:200])
        tally.statuses[status] += 1
        if status >= 500:
            tally.server_errors.append(f"{status} for {query} {body[:80]!r}")
        if 400 <= status < 500 and writes:
            tally.stored_from_invalid.append(f"{status} wrote {writes} for {query} {body[:80]!r}")

    try:
        one()
    finally:
        for (module, name), real in originals.items():
            setattr(module, name, real)
    return tally
