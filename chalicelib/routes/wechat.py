"""`/wechat/{account_id}`: where WeChat's servers call each account (GET verifies the URL, POST delivers)."""
from chalice import Blueprint, Response

from chalicelib import log
from chalicelib.services import chat

bp = Blueprint(__name__)
XML_TYPES = ["text/xml", "application/xml"]


def _answer(answer: chat.Answer) -> Response:
    return Response(body=answer.body, status_code=answer.status, headers={"Content-Type": answer.content_type})


@bp.route("/wechat/{account_id}", methods=["GET"])
def verify(account_id):
    with log.bind(account_id=account_id):
        return _answer(chat.verify(account_id, bp.current_request.query_params or {}))


@bp.route("/wechat/{account_id}", methods=["POST"], content_types=XML_TYPES)
def receive(account_id):
    request = bp.current_request
    with log.bind(account_id=account_id):
        return _answer(chat.receive(account_id, request.query_params or {}, request.raw_body or b""))
