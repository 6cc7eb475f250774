"""`GET /health`: liveness for load balancers and `make run`; calls neither WeChat nor DynamoDB.

On a deployed stage it fails (503) while the stage must not serve: a demo or weak signing key
(chalicelib/auth/deployment.py)."""
from chalice import Blueprint, Response

from chalicelib.auth import deployment
from chalicelib.config import settings

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
def health():
    s = settings()
    problems = deployment.problems()
    if problems:
        return Response(body={"status": "refused", "stage": s.stage, "version": s.version,
                              "problems": list(problems)}, status_code=503)
    return {"status": "ok", "stage": s.stage, "version": s.version}
