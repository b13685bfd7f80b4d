"""未结单据 (open items): a partner's deliveries (receivable) or receipts (payable) not yet settled, and a
draft payment made from those the user picks.

Open on a delivery or receipt = its total with tax, less the submitted returns naming it, less what
submitted payments allocated to it (app/services/money/receivables.py `open_amount`, the same figure the
payment's posting checks). Money not allocated to a document (an advance) settles nothing here: a payment
settles exactly the documents and amounts its lines name. Amounts given without documents are spread over
the open items oldest first.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.meta.status import Status
from app.services.access.rights import Access
from app.services.money.receivables import INVOICES, OWED, PAYABLE, RECEIVABLE, RETURNS, require_side
from app.services.records.write import RecordService

ZERO = Decimal(0)
PAYMENT = "payment"
REQUEST = "payment_request"
SIDE_OF = {"receipt": RECEIVABLE, "payment": PAYABLE}  # a payment's direction -> the side it settles


def open_items(
    session: Session, access: Access, partner_id: int, side: str, exclude: int | None = None
) -> list[dict[str, Any]]:
    """The partner's submitted deliveries (receivable) or receipts (payable) the user may read that are not
    settled, oldest first: {model, id, number, date, total, returned, paid, open} (money as Decimal)."""
    require_side(access, side)
    registry = access.registry
    model_key = INVOICES[side]
    cls = registry.cls(model_key)
    stmt = select(cls).where(cls.partner_id == partner_id, cls.status == Status.SUBMITTED)
    scope = access.scope(registry.model(model_key))
    if scope is not None:
        stmt = stmt.where(scope)
    docs = list(session.scalars(stmt.order_by(cls.date, cls.id)))
    numbers = [d.number for d in docs]
    returned = _returned(session, registry, model_key, numbers)
    paid = _allocated(session, registry, model_key, numbers, exclude)
    found = []
    for doc in docs:
        total = Decimal(getattr(doc, OWED) or 0)
        left = total - returned.get(doc.number, ZERO) - paid.get(doc.number, ZERO)
        if left <= 0:
            continue
        found.append(
            {
                "model": model_key,
                "id": doc.id,
                "number": doc.number,
                "date": doc.date,
                "total": total,
                "returned": returned.get(doc.number, ZERO),
                "paid": paid.get(doc.number, ZERO),
                "open": left,
            }
        )
    return found


def _returned(session: Session, registry: Any, model_key: str, numbers: list[str]) -> dict[str, Decimal]:
    """What submitted returns naming each document took off it (as `receivables.returned_against`)."""
    if not numbers or model_key not in RETURNS:
        return {}
    cls = registry.cls(RETURNS[model_key])
    rows = session.execute(
        select(cls.source_number, func.sum(getattr(cls, OWED)))
        .where(cls.source_number.in_(numbers), cls.status == Status.SUBMITTED)
        .group_by(cls.source_number)
    )
    return {number: Decimal(total or 0) for number, total in rows}


def _allocated(
    session: Session, registry: Any, model_key: str, numbers: list[str], exclude: int | None
) -> dict[str, Decimal]:
    """What submitted payments (but `exclude`) allocated to each document (as `receivables.allocated_to`)."""
    if not numbers:
        return {}
    payment, line = registry.cls(PAYMENT), registry.cls(f"{PAYMENT}_line")
    rows = session.execute(
        select(line.source_number, func.sum(line.allocated_amount))
        .join(payment, payment.id == line.parent_id)
        .where(
            payment.status == Status.SUBMITTED,
            payment.id != (exclude or 0),
            line.source_number.in_(numbers),
            (line.source_model == model_key) | line.source_model.is_(None),
        )
        .group_by(line.source_number)
    )
    return {number: Decimal(total or 0) for number, total in rows}


def requested(session: Session, registry: Any, numbers: list[str], exclude: int | None = None) -> dict[str, Decimal]:
    """What live (pending or submitted), unpaid payment requests (but `exclude`) ask for each receipt: held
    from further requests until paid (then the payment's allocation counts instead)."""
    if not numbers or REQUEST not in registry.meta.models:
        return {}
    request, line = registry.cls(REQUEST), registry.cls(f"{REQUEST}_line")
    rows = session.execute(
        select(line.source_number, func.sum(line.amount))
        .join(request, request.id == line.parent_id)
        .where(
            request.status.in_((Status.PENDING, Status.SUBMITTED)),
            func.coalesce(request.pay_status, "unpaid") != "paid",
            request.id != (exclude or 0),
            line.source_number.in_(numbers),
        )
        .group_by(line.source_number)
    )
    return {number: Decimal(total or 0) for number, total in rows}


def allocate_oldest_first(items: list[dict[str, Any]], amount: Decimal) -> list[tuple[dict[str, Any], Decimal]]:
    """Spread `amount` over open items in their order (oldest first), each up to what is open on it."""
    out = []
    left = amount
    for item in items:
        if left <= 0:
            break
        take = min(left, item["open"])
        out.append((item, take))
        left -= take
    return out


def item_json(item: dict[str, Any]) -> dict[str, Any]:
    """An open item as the API and the picker page show it (money as strings)."""
    return {
        **item,
        "date": item["date"].isoformat() if item["date"] else None,
        **{k: f"{item[k]:.2f}" for k in ("total", "returned", "paid", "open")},
    }


def parse_amount(raw: Any, field: str) -> Decimal | None:
    """A money amount typed or sent (None when blank); a cell error when it is not a positive number."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ValidationFailed([CellError(field, t("not_number"))]) from exc
    if not value.is_finite() or value <= 0:
        raise ValidationFailed([CellError(field, t("open_items_amount_positive"))])
    return value.quantize(Decimal("0.01"))


def payment_from_open_items(
    session: Session,
    access: Access,
    direction: str,
    partner_id: int,
    picks: dict[str, Decimal | None] | None,
    amount: Decimal | None,
    header: dict[str, Any] | None = None,
) -> Any:
    """A draft payment (receipt) settling the open items named in `picks` (number -> amount, None for all
    that is open on it); without picks, `amount` spread over every open item oldest first. The draft's
    amount is `amount` when given (beyond the allocations: an advance), else the allocations' sum. Goes
    through the one write path; the posting checks the allocations again."""
    side = SIDE_OF.get(direction)
    if side is None:
        raise ValidationFailed([CellError("direction", t("not_option", options="receipt, payment"))])
    items = open_items(session, access, partner_id, side)
    if picks:
        by_number = {item["number"]: item for item in items}
        errors = [CellError("items", t("open_item_missing", number=n)) for n in picks if n not in by_number]
        errors += [
            CellError("items", t("over_open", open=f"{by_number[n]['open']:.2f}"))
            for n, value in picks.items()
            if n in by_number and value is not None and value > by_number[n]["open"]
        ]
        if errors:
            raise ValidationFailed(errors)
        chosen = [(by_number[n], picks[n] or by_number[n]["open"]) for n in by_number if n in picks]
    elif amount is not None:
        chosen = allocate_oldest_first(items, amount)
    else:
        raise ValidationFailed([CellError("items", t("open_items_pick_needed"))])
    if not chosen:
        raise ValidationFailed([CellError("items", t("open_items_none"))])
    allocated = sum((value for _, value in chosen), ZERO)
    if amount is not None and amount < allocated:
        raise ValidationFailed([CellError("amount", t("over_allocated", total=f"{allocated:.2f}"))])
    payload: dict[str, Any] = {
        **{k: v for k, v in (header or {}).items() if k != "lines"},
        "direction": direction,
        "partner": partner_id,
        "amount": str(amount if amount is not None else allocated),
        "lines": [
            {"source_model": item["model"], "source_number": item["number"], "allocated_amount": str(value)}
            for item, value in chosen
        ],
    }
    return RecordService(session, access).create(PAYMENT, payload)


def request_from_receipts(
    session: Session, access: Access, receipt_ids: list[int], header: dict[str, Any] | None = None
) -> Any:
    """付款申请 from submitted receipts of one supplier (下推 from one, 选单 of several): a line per receipt
    asking what is still unpaid on it and not already asked by another live request."""
    if not receipt_ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in receipt_ids):
        raise ValidationFailed([CellError("source_ids", t("pick_lines_needed"))])
    registry = access.registry
    receipt = registry.cls(INVOICES[PAYABLE])
    partners = set(session.scalars(select(receipt.partner_id).where(receipt.id.in_(receipt_ids))))
    if len(partners) > 1:
        raise ValidationFailed([CellError("partner", t("pick_one_partner"))])
    wanted = set(receipt_ids)
    items = [i for i in open_items(session, access, partners.pop(), PAYABLE) if i["id"] in wanted] if partners else []
    missing = wanted - {i["id"] for i in items}
    held = requested(session, registry, [i["number"] for i in items])
    lines = [
        {"source_model": i["model"], "source_id": i["id"], "source_number": i["number"], "amount": str(left)}
        for i in items
        if (left := i["open"] - held.get(i["number"], ZERO)) > 0
    ]
    if missing or not lines:
        numbers = ", ".join(str(pk) for pk in sorted(missing)) or ", ".join(i["number"] for i in items)
        raise ValidationFailed([CellError("source_ids", t("request_nothing_open", ids=numbers))])
    first = session.get(receipt, items[0]["id"])
    payload = {"partner": first.partner_id, **{k: v for k, v in (header or {}).items() if k != "lines"}}
    payload["lines"] = lines
    return RecordService(session, access).create(REQUEST, payload)


def payment_from_request(session: Session, access: Access, request: Any, header: dict[str, Any] | None = None) -> Any:
    """The payment of an approved, unpaid payment request: its supplier, its amount, its lines' receipts
    settled by the amounts asked, `payment_request` naming it (posting marks it paid)."""
    if request.pay_status == "paid":
        raise ValidationFailed(
            [CellError("_record", t("request_already_paid", number=request.number, payment=request.payment_number))]
        )
    lines = sorted(request.lines, key=lambda line: line.line_no or 0)
    payload: dict[str, Any] = {
        "direction": "payment",
        "partner": request.partner_id,
        "account": request.account_id,
        **{k: v for k, v in (header or {}).items() if k != "lines"},
        "amount": str(Decimal(request.total_amount or 0)),
        REQUEST: request.number,
        "lines": [
            {
                "source_model": line.source_model,
                "source_number": line.source_number,
                "allocated_amount": str(line.amount),
            }
            for line in lines
        ],
    }
    return RecordService(session, access).create(PAYMENT, payload)
