"""Staff API about residents as senders (`/api/v1/residents`): block and unblock the sender of a 便民纸条
that showed abuse (a flood, threats). Audited on that request; scope and role decided in
chalicelib/auth/scope.py (`resident.block`)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import clock, log
from chalicelib.auth import current_principal, json_errors, json_response, read_json, require, staff_authorizer
from chalicelib.auth.errors import BadRequest
from chalicelib.schema import Obj, Text

bp = Blueprint(__name__)
LOG = log.get_logger("residents")
SENDER_BLOCK = Obj({"number": Text(32, pattern=r"[A-Z]{2,3}-\d{8}-\d{4,6}", what="纸条编号，如 XG-20261127-0042"),
                    "reason": Text(200, label="原因")})


def _change(blocked: bool):
    from chalicelib.domain import request_desk
    from chalicelib.store import sender_blocks

    principal = current_principal(bp.current_request)
    body = SENDER_BLOCK.check(read_json(bp.current_request))
    request = request_desk.load(principal, body["number"])  # 404 when missing or out of scope
    require(principal, "resident.block", request)
    if not request.openid:
        raise BadRequest("这张纸条不是居民在微信或网页上提交的，没有可屏蔽的发送者", code="no_sender")
    sender_blocks.set_blocked(request, blocked, principal, body["reason"], clock.now())
    log.event(LOG, "sender blocked" if blocked else "sender unblocked", number=request.number,
              by=principal.username)
    return json_response({"number": request.number, "blocked": blocked})


@bp.route("/api/v1/residents/block", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def block_sender():
    """{number, reason}: the sender of that request may file no more 便民纸条 until unblocked."""
    return _change(True)


@bp.route("/api/v1/residents/unblock", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def unblock_sender():
    """{number, reason}: lift the block of that request's sender."""
    return _change(False)
