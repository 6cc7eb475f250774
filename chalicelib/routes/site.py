"""The site's root (站点入口): `GET /` leads to the staff console, and `/favicon.ico` answers with the
platform's icon instead of API Gateway's 403 (every browser page asks for it)."""
from chalice import Blueprint, Response

bp = Blueprint(__name__)

# A simple mark (a speech bubble in WeChat green), as SVG text: it needs no binary media type.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#07c160"/>'
    '<path d="M8 9h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-9l-5 4v-4H8a2 2 0 0 1-2-2v-9a2 2 0 0 1 2-2z" fill="#fff"/>'
    '</svg>'
)


@bp.route("/", methods=["GET"])
def root():
    return Response(body="", status_code=302, headers={"Location": "/console", "Cache-Control": "no-store"})


@bp.route("/favicon.ico", methods=["GET"])
def favicon():
    return Response(body=FAVICON_SVG, status_code=200,
                    headers={"Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"})
