"""Plain JSON calls to WeChat's API over urllib3 (already loaded by botocore), for the few calls made
without wechatpy: the stable access token and the H5 OAuth code exchange. Secrets travel in the body
or query as WeChat documents; URLs are never logged."""
from __future__ import annotations

import json
from typing import Any

import urllib3

_POOL = urllib3.PoolManager(num_pools=4, retries=False)


class WeChatTransportError(RuntimeError):
    """No usable answer from WeChat (connection, time-out, not JSON): the call may or may not have taken effect."""


def call_json(method: str, url: str, *, timeout: float, body: dict[str, Any] | None = None,
              params: dict[str, Any] | None = None) -> Any:
    """The JSON WeChat answered; `WeChatTransportError` when there is none."""
    try:
        answer = _POOL.request(method, url, fields=params if params else None,
                               body=json.dumps(body, ensure_ascii=False).encode() if body is not None else None,
                               headers={"Content-Type": "application/json"} if body is not None else None,
                               timeout=urllib3.Timeout(total=timeout))
        return json.loads(answer.data.decode("utf-8"))
    except (urllib3.exceptions.HTTPError, ValueError, UnicodeDecodeError) as exc:
        raise WeChatTransportError(type(exc).__name__) from None
