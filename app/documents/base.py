"""What a document does to stock when it posts; one class per document, found by name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import inspect, select

from app.documents.context import PostingContext
from app.documents.tracking import check_lines
from app.documents.units import check_units
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.ledger.effects import Effect
from app.ledger.serials import parse as parse_serials
from app.ledger.valuation import Move
from app.meta.accounts import OWED, SOURCES
from app.meta.types import plain_decimal
from app.services.money.prices import PRICE_PLACES, fill_tax_rates, line_defaults
from app.services.records.bulk import among
from app.services.stock.bulk import chunked
from app.services.stock.units import base_qty, take_unit_ratios

# the documents whose totals a partner's account sums (应收 / 应付): each of their lines posts money at its price
ACCOUNT_DOCUMENTS = frozenset(m for sources in SOURCES.values() for m, figure, _, _ in sources if figure == OWED)


class DocumentBehaviour:
    """Default behaviour: no stock effect (orders, requests, payments only change status).

    `ctx` is the posting that runs it (app/documents/context.py), for the few look-ups a document needs
    (its source order, the customer's receivable, a policy switch); None when only lines are prepared."""

    source_model: str | None = None  # the document its lines come from (source_number, line links)
    done_field = ""  # the source line's quantity this document fills (received_qty, delivered_qty)
    over_policy = True  # lines beyond the open quantity pass when the over-order switch is on (not returns)
    over_message = "over_order"
    reserves = False  # submitting reserves stock for the lines (a sales order): closing releases the rest
    moves_stock = False  # its lines move stock: batch / serial rules apply (app/documents/tracking.py)
    qty_field = "qty"  # the line quantity the serials count (a stocktake's counted_qty)
    adds_levels: tuple[str, ...] = ()  # approval levels it may add (`levels_added`), approvals.yaml says who approves
    # fields posting values (`after_post`: 'x' or 'lines.x'): empty until the document posts, so an approval rule
    # reading them is decided on what posting would value them at now, written nowhere (app/meta/approvals.py
    # `mark_valued_at_posting`, app/services/posting/service.py `_valued`)
    valued_at_posting: tuple[str, ...] = ()
    # lines posted at a time (None: all at once, for checks that span lines: a credit limit, a serial on two
    # lines, what lines take from an order); each chunk is checked, posted and let go of before the next
    line_chunk: int | None = None
    # line links that mean the header's link of the same name when left blank (a payment line's 结算账户): a page
    # shows the header's there rather than an empty cell
    header_when_blank: tuple[str, ...] = ()

    def __init__(self, ctx: PostingContext | None = None) -> None:
        self._ctx = ctx
        self._took: list[Allocation] | None = None

    @property
    def ctx(self) -> PostingContext:
        """The posting running this behaviour (only while checking, posting or cancelling)."""
        if self._ctx is None:
            raise RuntimeError("this behaviour was made without a posting context")
        return self._ctx

    def prepare_post(self, doc: Any) -> None:
        """Before the lines are read for posting (a whole-warehouse stocktake adds the stock no line counts)."""

    def unposted(self, doc: Any) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
        """What `prepare_post` would do to the lines, done to nothing: (line id -> the columns it would set on that
        line, the column values of the lines it would add). Valuing a document without posting it reads this."""
        return {}, []

    def validate(self, doc: Any, lines: list[Any]) -> None:
        """Everything that must hold before the document posts: each line's unit, then the document's checks."""
        check_units(self.ctx, lines)
        self.check(doc, lines)
        self.check_priced(doc, lines)
        self.check_unseen_figures(doc, lines)

    def check_priced(self, doc: Any, lines: list[Any]) -> None:
        """A document a partner's account sums (a receipt, a delivery, their returns) posts each line at its price: a
        line without one would post at nothing, owed by nobody and lowering the item's average cost. 赠品 are priced
        0, on purpose."""
        if doc.__jxc_model__ not in ACCOUNT_DOCUMENTS:
            return
        errors = [
            CellError(f"lines.{i}.price", t("price_missing", line=line.line_no))
            for i, line in enumerate(lines)
            if getattr(line, "price", 0) is None
        ]
        if errors:
            raise ValidationFailed(errors)

    def check_unseen_figures(self, doc: Any, lines: list[Any]) -> None:
        """Money the submitter may not see posts on their say-so only as it came from a source line (下推, 选单, or
        the line taken whole from the document named in source_number): a line price they cannot see was
        defaulted (the supplier's last price) or typed by someone else, and nobody who submits it has looked at
        it. Someone who may see it submits such a line, or the line is linked to its source."""
        unseen = self.ctx.unseen_inputs(doc.__jxc_model__)
        if not unseen:
            return
        set_unseen = [i for i, line in enumerate(lines) if any(getattr(line, name) is not None for name in unseen)]
        if not set_unseen:
            return
        taken = {a.index: a for a in self.take(doc, lines)}  # links the lines taken whole from source_number too
        source = self.ctx.model_label(self.source_model) if self.source_model else ""
        key = "unseen_figure_unlinked" if source else "unseen_figure"
        errors = [
            CellError(f"lines.{i}.{name}", t(key, line=lines[i].line_no, field=text, source=source))
            for i in set_unseen
            if not getattr(lines[i], "source_line_id", None)
            for name, text in unseen.items()
            if getattr(lines[i], name) is not None
        ]
        # a linked line's hidden price is its source line's (in the line's unit), not a default made for the line
        errors += [
            CellError(f"lines.{i}.price", t("unseen_price_not_source", line=lines[i].line_no, number=a.order.number))
            for i, a in taken.items()
            if "price" in unseen
            and i in set_unseen
            and lines[i].source_line_id == a.order_line.id
            and lines[i].price != source_price(lines[i], a.order_line)
        ]
        if errors:
            raise ValidationFailed(errors)

    def source(self, doc: Any) -> tuple[Any, list[Any]]:
        """The submitted source named by source_number, with its lines; (None, []) when none is named.
        A source the user may not read is as missing as one that does not exist; its partner must be the
        document's."""
        number = getattr(doc, "source_number", None)
        if not number or self.source_model is None:
            return None, []
        found = self.ctx.submitted_document(self.source_model, number)
        if found is None:
            raise ValidationFailed([CellError("source_number", t("source_missing", number=number))])
        if not same_partner(found[0], doc):
            raise ValidationFailed([CellError("source_number", t("link_other_partner", number=number))])
        return found

    def take(self, doc: Any, lines: list[Any]) -> list[Allocation]:
        """What the lines take from their sources' open quantities (once per posting): a linked line from
        the source line it names (app/documents/flow.py), the others by item over the document named in
        source_number. Lines taken whole from one source line get its link. Lines beyond what is open are
        refused unless the over-order switch allows them (returns: never)."""
        if self._took is not None:
            return self._took
        if self.source_model is None:
            self._took = []
            return self._took
        linked = [i for i, line in enumerate(lines) if getattr(line, "source_line_id", None)]
        taken, over, errors = self._take_linked(doc, lines, linked)
        rest = [i for i in range(len(lines)) if i not in set(linked)]
        if rest and getattr(doc, "source_number", None):
            source, source_lines = self.source(doc)
            part, left_over = allocate([lines[i] for i in rest], source_lines, self.done_field)
            took = [Allocation(rest[a.index], a.order_line, a.qty, source) for a in part]
            taken += took
            over += [(rest[j], source, _open_of_item(source_lines, lines[rest[j]], self.done_field)) for j in left_over]
            for i in rest:
                pieces = [a for a in took if a.index == i]
                if len(pieces) == 1 and pieces[0].qty == base_qty(lines[i]):
                    link(lines[i], self.source_model, source, pieces[0].order_line)
        if errors:
            raise ValidationFailed(errors)
        if over and not (self.over_policy and self.ctx.policy("allow_over_order_qty")):
            raise ValidationFailed(
                [
                    CellError(f"lines.{i}.qty", self._over_text(source.number, lines[i].item_id, still_open))
                    for i, source, still_open in over
                ]
            )
        self._took = taken
        return taken

    def _over_text(self, number: str, item_id: int, still_open: Decimal) -> str:
        """Beyond what the source still has open: its number, the item and what is still open in its base unit."""
        item = self.ctx.row("item", item_id)
        unit = self.ctx.row("unit", getattr(item, "unit_id", None))
        name = f"{item.sku} {item.name}".strip() if item is not None else str(item_id)
        shown = f"{plain_decimal(max(still_open, Decimal(0)))} {getattr(unit, 'name', '') or ''}".strip()
        return t(self.over_message, number=number, item=name, open=shown)

    def _take_linked(
        self, doc: Any, lines: list[Any], linked: list[int]
    ) -> tuple[list[Allocation], list[tuple[int, Any, Decimal]], list[CellError]]:
        taken: list[Allocation] = []
        over: list[tuple[int, Any, Decimal]] = []
        errors: list[CellError] = []
        if not linked:
            return taken, over, errors
        found = self.ctx.source_lines(self.source_model or "", {lines[i].source_line_id for i in linked})
        room: dict[int, Decimal] = {}
        for i in linked:
            line = lines[i]
            where = f"lines.{i}.source_line_id"
            hit = found.get(line.source_line_id)
            if (
                hit is None
                or (line.source_model or self.source_model) != self.source_model
                or line.source_id not in (None, hit[0].id)
            ):
                errors.append(CellError(where, t("source_line_missing", id=line.source_line_id)))
                continue
            source, source_line = hit
            if not same_partner(source, doc):
                errors.append(CellError(where, t("link_other_partner", number=source.number)))
                continue
            if source_line.item_id != line.item_id:
                errors.append(CellError(f"lines.{i}.item", t("link_other_item", number=source.number)))
                continue
            left = room.setdefault(source_line.id, open_qty(source_line, self.done_field))
            wanted = base_qty(line)
            if wanted > left:
                over.append((i, source, left))
            room[source_line.id] = left - wanted
            taken.append(Allocation(i, source_line, wanted, source))
            link(line, self.source_model or "", source, source_line)
        return taken, over, errors

    def give(self, doc: Any, lines: list[Any]) -> list[Allocation]:
        """What cancelling the document gives back to its sources: each linked line what it took from its
        source line; the others by item over the document named in source_number."""
        if self.source_model is None:
            return []
        linked = [i for i, line in enumerate(lines) if getattr(line, "source_line_id", None)]
        found = (
            self.ctx.source_lines(self.source_model, {lines[i].source_line_id for i in linked}, scoped=False)
            if linked
            else {}
        )
        given = [
            Allocation(i, found[lines[i].source_line_id][1], base_qty(lines[i]), found[lines[i].source_line_id][0])
            for i in linked
            if lines[i].source_line_id in found
        ]
        rest = [i for i in range(len(lines)) if i not in set(linked)]
        number = getattr(doc, "source_number", None)
        if rest and number:
            found_doc = self.ctx.submitted_document(self.source_model, number, scoped=False)
            if found_doc is not None:
                source, source_lines = found_doc
                back = give_back([lines[i] for i in rest], source_lines, self.done_field)
                given += [Allocation(rest[a.index], a.order_line, a.qty, source) for a in back]
        return given

    def check(self, doc: Any, lines: list[Any]) -> None:
        """Raise ValidationFailed when the document may not post (e.g. over the credit limit).

        For stock documents: the batch and serial rules of their lines (an override calls super)."""
        if self.moves_stock:
            check_lines(self.ctx, lines, self.qty_field)

    def new_line_values(self, session: Any, registry: Any, model: Any, doc: Any, values: dict[str, Any]) -> None:
        """Defaults for a line being added: unit from the item, price from the partner's last price."""

        line_defaults(session, registry, model, doc, values)

    def new_lines_values(self, session: Any, registry: Any, model: Any, doc: Any, values: list[dict[str, Any]]) -> None:
        """`new_line_values` for many lines being added at once (a chunk of `update_lines`): line by line here;
        a document whose defaults depend on the item alone may take them once per distinct item."""
        held = hold_linked(session, registry, registry.model(model.lines_model or ""), values)
        for one in values:
            self.new_line_values(session, registry, model, doc, one)
        del held

    def prepare_lines(
        self, session: Any, registry: Any, doc: Any, line_model: Any, lines: list[Any], row_ref: Any, new: list[bool]
    ) -> list[Any]:
        """Every line as the document is saved, new or changed: a blank tax rate takes the item's, and
        each line takes its unit's ratio (a unit the item has none for is a cell error, returned).

        `new[i]` says whether `lines[i]` is being added (not saved yet). A saved line is an ORM object of the
        session (its attribute history says what changed); a new one may be a plain object with an attribute
        per column (`update_lines` builds them without the ORM), so a rule reads and sets columns by name only."""

        if line_model.field("carried_amount") is not None:
            drop_edited_carried_amounts(lines, new)
        if line_model.field("tax_rate") is not None:
            fill_tax_rates(session, registry, lines)
        if line_model.field("unit_ratio") is not None:
            return take_unit_ratios(session, registry, lines, row_ref)
        return []

    def levels_added(self, doc: Any, lines: list[Any]) -> tuple[str, ...]:
        """The levels (names among `adds_levels`) this document needs beyond its amount bands, e.g. over budget;
        who approves each is approvals.yaml's `added_levels`."""
        return ()

    def check_cancel(self, doc: Any, lines: list[Any]) -> None:
        """Raise ValidationFailed when the document may not be cancelled (its status has already moved)."""

    def posted_text(self, doc: Any) -> str | None:
        """What posting did, when the document says it better than its stock effects (a payment)."""
        return None

    def cancelled_text(self, doc: Any) -> str | None:
        """What cancelling did, when the document says it better than its stock effects (a payment)."""
        return None

    def cancel_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        """Effects to apply after the reversing entries when the document is cancelled."""
        return []

    def after_cancel(self, doc: Any, lines: list[Any]) -> None:
        """Undo what after_post recorded elsewhere (e.g. delivered quantities on an order)."""

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        """The movements this document posts, in line order."""
        return []

    def after_post(self, doc: Any, lines: list[Any], moves: dict[tuple[int, str], Move]) -> None:
        """Record what posting learned on the lines: moves[(line_id, leg)] is what each leg posted (its
        unit cost and its exact value)."""

    def after_status(self, doc: Any) -> None:
        """What any change of the document's status (submit, approve, reject, cancel) or its lines closed moves
        beyond stock, in the same transaction (an order's month budgets: what they show spent)."""


CARRIED_FOR = ("qty", "unit_id", "price", "discount_rate")  # the columns a carried amount was worked out from


def drop_edited_carried_amounts(lines: list[Any], new: list[bool]) -> None:
    """A saved line whose quantity, unit, price or discount changed no longer takes its carried amount (下推's
    cents): its amount is qty x price again."""
    for line, is_new in zip(lines, new, strict=True):
        if is_new or getattr(line, "carried_amount", None) is None:
            continue
        attrs = inspect(line).attrs
        if any(attrs[name].history.has_changes() for name in CARRIED_FOR if name in attrs):
            line.carried_amount = None


def hold_linked(session: Any, registry: Any, line_model: Any, values: list[dict[str, Any]]) -> list[Any]:
    """The rows new lines link to, loaded in one query per link field and 5,000 ids, for the caller to hold while
    it works out the lines' defaults (which read them with session.get, answered from the session while held)."""
    held: list[Any] = []
    for spec in line_model.data_fields:
        if spec.type != "link" or not spec.to:
            continue
        ids = sorted({v for one in values if isinstance(v := one.get(spec.name), int)})
        cls = registry.cls(spec.to)
        for part in chunked(ids):
            held += session.scalars(select(cls).where(among(session, cls.id, list(part))))
    return held


def line_effect(
    index: int,
    line: Any,
    warehouse_id: int,
    direction: str,
    leg: str,
    *,
    qty: Decimal | None = None,
    unit_cost: Decimal | None = None,
    value: Decimal | None = None,
    cost_from: str | None = None,
    serials: tuple[str, ...] | None = None,
) -> Effect:
    """An Effect for a line with the usual item / qty / batch / serials columns."""
    return Effect(
        line_index=index,
        line_id=line.id,
        item_id=line.item_id,
        warehouse_id=warehouse_id,
        qty=Decimal(qty) if qty is not None else base_qty(line),
        direction=direction,
        leg=leg,
        batch=(getattr(line, "batch", None) or "").strip(),
        unit_cost=unit_cost,
        value=value,
        cost_from=cost_from,
        serials=tuple(parse_serials(getattr(line, "serials", None))) if serials is None else serials,
    )


def price_in_unit(price: Any, from_ratio: Any, to_ratio: Any) -> Decimal:
    """A price per unit of `from_ratio` base units as a price per unit of `to_ratio`, to the 4 places a line price
    keeps (10.00 a box of 7 is 1.4286 a piece: unrounded, a draft was refused on a price nobody typed)."""
    exact = Decimal(price) * Decimal(to_ratio or 1) / Decimal(from_ratio or 1)
    return exact.quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)


def source_price(line: Any, source_line: Any) -> Decimal | None:
    """The source line's price in the line's unit, as 下推 carries it (`price_in_unit`)."""
    if source_line.price is None:
        return None
    return price_in_unit(source_line.price, getattr(source_line, "unit_ratio", None), getattr(line, "unit_ratio", None))


@dataclass(frozen=True)
class Allocation:
    """How much of one line of this document fills one line of its source order."""

    index: int
    order_line: Any
    qty: Decimal
    order: Any = None  # the document of order_line


def same_partner(source: Any, doc: Any) -> bool:
    """A follow-on is for its source's partner (a purchase request names none)."""
    wanted = getattr(source, "partner_id", None)
    return wanted is None or wanted == getattr(doc, "partner_id", None)


def open_qty(line: Any, done_field: str) -> Decimal:
    """What a source line still has open (base units): its quantity less what follow-ons took and what
    was closed."""
    return base_qty(line) - Decimal(getattr(line, done_field) or 0) - Decimal(getattr(line, "closed_qty", None) or 0)


def _open_of_item(source_lines: list[Any], line: Any, done_field: str) -> Decimal:
    """What a source document still has open (base units) of a line's item, over all its lines of that item."""
    return sum((open_qty(ol, done_field) for ol in source_lines if ol.item_id == line.item_id), Decimal(0))


def link(line: Any, model_key: str, source: Any, source_line: Any) -> None:
    """Record on a follow-on line the source document and line it comes from."""
    line.source_model, line.source_id, line.source_line_id = model_key, source.id, source_line.id


def _spread(lines: list[Any], order_lines: list[Any], room: dict[int, Decimal]) -> tuple[list[Allocation], list[int]]:
    """Spread each line's qty over the order lines of the same item that still have `room`, in order.

    Returns the allocations and the indexes of lines that did not fit."""
    allocations, left_over = [], []
    for index, line in enumerate(lines):
        wanted = base_qty(line)
        for order_line in order_lines:
            if order_line.item_id != line.item_id or room[order_line.id] <= 0 or wanted <= 0:
                continue
            take = min(wanted, room[order_line.id])
            room[order_line.id] -= take
            wanted -= take
            allocations.append(Allocation(index, order_line, take))
        if wanted > 0:
            left_over.append(index)
    return allocations, left_over


def allocate(lines: list[Any], order_lines: list[Any], done_field: str) -> tuple[list[Allocation], list[int]]:
    """Fill the order's open quantities (qty - done_field); also the lines that asked for more than was open."""
    return _spread(lines, order_lines, {ol.id: open_qty(ol, done_field) for ol in order_lines})


def give_back(lines: list[Any], order_lines: list[Any], done_field: str) -> list[Allocation]:
    """What cancelling this document takes back from the order's done quantities."""
    return _spread(lines, order_lines, {ol.id: Decimal(getattr(ol, done_field) or 0) for ol in order_lines})[0]


def add_done(allocations: list[Allocation], done_field: str, sign: int = 1) -> None:
    """Count allocations on the order lines (sign -1 to take them back), and each order's 入库状态 / 出库状态 anew
    (its lines were read whole, under its lock, when they were taken from: `PostingContext.source_lines`)."""
    for allocation in allocations:
        current = Decimal(getattr(allocation.order_line, done_field) or 0)
        setattr(allocation.order_line, done_field, current + sign * allocation.qty)
    if FILL_STATUS.get(done_field) is None:
        return
    for order in {id(a.order): a.order for a in allocations if a.order is not None}.values():
        refresh_fill_status(order, order.lines, done_field)


# 入库状态 / 出库状态: the field of a source document's header that says how far follow-ons filled its lines, by the
# line quantity they fill (a purchase order's receipts, a sales order's deliveries)
FILL_STATUS = {"received_qty": "receipt_status", "delivered_qty": "delivery_status"}
NOT_FILLED, PARTLY_FILLED, FILLED = "none", "partly", "full"


def fill_status(lines: Iterable[Any], done_field: str) -> str:
    """How far follow-ons filled these lines: `full` when nothing is open on any of them (a line closed for its rest
    counts as done: nothing more is expected), `partly` when something was filled or closed and something is still
    open, `none` when nothing was filled or closed (an order without lines too)."""
    lines = list(lines)
    touched = any(getattr(line, done_field) or getattr(line, "closed_qty", None) for line in lines)
    if not touched:
        return NOT_FILLED
    return FILLED if all(open_qty(line, done_field) <= 0 for line in lines) else PARTLY_FILLED


def refresh_fill_status(doc: Any, lines: Iterable[Any], done_field: str) -> None:
    """Set the document's 入库状态 / 出库状态 from all its lines (read under its lock), where it has one; a value
    that did not change is not set (the order is not written for it)."""
    name = FILL_STATUS.get(done_field)
    if name is None or not hasattr(type(doc), name):
        return
    status = fill_status(lines, done_field)
    if getattr(doc, name) != status:
        setattr(doc, name, status)
