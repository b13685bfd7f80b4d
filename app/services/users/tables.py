"""Signed-in sessions and login rate-limit counters."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Integer, String, Table

from app.meta.tables import core_metadata

# One row per live sign-in (a browser session or an API token): a session or token whose row is gone is
# signed out. Logout deletes its row; a password change or deactivation deletes every row of the user.
login_session = Table(
    "jxc_login_session",
    core_metadata,
    Column("sid", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("kind", String(8), nullable=False),  # web | api
    Column("created_at", DateTime, nullable=False),
)

# Flask-Limiter's counters when no Redis is configured (login attempts per user and address, per address),
# so every worker process counts the same attempts.
rate_limit = Table(
    "jxc_rate_limit",
    core_metadata,
    Column("key", String(255), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),
)
