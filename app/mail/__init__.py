"""Outgoing messages: e-mail over SMTP (`app.mail.smtp`), 企业微信 and 钉钉 group robots (`app.mail.robots`),
charts as PNG for mail bodies (`app.mail.chart`). Callers build an `Email` or a `RobotMessage` and send it;
a refusal raises `DeliveryFailed` with a sentence people can act on."""

from __future__ import annotations

from app.mail.message import Attachment, DeliveryFailed, Email, InlineImage, message_id
from app.mail.robots import RobotMessage, send_robot
from app.mail.smtp import SmtpSettings, send_email

__all__ = [
    "Attachment",
    "DeliveryFailed",
    "Email",
    "InlineImage",
    "RobotMessage",
    "SmtpSettings",
    "message_id",
    "send_email",
    "send_robot",
]
