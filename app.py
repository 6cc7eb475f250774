"""Wiring only: the Chalice app, its blueprints, schedules and queue handlers."""
from chalice import Chalice

from chalicelib import log
from chalicelib.config import APP_NAME, settings
from chalicelib.jobs import JOBS, daily_stats as daily_stats_job
from chalicelib.jobs.sqs import handle_batch
from chalicelib.queues import QUEUES, queue_name
from chalicelib.routes.health import bp as health_routes

log.configure(settings().log_level)
app = Chalice(app_name=APP_NAME, configure_logs=False)

app.register_middleware(log.request_context_middleware, "all")
app.register_blueprint(health_routes)


# ---- schedules (EventBridge cron is UTC) ----------------------------------------------------------

@app.schedule(JOBS["daily-stats"].schedule, name="daily_stats")
def daily_stats(event):
    return daily_stats_job.fan_out(day=(event.detail or {}).get("day"))


# ---- queue handlers (partial batch failure) -------------------------------------------------------

@app.on_sqs_message(queue=queue_name("stats"), batch_size=QUEUES["stats"].batch_size, name="stats_worker")
def stats_worker(event):
    return handle_batch("stats", event, daily_stats_job.collect, job="daily-stats")
