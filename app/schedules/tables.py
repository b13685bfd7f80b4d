"""Schedules, their runs (one row per schedule and period: the claim), deliveries, notifications, dunning."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, Text, UniqueConstraint

from app.meta.tables import core_metadata

# What runs when, to whom. `source` is "yaml" for schedules declared in metadata/schedules.yaml (synced at
# start-up by name) or "admin" for those made on /admin/schedules/. `owner`: the user name of a non-admin who
# scheduled a report to themselves (they see, change and delete only theirs); NULL for an admin's or the YAML's.
schedule = Table(
    "jxc_schedule",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("title", String(255), nullable=False),
    Column("kind", String(32), nullable=False),  # report | dunning | digest | backup
    Column("params", Text, nullable=False),  # JSON: the report's name and parameters
    Column("cron", String(128), nullable=False),  # in the business's time zone
    Column("recipients", Text, nullable=False),  # JSON list of user names
    Column("addresses", Text, nullable=False),  # JSON list of outside e-mail addresses (external only)
    Column("robots", Text, nullable=False),  # JSON list of {"type": "wecom"|"dingtalk", "url": ...}
    Column("external", Boolean, nullable=False),
    Column("run_as", String(128)),  # the user an external schedule runs as
    Column("skip_empty", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("source", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("owner", String(128)),
    Index("ix_jxc_schedule_owner", "owner"),
)

# One row per (schedule, period): inserting it is the claim, so two cron processes never run a period
# twice. A run started by hand has its own period (the moment it was asked) and manual = true.
schedule_run = Table(
    "jxc_schedule_run",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("schedule_id", Integer, nullable=False),
    Column("period", DateTime, nullable=False),  # UTC, the cron's fire time
    Column("manual", Boolean, nullable=False),
    Column(
        "status", String(16), nullable=False
    ),  # queued | done | skipped | no_address | not_allowed | out_of_scope | failed
    Column("job_id", Integer),
    Column("message", Text),
    Column("created_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("params", Text),  # JSON: this run's parameters over its schedule's (a 催款 by hand: one customer)
    UniqueConstraint("schedule_id", "period", name="uq_jxc_schedule_run_period"),
)

# One row per message to one recipient on one channel. The Message-ID is fixed before sending, so a
# retry after a crash sends the same message again (at least once) and a row left "sending" shows it.
delivery = Table(
    "jxc_delivery",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer),
    Column("channel", String(16), nullable=False),  # email | wecom | dingtalk | bell
    Column("recipient", String(255), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("message_id", String(255)),
    Column("status", String(16), nullable=False),  # sending | sent | failed | skipped
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("partner_id", Integer),  # dunning: the customer reminded
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    Index("ix_jxc_delivery_run", "run_id"),
    Index("ix_jxc_delivery_partner", "partner_id"),
)

# The bell: one row per message to one user.
notification = Table(
    "jxc_notification",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("link", String(512)),
    Column("dedupe", String(255)),  # alerts: the same alert is not rung twice while unread
    Column("created_at", DateTime, nullable=False),
    Column("read_at", DateTime),
    # the record it is about (its link is the record's page, /m/<model>/<id>), and when that record was deleted:
    # the notification stays, marked 记录已删除, and its link is no longer followed (the id may be another's now)
    Column("model", String(64)),
    Column("record_id", Integer),
    Column("record_deleted_at", DateTime),
    Index("ix_jxc_notification_user", "user_id", "read_at"),
    Index("ix_jxc_notification_record", "model", "record_id"),
)

# Dunning: which cadence step of which open item was reminded; one step is sent once.
dunning_step = Table(
    "jxc_dunning_step",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("partner_id", Integer, nullable=False),
    Column("model", String(64), nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("step", String(16), nullable=False),  # before | due | plus7 | plus30
    Column("delivery_id", Integer),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("model", "record_id", "step", name="uq_jxc_dunning_step"),
)

# Each user's choice of alerts: which kinds reach them (JSON list; NULL = all) and how the digest goes
# besides the bell (none | email | wecom | dingtalk, a robot's webhook URL and 钉钉 secret).
alert_pref = Table(
    "jxc_alert_pref",
    core_metadata,
    Column("user_id", Integer, primary_key=True),
    Column("kinds", Text),
    Column("channel", String(16), nullable=False),
    Column("robot_url", String(512)),
    Column("robot_secret", String(255)),
    Column("updated_at", DateTime, nullable=False),
)
