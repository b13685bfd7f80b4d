"""/phone/: the phone-first pages (an installable PWA) for people away from a desk: the approval inbox, stock
lookup, a customer's page with their statement, a new sales order, counting a stocktake and item labels.

Pages are rendered by the server (they read through the same services as the desk pages, as the reader) and
use the shared APIs for writes; the service worker (/phone/sw.js) keeps the last copy of each page for a
flaky connection and never touches a write. See docs/phone.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.errors import Forbidden, ServiceError
from app.extensions import registry
from app.i18n import current_locale, label, t, texts_under
from app.meta.reports import PRESETS
from app.meta.status import Status
from app.meta.types import FIELD_TYPES
from app.services.money.receivables import RECEIVABLE, readable_sides
from app.services.phone.labels import LABEL_SIZES, label_prices, label_sheet
from app.services.phone.stock_lookup import stock_lookup, stock_warehouses, warehouse_id, work_warehouses
from app.services.posting.inbox import approves_anything, waiting_for, with_parties
from app.services.records.query import base_select, get_row, search_condition
from app.services.records.serialize import rows_to_json
from app.web.context import current_access, session
from importers.stocktake import variance
from reports.runner import as_json, run_report

STATIC = Path(__file__).resolve().parent.parent / "static" / "jxc" / "phone"
# what a stocktake asks before counting starts: where, which items, and what an item not counted means
STOCKTAKE_START = ("warehouse", "category", "scope")


def signed_in_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """The sign-in page (coming back here afterwards) unless someone is signed in; a refusal (a model the
    reader may not use, a row out of their scope) is the error page with its status."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("AuthDBView.login", next=request.full_path))
        try:
            return view(*args, **kwargs)
        except ServiceError as exc:
            session().rollback()
            abort(exc.status)

    return wrapper


def _read(spec: Any, value: Any) -> Any:
    """A field's value as the page reads it (money 12,345.00, a share 7.5%); a link or a user as its JSON."""
    return value if isinstance(value, dict) else FIELD_TYPES[spec.type].read_text(spec, value)


def _config(**extra: Any) -> dict[str, Any]:
    """What every phone page's script gets: the user (the service worker clears its copies for another one),
    the CSRF token for writes, the words it shows."""
    return {"user": current_user.id, "csrf_token": generate_csrf(), "texts": texts_under("phone.js.")} | extra


def _warehouses(model_key: str) -> list[dict[str, Any]]:
    """The warehouses the reader works in on `model_key` (their row scope on it: a keeper, their own)."""
    rows = work_warehouses(session(), current_access(), model_key)
    return [{"id": row.id, "code": row.code, "name": row.name} for row in rows]


def _asked_warehouse(model_key: str) -> tuple[int | None, str]:
    """The warehouse a page was asked for (`?warehouse=<code>`): (its id, ""), or (None, why not) when it is
    outside the reader's warehouses on `model_key` (the page says so, 403). An unknown code is a 404."""
    code = request.args.get("warehouse", "").strip()
    if not code:
        return None, ""
    try:
        return warehouse_id(session(), current_access(), code, model_key), ""
    except Forbidden as exc:
        session().rollback()
        return None, exc.message


def _start_field(spec: Any, chosen: int | None) -> dict[str, Any]:
    """A field of a new stocktake as the phone offers it: a warehouse among those the reader works in on
    stocktakes (a few), another link looked up as typed through the grid's link lookup (rows the reader may
    see, by code or name, however many there are; left empty it counts every item), a select's options."""
    field = {
        "name": spec.name,
        "label": label(spec.label, spec.name),
        "help": label(spec.help),
        "required": spec.required,
        "link": spec.type == "link",
        "lookup": None,
        "choices": [],
        "value": spec.default,
    }
    if spec.to == "warehouse":
        choices = [(w["id"], f"{w['code']} {w['name']}") for w in _warehouses("stocktake")]
        field.update(choices=choices, value=chosen if chosen is not None else spec.default)
    elif spec.type == "link":
        field.update(lookup=spec.to)
    else:
        field.update(choices=[(option.value, label(option.label, option.value)) for option in spec.options])
    return field


COUNTS_PAGE = "/phone/count/"  # the stocktakes the reader may count
# the review's order: what submitting changes first (gains and losses, the stock counted 0), then what it leaves
REVIEW_ORDER = {"loss": 0, "gain": 0, "uncounted": 1, "same": 2}


def _difference_kind(line: dict[str, Any]) -> str:
    """A variance line as the review groups it: a gain or a loss (a whole count's stock not counted is a loss),
    not counted (a cycle count leaves it), or as the book."""
    if line["counted"] is None:
        return "uncounted"
    diff = Decimal(line["diff"] or 0)
    return "gain" if diff > 0 else "loss" if diff < 0 else "same"


def _needs_reason(line: dict[str, Any]) -> bool:
    """A counted line that differs from its book and says not why: posting refuses it (a whole count's stock
    not counted gets 丢失 as it posts)."""
    return line["kind"] in ("gain", "loss") and not line["uncounted"] and not line["reason"] and bool(line["line"])


class PhoneView(BaseView):
    """Every /phone/ page; each reads and writes as the signed-in user through the usual services."""

    route_base = "/phone"

    @expose("/")
    @signed_in_page
    def index(self) -> Any:
        """The phone's home: a tile for each thing the reader may do."""
        access = current_access()
        approves = approves_anything(access)
        tiles = [
            ("inbox", "/phone/inbox", approves),
            ("stock", "/phone/stock", access.can("item", "read")),
            ("customers", "/phone/customers", access.can("partner", "read")),
            ("order", "/phone/sales_order/new", access.can("sales_order", "write")),
            ("count", "/phone/count/", access.can("stocktake", "write")),
            ("labels", "/phone/labels", access.can("item", "read")),
        ]
        waiting = len(waiting_for(session(), access)) if approves else 0
        return self.render_template(
            "jxc/phone/home.html",
            tiles=[{"key": key, "href": href, "label": t(f"phone.tile.{key}")} for key, href, shown in tiles if shown],
            waiting=waiting,
            config=_config(),
        )

    # -- approvals --------------------------------------------------------------------------------

    @expose("/inbox")
    @signed_in_page
    def inbox(self) -> Any:
        """待审批: what waits for the reader's approval, with approve and reject."""
        access = current_access()
        found = with_parties(session(), access, waiting_for(session(), access))
        return self.render_template("jxc/phone/inbox.html", rows=found, config=_config())

    # -- stock ------------------------------------------------------------------------------------

    @expose("/stock")
    @signed_in_page
    def stock(self) -> Any:
        """Stock lookup by code, barcode or name (a scanner types the code and Enter), per warehouse."""
        q = request.args.get("q", "").strip()
        warehouse = request.args.get("warehouse", "")
        found: dict[str, Any] = {"items": []}
        error = ""
        if q:
            try:
                found = stock_lookup(session(), current_access(), q, warehouse)
            except ServiceError as exc:
                session().rollback()
                error = exc.message
        return self.render_template(
            "jxc/phone/stock.html",
            q=q,
            warehouse=warehouse,
            warehouses=[{"code": w.code, "name": w.name} for w in stock_warehouses(session(), current_access())],
            items=found["items"],
            error=error,
            config=_config(),
        )

    # -- customers --------------------------------------------------------------------------------

    @expose("/customers")
    @signed_in_page
    def customers(self) -> Any:
        """Customers the reader may see, by code, name or phone."""
        access = current_access()
        access.require("partner", "read")
        model, cls = registry().model("partner"), registry().cls("partner")
        q = request.args.get("q", "").strip()[:100]
        stmt = base_select(access, model).where(cls.kind.in_(("customer", "both")))
        cond = search_condition(access, model, q) if q else None
        if cond is not None:
            stmt = stmt.where(cond)
        rows = list(session().execute(stmt.order_by(cls.code).limit(50)).scalars())
        return self.render_template(
            "jxc/phone/customers.html",
            q=q,
            rows=rows_to_json(session(), access, model, rows, columns=["code", "name", "contact", "phone"]),
            config=_config(),
        )

    @expose("/customer/<int:pk>")
    @signed_in_page
    def customer(self, pk: int) -> Any:
        """A customer: contact details, what they owe, and their statement (对账单) for the period asked."""
        access = current_access()
        access.require("partner", "read")
        model = registry().model("partner")
        row = get_row(session(), access, model, pk)
        data = rows_to_json(session(), access, model, [row])[0]
        statement = None
        refused = ""
        period = request.args.get("period", "this_year")
        reports = access.registry.meta.reports
        # offered to who may run it (a warehouse keeper reads the customer's address, not their account)
        offers_statement = "partner_statement" in reports and access.may_run(reports["partner_statement"])
        if offers_statement:
            try:
                result = run_report(
                    session(),
                    access,
                    "partner_statement",
                    {"partner": row.code, "side": "receivable", "period": period},
                )
                statement = as_json(result)
            except ServiceError as exc:
                refused = exc.message
        recommended = None
        report = reports.get("recommendations")
        if report is not None and access.may_run(report):
            try:
                recommended = as_json(run_report(session(), access, "recommendations", {"customer": row.code}))
            except ServiceError:
                recommended = None
        session().rollback()
        fields = [
            {"label": label(spec.label, spec.name), "value": _read(spec, data.get(spec.name))}
            for spec in access.visible_fields(model)
            if spec.name in ("contact", "phone", "address", "credit_limit", "payment_terms_days", "owner")
        ]
        return self.render_template(
            "jxc/phone/customer.html",
            customer=data,
            fields=fields,
            offers_statement=offers_statement,
            statement=statement,
            recommended=recommended,
            refused=refused,
            period=period,
            periods=[(p, t(f"report.preset.{p}")) for p in PRESETS],
            can_order=access.can("sales_order", "write"),
            # 催款, as on the desk's account page: a customer, to whoever reads receivables (the API checks again)
            may_dun=row.kind in ("customer", "both") and RECEIVABLE in readable_sides(access),
            config=_config(),
        )

    # -- sales order ------------------------------------------------------------------------------

    @expose("/sales_order/new")
    @signed_in_page
    def sales_order(self) -> Any:
        """A new sales order, phone-first: lines first (scan or type), totals at the bottom."""
        access = current_access()
        access.require("sales_order", "write")
        model = registry().model("sales_order")
        line_model = registry().model("sales_order_line")
        partner = None
        if request.args.get("partner", "").isdigit() and access.can("partner", "read"):
            try:
                found = get_row(session(), access, registry().model("partner"), int(request.args["partner"]))
                partner = {"id": found.id, "key": found.code, "name": found.name}
            except ServiceError:
                session().rollback()
        sees_price = access.can_see(line_model, line_model.field("price"))  # type: ignore[arg-type]
        totals = [
            {"name": spec.name, "label": label(spec.label, spec.name), "look": FIELD_TYPES[spec.type].grid_look(spec)}
            for spec in access.visible_fields(model)
            if spec.section == "total"
        ]
        chosen, refused = _asked_warehouse("sales_order")
        config = _config(
            partner=partner,
            sees_price=sees_price,
            totals=totals,
            warehouses=_warehouses("sales_order"),
        )
        page = self.render_template("jxc/phone/order.html", config=config, totals=totals, chosen=chosen, error=refused)
        return page, 403 if refused else 200

    # -- counting ---------------------------------------------------------------------------------

    @expose("/count/")
    @signed_in_page
    def counts(self) -> Any:
        """The draft stocktakes the reader may count, newest first."""
        access = current_access()
        access.require("stocktake", "write")
        model, cls = registry().model("stocktake"), registry().cls("stocktake")
        chosen, refused = _asked_warehouse("stocktake")
        stmt = base_select(access, model).where(cls.status == Status.DRAFT)
        if chosen is not None:
            stmt = stmt.where(cls.warehouse_id == chosen)
        rows = [] if refused else list(session().execute(stmt.order_by(cls.id.desc()).limit(50)).scalars())
        page = self.render_template(
            "jxc/phone/counts.html",
            rows=rows_to_json(session(), access, model, rows, columns=["number", "date", "warehouse", "remark"]),
            warehouses=_warehouses("stocktake"),
            warehouse=request.args.get("warehouse", ""),
            error=refused,
            config=_config(),
        )
        return page, 403 if refused else 200

    @expose("/count/new")
    @signed_in_page
    def new_count(self) -> Any:
        """A new stocktake, phone-first: only what it needs to start (the warehouse, among the reader's own; the
        category and scope), created through the stocktake's API (its book is snapshot as it is saved), then
        counted on its counting page."""
        access = current_access()
        access.require("stocktake", "write")
        model = registry().model("stocktake")
        chosen, refused = _asked_warehouse("stocktake")
        fields = [
            _start_field(spec, chosen)
            for name in STOCKTAKE_START
            if (spec := model.field(name)) is not None
            and access.can_write(model, spec)
            and (spec.to is None or access.can(spec.to, "read"))  # a link offers rows the reader may read
        ]
        page = self.render_template("jxc/phone/count_new.html", fields=fields, error=refused, config=_config())
        return page, 403 if refused else 200

    @expose("/count/<int:pk>")
    @signed_in_page
    def count(self, pk: int) -> Any:
        """Counting one stocktake: scans kept on the device until sent, each batch sent once. One no longer a draft
        (submitted, waiting for approval, cancelled) is counted no more: the page says so in its status and leads to
        its differences (read only) and back to the list, with nothing to count on it."""
        access = current_access()
        access.require("stocktake", "write")
        model = registry().model("stocktake")
        row = get_row(session(), access, model, pk)
        status = Status(row.status).text()
        if row.status != Status.DRAFT:
            closed = t("phone.count_closed", number=row.number, status=status)
            return self.render_template(
                "jxc/phone/count_closed.html", doc=row, message=closed, list_page=COUNTS_PAGE, config=_config()
            )
        data = rows_to_json(session(), access, model, [row], with_lines=True)[0]
        config = _config(
            stocktake=pk,
            number=row.number,
            draft=True,
            api=f"/api/v1/phone/stocktake/{pk}/counts",
            units_api=f"/api/v1/phone/stocktake/{pk}/units",
            storage=f"jxc.count.{current_user.id}.{pk}",
        )
        # what is being counted: where, when, which category (every item when none) and what an item not counted means
        scope = model.field("scope")
        about = [
            (data.get("warehouse") or {}).get("name") or "",
            data.get("date") or "",
            (data.get("category") or {}).get("name") or "",
            FIELD_TYPES["select"].to_text(scope, data["scope"]) if scope and data.get("scope") else "",
        ]
        return self.render_template("jxc/phone/count.html", doc=data, about=[a for a in about if a], config=config)

    @expose("/count/<int:pk>/review")
    @signed_in_page
    def review(self, pk: int) -> Any:
        """Before a stocktake is submitted from the phone: what was counted against the book (the variance sheet the
        desk shows, the lines that differ first; a value only for who may see costs), how many lines are not
        counted and what submitting does with them (the scope's rule, as posting applies it), the reasons a
        difference still needs; then 审核, confirmed, through the stocktake's own submit API."""
        access = current_access()
        access.require("stocktake", "read")
        model = registry().model("stocktake")
        row = get_row(session(), access, model, pk)
        sheet = variance(session(), access, pk)
        place = {line.id: i for i, line in enumerate(sorted(row.lines, key=lambda line: (line.line_no, line.id)))}
        reason = registry().model("stocktake_line").field("reason")
        reasons = [(option.value, label(option.label, option.value)) for option in reason.options] if reason else []
        lines = [line | {"index": place.get(line["line"]), "kind": _difference_kind(line)} for line in sheet["lines"]]
        lines.sort(key=lambda line: REVIEW_ORDER[line["kind"]])  # stable: each group in the stocktake's order
        draft = row.status == Status.DRAFT
        summary = {
            "lines": len(place),
            "counted": sum(1 for line in sheet["lines"] if line["counted"] is not None and not line["uncounted"]),
            "uncounted": sum(1 for line in lines if line["kind"] == "uncounted" or line["uncounted"] and line["line"]),
            "unlisted": sum(1 for line in lines if line["uncounted"] and not line["line"]),
            "differ": sum(1 for line in lines if line["kind"] in ("gain", "loss")),
            "unexplained": sum(1 for line in lines if _needs_reason(line)),
        }
        config = _config(
            stocktake=pk,
            number=row.number,
            version=row.version,
            draft=draft,
            may_submit=draft and access.can("stocktake", "submit"),
            storage=f"jxc.count.{current_user.id}.{pk}",
            # back to counting only while it can be counted; submitted (here or elsewhere), back to the list
            count_page=f"/phone/count/{pk}" if draft else None,
            list_page=COUNTS_PAGE,
            statuses={status.value: status.text() for status in Status},
        )
        return self.render_template(
            "jxc/phone/review.html",
            doc=row,
            scope=getattr(row, "scope", None) or "cycle",
            category=(rows_to_json(session(), access, model, [row], columns=["category"])[0].get("category") or {}),
            lines=lines,
            summary=summary,
            total_value=sheet["total_value"],
            reasons=reasons,
            status=Status(row.status).text(),
            config=config,
        )

    # -- labels -----------------------------------------------------------------------------------

    @expose("/labels")
    @signed_in_page
    def labels(self) -> Any:
        """Item labels (code, name, price when the reader may see it, barcode) on a label size, to print."""
        access = current_access()
        codes = [c for c in request.args.get("items", "").replace("\n", ",").split(",") if c.strip()][:200]
        size = request.args.get("size", "40x30")
        if size not in LABEL_SIZES:
            size = "40x30"
        price = request.args.get("price", "sale_price")
        try:
            copies = min(max(int(request.args.get("copies", "1")), 1), 100)
        except ValueError:
            copies = 1
        sheet = label_sheet(session(), access, codes, price, copies) if codes else None
        return self.render_template(
            "jxc/phone/labels.html",
            sheet=sheet,
            size=LABEL_SIZES[size],
            size_key=size,
            sizes={key: t(f"phone.size.{key}") for key in LABEL_SIZES},
            items=request.args.get("items", ""),
            price=price,
            prices=[(name, t(f"phone.{name}")) for name in label_prices(access)],
            copies=copies,
            config=_config(),
        )

    # -- the app itself ---------------------------------------------------------------------------

    @expose("/manifest.webmanifest")
    def manifest(self) -> Any:
        """The web app manifest: installable, opens at /phone/ on its own."""
        icons = [
            {
                "src": url_for("static", filename=f"jxc/phone/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
            }
            for size in (192, 512)
        ]
        body = {
            "name": t("phone.app_name"),
            "short_name": t("phone.app_short_name"),
            "description": t("phone.app_description"),
            "lang": "zh-CN" if current_locale() == "zh" else "en",
            "start_url": "/phone/",
            "scope": "/phone/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#1f6feb",
            "icons": icons,
        }
        response = current_app.response_class(current_app.json.dumps(body), mimetype="application/manifest+json")
        return response

    @expose("/sw.js")
    def service_worker(self) -> Any:
        """The service worker, served under /phone/ so its scope is the phone pages (never kept by the browser's
        cache, as no answer but a static file is: a new version is found at once)."""
        return Response((STATIC / "sw.js").read_text(encoding="utf-8"), mimetype="text/javascript")
