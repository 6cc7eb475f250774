"""`GET /api/v1/openapi.json`: the API's OpenAPI 3.0.3 document (public, cacheable for an hour)."""
from chalice import Blueprint, Response

from chalicelib.openapi import document_json

bp = Blueprint(__name__)


@bp.route("/api/v1/openapi.json", methods=["GET"])
def openapi_document():
    return Response(body=document_json(), status_code=200, headers={
        "Content-Type": "application/json; charset=utf-8", "Cache-Control": "public, max-age=3600"})
