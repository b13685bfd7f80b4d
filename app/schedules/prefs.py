"""Each user's alert preferences: which kinds of alert reach them, and how the digest goes besides the bell
(nothing more, an e-mail, or a 企业微信 / 钉钉 robot). Read by the alert run, changed on /notifications/settings."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.mail.robots import ROBOT_TYPES
from app.schedules.tables import alert_pref

ALERT_KINDS = ("low_stock", "overstock", "expiry", "payable_due", "budget", "overdue", "approval")
CHANNELS = ("none", "email", *ROBOT_TYPES)


@dataclass
class AlertPref:
    """What one user chose (the default: every alert, the bell only)."""

    kinds: list[str] = field(default_factory=lambda: list(ALERT_KINDS))
    channel: str = "none"
    robot_url: str = ""
    robot_secret: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"kinds": self.kinds, "channel": self.channel, "robot_url": self.robot_url}


def get_pref(session: Session, user_id: int) -> AlertPref:
    row = session.execute(select(alert_pref).where(alert_pref.c.user_id == user_id)).first()
    if row is None:
        return AlertPref()
    kinds = json.loads(row.kinds) if row.kinds else list(ALERT_KINDS)
    return AlertPref([k for k in kinds if k in ALERT_KINDS], row.channel, row.robot_url or "", row.robot_secret or "")


def save_pref(session: Session, user_id: int, data: dict[str, Any]) -> AlertPref:
    """Check and store the user's own preference (the caller commits); ValidationFailed names what is wrong."""
    kinds = [str(k) for k in data.get("kinds") or []]
    channel = str(data.get("channel") or "none")
    url = str(data.get("robot_url") or "").strip()
    secret = str(data.get("robot_secret") or "").strip()
    errors = [CellError("kinds", t("alerts.bad_kind", kind=k)) for k in kinds if k not in ALERT_KINDS]
    if channel not in CHANNELS:
        errors.append(CellError("channel", t("alerts.bad_channel")))
    if channel in ROBOT_TYPES and not url.startswith(("http://", "https://")):
        errors.append(CellError("robot_url", t("mail.robot_bad_url")))
    if errors:
        raise ValidationFailed(errors, summary=errors[0].message)
    if secret == "" and channel == "dingtalk":
        secret = get_pref(session, user_id).robot_secret  # the page never shows it back: blank keeps it
    session.execute(delete(alert_pref).where(alert_pref.c.user_id == user_id))
    session.execute(
        insert(alert_pref).values(
            user_id=user_id,
            kinds=json.dumps(kinds),
            channel=channel,
            robot_url=url if channel in ROBOT_TYPES else None,
            robot_secret=secret if channel == "dingtalk" else None,
            updated_at=utcnow(),
        )
    )
    return get_pref(session, user_id)
