"""Staff API about residents as senders (`/api/v1/residents`): block and unblock the sender of a 便民纸条
that showed abuse (a flood, threats). Audited on that request; scope and role decided in
chalicelib/auth/scope.py (`resident.block`)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import log
from chalicelib.auth import current_principal, staff_authorizer
from chalicelib.schema import Obj, Text
from chalicelib.services import senders
from chalicelib.web.http import json_errors, json_response, read_json

bp = Blueprint(__name__)
LOG = log.get_logger("residents")
SENDER_BLOCK = Obj({"number": Text(32, pattern=r"[A-Z]{2,3}-\d{8}-\d{4,6}", what="纸条编号，如 XG-20261127-0042"),
                    "reason": Text(200, label="原因")})


def _change(blocked: bool):
    principal = current_principal(bp.current_request)
    body = SENDER_BLOCK.check(read_json(bp.current_request))
    answer = senders.change_block(principal, body["number"], body["reason"], blocked)
    log.event(LOG, "sender blocked" if blocked else "sender unblocked", number=answer["number"],
              by=principal.username)
    return json_response(answer)


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
