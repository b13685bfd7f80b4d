"""Posting documents to the stock ledger: submit (post), approve, reject and cancel (post reversing entries).

Concurrency: the document's status moves with one conditional UPDATE (a second submit finds it no
longer draft and gets 409); its stock effects are then written in the same transaction by a
StockWriter (app/services/stock/writer.py: the fixed lock order of balance rows, costing, batches and
serial numbers). SQLite write transactions start with BEGIN IMMEDIATE; `retrying` starts the work
again after a PostgreSQL deadlock or serialization failure, or when another posting moved a serial
number or created a stock's first balance row meanwhile.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import replace
from decimal import Decimal
from itertools import chain as chain_of
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, func, inspect, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.orm.attributes import set_committed_value

from app.clock import utcnow
from app.documents.base import DocumentBehaviour, line_effect, open_qty, refresh_fill_status
from app.documents.flow import closing_done_field, live_follow_ons
from app.documents.stocktake import stock_on_hand
from app.errors import CellError, Conflict, Forbidden, ValidationFailed
from app.i18n import label, t
from app.ledger.effects import IN, OUT, RELEASE, RESERVE, Effect
from app.ledger.serials import Place, listing
from app.ledger.serials import parse as parse_serials
from app.meta.spec import ModelSpec
from app.meta.status import Status
from app.services.access.rights import ADMIN_ROLE, Access
from app.services.money.budgets import budget_usage, refresh_usage
from app.services.money.cash import balances_now
from app.services.money.invoices import refuse_cancel_when_invoiced
from app.services.money.open_items import requested
from app.services.money.receivables import open_amount, open_orders, opening_open_amount, receivable
from app.services.records.audit import audit_change, change_row, write_change_row
from app.services.records.bulk import among, collector_paused
from app.services.records.computed import (
    apply_computed,
    apply_own_computed,
    compute_own_fields,
    line_inputs,
    own_inputs,
)
from app.services.records.query import base_select, get_row
from app.services.records.settings import policy
from app.services.records.with_commit import InsertRace
from app.services.stock.bulk import ReadRow, read_rows, write_changed, write_read_rows
from app.services.stock.opening import first_business_date
from app.services.stock.serials import SerialRace, Tracking, in_stock_at, item_tracking
from app.services.stock.writer import StockCarry, StockWriter

T = TypeVar("T")
RETRIES = 5


def retrying(session: Session, work: Callable[[], T], nested: bool = False) -> T:
    """Run `work` in a transaction, again from scratch after a deadlock or serialization failure (or a
    serial number another posting moved meanwhile, or a stock's first balance row another posting created first:
    the next attempt reads where it is now). `nested`: `work` runs in the caller's transaction (a document import
    that posts), each attempt in a savepoint of its own, and only that savepoint is rolled back before the next: what
    the caller wrote before it stays (a whole rollback took the import's earlier documents, and this document's
    draft with them)."""
    for attempt in range(RETRIES):
        savepoint = session.begin_nested() if nested else None
        try:
            done = work()
        except (SerialRace, InsertRace, OperationalError) as exc:
            _roll_back(session, savepoint)
            if isinstance(exc, SerialRace) and attempt == RETRIES - 1:
                raise Conflict(t("serial_race", serials=listing(exc.serials))) from exc
            if isinstance(exc, InsertRace) and attempt == RETRIES - 1:
                raise Conflict(t("stock_race")) from exc
            if isinstance(exc, OperationalError) and (
                getattr(exc.orig, "sqlstate", None) not in ("40001", "40P01") or attempt == RETRIES - 1
            ):
                raise
            continue
        except BaseException:
            if savepoint is not None and _open(savepoint):
                savepoint.rollback()  # the caller's savepoint or transaction decides the rest
            raise
        if savepoint is not None and _open(savepoint):
            savepoint.commit()
        return done
    raise AssertionError("unreachable")  # pragma: no cover


def _open(savepoint: Any) -> bool:
    """Is the savepoint still the session's innermost one (not released or rolled back by the work; a failed
    statement leaves it open, inactive, to be rolled back)?"""
    return savepoint.session.get_nested_transaction() is savepoint  # type: ignore[no-any-return]


def _roll_back(session: Session, savepoint: Any) -> None:
    """The attempt undone: its savepoint (the caller's transaction goes on, its objects read again), else the whole
    transaction."""
    if savepoint is None:
        session.rollback()
        return
    if _open(savepoint):
        savepoint.rollback()
    session.expire_all()  # rows the attempt changed past the ORM (status, balances) are read as they are again


def may_wait_for_approval(meta: Any, model_key: str) -> bool:
    """A document of `model_key` may wait for approval (待审批) when submitted: approvals.yaml has a chain for it (a
    behaviour that adds levels of its own, over budget, has one: the loader checks it names their roles)."""
    return model_key in meta.approvals


class PostingService:
    """Submit, approve, reject and cancel documents for one user."""

    def __init__(self, session: Session, access: Access, commit: bool = True, carry: StockCarry | None = None) -> None:
        self.session = session
        self.commit = commit  # False: each action only flushes, in the caller's transaction (a document import)
        # an import's check: stock valued in memory from what its earlier postings left, no balance row or customer
        # locked (StockCarry)
        self.carry = carry
        self.access = access
        self.registry = access.registry
        self.warnings: list[str] = []
        self.message = ""  # what the last action did, in the user's words (shown by the API and the page)
        self.comment = ""  # the approver's comment on approve / reject, kept in the audit row
        self._tracked: dict[int, Tracking] = {}
        self._limits: dict[int, Any] = {}  # partners' credit limits read with the document (`_submitted_at_once`)
        self._acting = False  # an action (submit, approve ...) under way: what it checks is read locked

    def _retrying(self, work: Callable[[], T]) -> T:
        """`work` in a transaction, retried from scratch; each attempt reads (and locks) items anew."""

        def attempt() -> T:
            self._tracked = {}  # read under the rolled-back attempt's locks: gone with them
            self._limits = {}
            if self.carry is not None:
                self.carry.drop()  # what a rolled-back attempt posted
            self._acting = True
            try:
                return work()
            finally:
                self._acting = False

        with collector_paused():  # a stocktake's 100,000 lines, effects, slots and moves: freed by refcounting
            return retrying(self.session, attempt, nested=not self.commit)

    def submit(self, model_key: str, pk: int, version: int | None = None) -> Any:
        """Draft -> submitted, posting the document's stock effects; returns the document."""
        return self._retrying(lambda: self._submit(model_key, pk, version))

    def cancel(self, model_key: str, pk: int, version: int | None = None) -> Any:
        """Submitted -> cancelled, posting entries that reverse every move of the document."""
        return self._retrying(lambda: self._cancel(model_key, pk, version))

    def approve(self, model_key: str, pk: int, version: int | None = None) -> Any:
        """Give the next approval level of a pending document; the last one posts it."""
        return self._retrying(lambda: self._approve(model_key, pk, version))

    def reject(self, model_key: str, pk: int, version: int | None = None) -> Any:
        """Send a pending document back to draft."""
        return self._retrying(lambda: self._reject(model_key, pk, version))

    def close(self, model_key: str, pk: int, line_ids: list[int] | None = None) -> Any:
        """关闭: the rest of these lines (every line when None) of a submitted order is no longer expected:
        counted in closed_qty, its reservation released; the order's close_status says partly or closed."""
        return self._retrying(lambda: self._close(model_key, pk, line_ids))

    # -- transitions ----------------------------------------------------------------------------

    def _document(self, model_key: str, pk: int, action: str) -> tuple[ModelSpec, Any]:
        model = self.registry.model(model_key)
        if model.kind != "document":
            raise ValidationFailed([CellError("_record", t("not_a_document"))])
        self.access.require(model.key, action)
        # locked as it is read: its lines and figures are read after any save of it that was under way
        return model, get_row(self.session, self.access, model, pk, lock=True)

    def _transition(self, model: ModelSpec, doc: Any, source: str, target: str, version: int | None) -> None:
        """Move the (locked) document's status; the columns the UPDATE wrote are set on it as returned."""
        key = ("status_update", model.key, version is not None)
        if key not in self.registry.cache:  # built once per metadata version, its values parameters
            table = self.registry.cls(model.key).__table__
            stmt = update(table).where(table.c.id == bindparam("pk"), table.c.status == bindparam("source"))
            if version is not None:
                stmt = stmt.where(table.c.version == bindparam("expected"))
            self.registry.cache[key] = stmt.values(
                status=bindparam("target", type_=table.c.status.type),
                version=table.c.version + 1,
                updated_at=bindparam("at", type_=table.c.updated_at.type),
                updated_by_id=bindparam("by", type_=table.c.updated_by_id.type),
            ).returning(table.c.status, table.c.version, table.c.updated_at, table.c.updated_by_id)
        values = {"pk": doc.id, "source": source, "target": target, "at": utcnow(), "by": self.access.user_id}
        changed = self.session.execute(self.registry.cache[key], values | {"expected": version}).first()
        if changed is None:
            # the row is locked and was read: still in `source`, it was only saved by someone else since the
            # client read it (the clerk is told that, not that the status moved, which it did not)
            edited = doc.status == source and version is not None and doc.version != version
            current = {"id": doc.id, "version": doc.version}
            if self.commit:
                self.session.rollback()
            if edited:
                raise Conflict(t("version_conflict", current=current["version"]), current=current)
            raise Conflict(t("status_changed", status=Status(source).text()))
        for name, value in changed._mapping.items():
            set_committed_value(doc, name, value)

    def _submitted_at_once(self, model_key: str, pk: int, version: int | None) -> tuple[ModelSpec, Any] | None:
        """Draft -> submitted as the document's lock read: one UPDATE … RETURNING the whole row (the lock an UPDATE
        takes, FOR NO KEY UPDATE, as `_document`'s read takes it) and, for a document naming a partner, the partner's
        credit limit (`credit_limit` reads nothing more for one without). Only where the target status does not
        depend on what is read (no approval chain, no extra approvals); None when not (or when nothing was updated:
        the caller reads the document as before, for the usual not-found or status-changed answer)."""
        model = self.registry.model(model_key)
        behaviour = self.registry.meta.handlers.behaviours.get(model.key)
        if model.kind != "document" or behaviour is None or may_wait_for_approval(self.registry.meta, model.key):
            return None
        self.access.require(model.key, "submit")
        scope = base_select(self.access, model).whereclause  # the rows the user may read, as get_row's

        def build() -> Any:
            cls = self.registry.cls(model.key)
            stmt = update(cls).where(cls.id == bindparam("pk"), cls.status == Status.DRAFT)
            if version is not None:
                stmt = stmt.where(cls.version == bindparam("expected"))
            if scope is not None:
                stmt = stmt.where(scope)
            limit = None
            partner = model.field("partner")
            if partner is not None and partner.to == "partner":
                other = self.registry.cls("partner").__table__
                limit = select(other.c.credit_limit).where(other.c.id == cls.partner_id).scalar_subquery()
            stmt = stmt.values(
                status=Status.SUBMITTED,
                version=cls.version + 1,
                updated_at=bindparam("at", type_=cls.__table__.c.updated_at.type),
                updated_by_id=bindparam("by", type_=cls.__table__.c.updated_by_id.type),
            )
            returned = stmt.returning(cls, limit.label("credit_limit")) if limit is not None else stmt.returning(cls)
            return returned.execution_options(synchronize_session=False, populate_existing=True), limit is not None

        key = ("submit_at_once", model.key, version is not None)
        stmt, with_limit = self.registry.kept(key, build) if scope is None else build()
        values = {"pk": pk, "at": utcnow(), "by": self.access.user_id, "expected": version}
        row = self.session.execute(stmt, values).first()
        if row is None:
            return None
        doc = row[0]
        if with_limit:
            self._limits[doc.partner_id] = row.credit_limit
        return model, doc

    def _check_period(self, doc: Any) -> None:
        """Refuse documents in a locked period unless the user's role (or the role a copy is of) may override it."""
        lock = policy(self.session, self.registry, "period_lock_date")
        overriders = set(policy(self.session, self.registry, "period_lock_override_roles") or [])
        if (
            lock
            and doc.date is not None
            and doc.date.isoformat() <= lock
            and not any(self.access.stands_for(role) for role in overriders)
        ):
            raise ValidationFailed([CellError("date", t("period_locked", date=lock))])

    def _submit(self, model_key: str, pk: int, version: int | None) -> Any:
        moved = self._submitted_at_once(model_key, pk, version)
        if moved is not None:
            model, doc = moved
            self._check_period(doc)  # refused after the UPDATE: the refusal rolls it back, as any refusal of posting
            return self._post_document(model, doc, Status.DRAFT)
        model, doc = self._document(model_key, pk, "submit")
        self._check_period(doc)
        chain = self.registry.meta.approvals.get(model.key)
        valued = None
        if chain is not None and chain.valued_at_posting:
            valued = self._valued(model, doc, chain)
            levels = self.required_levels(model, doc, valued)
        else:
            levels = self.required_levels(model, doc)
        if levels:
            self._transition(model, doc, Status.DRAFT, Status.PENDING, version)
            if valued is not None:  # what posting would value it at: its approvers see it, the chain reads it
                setattr(doc, model.field(chain.amount_field).column, valued)
            self._audit(model, doc, "submit", Status.DRAFT, Status.PENDING)
            self._status_moved(model, doc)
            self._done()
            self.message = t("outcome_pending", levels=len(levels), role=self._role_label(levels[0].role))
            return doc
        self._transition(model, doc, Status.DRAFT, Status.SUBMITTED, version)
        return self._post_document(model, doc, Status.DRAFT)

    def _valued(self, model: ModelSpec, doc: Any, chain: Any) -> Decimal:
        """The approval amount of a document whose amount posting values (a stocktake's 差异金额合计: its lines'
        difference at the stock ledger's cost as they post), as posting it now would make it, to the cent, with
        nothing written: its lines are read (ReadRows, never written), checked, turned into effects and valued as
        `_post_document` does it, by the one stock writer's costing (moving average or FIFO, the same rounding,
        under the same balance locks) in a dry run that keeps no move, balance, layer or serial; the lines posting
        would add or change first (a whole-warehouse count's stock no line counts, counted 0: the behaviour's
        `unposted`) are valued with them. A posting that would be refused refuses the submit. Submitting then posts
        once (needing no level) or not at all (it waits; the last approval posts it, at the costs then)."""
        behaviour = self.registry.behaviour(model.key, self)
        stock = StockWriter(self.session, self.registry, self.access.user_id, self.tracking, self.commit, dry=True)
        self._check_required(model, doc)
        changed, added = behaviour.unposted(doc)
        line_model = self.registry.model(model.lines_model or "")
        table = self.registry.cls(line_model.key).__table__
        names = tuple(column.name for column in table.c)
        extra = [ReadRow(names, [None] * len(names)) for _ in added]
        for n, (row, values) in enumerate(zip(extra, added, strict=True), start=1):
            row.__dict__.update(values, id=-n, parent_id=doc.id)  # never written: an id no line has
        wanted = line_inputs(self.registry, model) or tuple(spec.name for spec in line_model.data_fields)
        summed: list[dict[str, Any]] = []
        errors: list[CellError] = []
        chunks = self._line_chunks(model, doc, behaviour.line_chunk or sys.maxsize)
        # where posting would add them: after its last line
        held = self.session.scalar(select(func.count()).select_from(table).where(table.c.parent_id == doc.id)) or 0
        added_places = list(range(held, held + len(extra)))
        for places, lines, _last in chain_of(chunks, [(added_places, extra, True)] if extra else []):
            for line in lines:
                for name, value in changed.get(line.id, {}).items():
                    setattr(line, name, value)
            try:
                apply_computed(self.registry, model, doc, lines, whole=False)
                behaviour.validate(doc, lines)
                effects = behaviour.stock_effects(doc, lines)
            except ValidationFailed as exc:
                errors += _placed(exc.errors, places)
            if errors:
                continue  # every chunk's cells are checked before the refusal, as posting checks them
            try:
                moves = stock.post(model, doc, effects, write=False, dated=True)
            except ValidationFailed as exc:
                raise ValidationFailed(_placed(exc.errors, places), exc.summary) from exc
            behaviour.after_post(doc, lines, moves)
            apply_computed(self.registry, model, doc, lines, whole=False)
            summed += [{name: getattr(line, line_model.field(name).column) for name in wanted} for line in lines]
        if errors:
            raise ValidationFailed(errors)
        values = {spec.name: getattr(doc, spec.column) for spec in model.data_fields}
        compute_own_fields(self.registry, model, values, summed)
        return values[chain.amount_field]

    def _approve(self, model_key: str, pk: int, version: int | None) -> Any:
        model, doc = self._document(model_key, pk, "approve")
        if doc.status != Status.PENDING:
            raise Conflict(t("status_changed", status=Status.PENDING.text()))
        levels = self.required_levels(model, doc)
        step = doc.approval_step or 0
        level = levels[step] if step < len(levels) else None
        # who approves a level: a role of it, or a copy of that role (`Access.stands_for`), or an admin; the audit
        # row names the approver's own role (a copy's name, not its original's)
        own = self.access.stands_for(level.role) if level is not None else None
        if level is not None and own is None and not self.access.is_admin:
            raise Forbidden(t("approval_role", role=self._role_label(level.role)))
        marks = self._check_duties(doc)
        if level is not None:
            marks["approved_as"] = own or ADMIN_ROLE
        self._check_period(doc)
        if step + 1 < len(levels):
            self._level_given(model, doc, step, marks)
            self.message = t(
                "outcome_approved_level",
                level=step + 1,
                levels=len(levels),
                role=self._role_label(levels[step + 1].role),
            )
            return doc
        chain = self.registry.meta.approvals.get(model.key)
        if chain is not None and chain.valued_at_posting:
            # posting values it at the costs of now: an amount grown past another level since it was submitted
            # waits for that level too, never posting at a size nobody approved (levels only add up with the amount)
            valued = self._valued(model, doc, chain)
            grown = self.required_levels(model, doc, valued)
            if len(grown) > step + 1:
                amount = model.field(chain.amount_field)
                self._level_given(model, doc, step, marks, {amount.column: valued})
                self.message = t(
                    "outcome_revalued",
                    field=label(amount.label, amount.name),  # no figure: the page shows it as the reader may read it
                    level=step + 1,
                    levels=len(grown),
                    role=self._role_label(grown[step + 1].role),
                )
                return doc
        self._transition(model, doc, Status.PENDING, Status.SUBMITTED, version)
        doc.approval_step = step + 1  # the last level counts too
        posted = self._post_document(model, doc, Status.PENDING, action="approve", level=step + 1, **marks)
        self.message = t("outcome_approved_all", levels=max(len(levels), 1), posted=self.message)
        return posted

    def _level_given(
        self, model: ModelSpec, doc: Any, step: int, marks: dict[str, Any], values: dict[str, Any] | None = None
    ) -> None:
        """Level `step + 1` of the pending document is given and it waits for the next (with `values` set on it:
        the amount a stocktake is valued at now); audited; a concurrent approval or status change is a conflict."""
        cls = self.registry.cls(model.key)
        changed = self.session.execute(
            update(cls)
            .where(cls.id == doc.id, cls.status == Status.PENDING, cls.approval_step == step)
            .values({**(values or {}), "approval_step": step + 1, "version": cls.version + 1, "updated_at": utcnow()})
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:
            self.session.rollback()
            raise Conflict(t("status_changed", status=Status.PENDING.text()))
        self.session.refresh(doc)
        self._audit(model, doc, "approve", Status.PENDING, Status.PENDING, level=step + 1, **marks)
        self._done()

    def _check_duties(self, doc: Any) -> dict[str, Any]:
        """Segregation of duties (a setting, on by default): the creator of a document does not approve it.
        An admin may; the audit row then says the approver approved their own document."""
        own = doc.created_by_id == self.access.user_id
        if not own or not policy(self.session, self.registry, "creator_cannot_approve"):
            return {}
        if not self.access.is_admin:
            raise Forbidden(t("own_document_approval"))
        return {"own_document": True}

    def _reject(self, model_key: str, pk: int, version: int | None) -> Any:
        model, doc = self._document(model_key, pk, "approve")
        self._transition(model, doc, Status.PENDING, Status.DRAFT, version)
        doc.approval_step = 0
        chain = self.registry.meta.approvals.get(model.key)
        if chain is not None and chain.valued_at_posting:
            # the amount it waited with was what posting would have valued it at: a draft again, it shows what its
            # lines make, as a save would (a stocktake's 差异金额合计: its lines' amounts, empty until it posts)
            apply_own_computed(self.session, self.registry, model, doc)
        self._audit(model, doc, "reject", Status.PENDING, Status.DRAFT)
        self._status_moved(model, doc)
        self._done()
        self.message = t("rejected_ok")
        return doc

    def required_levels(self, model: ModelSpec, doc: Any, amount: Decimal | None = None) -> tuple[Any, ...]:
        """Approval levels from approvals.yaml by amount (the document's, or `amount`: what posting would value it
        at), plus any the document adds (over budget), each with the role approvals.yaml names for it."""
        chain = self.registry.meta.approvals.get(model.key)
        if chain is None:
            return ()
        levels = chain.required(getattr(doc, chain.amount_field) if amount is None else amount)
        lines = DocumentLines(doc) if model.lines_model else []
        added = [chain.added_level(name) for name in self.registry.behaviour(model.key, self).levels_added(doc, lines)]
        return levels + tuple(level for level in added if level.role not in {lv.role for lv in levels})

    def _post_document(
        self, model: ModelSpec, doc: Any, before_status: str, action: str = "submit", **marks: Any
    ) -> Any:
        """Post the stock effects of a document that just became submitted, and commit.

        One path for every document: its lines in chunks (`_line_chunks`), each checked, turned into effects,
        posted through the one stock writer and given back what posting learned, in the one transaction. A
        document whose behaviour has no `line_chunk` is one chunk of all its lines (its checks span lines: a
        credit limit, a serial on two lines, what follow-ons take from an order); a stocktake reads 5,000
        lines at a time and lets each chunk go before the next. Bad cells are named by their place in the
        whole document; the cells of every chunk are checked before a refusal. A chunk's lines are written once,
        what was computed before posting with what posting set on them (one UPDATE, not two). The audit row (with the
        number of moves) is written by the last chunk's statement of moves and balances, the serials stored after it
        posts."""
        behaviour = self.registry.behaviour(model.key, self)
        moves_more = type(behaviour).after_status is not DocumentBehaviour.after_status
        stock = self._stock_writer()
        behaviour.prepare_post(doc)
        self._check_required(model, doc)
        self.session.flush()  # what it changed is written before the lines are read anew
        whole = behaviour.line_chunk is None
        errors: list[CellError] = []
        count, directions = 0, set()
        for places, lines, last in self._line_chunks(model, doc, behaviour.line_chunk):
            # a chunk's lines are written once, at its end: nothing its checks and posting read is a line of it
            with nullcontext() if whole else self.session.no_autoflush:
                try:
                    apply_computed(self.registry, model, doc, lines, whole)  # the lines' money as their values make it
                    if whole:  # written set-based now, not one UPDATE a line at the next flush
                        write_changed(self.session, lines)
                    behaviour.validate(doc, lines)
                    effects = behaviour.stock_effects(doc, lines)
                except ValidationFailed as exc:
                    errors += _placed(exc.errors, places)
                if not errors:  # once a chunk is refused nothing more posts: the rest are only checked
                    count += len(effects)
                    directions.update(e.direction for e in effects)
                    if last:  # audited in the statement of the moves (the same transaction: a refusal takes it back)
                        stock.audit(
                            self._audit_row(
                                model,
                                doc,
                                action,
                                before_status,
                                Status.SUBMITTED,
                                **_moves_noted("moves", count),
                                **marks,
                            )
                        )
                    try:
                        moves = stock.post(model, doc, effects, write=False, dated=True)  # written by stock.write
                    except ValidationFailed as exc:
                        raise ValidationFailed(_placed(exc.errors, places), exc.summary) from exc
                    behaviour.after_post(doc, lines, moves)
                    if not whole:
                        apply_computed(self.registry, model, doc, self._inputs_set(model, lines), whole)
                    elif self._computed_inputs_set(model, doc, lines):
                        apply_computed(self.registry, model, doc, lines, whole)
                # the moves and balances, and what posting set on the lines (their cost), set-based: the lines in
                # the statement of the moves and balances (one round trip under the locks)
                if whole:  # its last statement: with the commit, where this posting commits (unless its behaviour
                    # reads what was posted after it: an order's budgets read its lines)
                    write_changed(
                        self.session, lines, lambda rows: stock.write(rows, last=self.commit and not moves_more)
                    )
                else:  # a chunk's lines in the statement of its moves and balances too
                    write_read_rows(self.session, self.registry.cls(model.lines_model).__table__, lines, stock.write)
                if last and not errors:
                    stock.save_serials()
            if not whole:
                self._let_go()  # the chunk's lines go with the loop's reference to them
        if errors:
            raise ValidationFailed(errors)
        if not whole:
            apply_own_computed(self.session, self.registry, model, doc)  # its totals, from every line
        self.session.flush()
        behaviour.after_status(doc)
        self._done(doc)
        self.message = behaviour.posted_text(doc) or _posted_text(directions)
        return doc

    def _check_required(self, model: ModelSpec, doc: Any) -> None:
        """A required header field left empty (a row written around the write path: an older database, a direct
        insert) is refused naming it, before anything posts: it reached posting and answered 500."""
        errors = [
            CellError(spec.name, t("required_to_submit", field=label(spec.label, spec.name)))
            for spec in model.required_fields
            if not spec.system and not spec.compute and getattr(doc, spec.column, None) is None
        ]
        if errors:
            raise ValidationFailed(errors)

    def _line_chunks(
        self, model: ModelSpec, doc: Any, size: int | None
    ) -> Iterator[tuple[list[int] | None, list[Any], bool]]:
        """(places, lines, last) for each chunk of the document's lines: one of all of them in line order (the
        document's own list, `places` None) when `size` is None; else `size` at a time as the database has them
        now, in (item, batch, line) order, each line's place in the document in `places`, each line its columns as
        a ReadRow (not an ORM object: what it is set is written by `write_read_rows`). Taken in item order, each
        chunk's stock keys follow the one before's: the balance rows are still locked in the one fixed order,
        chunk after chunk, as for a document posted at once; an item's lines are never split between chunks, so
        what a check compares across one item's lines (a serial counted twice) is checked as for the whole
        document. A document without lines is one chunk of none."""
        if not model.lines_model or size is None:
            yield None, list(doc.lines) if model.lines_model else [], True
            return
        line_cls = self.registry.cls(model.lines_model)
        mine = line_cls.parent_id == doc.id
        place = {
            line_id: n
            for n, line_id in enumerate(
                self.session.scalars(select(line_cls.id).where(mine).order_by(line_cls.line_no, line_cls.id))
            )
        }
        batch = getattr(line_cls, "batch", None)
        order = [line_cls.item_id] + ([func.coalesce(batch, "")] if batch is not None else [])
        order += [line_cls.line_no, line_cls.id]
        ordered = self.session.execute(select(line_cls.id, line_cls.item_id).where(mine).order_by(*order)).all()
        parts = _item_aligned(ordered, size)
        table = line_cls.__table__
        for n, part in enumerate(parts, start=1):
            found = {
                line.id: line
                for line in read_rows(self.session, table, and_(mine, among(self.session, table.c.id, part)))
            }
            yield [place[i] for i in part], [found[i] for i in part], n == len(parts)

    def _inputs_set(self, model: ModelSpec, lines: list[Any]) -> list[Any]:
        """The lines (ReadRows) on which something their computed fields read was set since they were read (by what
        posting learned): the others' computed fields are as they were computed before posting."""
        inputs = own_inputs(self.registry, self.registry.model(model.lines_model or ""))
        return lines if inputs is None else [line for line in lines if not inputs.isdisjoint(line.changed())]

    def _computed_inputs_set(self, model: ModelSpec, doc: Any, lines: list[Any]) -> bool:
        """Did the checks or posting set something the computed fields of a whole document (ORM rows) read, since
        they were computed and written? Anything set on the document itself counts (its lines read its header);
        on a line, what its own computed fields read. A delivery's posting sets the lines' cost, which none reads:
        its money is not computed a second time."""
        if inspect(doc).committed_state:
            return True
        if not model.lines_model:
            return False
        inputs = own_inputs(self.registry, self.registry.model(model.lines_model or ""))
        return any(inputs is None or not inputs.isdisjoint(inspect(line).committed_state) for line in lines)

    def _status_moved(self, model: ModelSpec, doc: Any) -> None:
        """What the document's behaviour moves beyond stock when its status changes (`after_status`)."""
        self.registry.behaviour(model.key, self).after_status(doc)

    def _let_go(self) -> None:
        """A posted chunk of lines is let go of: written, they were never the session's (ReadRows), nor is what was
        read for them kept."""
        self.session.flush()
        self._tracked = {}

    def _done(self, doc: Any = None) -> None:
        """The end of an action: commit (or, inside a caller's transaction, flush). The document and its lines
        keep what they hold after the commit: it is what was just written (the answer reads them without a query)."""
        if not self.commit:
            self.session.flush()
            return
        kept = [] if doc is None else [doc, *(doc.__dict__.get("lines") or ())]
        commit_keeping(self.session, kept)

    def _role_label(self, role: str) -> str:
        spec = self.registry.meta.roles.get(role)
        return label(spec.label, role) if spec is not None else role

    def _stock_writer(self) -> StockWriter:
        """A fresh writer for the stock side of one posting (its serials are read anew each attempt)."""
        return StockWriter(
            self.session, self.registry, self.access.user_id, self.tracking, rollback=self.commit, carry=self.carry
        )

    def _audit(self, model: ModelSpec, doc: Any, action: str, before: str, after: str, **extra: Any) -> None:
        write_change_row(self.session, self._audit_row(model, doc, action, before, after, **extra))

    def _audit_row(
        self, model: ModelSpec, doc: Any, action: str, before: str, after: str, **extra: Any
    ) -> dict[str, Any]:
        """The audit row of an action on the document: its status before and after, and what the action adds."""
        if self.comment and action in ("approve", "reject"):
            extra["comment"] = self.comment
        return change_row(self.access, model.key, doc.id, action, {"status": before}, {"status": after, **extra})

    def _cancel(self, model_key: str, pk: int, version: int | None) -> Any:
        model, doc = self._document(model_key, pk, "approve")
        self._check_period(doc)
        self._transition(model, doc, Status.SUBMITTED, Status.CANCELLED, version)
        # checked under the document's lock: a follow-on submitting now waits for it, then finds it cancelled
        live = live_follow_ons(self.session, self.registry, model.key, doc)
        if live:
            raise ValidationFailed([CellError("_record", t("cancel_has_follow_ons", numbers="、".join(live)))])
        refuse_cancel_when_invoiced(model.key, doc)
        stock = self._stock_writer()
        lines = DocumentLines(doc) if model.lines_model else []  # read if a behaviour asks (a stocktake's do not)
        behaviour = self.registry.behaviour(model.key, self)
        behaviour.check_cancel(doc, lines)
        # what the cancel posts after the reversal (a delivery re-reserves for its order, maybe in another
        # warehouse) is locked with it, in the one order: the source order first, then every balance row
        effects = behaviour.cancel_effects(doc, lines)
        reversed_moves = stock.reverse(model, doc, also=[(e.item_id, e.warehouse_id, e.batch) for e in effects])
        stock.post(model, doc, effects)
        stock.save_serials()
        behaviour.after_cancel(doc, lines)
        self.session.flush()
        self._audit(
            model, doc, "cancel", Status.SUBMITTED, Status.CANCELLED, **_moves_noted("reversed", reversed_moves)
        )
        behaviour.after_status(doc)
        self._done()
        self.message = (
            _cancelled_text(reversed_moves, effects) or behaviour.cancelled_text(doc) or t("outcome_cancelled")
        )
        return doc

    def _close(self, model_key: str, pk: int, line_ids: list[int] | None) -> Any:
        model, doc = self._document(model_key, pk, "close")
        line_model = self.registry.model(model.lines_model or "")
        if line_model.field("closed_qty") is None:
            raise ValidationFailed([CellError("_record", t("close_not_an_order"))])
        cls = self.registry.cls(model.key)
        locked = self.session.execute(
            select(cls).where(cls.id == doc.id, cls.status == Status.SUBMITTED).with_for_update()
        ).scalar_one_or_none()
        if locked is None:
            raise Conflict(t("status_changed", status=Status.SUBMITTED.text()))
        _, done_field = closing_done_field(self.registry, model.key)
        lines = self._lines_of(model.key, [doc.id])
        wanted = set(line_ids) if line_ids is not None else {line.id for line in lines}
        unknown = wanted - {line.id for line in lines}
        if unknown:
            raise ValidationFailed(
                [CellError("lines", t("close_unknown_lines", ids=", ".join(map(str, sorted(unknown)))))]
            )
        effects, closed = [], {}
        for index, line in enumerate(lines):
            rest = open_qty(line, done_field) if line.id in wanted else Decimal(0)
            if rest <= 0:
                continue
            closed[line.id] = rest
            line.closed_qty = Decimal(line.closed_qty or 0) + rest
            if self.registry.behaviour(model.key).reserves:
                effects.append(line_effect(index, line, doc.warehouse_id, RELEASE, "close", qty=rest))
        if not closed:
            raise ValidationFailed([CellError("lines", t("close_nothing_open"))])
        self._stock_writer().post(model, doc, effects)
        doc.close_status = "closed" if all(open_qty(line, done_field) <= 0 for line in lines) else "partly"
        refresh_fill_status(doc, lines, done_field)  # a closed rest counts as done
        doc.version = (doc.version or 0) + 1
        doc.updated_at, doc.updated_by_id = utcnow(), self.access.user_id
        self.session.flush()
        audit_change(
            self.session,
            self.access,
            model.key,
            doc.id,
            "close",
            {"close_status": None},
            {"close_status": doc.close_status, "closed": {str(k): str(v) for k, v in closed.items()}},
        )
        self._status_moved(model, doc)
        self._done()
        self.message = t("closed_ok", count=len(closed))
        return doc

    # -- look-ups for document behaviours (their `ctx`) ------------------------------------------

    def row(self, model_key: str, pk: int | None) -> Any:
        """A row by id (None for None)."""
        return None if pk is None else self.session.get(self.registry.cls(model_key), pk)

    def submitted_document(self, model_key: str, number: str, scoped: bool = True) -> tuple[Any, list[Any]] | None:
        """A submitted document by number, locked for update, with its lines (None if there is none, or
        when `scoped` and the user may not read it)."""
        cls = self.registry.cls(model_key)
        stmt = select(cls).where(cls.number == number, cls.status == Status.SUBMITTED)
        if scoped:
            stmt = self._scoped(model_key, stmt)
            if stmt is None:
                return None
        locked = stmt.with_for_update().execution_options(populate_existing=True)
        doc = self.session.execute(locked).scalar_one_or_none()
        if doc is None:
            return None
        return doc, self._lines_of(model_key, [doc.id], docs={doc.id: doc})

    def source_lines(
        self, model_key: str, line_ids: Collection[int], scoped: bool = True
    ) -> dict[int, tuple[Any, Any]]:
        """Lines of submitted `model_key` documents by id, each with its document; the documents locked
        for update in id order (follow-ons take from their open quantities one at a time). When `scoped`,
        lines of documents the user may not read are left out."""
        cls, line_cls = self.registry.cls(model_key), self.registry.cls(f"{model_key}_line")
        parents = select(line_cls.parent_id).where(line_cls.id.in_(list(line_ids)))
        stmt = select(cls).where(cls.id.in_(parents), cls.status == Status.SUBMITTED)
        if scoped:
            stmt = self._scoped(model_key, stmt)
            if stmt is None:
                return {}
        locked = stmt.order_by(cls.id).with_for_update().execution_options(populate_existing=True)
        docs = {d.id: d for d in self.session.scalars(locked)}
        wanted = set(line_ids)
        return {
            line.id: (docs[line.parent_id], line)
            for line in self._lines_of(model_key, list(docs), docs=docs)
            if line.id in wanted
        }

    def _scoped(self, model_key: str, stmt: Any) -> Any:
        """`stmt` limited to the rows the user may read (None when they may read none of the model)."""
        model = self.registry.model(model_key)
        if not self.access.can(model_key, "read"):
            return None
        scope = self.access.scope(model)
        return stmt if scope is None else stmt.where(scope)

    def _lines_of(self, model_key: str, doc_ids: list[int], docs: dict[int, Any] | None = None) -> list[Any]:
        """The lines of these documents as the database has them now (read after the documents' lock); given the
        documents (`docs` by id), each one's `lines` are these, read in the same query (what follow-ons fill on
        them is counted on the whole document: its 入库状态 / 出库状态)."""
        line_cls = self.registry.cls(f"{model_key}_line")
        stmt = select(line_cls).where(line_cls.parent_id.in_(doc_ids)).order_by(line_cls.parent_id, line_cls.line_no)
        lines = list(self.session.scalars(stmt.execution_options(populate_existing=True)))
        if docs:
            mine: dict[int, list[Any]] = {doc_id: [] for doc_id in docs}
            for line in lines:
                mine[line.parent_id].append(line)
            for doc_id, found in mine.items():
                set_committed_value(docs[doc_id], "lines", found)
        return lines

    def returned_serials(self, model_key: str, source: Any, exclude: int) -> dict[int, set[str]]:
        """Serials per item that submitted `model_key` returns (but `exclude`) took back from `source`:
        their lines linked to it, and unlinked lines of returns naming it in source_number."""
        doc, line = self.registry.cls(model_key), self.registry.cls(f"{model_key}_line")
        rows = self.session.execute(
            select(line.item_id, line.serials)
            .join(doc, doc.id == line.parent_id)
            .where(
                doc.status == Status.SUBMITTED,
                doc.id != exclude,
                or_(
                    and_(line.source_model == source.__jxc_model__, line.source_id == source.id),
                    and_(line.source_line_id.is_(None), doc.source_number == source.number),
                ),
            )
        )
        found: dict[int, set[str]] = {}
        for item_id, serials in rows:
            found.setdefault(item_id, set()).update(parse_serials(serials))
        return found

    def open_amount(self, model_key: str, doc: Any, exclude: int | None = None) -> Decimal:
        """What is still owed on a delivery or receipt: its total less the returns naming it, less what
        submitted payments (but `exclude`) allocated to it."""
        return open_amount(self.session, self.registry, model_key, doc, exclude)

    def opening_open_amount(self, doc: Any, partner_id: int, side: str, exclude: int | None = None) -> Decimal | None:
        """What is still owed on an opening balance's lines of one partner and side (None: it has none)."""
        return opening_open_amount(self.session, self.registry, doc, partner_id, side, exclude)

    def first_business_date(self) -> Any:
        """The date of the earliest business document that posted (None when there is none)."""
        return first_business_date(self.session, self.registry)

    def requested_amount(self, number: str, exclude: int | None = None) -> Decimal:
        """What live, unpaid payment requests (but `exclude`) ask for one receipt."""
        return requested(self.session, self.registry, [number], exclude).get(number, Decimal(0))

    def shows(self, model_key: str, *fields: str) -> bool:
        """May the user see these fields of the model (masks, kinds of figure)?"""
        model = self.registry.model(model_key)
        specs = [model.field(name) for name in fields]
        return all(spec is not None and self.access.can_see(model, spec) for spec in specs)

    def unseen_inputs(self, model_key: str) -> dict[str, str]:
        """The fields of the document's lines a person enters that carry a figure the user may not see, with their
        labels (none for a document without lines)."""
        lines_model = self.registry.model(model_key).lines_model
        if lines_model is None:
            return {}
        model = self.registry.model(lines_model)
        return {
            spec.name: label(spec.label, spec.name)
            for spec in model.figure_inputs
            if not self.access.can_see(model, spec)
        }

    def model_label(self, model_key: str) -> str:
        """The model's name as people read it."""
        return label(self.registry.model(model_key).label, model_key)

    def credit_limit(self, partner_id: int) -> Decimal | None:
        """The customer's credit limit (None: no limit). A customer with one is locked (FOR NO KEY UPDATE,
        which documents naming them do not wait for) until the posting commits: their credit checks run
        one after the other."""
        if partner_id in self._limits and not self._limits[partner_id]:
            return None  # read with the document, in this transaction: none to lock
        key = ("credit_limit", self.session.get_bind().dialect.name)
        if key not in self.registry.cache:  # built once per metadata version, the partner a parameter
            table = self.registry.cls("partner").__table__
            stmt = select(table.c.credit_limit).where(table.c.id == bindparam("partner"))
            self.registry.cache[key] = (stmt, stmt.with_for_update(key_share=True))
        read, lock = self.registry.cache[key]
        limit = self.session.execute(read, {"partner": partner_id}).scalar()
        if not limit:
            return None
        if self.carry is None:  # a check's reads it unlocked: nobody's posting waits for a check
            limit = self.session.execute(lock, {"partner": partner_id}).scalar()
        return Decimal(limit) if limit and limit > 0 else None

    def receivable(self, partner_id: int) -> Decimal:
        """What the customer owes now."""
        return receivable(self.session, self.registry, partner_id)

    def open_orders(self, partner_id: int, exclude: int | None = None) -> Decimal:
        """What the customer's submitted orders (but `exclude`) still have to deliver."""
        return open_orders(self.session, self.registry, partner_id, exclude)

    def policy(self, key: str) -> Any:
        """A policy switch in force."""
        return policy(self.session, self.registry, key)

    def warn(self, key: str, **params: Any) -> None:
        """A message for the user that does not stop the posting (shown after submit)."""
        message = t(key, **params)
        if message not in self.warnings:
            self.warnings.append(message)

    def tracking(self, item_ids: Collection[int]) -> dict[int, Tracking]:
        """The batch / serial flags of these items (read once per posting service, or per chunk of lines)."""
        missing = {i for i in item_ids if i is not None and i not in self._tracked}
        if missing:
            self._tracked.update(item_tracking(self.session, self.registry, missing))
        held = self._tracked
        if (
            not missing
            and isinstance(item_ids, (set, frozenset))
            and len(item_ids) == len(held)
            and None not in item_ids
        ):
            return dict(held)  # the very items held (a chunk's 5,000, asked for again): copied whole, in C
        return {i: self._tracked[i] for i in item_ids if i in self._tracked}

    def stock_on_hand(self, warehouse_id: int, category_id: int | None) -> list[tuple[int, str, Decimal]]:
        """(item, batch, qty) of every stock not at zero in the warehouse (items of the category, when given)."""
        return stock_on_hand(self.session, self.registry, warehouse_id, category_id)

    def add_lines(self, doc: Any, model_key: str, rows: list[dict[str, Any]]) -> None:
        """New lines of `doc` with these column values after its last, flushed (its `lines` read anew if asked)."""
        if not rows:
            return
        line_cls = self.registry.cls(f"{model_key}_line")
        last = self.session.execute(select(func.max(line_cls.line_no)).where(line_cls.parent_id == doc.id)).scalar()
        now, user = utcnow(), self.access.user_id
        stamp = {"created_at": now, "created_by_id": user, "updated_at": now, "updated_by_id": user}
        self.session.add_all(
            line_cls(parent_id=doc.id, line_no=(last or 0) + n, **stamp, **values) for n, values in enumerate(rows, 1)
        )
        self.session.flush()
        self.session.expire(doc, ["lines"])

    def line_slots(self, doc: Any, model_key: str) -> list[tuple[int, int, str, Decimal | None]]:
        """(line id, item, batch stripped, qty counted) of each line of a stocktake, in line order."""
        line_cls = self.registry.cls(f"{model_key}_line")
        rows = self.session.execute(
            select(line_cls.id, line_cls.item_id, line_cls.batch, line_cls.counted_qty)
            .where(line_cls.parent_id == doc.id)
            .order_by(line_cls.line_no, line_cls.id)
        )
        return [(line_id, item_id, (batch or "").strip(), qty) for line_id, item_id, batch, qty in rows]

    def serials_in_stock(self, item_id: int, warehouse_id: int, batch: str, at: Any = None) -> set[str]:
        """The item's serials in stock in this warehouse and batch as of `at` (now when None)."""
        return in_stock_at(self.session, item_id, Place(warehouse_id, batch), at)

    def account_balances(self, account_ids: Collection[int]) -> dict[int, tuple[str, Decimal]]:
        """Code and balance now (this posting included) of these cash / bank accounts, locked for update."""
        return balances_now(self.session, self.registry, account_ids)

    def budget_usage(self, doc: Any, lines: list[Any]) -> dict[str, tuple[Decimal, Decimal]]:
        """Per budgeted category of this order's items: (budget, spent this month including this order); read with the
        month's budgets locked in an action (two orders submitted at once are checked one after the other), not when
        only the levels are asked (the 待审批 inbox of every request)."""
        return budget_usage(self.session, self.registry, doc, lines, lock=self._acting)

    def refresh_budgets(self, doc: Any) -> None:
        """Write what the order's month budgets show spent (and remaining) as its orders stand now."""
        if doc.date is not None:
            self.session.flush()
            refresh_usage(self.session, self.registry, doc.date)


def commit_keeping(session: Session | scoped_session[Session], kept: list[Any]) -> None:
    """Commit; the `kept` rows keep their loaded values, every other row of the session expires as a commit
    expires it."""
    real = session() if isinstance(session, scoped_session) else session
    expiring = real.expire_on_commit
    real.expire_on_commit = False
    try:
        real.commit()
    finally:
        real.expire_on_commit = expiring
    if expiring:
        ids = {id(row) for row in kept}
        for row in list(real.identity_map.values()):
            if id(row) not in ids:
                real.expire(row)


def _moves_noted(key: str, count: int) -> dict[str, int]:
    """The stock moves an action wrote or reversed, for its audit row; nothing when there were none (an order
    writes none: its history said 库存流水条数：— → 0)."""
    return {key: count} if count else {}


def _placed(errors: list[CellError], places: list[int] | None) -> list[CellError]:
    """Cell errors of a chunk of lines (`lines.<i>...`, i its place in the chunk) named by each line's place in
    the whole document (`places`; None: the chunk is the whole document)."""
    if places is None:
        return errors
    placed = []
    for error in errors:
        head, _, rest = error.field.partition(".")
        index, dot, tail = rest.partition(".")
        if head == "lines" and index.isdigit():
            error = replace(error, field=f"lines.{places[int(index)]}{dot}{tail}")
        placed.append(error)
    return placed


class DocumentLines(Sequence[Any]):
    """A document's lines, read (as `doc.lines`) only when something asks for them: a stocktake's approval
    levels do not, and its 100,000 lines are not read whole to learn that."""

    def __init__(self, doc: Any) -> None:
        self._doc = doc

    def __len__(self) -> int:
        return len(self._doc.lines)

    def __getitem__(self, index: Any) -> Any:
        return self._doc.lines[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._doc.lines)


def _item_aligned(ordered: list[Any], size: int) -> list[list[int]]:
    """Line ids, (id, item_id) in item order, cut into parts of about `size`: a part ends only where an item does."""
    parts: list[list[int]] = [[]]
    previous = None
    for line_id, item_id in ordered:
        if len(parts[-1]) >= size and item_id != previous:
            parts.append([])
        parts[-1].append(line_id)
        previous = item_id
    return parts


def _posted_text(directions: set[str]) -> str:
    """What posting moves in these directions did: moved stock, reserved it for an order, or only changed the status."""
    if directions & {IN, OUT}:
        return t("submitted_ok")
    return t("outcome_reserved") if RESERVE in directions else t("outcome_submitted")


def _cancelled_text(reversed_moves: int, effects: list[Effect]) -> str:
    """What cancelling did to stock: reversed its moves, or released what an order held ("" for neither)."""
    if reversed_moves:
        return t("cancelled_ok")
    return t("outcome_released") if any(effect.direction == RELEASE for effect in effects) else ""
