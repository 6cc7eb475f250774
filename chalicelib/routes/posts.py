"""Staff API for publishing (信息发布) under `/api/v1/posts` and `/api/v1/publishing`: propose, view, edit,
the workflow's steps, history, the calendar, the review desk, the check policy, article images.
Each route: parse, authorise (the staff authorizer, then scope inside the service), one use case, JSON."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.auth import current_principal, staff_authorizer
from chalicelib.services import publishing
from chalicelib.web.http import json_errors, json_response, read_json

bp = Blueprint(__name__)


def _q() -> dict[str, str]:
    return bp.current_request.query_params or {}


def _me():
    return current_principal(bp.current_request)


@bp.route("/api/v1/posts", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def propose_post():
    return json_response(publishing.propose(_me(), read_json(bp.current_request)), status=201)


@bp.route("/api/v1/posts/{post_id}", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def view_post(post_id):
    return json_response(publishing.view(_me(), post_id))


@bp.route("/api/v1/posts/{post_id}", methods=["PUT"], authorizer=staff_authorizer)
@json_errors
def edit_post(post_id):
    return json_response(publishing.edit(_me(), post_id, read_json(bp.current_request)))


@bp.route("/api/v1/posts/{post_id}/steps", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def post_step(post_id):
    return json_response(publishing.act(_me(), post_id, read_json(bp.current_request)))


@bp.route("/api/v1/posts/{post_id}/history", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def post_history(post_id):
    return json_response(publishing.history(_me(), post_id))


@bp.route("/api/v1/communities/{community_id}/post-calendar", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def post_calendar(community_id):
    return json_response(publishing.calendar(_me(), community_id, _q().get("month")))


@bp.route("/api/v1/communities/{community_id}/post-time", methods=["PUT"], authorizer=staff_authorizer)
@json_errors
def post_time(community_id):
    return json_response(publishing.set_post_time(_me(), community_id, read_json(bp.current_request)))


@bp.route("/api/v1/publishing/queue", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def review_queue():
    return json_response(publishing.review_queue(_me()))


@bp.route("/api/v1/publishing/policy", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def get_policy():
    return json_response(publishing.get_policy(_me()))


@bp.route("/api/v1/publishing/policy", methods=["PUT"], authorizer=staff_authorizer)
@json_errors
def save_policy():
    return json_response(publishing.save_policy(_me(), read_json(bp.current_request)))


@bp.route("/api/v1/publishing/check", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def check_articles():
    return json_response(publishing.check(_me(), read_json(bp.current_request)))


@bp.route("/api/v1/publishing/images", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def upload_image():
    return json_response(publishing.upload_image(_me(), read_json(bp.current_request)), status=201)
