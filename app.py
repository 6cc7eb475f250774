"""Wiring only: the Chalice app, its blueprints, schedules and queue handlers."""
from chalice import Chalice

from chalicelib import libraries, log  # noqa: F401 - libraries first: loaded, then frozen (chalicelib/libraries.py)
from chalicelib.auth import deployment
from chalicelib.auth.authorizer import bp as staff_authorizer_bp
from chalicelib.bootstrap import warm_up
from chalicelib.config import APP_NAME, settings
from chalicelib.domain.exports import XLSX_TYPE
from chalicelib.jobs import JOBS, activity_reminders, push_menus
from chalicelib.jobs import daily_post as daily_post_job, post_reminder as post_reminder_job
from chalicelib.jobs.sqs import handle_batch
from chalicelib.queues import QUEUES, queue_name, send_shard
from chalicelib.routes.alliance import bp as alliance_routes
from chalicelib.routes.alliance_h5 import bp as alliance_h5_routes
from chalicelib.routes.auth import bp as auth_routes
from chalicelib.routes.bulletins import bp as bulletin_routes
from chalicelib.routes.canteens import bp as canteen_routes
from chalicelib.routes.console import bp as console_routes
from chalicelib.routes.h5 import bp as h5_routes
from chalicelib.routes.health import bp as health_routes
from chalicelib.routes.open311 import bp as open311_routes
from chalicelib.routes.openapi import bp as openapi_routes
from chalicelib.routes.posts import bp as post_routes
from chalicelib.routes.requests import bp as request_routes
from chalicelib.routes.residents import bp as resident_routes
from chalicelib.routes.site import bp as site_routes
from chalicelib.routes.staff import bp as staff_routes
from chalicelib.routes.wechat import bp as wechat_routes
from chalicelib.services import bulletin, chat, notices, sla, staff_alerts, stats

log.configure(settings().log_level)
app = Chalice(app_name=APP_NAME, configure_logs=False)
app.api.binary_types.append(XLSX_TYPE)  # exported spreadsheets (chalicelib/domain/exports.py)

app.register_middleware(log.request_context_middleware, "all")
app.register_middleware(deployment.refuse_unsafe_stage, "http")  # no demo or weak keys on a deployed stage
app.register_blueprint(staff_authorizer_bp)  # the staff authorizer (chalicelib/auth), used by the API blueprints
app.register_blueprint(health_routes)
app.register_blueprint(site_routes)  # GET / -> /console, /favicon.ico
app.register_blueprint(wechat_routes)
app.register_blueprint(auth_routes)
app.register_blueprint(request_routes)
app.register_blueprint(resident_routes)
app.register_blueprint(canteen_routes)
app.register_blueprint(h5_routes)
app.register_blueprint(open311_routes)
app.register_blueprint(openapi_routes)
app.register_blueprint(console_routes)
app.register_blueprint(post_routes)
app.register_blueprint(alliance_routes)
app.register_blueprint(alliance_h5_routes)
app.register_blueprint(staff_routes)  # people, teams, one's WeChat alerts
app.register_blueprint(bulletin_routes)


# ---- schedules (EventBridge cron is UTC) ----------------------------------------------------------

@app.schedule(JOBS["daily-stats"].schedule, name="daily_stats")
def daily_stats(event):
    return stats.fan_out(day=(event.detail or {}).get("day"))


@app.schedule(JOBS["sla-sweep"].schedule, name="sla_sweep")
def sla_sweep_job(event):
    return sla.sweep()


@app.schedule(JOBS["outbox-redrive"].schedule, name="outbox_redrive")
def outbox_redrive(event):
    return notices.redrive()


@app.schedule(JOBS["daily-post"].schedule, name="daily_post")
def daily_post(event):
    return daily_post_job.fan_out(day=(event.detail or {}).get("day"))


@app.schedule(JOBS["post-reminder"].schedule, name="post_reminder")
def post_reminder(event):
    return post_reminder_job.remind(day=(event.detail or {}).get("day"))


@app.schedule(JOBS["activity-reminders"].schedule, name="activity_reminders")
def activity_reminders_job(event):
    return activity_reminders.run()


@app.schedule(JOBS["push-menus"].schedule, name="push_menus")
def push_menus_job(event):
    return push_menus.run()


@app.schedule(JOBS["staff-alerts"].schedule, name="staff_alerts")
def staff_alerts_job(event):
    return staff_alerts.digest()
@app.schedule(JOBS["monthly-bulletin"].schedule, name="monthly_bulletin")
def monthly_bulletin_job(event):
    detail = event.detail or {}
    return bulletin.run_job(month=detail.get("month"), issue=bool(detail.get("issue")))


# ---- queue handlers (partial batch failure) -------------------------------------------------------

@app.on_sqs_message(queue=queue_name("stats"), batch_size=QUEUES["stats"].batch_size, name="stats_worker")
def stats_worker(event):
    return handle_batch("stats", event, stats.collect, job="daily-stats")


@app.on_sqs_message(queue=queue_name("outbox"), batch_size=QUEUES["outbox"].batch_size, name="outbox_worker")
def outbox_worker(event):
    return handle_batch("outbox", event, notices.deliver, job="outbox", give_up=notices.give_up)


@app.on_sqs_message(queue=queue_name("inbound"), batch_size=QUEUES["inbound"].batch_size, name="inbound_worker")
def inbound_worker(event):
    return handle_batch("inbound", event, chat.replay, job="inbound")


@app.on_sqs_message(queue=queue_name("posts"), batch_size=QUEUES["posts"].batch_size, name="post_worker")
def post_worker(event):
    return handle_batch("posts", event, daily_post_job.send, job="daily-post", give_up=daily_post_job.give_up)


@app.on_sqs_message(queue=queue_name("fanout"), batch_size=QUEUES["fanout"].batch_size, name="fanout_worker")
def fanout_worker(event):
    return handle_batch("fanout", event, send_shard, job="fan-out")


libraries.loaded()
warm_up()  # Lambda's init phase only (AWS_LAMBDA_FUNCTION_NAME): the AWS clients, before the first request
