"""Documents that flow into each other: which document follows which, and the links between their lines.

A follow-on line (an order line from a request line, a receipt line from an order line, a return line
from a receipt or delivery line) names its source document and line in `source_model`, `source_id` and
`source_line_id`. Submitting the follow-on takes its quantity from the source line's open quantity
(app/documents/base.py `DocumentBehaviour.take`); drafts hold nothing. The flows are the behaviours'
`source_model`: no second table of them to keep in step. See docs/flow.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import and_, func, literal, or_, select, union
from sqlalchemy.orm import Session

from app.documents.base import FILL_STATUS, open_qty, price_in_unit
from app.documents.payment import OPENING
from app.errors import CellError, ValidationFailed
from app.i18n import join_list, label, t
from app.ledger.compute import CENT, ZERO, gross
from app.meta.status import Status
from app.services.access.rights import Access
from app.services.money.open_items import payment_from_open_items, payment_from_request, request_from_receipts
from app.services.money.prices import PRICE_PLACES
from app.services.records.query import get_row
from app.services.records.serialize import rows_to_json
from app.services.records.write import RecordService

LIVE = (Status.PENDING, Status.SUBMITTED)  # follow-ons that keep their source from being cancelled
REQUEST, REQUESTED = "payment_request", "purchase_receipt"  # 付款申请 and the documents it asks to pay
# money follow-ons (下推 by amount, not quantity): (source, target) -> how the draft is made
MONEY_FLOWS = {
    ("purchase_receipt", "payment_request"): "request",
    ("purchase_receipt", "payment"): "payment",
    ("sales_delivery", "payment"): "payment",
    ("payment_request", "payment"): "pay_request",
}


def source_of(registry: Any, model_key: str) -> tuple[str | None, str]:
    """The model whose lines `model_key`'s lines come from, and the quantity on them it fills."""
    if registry.model(model_key).kind != "document":
        return None, ""
    behaviour = registry.behaviour(model_key)
    return behaviour.source_model, behaviour.done_field


def closing_done_field(registry: Any, model_key: str) -> tuple[str | None, str]:
    """The follow-on that fills `model_key`'s lines and the line quantity it fills (what closing leaves
    alone): the first target's done field (an order's receipts or deliveries)."""
    for target in targets_of(registry, model_key):
        return target, source_of(registry, target)[1]
    return None, ""


def targets_of(registry: Any, model_key: str) -> list[str]:
    """The documents whose lines may come from `model_key`'s lines (下推 targets), in metadata order."""
    return [
        key
        for key, model in registry.meta.models.items()
        if model.kind == "document" and source_of(registry, key)[0] == model_key
    ]


# what a follow-on's audit trail says when its posting moved what it fills on its source: posted (on submit, or at the
# last approval) or cancelled
FILLING_ACTIONS = ("submit", "approve", "cancel")


def filling_follow_ons(registry: Any, model_key: str) -> tuple[str, ...]:
    """The follow-ons whose posting and cancelling move a field of `model_key`'s header (an order's 入库状态 /
    出库状态, `add_done`) in their own transaction, with an audit row of their own and none of the order's: what a
    live view of the orders reads beside the orders' own trail (the grid's change feed)."""

    def build() -> tuple[str, ...]:
        model = registry.model(model_key)
        return tuple(
            target
            for target in targets_of(registry, model_key)
            if (field := FILL_STATUS.get(source_of(registry, target)[1])) and model.field(field) is not None
        )

    return registry.kept(("filling_follow_ons", model_key), build)  # type: ignore[no-any-return]


def sources_of_follow_ons(session: Session, registry: Any, model_key: str, target: str, ids: list[int]) -> list[int]:
    """Ids of the `model_key` documents these `target` documents come from: lines linked to them, or (documents
    written before line links) naming them in source_number."""
    cls, line, source = registry.cls(target), registry.cls(f"{target}_line"), registry.cls(model_key)
    linked = select(line.source_id).where(
        line.parent_id.in_(ids), line.source_model == model_key, line.source_id.isnot(None)
    )
    numbered = select(source.id).where(source.number.in_(select(cls.source_number).where(cls.id.in_(ids))))
    return list(session.scalars(union(linked, numbered)))


def live_follow_ons(session: Session, registry: Any, model_key: str, doc: Any) -> list[str]:
    """Numbers of the pending or submitted documents that come from `doc`: lines linked to it, or (for
    documents written before line links) naming it in source_number; and payments settling it."""
    numbers: list[str] = []
    for target in targets_of(registry, model_key):
        cls, line = registry.cls(target), registry.cls(f"{target}_line")
        linked = select(line.parent_id).where(line.source_model == model_key, line.source_id == doc.id)
        stmt = select(cls.number).where(cls.status.in_(LIVE), or_(cls.id.in_(linked), cls.source_number == doc.number))
        numbers += session.scalars(stmt.order_by(cls.number)).all()
    for settling in _settling_models(registry, model_key):
        pay, line = registry.cls(settling), registry.cls(f"{settling}_line")
        stmt = (
            select(pay.number)
            .join(line, line.parent_id == pay.id)
            .where(pay.status.in_(LIVE), _names(line, model_key), line.source_number == doc.number)
            .distinct()
        )
        numbers += session.scalars(stmt.order_by(pay.number)).all()
    return numbers


def _settling_models(registry: Any, model_key: str) -> list[str]:
    """The money documents whose lines may name `model_key` documents by number: payments settling
    deliveries and receipts, payment requests asking to pay receipts."""
    found = []
    if "payment" in registry.meta.models and model_key in _settled_models(registry):
        found.append("payment")
    if model_key == REQUESTED and REQUEST in registry.meta.models:
        found.append(REQUEST)
    return found


def _names(line: Any, model_key: str) -> Any:
    """A money line names a `model_key` document by its type, or with no type given any document but an opening
    balance (a payment's own side's: allocations are counted so, `receivables.allocated_to`)."""
    named = line.source_model == model_key
    return named if model_key == OPENING else named | line.source_model.is_(None)


def _settled_models(registry: Any) -> set[str]:
    spec = registry.model("payment_line").field("source_model")
    return {option.value for option in spec.options} if spec is not None else set()


def doc_ref(registry: Any, model_key: str, doc: Any) -> dict[str, Any]:
    """A document as the flow panels show it: model, its name, id, number, status."""
    return {
        "model": model_key,
        "model_label": label(registry.model(model_key).label, model_key),
        "id": doc.id,
        "number": doc.number,
        "status": doc.status,
        "status_text": Status(doc.status).text(),
        "pay_status_text": _option_text(registry, model_key, "pay_status", getattr(doc, "pay_status", None)),
    }


def _option_text(registry: Any, model_key: str, field: str, value: Any) -> str:
    """A select field's value as its label ("" when the model has no such field or no value)."""
    spec = registry.model(model_key).field(field)
    if spec is None or value is None:
        return ""
    return next((label(o.label, o.value) for o in spec.options if o.value == value), str(value))


def flow_of(session: Session, access: Access, model_key: str, doc: Any) -> dict[str, Any]:
    """Both ways of a document's flow, as far as the user may read: the source documents its lines come
    from (with each line's source line) and the documents whose lines come from it."""
    registry = access.registry
    sources: list[dict[str, Any]] = []
    source_model, _ = source_of(registry, model_key)
    model = registry.model(model_key)
    if source_model and model.lines_model and registry.model(model.lines_model).field("source_line_id"):
        by_id = _readable(session, access, source_model, {line.source_id for line in doc.lines if line.source_id})
        for source in by_id.values():
            ref = doc_ref(registry, source_model, source)
            ref["lines"] = [
                {"line_no": line.line_no, "source_line_id": line.source_line_id}
                for line in doc.lines
                if line.source_id == source.id
            ]
            sources.append(ref)
    follow_ons = []
    for target in targets_of(registry, model_key):
        cls, line = registry.cls(target), registry.cls(f"{target}_line")
        linked = select(line.parent_id).where(line.source_model == model_key, line.source_id == doc.id)
        ids = set(session.scalars(select(cls.id).where(or_(cls.id.in_(linked), cls.source_number == doc.number))))
        follow_ons += [doc_ref(registry, target, row) for row in _readable(session, access, target, ids).values()]
    for settling in _settling_models(registry, model_key):
        cls, line = registry.cls(settling), registry.cls(f"{settling}_line")
        named = select(line.parent_id).where(_names(line, model_key), line.source_number == doc.number)
        ids = set(session.scalars(select(cls.id).where(cls.id.in_(named))))
        follow_ons += [doc_ref(registry, settling, row) for row in _readable(session, access, settling, ids).values()]
    if model_key == REQUEST and "payment" in registry.meta.models:
        pay = registry.cls("payment")
        ids = set(session.scalars(select(pay.id).where(pay.payment_request == doc.number)))
        follow_ons += [doc_ref(registry, "payment", row) for row in _readable(session, access, "payment", ids).values()]
    return {"sources": sources, "follow_ons": follow_ons}


def has_flow(registry: Any, model_key: str) -> bool:
    """Documents may come before or after `model_key`'s (its `flow` lists something): it has a source, targets
    (by quantity or by amount), or money documents settling it."""
    return bool(
        source_of(registry, model_key)[0]
        or targets_of(registry, model_key)
        or money_targets_of(registry, model_key)
        or _settling_models(registry, model_key)
    )


def money_targets_of(registry: Any, model_key: str) -> list[str]:
    """The money documents a submitted `model_key` may be pushed down to (付款申请, 收付款)."""
    return [target for (source, target) in MONEY_FLOWS if source == model_key and target in registry.meta.models]


def _readable(session: Session, access: Access, model_key: str, ids: set[int]) -> dict[int, Any]:
    """The documents among `ids` the user may read (in their row scope), by id."""
    if not ids or not access.can(model_key, "read"):
        return {}
    cls = access.registry.cls(model_key)
    stmt = select(cls).where(cls.id.in_(ids))
    scope = access.scope(access.registry.model(model_key))
    if scope is not None:
        stmt = stmt.where(scope)
    return {row.id: row for row in session.scalars(stmt.order_by(cls.id))}


def open_lines(
    session: Session,
    access: Access,
    target: str,
    source_ids: list[int] | None = None,
    partner_id: int | None = None,
    editing: int | None = None,
) -> list[dict[str, Any]]:
    """The open lines of submitted source documents of `target` the user may read (选单): of the sources
    `source_ids`, or of every source of the partner; each with what is still open (base units) less what
    unsubmitted `target` documents hold (`_beside_open_drafts`, as 下推 counts it; `editing`: the draft being edited,
    which does not count against itself). Lines left with nothing are not listed."""
    found = _source_open_lines(session, access, target, source_ids, partner_id)
    return _beside_open_drafts(session, access, target, found, editing)[1]


def _source_open_lines(
    session: Session, access: Access, target: str, source_ids: list[int] | None = None, partner_id: int | None = None
) -> list[dict[str, Any]]:
    """The open lines of submitted source documents of `target` the user may read, each with what its source has
    open (its quantity less what submitted follow-ons filled and what was closed)."""
    registry = access.registry
    source_model, done_field = source_of(registry, target)
    if source_model is None or not access.can(source_model, "read"):
        return []
    cls, line_cls = registry.cls(source_model), registry.cls(f"{source_model}_line")
    stmt = select(cls).where(cls.status == Status.SUBMITTED)
    scope = access.scope(registry.model(source_model))
    if scope is not None:
        stmt = stmt.where(scope)
    if source_ids is not None:
        stmt = stmt.where(cls.id.in_(source_ids))
    if partner_id is not None and hasattr(cls, "partner_id"):
        stmt = stmt.where(cls.partner_id == partner_id)
    docs = {d.id: d for d in session.scalars(stmt.order_by(cls.date, cls.id))}
    lines = session.scalars(
        select(line_cls).where(and_(line_cls.parent_id.in_(list(docs)))).order_by(line_cls.parent_id, line_cls.line_no)
    )
    found = []
    for line in lines:
        left = open_qty(line, done_field)
        if left <= 0:
            continue
        doc = docs[line.parent_id]
        found.append({"source": doc, "line": line, "open_qty": left})
    return found


def open_lines_json(session: Session, access: Access, picked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open source lines as the API answers them: each line as the user may read it (masked), its source
    document and what is still open in base units."""
    if not picked:
        return []
    registry = access.registry
    source_model = picked[0]["source"].__jxc_model__
    line_model = registry.model(f"{source_model}_line")
    lines = rows_to_json(session, access, line_model, [p["line"] for p in picked])
    out = []
    for p, line in zip(picked, lines, strict=True):
        source = doc_ref(registry, source_model, p["source"])
        source["date"] = p["source"].date.isoformat() if p["source"].date else None
        line["line_no"] = p["line"].line_no
        out.append({"source": source, "line": line, "open_qty": format(p["open_qty"].normalize(), "f")})
    return out


# header fields a follow-on takes from its source when both have them
HEADER = ("partner", "warehouse", "purchaser", "salesperson", "prices_include_tax")
# line fields a follow-on line takes from its source line when both have them
LINE = ("price", "discount_rate", "tax_rate", "batch")


def push(
    session: Session, access: Access, source_model: str, pk: int, target: str, header: dict[str, Any] | None = None
) -> Pushed:
    """下推: a draft `target` with the open quantities of one submitted source document the user may read
    (`header`: values for the draft's header, e.g. the supplier of an order pushed from a request). What
    unsubmitted `target` documents linked to its lines already hold is not pushed again: only the rest is, and
    when nothing is left the first of them is given back (`Pushed.created` False) with a message naming them."""
    registry = access.registry
    money = target in money_targets_of(registry, source_model)
    if target not in targets_of(registry, source_model) and not money:
        raise ValidationFailed([CellError("_record", t("push_not_a_target", target=target))])
    source = get_row(session, access, registry.model(source_model), pk)
    if source.status != Status.SUBMITTED:
        raise ValidationFailed([CellError("_record", t("push_not_submitted", number=source.number))])
    if money:
        row = _money_draft(session, access, MONEY_FLOWS[(source_model, target)], source, header or {})
        session.commit()
        return Pushed(row, True, t("draft_made", number=row.number))
    picked = _source_open_lines(session, access, target, [pk])
    drafts, rest = _beside_open_drafts(session, access, target, picked)
    if not drafts:
        row = make_draft(session, access, target, picked, header)
        return Pushed(row, True, t("draft_made", number=row.number))
    what = {
        "target": label(registry.model(target).label, target),
        "numbers": "、".join(d.number for d in drafts),
        "source": label(registry.model(source_model).label, source_model),
    }
    if not rest:  # all that is open is in drafts already: the first is opened, none is made again
        return Pushed(drafts[0], False, t("push_draft_exists", **what))
    row = make_draft(session, access, target, rest, header, beside=drafts)
    return Pushed(row, True, t("push_rest_made", number=row.number, **what))


class Pushed(NamedTuple):
    """What 下推 gave: the draft (made now, or one made before that already holds all that is open) and what to
    tell the user."""

    row: Any
    created: bool
    message: str


def _beside_open_drafts(
    session: Session, access: Access, target: str, picked: list[dict[str, Any]], editing: int | None = None
) -> tuple[list[Any], list[dict[str, Any]]]:
    """The unsubmitted `target` documents (草稿, 待审批) the user may read that hold lines linked to these open
    source lines, oldest first, and the open lines less what those documents hold (lines left with nothing
    dropped): 下推 twice makes no second draft of the same quantity (it would be refused at submit as beyond
    what is open), and 选单 lists and takes only the rest too. `editing`: a draft left out (the one being edited)."""
    if not picked:
        return [], picked
    registry = access.registry
    cls, line_cls = registry.cls(target), registry.cls(f"{target}_line")
    stmt = (
        select(line_cls.parent_id, line_cls.source_line_id, func.coalesce(line_cls.base_qty, line_cls.qty))
        .join(cls, cls.id == line_cls.parent_id)
        .where(
            cls.status.in_((Status.DRAFT, Status.PENDING)),
            line_cls.source_model == picked[0]["source"].__jxc_model__,
            line_cls.source_line_id.in_([p["line"].id for p in picked]),
        )
    )
    if editing is not None:
        stmt = stmt.where(cls.id != editing)
    found = session.execute(stmt).all()
    drafts = _readable(session, access, target, {parent for parent, _, _ in found})
    held: dict[int, Decimal] = {}
    for parent, source_line_id, qty in found:
        if parent in drafts:
            held[source_line_id] = held.get(source_line_id, ZERO) + Decimal(qty or 0)
    rest = [
        dict(p, open_qty=p["open_qty"] - held.get(p["line"].id, ZERO))
        for p in picked
        if p["open_qty"] > held.get(p["line"].id, ZERO)
    ]
    return list(drafts.values()), rest


def _money_draft(session: Session, access: Access, kind: str, source: Any, header: dict[str, Any]) -> Any:
    """A draft payment request or payment from one submitted receipt, delivery or request."""
    if kind == "request":
        return request_from_receipts(session, access, [source.id], header)
    if kind == "pay_request":
        return payment_from_request(session, access, source, header)
    direction = "payment" if source.__jxc_model__ == REQUESTED else "receipt"
    return payment_from_open_items(session, access, direction, source.partner_id, {source.number: None}, None, header)


def pick(
    session: Session, access: Access, target: str, line_ids: list[int], header: dict[str, Any] | None = None
) -> Any:
    """选单: a draft `target` with the open quantities of these source lines (of one or several sources)."""
    if not line_ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in line_ids):
        raise ValidationFailed([CellError("source_line_ids", t("pick_lines_needed"))])
    source_model, _ = source_of(access.registry, target)
    if source_model is None:
        raise ValidationFailed([CellError("_record", t("push_not_a_target", target=target))])
    line_cls = access.registry.cls(f"{source_model}_line")
    parents = sorted(set(session.scalars(select(line_cls.parent_id).where(line_cls.id.in_(line_ids)))))
    wanted = set(line_ids)
    found = [p for p in _source_open_lines(session, access, target, parents) if p["line"].id in wanted]
    missing = wanted - {p["line"].id for p in found}
    if missing:
        raise ValidationFailed(
            [CellError("source_line_ids", t("source_line_missing", id=", ".join(map(str, sorted(missing)))))]
        )
    drafts, picked = _beside_open_drafts(session, access, target, found)  # what the list offered: the rest only
    held = [p for p in found if p["line"].id not in {q["line"].id for q in picked}]
    if held:
        registry = access.registry
        lines = join_list(t("pick_line_ref", number=p["source"].number, line=p["line"].line_no) for p in held)
        numbers = join_list(d.number for d in drafts)
        target_label = label(registry.model(target).label, target)
        raise ValidationFailed(
            [CellError("source_line_ids", t("pick_held_by_drafts", lines=lines, target=target_label, numbers=numbers))]
        )
    return make_draft(session, access, target, picked, header, beside=drafts)


def make_draft(
    session: Session,
    access: Access,
    target: str,
    picked: list[dict[str, Any]],
    header: dict[str, Any] | None = None,
    beside: list[Any] | None = None,
) -> Any:
    """Create the draft through the one write path: the header from the first source, one line per open
    source line with its link; every source must be of the same partner. `beside`: the unsubmitted follow-ons
    holding the rest of these lines (`_beside_open_drafts`), whose amounts the carried ones leave out."""
    if not picked:
        raise ValidationFailed([CellError("_record", t("nothing_open"))])
    registry = access.registry
    model = registry.model(target)
    line_model = registry.model(model.lines_model or "")
    sources = {p["source"].id: p["source"] for p in picked}
    first = picked[0]["source"]
    if len({getattr(s, "partner_id", None) for s in sources.values()}) > 1:
        raise ValidationFailed([CellError("partner", t("pick_one_partner"))])
    source_model = first.__jxc_model__
    source_spec = registry.model(source_model)
    payload: dict[str, Any] = {}
    for name in HEADER:
        mine, theirs = model.field(name), source_spec.field(name)
        if mine is not None and theirs is not None and getattr(first, theirs.column) is not None:
            payload[name] = getattr(first, theirs.column)
    supplier = getattr(picked[0]["line"], "suggested_supplier_id", None)
    if "partner" not in payload and supplier is not None and model.field("partner") is not None:
        payload["partner"] = supplier  # an order from a request: the supplier the request suggests
    if len(sources) == 1 and model.field("source_number") is not None:
        payload["source_number"] = first.number
    payload.update({k: v for k, v in (header or {}).items() if k != "lines"})
    source_line_spec = registry.model(f"{source_model}_line")
    lines = [_line(line_model, source_line_spec, p) for p in picked]
    if line_model.field("carried_amount") is not None:
        _carry_open_amounts(session, registry, target, picked, lines, [d.id for d in beside or ()])
    # what the user may not set (a price under 价格屏蔽, the carried amount) is carried from the source line
    kept = {spec.name for spec in line_model.data_fields if not access.can_write(line_model, spec)}
    payload["lines"] = [{k: v for k, v in line.items() if k not in kept} for line in lines]
    carried = [{k: v for k, v in line.items() if k in kept} for line in lines]
    row = RecordService(session, access).create(target, payload, carried=carried)
    session.commit()
    return row


def _line(line_model: Any, source_line_spec: Any, picked: dict[str, Any]) -> dict[str, Any]:
    """A follow-on line for what is open on a source line: in the source's unit when the open quantity is
    whole in it, otherwise in base units."""
    line, left = picked["line"], picked["open_qty"]
    ratio = Decimal(getattr(line, "unit_ratio", None) or 1)
    values: dict[str, Any] = {"item": line.item_id}
    price = getattr(line, "price", None)
    if ratio != 1 and (left / ratio) == (left / ratio).to_integral_value():
        values.update(unit=line.unit_id, qty=str(left / ratio))
    else:
        values["qty"] = str(left)
        if price is not None and ratio != 1:
            price = price_in_unit(price, ratio, 1)  # a base unit's price
    for name in LINE:
        if line_model.field(name) is not None and source_line_spec.field(name) is not None:
            value = price if name == "price" else getattr(line, name)
            if value is not None and value != "":
                values[name] = str(value) if isinstance(value, Decimal) else value
    values.update(source_model=picked["source"].__jxc_model__, source_id=picked["source"].id, source_line_id=line.id)
    return values


def _carry_open_amounts(
    session: Session,
    registry: Any,
    target: str,
    picked: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    drafts: list[int],
) -> None:
    """A pushed rest's money is what its source line still has open, to the cent: the source line's amount (its qty
    x price after its discount, or what it carried itself) less what the other follow-ons linked to it carry: the
    submitted ones and the unsubmitted `drafts` holding part of it (a rest pushed beside a draft of 1 of 3 at 3.3317
    took 2 x 3.3317 = 6.66, and the two came to 9.99 of a line of 10.00). Its own qty x price misses that by the
    price's rounding (a piece of a box of 7 at 10.00 is 1.4286: 1.43 + 699 x 1.4286 = 1,000.02 of an order of
    1,000.00). Carried only where the submitted follow-ons account for all the line filled and nothing was closed,
    and only within the rounding of the prices (a follow-on priced otherwise leaves the rest at its own price)."""
    source_model = picked[0]["source"].__jxc_model__
    done_field = source_of(registry, target)[1]
    line_cls, doc_cls = registry.cls(f"{target}_line"), registry.cls(target)
    discount = getattr(line_cls, "discount_rate", None)
    stmt = (
        select(line_cls.source_line_id, line_cls.base_qty, line_cls.qty, line_cls.price, line_cls.carried_amount)
        .add_columns((discount if discount is not None else literal(0)).label("discount_rate"), doc_cls.status)
        .join(doc_cls, doc_cls.id == line_cls.parent_id)
        .where(
            or_(doc_cls.status == Status.SUBMITTED, doc_cls.id.in_(drafts)),
            line_cls.source_model == source_model,
            line_cls.source_line_id.in_([p["line"].id for p in picked]),
        )
    )
    taken: dict[int, list[Any]] = {}
    for row in session.execute(stmt):
        taken.setdefault(row.source_line_id, []).append(row)
    for p, values in zip(picked, lines, strict=True):
        line, rows = p["line"], taken.get(p["line"].id, [])
        if line.price is None or values.get("price") is None or getattr(line, "closed_qty", None):
            continue
        filled = sum((Decimal(r.base_qty or 0) for r in rows if r.status == Status.SUBMITTED), ZERO)
        if filled != Decimal(getattr(line, done_field) or 0):
            continue  # some of what it filled came without a link (source_number): not counted here
        still_open = _gross_of(line) - sum((_gross_of(r) for r in rows), ZERO)
        own = gross(values["qty"], values["price"], values.get("discount_rate"))
        noise = Decimal(line.base_qty or 0) * PRICE_PLACES + CENT * (len(rows) + 1)
        if still_open != own and abs(still_open - own) <= noise:
            values["carried_amount"] = str(still_open)


def _gross_of(line: Any) -> Decimal:
    """A line's qty x price after its discount (before the tax is split off or added), or what it carried."""
    carried = getattr(line, "carried_amount", None)
    if carried is not None:
        return Decimal(carried)
    return gross(line.qty or 0, line.price or 0, getattr(line, "discount_rate", None))
