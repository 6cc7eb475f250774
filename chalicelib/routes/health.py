"""`GET /health`: liveness for load balancers and `make run`; calls neither WeChat nor DynamoDB."""
from chalice import Blueprint

from chalicelib.config import settings

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
def health():
    s = settings()
    return {"status": "ok", "stage": s.stage, "version": s.version}
