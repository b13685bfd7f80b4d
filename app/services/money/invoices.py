"""发票: the invoice side of deliveries and receipts, as Chinese businesses track it.

A delivery is 未开票 until its output invoice is issued (开票: number and date recorded on it, many
deliveries at once when one invoice covers them); a receipt is 待收票 until the supplier's input invoice
is received (收票). Only submitted documents are invoiced; recording is its own action (`invoice`, a
right of roles.yaml), audited per document, and leaves the posted figures alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import business_today, utcnow
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.meta.status import Status
from app.services.access.rights import Access
from app.services.records.audit import audit_change

# model -> (status before, status after): what is waiting and what recording the invoice makes it
INVOICED = {"sales_delivery": ("uninvoiced", "invoiced"), "purchase_receipt": ("awaiting", "received")}
FIELDS = ("invoice_status", "invoice_number", "invoice_date")
NUMBER_MAX = 64


def waiting_filter(access: Access, model_key: str) -> Any:
    """The condition for this model's submitted documents still waiting for their invoice."""
    cls = access.registry.cls(model_key)
    return (cls.status == Status.SUBMITTED) & (cls.invoice_status == INVOICED[model_key][0])


def record_invoice(
    session: Session, access: Access, model_key: str, ids: list[int], number: Any, date: Any = None
) -> list[Any]:
    """Record one invoice (number, date: the business's day when blank) on these submitted documents the
    user may read, all or none: a document not submitted, out of reach or already invoiced is refused by
    number. Returns the documents."""
    errors = _check_request(access, model_key, ids)
    number = number.strip() if isinstance(number, str) else ""
    if not number or len(number) > NUMBER_MAX:
        errors.append(CellError("invoice_number", t("invoice_number_needed", max=NUMBER_MAX)))
    day = _date(date, errors)
    if errors:
        raise ValidationFailed(errors)
    done = INVOICED[model_key][1]
    docs = _locked(session, access, model_key, ids, refuse_when=done, refusal="invoice_already")
    for doc in docs:
        _set(session, access, model_key, doc, "invoice", (done, number, day))
    return docs


def withdraw_invoice(session: Session, access: Access, model_key: str, ids: list[int]) -> list[Any]:
    """撤销开票 / 撤销收票: these documents wait for their invoice again (a number recorded by mistake, an
    invoice voided), all or none; a document not invoiced is refused by number. Audited like recording."""
    errors = _check_request(access, model_key, ids)
    if errors:
        raise ValidationFailed(errors)
    waiting = INVOICED[model_key][0]
    docs = _locked(session, access, model_key, ids, refuse_when=waiting, refusal="invoice_not_recorded")
    for doc in docs:
        _set(session, access, model_key, doc, "invoice_withdraw", (waiting, None, None))
    return docs


def refuse_cancel_when_invoiced(model_key: str, doc: Any) -> None:
    """A delivery already invoiced (a receipt whose input invoice is in) is not cancelled (反审核) until the
    invoice is withdrawn: the tax invoice would stand for goods no longer delivered."""
    if model_key in INVOICED and doc.invoice_status == INVOICED[model_key][1]:
        raise ValidationFailed([CellError("_record", t("cancel_invoiced", number=doc.invoice_number or ""))])


def takes_invoices(model_key: str) -> bool:
    """Invoices are recorded on this model's documents (开票 on deliveries, 收票 on receipts)."""
    return model_key in INVOICED


def _check_request(access: Access, model_key: str, ids: Any) -> list[CellError]:
    if not takes_invoices(model_key):
        raise ValidationFailed([CellError("_record", t("invoice_not_here"))])
    access.require(model_key, "invoice")
    if not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        return [CellError("ids", t("invoice_pick_documents"))]
    return []


def _locked(
    session: Session, access: Access, model_key: str, ids: list[int], refuse_when: str, refusal: str
) -> list[Any]:
    """The submitted documents `ids` the user may read, locked, by id; all refused by number when one is
    missing, not submitted, or its invoice status is `refuse_when`."""
    registry = access.registry
    cls = registry.cls(model_key)
    stmt = select(cls).where(cls.id.in_(ids))
    scope = access.scope(registry.model(model_key))
    if scope is not None:
        stmt = stmt.where(scope)
    docs = {d.id: d for d in session.scalars(stmt.order_by(cls.id).with_for_update())}
    missing = [str(i) for i in ids if i not in docs]
    not_submitted = [d.number for d in docs.values() if d.status != Status.SUBMITTED]
    refused = [d.number for d in docs.values() if d.status == Status.SUBMITTED and d.invoice_status == refuse_when]
    errors = []
    if missing:
        errors.append(CellError("ids", t("invoice_missing", ids=", ".join(missing))))
    if not_submitted:
        errors.append(CellError("ids", t("invoice_not_submitted", numbers="、".join(not_submitted))))
    if refused:
        errors.append(CellError("ids", t(refusal, numbers="、".join(refused))))
    if errors:
        raise ValidationFailed(errors)
    return list(docs.values())


def _set(session: Session, access: Access, model_key: str, doc: Any, action: str, values: tuple[Any, ...]) -> None:
    """Write (status, number, date) on the document, a new version, and its audit row."""
    before = {name: _json(getattr(doc, name)) for name in FIELDS}
    doc.invoice_status, doc.invoice_number, doc.invoice_date = values
    doc.version = (doc.version or 0) + 1
    doc.updated_at, doc.updated_by_id = utcnow(), access.user_id
    session.flush()
    audit_change(session, access, model_key, doc.id, action, before, {n: _json(getattr(doc, n)) for n in FIELDS})


def _date(raw: Any, errors: list[CellError]) -> dt.date:
    if raw is None or raw == "":
        return business_today()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        errors.append(CellError("invoice_date", t("invoice_bad_date")))
        return business_today()


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
