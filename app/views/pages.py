"""Generated pages per model: list (with search and paging), detail with history, add / edit forms.

They read and write through the same services as the REST API; the spreadsheet grid comes on top.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import select

from app.api.responses import XLSX_MIME, download
from app.documents.flow import REQUEST, REQUESTED, flow_of, money_targets_of, open_lines_json, source_of, targets_of
from app.documents.flow import open_lines as flow_open_lines
from app.documents.flow import pick as flow_pick
from app.documents.flow import push as flow_push
from app.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationFailed
from app.extensions import registry
from app.i18n import label, t
from app.ledger.compute import rmb_upper
from app.meta.accounts import document_total
from app.meta.company import letterhead
from app.meta.spec import ModelSpec
from app.meta.status import Status
from app.meta.types import FIELD_TYPES
from app.services.access.rights import permission_resource
from app.services.money.invoices import INVOICED, record_invoice, withdraw_invoice
from app.services.money.open_items import (
    PAYMENT,
    SIDE_OF,
    item_json,
    open_items,
    parse_amount,
    payment_from_open_items,
    request_from_receipts,
)
from app.services.posting.autopost import post_on_save
from app.services.posting.service import PostingService
from app.services.records.audit_read import record_history
from app.services.records.query import BadQuery, Filter, get_row, list_rows
from app.services.records.serialize import link_labels, rows_to_json
from app.services.records.settings import field_default
from app.services.records.write import RecordService
from app.views.changes import read_links
from app.views.collab import panel_config
from app.views.forms import BLANK_LINES, form_fields, form_payload, line_columns, sections
from app.views.inbox import approval_steps, run_posting_action
from app.views.list_filters import ARG as FILTER_ARG
from app.views.list_filters import described, filter_args, filter_query, filters_from
from app.views.signatures import signatures
from app.web.context import current_access, session
from importers.count_sheet import count_sheet
from importers.jobs import ImportRefused, keep_upload, read_upload
from importers.pipeline import may_import
from importers.reader import MAX_FILE_BYTES
from importers.stocktake import UploadRefused, preview_counts, upload_counts, upload_message, variance
from reports.runner import as_json, run_report

PAGE_SIZE = 50
PRINT_SKIP = ("number", "approval_step")  # the number is printed in the title; approval levels are internal
# line columns kept off the paper a partner gets: how the ledger counts, what later documents filled
PRINT_SKIP_LINES = ("unit_ratio", "base_qty", "cost_price", "delivered_qty", "received_qty", "returned_qty")
LIST_COLUMNS = 8
# fields a list leaves out of its first LIST_COLUMNS: the approval levels given so far (0 on most documents; the
# status says 待审批 and the document's page its 审批记录), so an order's 销售员 / 采购员 stays in sight beside its
# statuses
LIST_SKIP = ("approval_step",)


def _recommended(model: ModelSpec, data: dict[str, Any]) -> dict[str, Any] | None:
    """On a customer's page, the `recommendations` report for them, when the reader may run it (as the reader)."""
    if model.key != "partner" or data.get("kind") not in ("customer", "both"):
        return None
    access = current_access()
    report = access.registry.meta.reports.get("recommendations")
    if report is None or not access.may_run(report):
        return None
    try:
        result = run_report(session(), access, "recommendations", {"customer": str(data[model.business_key])})
    except ServiceError:
        return None
    answer = as_json(result)
    answer["customer"] = str(data[model.business_key])
    return answer


class ModelPages(BaseView):
    """List, detail, add, edit and delete pages of one model."""

    model_key = ""
    method_permission_name = {
        "list": "read",
        "show": "read",
        "add": "write",
        "edit": "write",
        "delete": "delete",
        "submit": "submit",
        "cancel": "approve",
        "approve": "approve",
        "reject": "approve",
        "print": "read",
        "close": "close",
        "push": "read",
        "upload_counts": "write",
        "preview_counts": "write",
        "count_sheet": "write",
        "pick": "write",
        "open_items": "write",
        "invoice": "invoice",
        "invoice_withdraw": "invoice",
    }

    @property
    def model(self) -> ModelSpec:
        """The model's spec in the registry in force."""
        return registry().model(self.model_key)

    def _columns(self, invoicing: bool = False) -> list[dict[str, Any]]:
        """The first LIST_COLUMNS fields the user may see (the grid shows them all), and a document's total
        (价税合计: what a clerk scanning orders looks for) when the reader may see it; on the list of documents
        waiting for their invoice, all the document's money totals (金额合计, 税额合计, 价税合计: the figures an
        invoice states, which finance matches the ticked documents against)."""
        access = current_access()
        fields = [
            s
            for s in access.visible_fields(self.model)
            if s.type not in ("lines", "long_text") and not s.system and s.name not in LIST_SKIP
        ]
        shown = fields[:LIST_COLUMNS]
        total = document_total(self.model) if self.model.kind == "document" else None
        if invoicing:
            shown += [s for s in fields[LIST_COLUMNS:] if s.section == "total" and s.type == "money"]
        elif total is not None and total in fields and total not in shown:
            shown.append(total)
        return [
            {
                "name": s.name,
                "label": label(s.label, s.name),
                "numeric": FIELD_TYPES[s.type].numeric,
            }
            for s in shown
        ]

    def _text(self, model: ModelSpec, data: dict[str, Any]) -> dict[str, str]:
        return {
            spec.name: FIELD_TYPES[spec.type].read_text(spec, data[spec.name])
            for spec in model.fields
            if spec.name in data and spec.type != "lines"
        }

    @expose("/")
    @has_access
    def list(self) -> Any:
        """Rows the user may see, newest first, with a free-text search."""
        access = current_access()
        model = self.model
        page = max(request.args.get("page", 0, type=int), 0)
        search = request.args.get("search", "")
        invoice = _invoice_panel(access, model.key, request.args.get("invoice") == "waiting")
        filters = (
            [Filter("status", "eq", Status.SUBMITTED), Filter("invoice_status", "eq", INVOICED[model.key][0])]
            if invoice and invoice["waiting"]
            else []
        )
        try:
            asked = filters_from(request.args.getlist(FILTER_ARG))  # `?filter=<field>:<values>` (the home page's links)
            result = list_rows(
                session(), access, model, filters + asked, ("id", "desc"), page, PAGE_SIZE, search=search
            )
        except BadQuery as exc:
            abort(400, exc.message)
        rows = rows_to_json(session(), access, model, result.rows)
        return self.render_template(
            "jxc/list.html",
            model=model,
            title=label(model.label, model.key),
            columns=self._columns(invoicing=bool(invoice and invoice["waiting"])),
            rows=[dict(self._text(model, r), id=r["id"]) for r in rows],
            count=result.count,
            page=page,
            pages=max((result.count + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            search=search,
            filters=described(model, asked),
            filter_args=filter_args(asked),
            filter_query=filter_query(asked),
            invoice=invoice,
            # what was ticked and typed before a refusal (no number, a bad date): kept, not to be done again
            picked={int(i) for i in request.args.getlist("id") if i.isdigit()},
            invoice_number=request.args.get("invoice_number", ""),
            invoice_date=request.args.get("invoice_date", ""),
            can_add=access.can(model.key, "write") and model.kind not in ("ledger", "line"),
            can_import=may_import(access, model),
            can_open_items=model.key == PAYMENT and access.can(model.key, "write"),
            can_pick=model.kind == "document"
            and access.can(model.key, "write")
            and (source_of(registry(), model.key)[0] is not None or model.key == REQUEST),
        )

    def _record(self, pk: int) -> tuple[dict[str, Any], list[dict[str, str]], list[Any], list[dict[str, str]]]:
        """A record the user may see: its JSON, its fields as text, its line columns and lines as text."""
        access = current_access()
        model = self.model
        try:
            row = get_row(session(), access, model, pk)
        except NotFound:
            abort(404)
        data = rows_to_json(session(), access, model, [row], with_lines=True)[0]
        text = self._text(model, data)
        fields = [
            {"name": s.name, "label": label(s.label, s.name), "value": text.get(s.name, ""), "help": label(s.help)}
            for s in access.visible_fields(model)
            if s.type != "lines"
        ]
        lines, line_cols = [], []
        if model.lines_model:
            line_model = registry().model(model.lines_model)
            line_cols = list(line_columns(access, line_model))
            lines = [self._text(line_model, line) for line in data.get("lines", [])]
            for name in registry().behaviour(model.key).header_when_blank if model.kind == "document" else ():
                for line in lines:  # blank on a line: the header's, as posting reads it (a payment's 结算账户)
                    line[name] = line.get(name) or text.get(name, "")
        return data, fields, line_cols, lines

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int) -> Any:
        """One record with its lines and its audit history."""
        return self._show(pk)

    def _show(self, pk: int, **extra: Any) -> Any:
        access = current_access()
        model = self.model
        data, fields, line_cols, lines = self._record(pk)
        history = record_history(session(), access, model, pk)
        read_links(history)
        editable = (
            access.can(model.key, "write")
            and model.kind not in ("ledger", "line")
            and (model.kind != "document" or data.get("status") == Status.DRAFT)
        )
        return self.render_template(
            "jxc/show.html",
            model=model,
            title=f"{label(model.label, model.key)} {data.get(model.business_key, pk)}",
            pk=pk,
            fields=fields,
            lines=lines,
            line_cols=[c for c in line_cols if not c.row_id],  # 源单ID: 源单号 names the source
            history=history,
            approval_steps=approval_steps(history) if model.kind == "document" else [],
            recommended=_recommended(model, data),
            variance=variance(session(), access, pk) if model.key == "stocktake" else None,
            collab=panel_config(access, model, pk, data),
            can_edit=editable,
            can_delete=editable and access.can(model.key, "delete"),
            can_submit=model.kind == "document"
            and data.get("status") == Status.DRAFT
            and access.can(model.key, "submit"),
            can_cancel=model.kind == "document"
            and data.get("status") == Status.SUBMITTED
            and access.can(model.key, "approve"),
            can_approve=model.kind == "document"
            and data.get("status") == Status.PENDING
            and access.can(model.key, "approve"),
            version=data.get("version"),
            flow=flow_of(session(), access, model.key, get_row(session(), access, model, pk))
            if model.kind == "document"
            else None,
            push_targets=[
                {"model": key, "label": label(registry().model(key).label, key), **_push_asks(access, model.key, key)}
                for key in targets_of(registry(), model.key) + money_targets_of(registry(), model.key)
                if access.can(key, "write")
            ]
            if data.get("status") == Status.SUBMITTED
            else [],
            can_close=model.kind == "document"
            and data.get("status") == Status.SUBMITTED
            and model.lines_model is not None
            and registry().model(model.lines_model).field("closed_qty") is not None
            and data.get("close_status") != "closed"
            and access.can(model.key, "close"),
            invoice_withdraw=_invoice_withdraw_label(access, model.key, data),
            **extra,
        )

    @expose("/<int:pk>/close", methods=["POST"])
    @has_access
    def close(self, pk: int) -> Any:
        """关闭 the rest of a submitted order (its reservation released)."""
        return self._transition(pk, lambda service, key, pk, version: service.close(key, pk))

    def _refused(self, pk: int, exc: ServiceError) -> Any:
        """A record page's action refused: nothing of it kept, the reason said on the record's page."""
        session().rollback()
        flash(_messages(exc), "danger")
        return redirect(url_for(f"{self.__class__.__name__}.show", pk=pk))

    @expose("/<int:pk>/push/<target>", methods=["POST"])
    @has_access
    def push(self, pk: int, target: str) -> Any:
        """下推: a draft follow-on with this document's open quantities; its form opens."""
        account = request.form.get("account", "")
        header = {"account": int(account)} if account.isdigit() else None  # a money draft's 结算账户, asked beside
        try:
            pushed = flow_push(session(), current_access(), self.model_key, pk, target, header)
        except NotFound:
            abort(404)
        except ServiceError as exc:
            return self._refused(pk, exc)
        flash(pushed.message, "success" if pushed.created else "info")
        opened = "edit" if pushed.row.status == Status.DRAFT else "show"  # a document waiting for approval is read
        return redirect(url_for(f"{registry().model(target).class_name}Pages.{opened}", pk=pushed.row.id))

    @expose("/<int:pk>/counts/preview", methods=["POST"])
    @has_access
    def preview_counts(self, pk: int) -> Any:
        """导入盘点数量, first step: the file is kept and previewed on the stocktake's page (every bad cell, the
        rows that add up, the variance once applied); nothing is written until 确认导入."""
        if self.model_key != "stocktake":
            abort(404)
        back = redirect(url_for(f"{self.__class__.__name__}.show", pk=pk))
        upload = request.files.get("file")
        data = upload.read(MAX_FILE_BYTES + 1) if upload is not None else b""
        if not data:
            flash(t("imports.no_file"), "danger")
            return back
        filename = upload.filename or ""
        try:
            preview = preview_counts(session(), current_access(), pk, data, filename)
        except NotFound:
            abort(404)
        except ServiceError as exc:
            session().rollback()
            flash(_messages(exc), "danger")
            return back
        session().rollback()
        if preview["applicable"]:
            preview["upload"] = keep_upload(data)
        preview["filename"] = filename
        return self._show(pk, count_preview=preview)

    @expose("/<int:pk>/counts/sheet", methods=["GET"])
    @has_access
    def count_sheet(self, pk: int) -> Any:
        """下载盘点表 (`?blind=1`: 盲盘表, without the book): the draft stocktake's count sheet, to be filled and
        sent back through 导入盘点数量 (importers/count_sheet.py)."""
        if self.model_key != "stocktake":
            abort(404)
        try:
            name, data = count_sheet(session(), current_access(), pk, blind=request.args.get("blind") == "1")
        except NotFound:
            abort(404)
        except ServiceError as exc:
            return self._refused(pk, exc)
        return download(data, XLSX_MIME, f"count-sheet-{pk}.xlsx", name)

    @expose("/<int:pk>/counts/upload", methods=["POST"])
    @has_access
    def upload_counts(self, pk: int) -> Any:
        """导入盘点数量: a file of counts into this draft stocktake (importers/stocktake.py); every bad cell
        is listed and nothing applied. The file comes with the form, or is the one previewed (`upload`)."""
        if self.model_key != "stocktake":
            abort(404)
        back = redirect(url_for(f"{self.__class__.__name__}.show", pk=pk))
        upload = request.files.get("file")
        filename = upload.filename or "" if upload is not None else request.form.get("filename", "")
        try:
            if upload is not None:
                data = upload.read(MAX_FILE_BYTES + 1)
            else:
                data = read_upload(request.form["upload"]) if request.form.get("upload") else b""
        except ImportRefused as exc:
            flash(exc.message, "danger")
            return back
        if not data:
            flash(t("imports.no_file"), "danger")
            return back
        try:
            result = upload_counts(session(), current_access(), pk, data, filename)
        except NotFound:
            abort(404)
        except UploadRefused as exc:
            session().rollback()
            cells = [i.line() for i in exc.issues]
            flash("；".join([exc.message, *cells[:50]]), "danger")
            return back
        except ServiceError as exc:
            session().rollback()
            flash(_messages(exc), "danger")
            return back
        flash(upload_message(result), "warning" if result.get("replayed") else "success")
        return back

    @expose("/pick", methods=["GET", "POST"])
    @has_access
    def pick(self) -> Any:
        """选单: open lines of submitted sources (of one partner), ticked into one draft of this model."""
        access = current_access()
        model = self.model
        if model.key == REQUEST:
            return self._pick_receipts()
        if request.method == "POST":
            ids = [int(i) for i in request.form.getlist("line") if i.isdigit()]
            try:
                row = flow_pick(session(), access, model.key, ids)
            except ServiceError as exc:
                session().rollback()
                flash(_messages(exc), "danger")
                return redirect(request.url)
            flash(t("draft_made", number=row.number), "success")
            return redirect(url_for(f"{self.__class__.__name__}.edit", pk=row.id))
        partner = request.args.get("partner", type=int)
        picked = flow_open_lines(session(), access, model.key, None, partner)
        source_model, _ = source_of(registry(), model.key)
        partners = _partner_names(
            {
                p["source"].partner_id
                for p in flow_open_lines(session(), access, model.key)
                if hasattr(p["source"], "partner_id")
            }
        )
        return self.render_template(
            "jxc/pick.html",
            model=model,
            title=f"{label(model.label, model.key)} · {t('page.pick')}",
            source_label=label(registry().model(source_model).label, source_model) if source_model else "",
            rows=open_lines_json(session(), access, picked),
            partner=partner,
            partners=partners,
        )

    def _pick_receipts(self) -> Any:
        """选单 of a payment request: a supplier's unpaid receipts, the ticked ones into one draft request."""
        access = current_access()
        if request.method == "POST":
            ids = [int(i) for i in request.form.getlist("source") if i.isdigit()]
            try:
                row = request_from_receipts(session(), access, ids)
                session().commit()
            except ServiceError as exc:
                session().rollback()
                flash(_messages(exc), "danger")
                return redirect(request.url)
            flash(t("draft_made", number=row.number), "success")
            return redirect(url_for(f"{self.__class__.__name__}.show", pk=row.id))
        partner = request.args.get("partner", type=int)
        items: list[dict[str, Any]] = []
        if partner is not None:
            get_row(session(), access, registry().model("partner"), partner)
            try:
                items = [item_json(i) for i in open_items(session(), access, partner, SIDE_OF["payment"])]
            except Forbidden:
                abort(403)
        return self.render_template(
            "jxc/pick_receipts.html",
            title=f"{label(self.model.label, self.model.key)} · {t('page.pick')}",
            source_label=label(registry().model(REQUESTED).label, REQUESTED),
            items=items,
            partner=partner,
            partners=_readable_choices(access, "partner"),
        )

    @expose("/invoice", methods=["POST"])
    @has_access
    def invoice(self) -> Any:
        """开票 / 收票: one invoice recorded on the ticked documents of the list of those waiting for it."""
        ids = [int(i) for i in request.form.getlist("id") if i.isdigit()]
        try:
            docs = record_invoice(
                session(),
                current_access(),
                self.model_key,
                ids,
                request.form.get("invoice_number"),
                request.form.get("invoice_date"),
            )
            session().commit()
            flash(t("invoice_done", count=len(docs)), "success")
        except ServiceError as exc:
            session().rollback()
            flash(_messages(exc), "danger")
            kept = {name: request.form.get(name, "") for name in ("invoice_number", "invoice_date")}
            return redirect(url_for(f"{self.__class__.__name__}.list", invoice="waiting", id=ids, **kept))
        return redirect(url_for(f"{self.__class__.__name__}.list", invoice="waiting"))

    @expose("/<int:pk>/invoice/withdraw", methods=["POST"])
    @has_access
    def invoice_withdraw(self, pk: int) -> Any:
        """撤销开票 / 撤销收票 from the document's page: it waits for its invoice again."""
        try:
            docs = withdraw_invoice(session(), current_access(), self.model_key, [pk])
            session().commit()
            flash(t("invoice_withdrawn", count=len(docs)), "success")
        except ServiceError as exc:
            session().rollback()
            flash(_messages(exc), "danger")
        return redirect(url_for(f"{self.__class__.__name__}.show", pk=pk))

    @expose("/open_items", methods=["GET", "POST"])
    @has_access
    def open_items(self) -> Any:
        """未结单据: a payment (receipt) from a partner's open receipts (deliveries): the ticked ones with the
        amounts typed (blank: all that is open), or an amount spread oldest first; the draft's page opens."""
        if self.model_key != PAYMENT:
            abort(404)
        access = current_access()
        partner = request.values.get("partner", type=int)
        direction = request.values.get("direction") or "payment"
        if direction not in SIDE_OF:
            abort(400)
        if request.method == "POST" and partner is not None:
            picks = {n: request.form.get(f"amount_{n}") for n in request.form.getlist("item")}
            try:
                row = payment_from_open_items(
                    session(),
                    access,
                    direction,
                    partner,
                    {n: parse_amount(v, f"amount_{n}") for n, v in picks.items()},
                    parse_amount(request.form.get("amount"), "amount"),
                    {"account": request.form.get("account", type=int)},
                )
                session().commit()
            except ServiceError as exc:
                session().rollback()
                flash(_messages(exc), "danger")
                return redirect(request.url)
            flash(t("draft_made", number=row.number), "success")
            return redirect(url_for(f"{self.__class__.__name__}.show", pk=row.id))
        items: list[dict[str, Any]] = []
        if partner is not None:
            get_row(session(), access, registry().model("partner"), partner)
            try:
                items = [item_json(i) for i in open_items(session(), access, partner, SIDE_OF[direction])]
            except Forbidden:
                abort(403)
        return self.render_template(
            "jxc/open_items.html",
            title=f"{label(self.model.label, self.model.key)} · {t('page.open_items')}",
            items=items,
            partner=partner,
            direction=direction,
            partners=_readable_choices(access, "partner"),
            accounts=_readable_choices(access, "account"),
        )

    @expose("/<int:pk>/print")
    @has_access
    def print(self, pk: int) -> Any:
        """A printable 单据: header, lines, totals and the amount in capital numerals (大写金额)."""
        model = self.model
        data, fields, line_cols, lines = self._record(pk)
        line_fields = {f.name: f for f in registry().model(model.lines_model).fields} if model.lines_model else {}
        total_field = document_total(model)  # what is owed
        total = data.get(total_field.name) if total_field is not None else None
        return self.render_template(
            "jxc/print.html",
            model=model,
            title=label(model.label, model.key),
            letterhead=letterhead(registry().meta.settings),
            number=data.get("number") or data.get(model.business_key) or pk,
            fields=[
                f
                for f in fields
                if f["name"] not in PRINT_SKIP
                and (spec := model.field(f["name"]))
                and not spec.system
                and not spec.is_row_id
            ],
            line_cols=[c for c in line_cols if c.name not in PRINT_SKIP_LINES and not line_fields[c.name].is_row_id],
            lines=lines,
            total=total,
            total_label=label(total_field.label) if total_field is not None else "",
            total_upper=rmb_upper(total) if total is not None else "",
            signed=signatures(session(), current_access(), model, pk, data),
        )

    def _form(self, pk: int | None) -> Any:
        access = current_access()
        model = self.model
        if model.kind in ("ledger", "line"):
            abort(404)
        creating = pk is None
        values: dict[str, Any] = {}
        lines: list[dict[str, Any]] = []
        errors: dict[str, list[str]] = {}
        if creating:
            defaults = ((spec, field_default(session(), registry(), spec)) for spec in model.fields)
            values = {spec.name: _default_for_form(spec, value) for spec, value in defaults if value is not None}
            values.update(only_choices(session(), access, model))
        else:
            try:
                row = get_row(session(), access, model, pk)  # type: ignore[arg-type]
            except NotFound:
                abort(404)
            data = rows_to_json(session(), access, model, [row], with_lines=True)[0]
            values = data
            lines = data.get("lines", [])
        if request.method == "POST":
            payload = form_payload(access, model, request.form, creating)
            service = RecordService(session(), access)
            try:
                if creating:
                    row = service.create(model.key, payload)
                else:
                    row = service.update(
                        model.key,
                        pk,
                        payload,  # type: ignore[arg-type]
                        expected_version=request.form.get("version", type=int),
                    )
                service.commit()
                auto = post_on_save(session(), access, model, row)
                flash(auto.message or t("saved"), "success")
                for message in [auto.refusal, *auto.warnings]:
                    if message:
                        flash(message, "warning")
                return redirect(url_for(f"{self.__class__.__name__}.show", pk=row.id))
            except ValidationFailed as exc:
                session().rollback()
                errors = exc.by_field()
                values = dict(values, **payload)
                lines = payload.get("lines", [])
            except (Conflict, ServiceError) as exc:
                session().rollback()
                flash(exc.message, "danger")
                values = dict(values, **payload)
        line_model = registry().model(model.lines_model) if model.lines_model else None
        line_rows = []
        if line_model is not None:
            padded = list(lines) + [{} for _ in range(BLANK_LINES)]
            for index, line in enumerate(padded):
                line_errors = {
                    key.split(".", 2)[2]: msgs for key, msgs in errors.items() if key.startswith(f"lines.{index}.")
                }
                line_rows.append(
                    {
                        "index": index,
                        "id": line.get("id", ""),
                        "fields": form_fields(access, line_model, line, line_errors, creating=True),
                    }
                )
        return self.render_template(
            "jxc/form.html",
            model=model,
            title=label(model.label, model.key),
            creating=creating,
            pk=pk,
            version=values.get("version", ""),
            sections=sections(form_fields(access, model, values, errors, creating)),
            line_cols=line_columns(access, line_model) if line_model else [],
            line_rows=line_rows,
            errors=errors,
        )

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def add(self) -> Any:
        """Create a record."""
        return self._form(None)

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int) -> Any:
        """Edit a record (documents only while draft)."""
        return self._form(pk)

    @expose("/<int:pk>/delete", methods=["POST"])
    @has_access
    def delete(self, pk: int) -> Any:
        """Delete a record after confirmation in the detail page."""
        service = RecordService(session(), current_access())
        try:
            service.delete(self.model_key, pk, request.form.get("version", type=int))
            service.commit()
        except NotFound:
            abort(404)
        except ServiceError as exc:
            session().rollback()
            flash(exc.message, "danger")
            return redirect(url_for(f"{self.__class__.__name__}.show", pk=pk))
        flash(t("deleted"), "success")
        return redirect(url_for(f"{self.__class__.__name__}.list"))

    @expose("/<int:pk>/submit", methods=["POST"])
    @has_access
    def submit(self, pk: int) -> Any:
        """Submit (审核) a draft document: it posts to the stock ledger."""
        return self._transition(pk, PostingService.submit)

    @expose("/<int:pk>/cancel", methods=["POST"])
    @has_access
    def cancel(self, pk: int) -> Any:
        """Cancel (反审核) a submitted document: reversing entries are posted."""
        return self._transition(pk, PostingService.cancel)

    @expose("/<int:pk>/approve", methods=["POST"])
    @has_access
    def approve(self, pk: int) -> Any:
        """Approve the next level of a pending document."""
        return self._transition(pk, PostingService.approve)

    @expose("/<int:pk>/reject", methods=["POST"])
    @has_access
    def reject(self, pk: int) -> Any:
        """Send a pending document back to draft."""
        return self._transition(pk, PostingService.reject)

    def _transition(self, pk: int, action: Any) -> Any:
        """Run a posting action and say what it did (posted, sent for approval, level k of n ...)."""
        run_posting_action(self.model_key, pk, action)
        return redirect(url_for(f"{self.__class__.__name__}.show", pk=pk))


def _messages(exc: ServiceError) -> str:
    """What a refused action says, every cell's message for a validation failure."""
    if isinstance(exc, ValidationFailed):
        return "；".join(e.message for e in exc.errors)
    return exc.message


def _invoice_panel(access: Any, model_key: str, waiting: bool) -> dict[str, Any] | None:
    """The list's invoice side (deliveries: 未开票 and 开票; receipts: 待收票 and 登记收票), None elsewhere."""
    if model_key not in INVOICED:
        return None
    return {
        "waiting": waiting,
        "waiting_label": t(f"page.invoice_waiting_{model_key}"),
        "action_label": t(f"page.invoice_action_{model_key}"),
        "can": access.can(model_key, "invoice"),
    }


def _invoice_withdraw_label(access: Any, model_key: str, data: dict[str, Any]) -> str | None:
    """The document page's 撤销开票 / 撤销收票 button, when its invoice is recorded and the user may record them."""
    if model_key not in INVOICED or data.get("invoice_status") != INVOICED[model_key][1]:
        return None
    return t(f"page.invoice_withdraw_{model_key}") if access.can(model_key, "invoice") else None


def _readable_choices(access: Any, model_key: str) -> list[tuple[int, str]]:
    """(id, code and name) of the rows of a master model the user may read, by code (a page's choice)."""
    if not access.can(model_key, "read"):
        return []
    cls = registry().cls(model_key)
    stmt = select(cls.id, cls.code, cls.name).order_by(cls.code)
    scope = access.scope(registry().model(model_key))
    if scope is not None:
        stmt = stmt.where(scope)
    return [(pk, f"{code} {name}") for pk, code, name in session().execute(stmt)]


def _push_asks(access: Any, source: str, target: str) -> dict[str, Any]:
    """What a 下推 button asks beside it: a money draft's required 结算账户, which its source cannot give (收付款单
    from a receipt, a delivery or a payment request), chosen from the accounts the user may read."""
    field = registry().model(target).field("account")
    if target not in money_targets_of(registry(), source) or field is None or not field.required:
        return {}
    return {"account_label": label(field.label, "account"), "accounts": _readable_choices(access, "account")}


def _partner_names(ids: set[int]) -> list[tuple[int, str]]:
    """(id, code and name) of these partners, by name (the pick page's partner choice)."""
    if not ids:
        return []
    cls = registry().cls("partner")
    rows = session().execute(select(cls.id, cls.code, cls.name).where(cls.id.in_(ids)).order_by(cls.name))
    return [(pk, f"{code} {name}") for pk, code, name in rows]


def only_choices(session: Any, access: Any, model: ModelSpec) -> dict[str, Any]:
    """A new document's fields the user can fill one way only, filled in as the form shows a link: a keeper of
    one warehouse's 仓库 (their stocktake's, receipt's or delivery's), and a user field the user may name only
    themselves in (a salesperson's order's 销售员: their row scope is `me` on it), and the sides field of a model kept
    by sides to the writer's own side (a salesperson's new 往来单位 is a 客户: `Access.own_side`)."""
    filled = {}
    side = access.own_side(model)
    if side is not None and model.sides is not None:  # a salesperson's new 往来单位: 客户, the one kind on their side
        filled[model.sides.field] = side
    for spec in model.fields:
        if spec.type == "user" and access.assignable_users(session, model, spec) is not None:
            filled[spec.name] = link_labels(session, access, spec, {access.user_id}).get(access.user_id)
            continue
        ids = access.warehouses_for(model, spec.name) if spec.is_link and spec.to == "warehouse" else None
        if ids is None:
            continue
        only = session.execute(ids.limit(2)).scalars().all()
        if len(only) == 1:
            filled[spec.name] = link_labels(session, access, spec, set(only)).get(only[0])
    return {name: value for name, value in filled.items() if value is not None}


def _default_for_form(spec: Any, default: Any) -> Any:
    """A field default as the form shows it (links by their key)."""
    if spec.is_link:
        return {"key": default}
    return FIELD_TYPES[spec.type].to_json(spec, default)


def pages_class_for(model: ModelSpec) -> type[ModelPages]:
    """A ModelPages subclass bound to one model (FAB names endpoints after the class)."""
    return type(
        f"{model.class_name}Pages",
        (ModelPages,),
        {"model_key": model.key, "route_base": f"/m/{model.key}", "class_permission_name": permission_resource(model)},
    )
