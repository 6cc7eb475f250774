"""Blocking a sender (屏蔽发送者): staff stop the 便民纸条 of a resident who showed abuse (a flood, threats), and
lift it again; audited on the request that showed it. Every filing checks the block in its own transaction
(`domain.limits`)."""
from __future__ import annotations

from typing import Any

from chalicelib import bootstrap
from chalicelib.auth.scope import require
from chalicelib.domain.effects import SenderBlock, Transition
from chalicelib.domain.messages import NO_REPLY
from chalicelib.domain.requests import plan_sender_block
from chalicelib.services.requests import actor_of, load


def change_block(principal, number: str, reason: str, blocked: bool) -> dict[str, Any]:
    request = load(principal, number)  # 404 when missing or out of scope
    require(principal, "resident.block", request)
    now = bootstrap.now()
    plan = plan_sender_block(bootstrap.requests().as_view(request), actor_of(principal), now, blocked, reason)
    bootstrap.unit_of_work().commit(None, NO_REPLY, (SenderBlock(request.account_id, request.openid, blocked),
                                                     Transition(plan)), now)
    return {"number": request.number, "blocked": blocked}
