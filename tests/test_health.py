import json

from chalice.test import Client

from app import app


def test_health_answers_without_calling_anything():
    with Client(app, stage_name="test") as client:
        response = client.http.get("/health")
    assert response.status_code == 200
    body = json.loads(response.body)
    assert body == {"status": "ok", "stage": "test", "version": "test"}
