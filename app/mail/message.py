"""An e-mail as JXC builds it: Chinese subject and body (UTF-8, encoded words), attachments, inline images,
and a Message-ID fixed by the caller so that sending again after a crash sends the same message."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate

from app.errors import ServiceError


class DeliveryFailed(ServiceError):
    """502: the mail server or robot refused or could not be reached (after the retries)."""

    status = 502


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mimetype: str = "application/octet-stream"


@dataclass(frozen=True)
class InlineImage:
    cid: str  # referred to as <img src="cid:...">
    png: bytes


@dataclass
class Email:
    to: list[str]
    subject: str
    text: str
    html: str = ""
    message_id: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    images: list[InlineImage] = field(default_factory=list)


def message_id(*parts: object, domain: str = "jxc.local") -> str:
    """A Message-ID derived from what the message is (run, recipient): the same parts give the same id."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def build(email: Email, sender: str) -> EmailMessage:
    """The MIME message: text and HTML alternatives, inline PNGs beside the HTML, then the attachments."""
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = email.subject
    msg["From"] = sender
    msg["To"] = ", ".join(email.to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = email.message_id or message_id(email.subject, *email.to)
    msg.set_content(email.text, charset="utf-8")
    if email.html:
        msg.add_alternative(email.html, subtype="html", charset="utf-8")
        html_part = msg.get_payload()[-1]
        for image in email.images:
            html_part.add_related(image.png, "image", "png", cid=f"<{image.cid}>")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.mimetype.partition("/")
        msg.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return msg


def domain_of(address: str) -> str:
    """The domain of a From address (for Message-IDs), 'jxc.local' when there is none."""
    try:
        return Address(addr_spec=address.split("<")[-1].rstrip(">").strip()).domain or "jxc.local"
    except (ValueError, IndexError):
        return "jxc.local"
