"""企业微信 and 钉钉 group robots: a POST of their JSON markdown message to the robot's webhook URL.

企业微信: `{"msgtype": "markdown", "markdown": {"content": ...}}`; 钉钉: `{"msgtype": "markdown",
"markdown": {"title": ..., "text": ...}}`, signed when the robot has a secret (timestamp and
HMAC-SHA256 in the URL). Both answer `{"errcode": 0, "errmsg": "ok"}` on success."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from app.i18n import t
from app.mail.message import DeliveryFailed

ROBOT_TYPES = ("wecom", "dingtalk")


@dataclass(frozen=True)
class RobotMessage:
    title: str
    markdown: str  # the body in markdown; the link back is appended by the caller
    link: str = ""


def payload(kind: str, message: RobotMessage) -> dict[str, Any]:
    """The JSON body the robot of `kind` expects."""
    text = message.markdown + (f"\n\n[{t('mail.open_in_jxc')}]({message.link})" if message.link else "")
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": f"**{message.title}**\n{text}"}}
    if kind == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": message.title, "text": f"### {message.title}\n{text}"}}
    raise DeliveryFailed(t("mail.robot_unknown", kind=kind))


def signed_url(url: str, secret: str, now_ms: int | None = None) -> str:
    """钉钉's signed webhook: &timestamp=...&sign=base64(hmac_sha256(secret, "timestamp\\nsecret"))."""
    stamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={stamp}&sign={sign}"


def send_robot(kind: str, url: str, message: RobotMessage, *, secret: str = "", timeout: float = 10) -> None:
    """POST the message; DeliveryFailed with the robot's own errmsg when it refuses."""
    if not url.startswith(("http://", "https://")):
        raise DeliveryFailed(t("mail.robot_bad_url"))
    body = json.dumps(payload(kind, message), ensure_ascii=False).encode()
    target = signed_url(url, secret) if kind == "dingtalk" and secret else url
    request = urllib.request.Request(target, data=body, headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - the admin's robot URL
            reply = json.loads(answer.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DeliveryFailed(t("mail.robot_unreachable", error=str(exc))) from exc
    if reply.get("errcode", 0) != 0:
        raise DeliveryFailed(t("mail.robot_refused", code=reply.get("errcode"), reply=reply.get("errmsg", "")))
