"""DynamoDB requests per WeChat callback, counted with botocore's event hooks (warm container).

Goals: a keyword reply makes at most 1 request; a callback that files a 便民纸条 at most 2.

    python -m bench.callback_requests
"""
from __future__ import annotations

import logging
import os
import sys

from bench.table import Figure, render

os.environ.setdefault("AWS_DEFAULT_REGION", "cn-north-1")
for _var in ("AWS_ENDPOINT_URL",):
    os.environ.pop(_var, None)
os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "STAGE": "bench",
                   "ARGON2_PROFILE": "CHEAPEST", "SSM_PREFIX": "/wechat-alliance/bench"})

LOG = logging.getLogger("bench.callback_requests")
CASES = [
    ("keyword reply (帮助)", "帮助", 1),
    ("alliance search (找香港)", "找香港", 1),
    ("matrix search by a word (法官)", "法官", 1),
    ("matrix search by platform (微博)", "微博", 1),
    ("files a 便民纸条", "楼道灯坏了，能否派人来修？", 2),
    ("my requests (我的纸条)", "我的纸条", 2),
]


def run(argv: list[str] | None = None) -> list[Figure]:
    from chalice.test import Client
    from moto import mock_aws

    from bench.counting import count_dynamodb

    operations: list[str] = []
    count_dynamodb(operations)
    with mock_aws():
        from chalicelib.queues import create_queues
        from chalicelib.store.registry import create_tables
        from local import seed as seed_module
        from tests.wechat_driver import WeChat

        create_tables()
        create_queues()
        seed = seed_module.read()
        seed_module.load(seed)
        from app import app

        figures = []
        with Client(app, stage_name="bench") as client:
            wx = WeChat(client.http, "xianggang-huayuan", seed)
            operations.clear()
            wx.text("o-bench-warmup", "帮助")
            figures.append(Figure("cold container, first callback", f"{len(operations)} request(s)"))
            LOG.info("cold container, first callback: %s", operations)
            for _title, text, _goal in CASES:  # fill the per-container caches (directory, rules)
                wx.text("o-bench-warmup", text)
            for title, text, goal in CASES:
                operations.clear()
                answer = wx.text("o-bench", text)
                assert answer.status == 200, answer
                LOG.info("%s: %s", title, operations)
                figures.append(Figure(f"warm: {title}", f"{len(operations)} request(s)", f"<= {goal}",
                                      len(operations) <= goal))
    return figures


def main(argv: list[str] | None = None) -> int:
    print(render([("DynamoDB requests per callback", run(argv))]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
