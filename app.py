"""Wiring only: the Chalice app, its blueprints, schedules and queue handlers."""
from chalice import Chalice

from chalicelib import log
from chalicelib.config import APP_NAME, settings
from chalicelib.routes.health import bp as health_routes

log.configure(settings().log_level)
app = Chalice(app_name=APP_NAME, configure_logs=False)

app.register_blueprint(health_routes)
