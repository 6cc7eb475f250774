"""Staff binding their WeChat in chat (绑定微信): `绑定 <code>` sent to the community's account or 微市南 binds
the sender to the console account that asked for the code (`domain.staff_alerts`). A system rule: it is tried
before every account's own rules, so no rule set can lose it.
"""
from __future__ import annotations

import hashlib

from chalicelib.domain.effects import BindStaff, Decision
from chalicelib.domain.messages import Reply
from chalicelib.domain.router import Context, router
from chalicelib.domain.staff_alerts import normal_code

INVALID = "绑定码无效或已过期，请在社区工作台“我的微信提醒”重新获取。"


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


@router.action("bind_staff")
def bind_staff(ctx: Context) -> Decision:
    code = normal_code(ctx.params.get("code", ""))
    owner = ctx.ports.staff_for_code(code_hash(code), ctx.now) if code else None
    if owner is None or not ctx.message.openid:
        return Decision(Reply(text=INVALID))
    username, label = owner
    return Decision(Reply(text=f"已绑定社区工作台账号：{label}。今后的工作提醒会发到这里；"
                               "在工作台“我的微信提醒”可以选择提醒内容或解除绑定。"),
                    (BindStaff(code_hash(code), username, ctx.account.account_id, ctx.message.openid),))
