"""Logs are JSON lines with request id, account id and job; no secrets, no residents' personal data."""
from __future__ import annotations

import json
import logging

from chalice.test import Client

from app import app
from chalicelib import log
from chalicelib.domain import masking
from local.jobs import lambda_sqs_event


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_a_queue_handler_logs_request_account_and_job(seed, wechat, capsys):
    capsys.readouterr()
    event = lambda_sqs_event([{"MessageId": "m-1", "ReceiptHandle": "r",
                               "Body": json.dumps({"account_id": "xianggang-huayuan", "day": "2026-11-26"})}],
                             "arn:aws-cn:sqs:cn-north-1:123456789012:q", "cn-north-1")
    with Client(app, stage_name="test") as client:
        client.lambda_.invoke("stats_worker", event)
    stored = [e for e in lines(capsys) if e["message"] == "daily stats stored"]
    assert len(stored) == 1
    entry = stored[0]
    assert entry["account_id"] == "xianggang-huayuan" and entry["job"] == "daily-stats"
    assert entry["request_id"] and entry["message_id"] == "m-1"
    assert entry["level"] == "INFO" and entry["time"].endswith("+00:00")


def test_secret_fields_are_redacted_and_personal_data_masked(capsys):
    logger = log.configure()
    with log.bind(account_id="a", token="abc"):
        log.event(logger, "x", logging.WARNING, app_secret="s3cret", password="p", phone=masking.mask_phone("13812345678"),
                  address=masking.mask_address("青岛市市南区香港中路10号3单元"))
    entry = lines(capsys)[-1]
    assert entry["token"] == entry["app_secret"] == entry["password"] == "***"
    assert entry["phone"] == "138****5678"
    assert "10号" not in entry["address"] and entry["address"].startswith("青岛市")
    assert "s3cret" not in json.dumps(entry)
