"""The site's root and icon: `GET /` leads a new user to the console; `/favicon.ico` is an icon, not a 403."""
from chalice.test import Client

from app import app


def test_the_root_redirects_to_the_console():
    with Client(app, stage_name="test") as client:
        answer = client.http.get("/")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/console"


def test_a_favicon_is_served():
    with Client(app, stage_name="test") as client:
        answer = client.http.get("/favicon.ico")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "image/svg+xml"
    assert answer.body.startswith(b"<svg") and b"</svg>" in answer.body
    assert "max-age" in answer.headers["Cache-Control"]
