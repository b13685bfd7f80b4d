"""The channels the separation walk goes through, as one list: each reads (or writes) a world as one role
and yields what it answered. A new way in or out (reports, jobs, mail) is one more function in CHANNELS.

Answers are compared as the reader gets them: status and body, with what changes from one run to the next
(times, CSRF tokens, script nonces) replaced by placeholders, and xlsx files read back into cell values.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import prison

from app.meta.spec import ModelSpec
from tests.separation_world import DAY

TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
REQUEST_ID = re.compile(r"\b[0-9a-f]{32}\b")
TOKEN = re.compile(r"[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_.\-]{10,}|(?<=nonce=\")[^\"]+|(?<=data-csrf=\")[^\"]+")
WORLD_MODELS = ("item", "partner", "category", "account")  # the world's rows of these carry its tag in their key
TABULATOR = {"sw": "starts", "ct": "like", "eq": "="}
MAX_ROWS = 1  # detail and history of the first of the world's rows per model (sampled: every model, every channel)


@dataclass
class Visit:
    """One role in one world: its clients and what the walk needs to know of the world."""

    role: str
    api: Any  # JWT client
    web: Any  # cookie-session client
    tag: str
    ids: dict[str, int]
    numbers: dict[str, str]
    cursor: int
    models: list[ModelSpec]  # the models whose rows differ between the two worlds (or show rows that do)
    readable: set[str] = field(default_factory=set)  # models the role may read (roles.yaml)
    rows: dict[str, list[int]] = field(default_factory=dict)  # per model, the world's row ids

    @property
    def renders(self) -> bool:
        """Whether the rendered channels are walked too (pages, prints, xlsx): they render the same rows and
        figures the data channels answer, so on the second database only the data channels are walked."""
        return self.web is not None

    def walked(self) -> Iterator[tuple[ModelSpec, bool]]:
        """Each differing model, and whether the role may read it (else one refusal is all there is to see)."""
        for model in self.models:
            yield model, model.permission_model in self.readable


def normal(value: Any) -> Any:
    """A body with run-to-run noise replaced: times, tokens, nonces."""
    if isinstance(value, str):
        return REQUEST_ID.sub("<rid>", TOKEN.sub("<token>", TIME.sub("<time>", value)))
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, dt.datetime):
        return "<time>" if (value.hour, value.minute, value.second) != (0, 0, 0) else value.date().isoformat()
    return value


def observed(response: Any) -> tuple[int, Any]:
    """(status, body) of a response, normalised; xlsx as its cells."""
    kind = response.mimetype or ""
    if kind.endswith("spreadsheetml.sheet"):
        book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
        cells = [[normal(c) for c in row] for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
        return response.status_code, cells
    text = response.get_data(as_text=True)
    if kind == "application/json":
        return response.status_code, normal(json.loads(text))
    return response.status_code, normal(text)


def world_filter(model: ModelSpec, visit: Visit) -> tuple[str, str, str] | None:
    """A filter that picks the world's rows of a model (its tag in a key, a linked key, or its date)."""
    if model.key in WORLD_MODELS:
        return (model.business_key, "sw", visit.tag)
    for name in ("item", "partner", "category", "account"):
        spec = model.field(name)
        if spec is not None and spec.type == "link":
            return (name, "ct", visit.tag)
    if model.field("date") is not None:
        return ("date", "eq", DAY)
    return None


def probed_fields(model: ModelSpec, differing: set[str]) -> list[str]:
    """Fields worth sorting and filtering on: links to rows that differ, and one figure of each kind."""
    links = [f.name for f in model.fields if f.type == "link" and f.to in differing]
    figures: dict[frozenset[str], str] = {}
    for spec in model.fields:
        if spec.figures:
            figures.setdefault(spec.figures, spec.name)
    return links + list(figures.values())


def _rest_q(filters: list[tuple[str, str, Any]], order: str = "id") -> dict[str, str]:
    body = {
        "filters": [{"col": c, "opr": o, "value": v} for c, o, v in filters],
        "order_column": order,
        "order_direction": "asc",
        "page_size": 100,
    }
    return {"q": prison.dumps(body)}


def rest(visit: Visit) -> Iterator[tuple[str, Any]]:
    """REST: list (sorted and filtered on the probed fields), detail, history and _info of each model."""
    differing = {m.key for m in visit.models}
    for model, readable in visit.walked():
        url = f"/api/v1/{model.key}/"
        world = [world_filter(model, visit)] if world_filter(model, visit) else []
        yield f"rest list {model.key}", visit.api.get(url, query_string=_rest_q(world))  # type: ignore[arg-type]
        if not readable:
            continue
        probed = probed_fields(model, differing)
        for name in probed:
            yield f"rest sort {model.key}.{name}", visit.api.get(url, query_string=_rest_q(world, name))  # type: ignore[arg-type]
        if probed:  # a link filtered on emptiness (a link the reader may not follow reads as empty), or a figure
            spec = model.field(probed[0])
            flt = (spec.name, "null", "true") if spec.is_link else (spec.name, "gt", "0")  # type: ignore[union-attr]
            yield f"rest filter {model.key}.{spec.name}", visit.api.get(url, query_string=_rest_q([*world, flt]))  # type: ignore[list-item, union-attr]
        if model.is_line:  # a line's detail and history are its document's
            continue
        yield f"rest info {model.key}", visit.api.get(f"{url}_info")
        for index, pk in enumerate(visit.rows.get(model.key, [])[:MAX_ROWS]):
            yield f"rest get {model.key}/{pk}", visit.api.get(f"{url}{pk}")
            if index == 0:
                yield f"rest history {model.key}/{pk}", visit.api.get(f"{url}{pk}/history")


def _grid_args(model: ModelSpec, visit: Visit, sort: str = "id") -> dict[str, str]:
    args = {"page": "1", "size": "100", "sort[0][field]": sort, "sort[0][dir]": "asc"}
    flt = world_filter(model, visit)
    if flt is not None:
        args |= {"filter[0][field]": flt[0], "filter[0][type]": TABULATOR[flt[1]], "filter[0][value]": flt[2]}
    return args


def grid(visit: Visit) -> Iterator[tuple[str, Any]]:
    """The grid: rows with page sums (also sorted on links to differing rows), ids, link lookup, change feed,
    export, line defaults."""
    differing = {m.key for m in visit.models}
    for model, readable in visit.walked():
        if model.is_line:  # lines are read through their documents here (REST lists them on their own)
            continue
        base = f"/api/v1/grid/{model.key}"
        yield f"grid rows {model.key}", visit.api.get(f"{base}/rows", query_string=_grid_args(model, visit))
        if not readable:
            continue
        for spec in [f for f in model.fields if f.type == "link" and f.to in differing][:1]:
            args = _grid_args(model, visit, spec.name)
            yield f"grid rows {model.key} by {spec.name}", visit.api.get(f"{base}/rows", query_string=args)
        yield f"grid changes {model.key}", visit.api.get(f"{base}/changes", query_string={"since": str(visit.cursor)})
        if visit.renders:
            yield f"grid export {model.key}", visit.api.get(f"{base}/export", query_string=_grid_args(model, visit))
        if model.business_key != "id":
            yield (
                f"grid lookup {model.key}",
                visit.api.get(f"/api/v1/grid/lookup/{model.key}", query_string={"q": visit.tag}),
            )
        if model.lines_model and model.field("partner") is not None:
            partner = "C1" if model.key.startswith("sales_") else "S1"
            args = {"item": f"{visit.tag}I1", "partner": f"{visit.tag}{partner}"}
            yield f"grid line_defaults {model.key}", visit.api.get(f"{base}/line_defaults", query_string=args)


def pages(visit: Visit) -> Iterator[tuple[str, Any]]:
    """The pages a person opens: list (searched for the world), detail with history, print, the grid page."""
    if not visit.renders:
        return
    for model, readable in visit.walked():
        if model.is_line or not readable:
            continue
        search = {"search": visit.tag} if model.key in WORLD_MODELS else {}
        yield f"page list {model.key}", visit.web.get(f"/m/{model.key}/", query_string=search)
        if model.key in WORLD_MODELS:  # the grid page's columns: one master model of each kind is enough
            yield f"page grid {model.key}", visit.web.get(f"/grid/{model.key}/")
        for pk in visit.rows.get(model.key, [])[:1]:
            yield f"page show {model.key}/{pk}", visit.web.get(f"/m/{model.key}/{pk}")
            if model.kind == "document":
                yield f"page print {model.key}/{pk}", visit.web.get(f"/m/{model.key}/{pk}/print")


def accounts(visit: Visit) -> Iterator[tuple[str, Any]]:
    """Accounts: each partner's account per side, scorecard, last prices; overdue; cash balances; their pages."""
    item = visit.ids["i1"]
    for key in ("s1", "s2", "c1", "c2", "b1"):
        pk = visit.ids[key]
        other = "?side=payable" if key.startswith("c") else "?side=receivable"
        for side in ("", other):
            yield f"account {key}{side}", visit.api.get(f"/api/v1/accounts/{pk}{side}")
        if visit.renders:
            yield f"account page {key}", visit.web.get(f"/accounts/{pk}")
        yield f"scorecard {key}", visit.api.get(f"/api/v1/accounts/{pk}/scorecard")
        side = "sales" if key.startswith("c") else "purchase"
        yield f"last price {key}", visit.api.get(f"/api/v1/accounts/{pk}/last_price/{item}?side={side}")
    yield "overdue", visit.api.get("/api/v1/accounts/overdue")
    if visit.renders:
        yield "overdue page", visit.web.get("/accounts/overdue")
    yield "cash", visit.api.get("/api/v1/cash/")
    if visit.renders:
        yield "cash page", visit.web.get("/cash/")


REQUIRED_LINKS = {"partner": "C1", "item": "I1"}  # a required link parameter names the world's first such row


def report_params(report: Any, tag: str = "") -> dict[str, str]:
    """A report's parameters pinned to the world's day (every world document is dated so), and its required
    links to the world's rows (a customer's recommendations are for C1, whom the salesperson owns)."""
    args = {}
    for param in report.params:
        if param.type == "date_range":
            args[param.name] = f"{DAY}..{DAY}"
        elif param.type == "date":
            args[param.name] = DAY
        elif param.type == "link" and param.required and param.to in REQUIRED_LINKS:
            args[param.name] = f"{tag}{REQUIRED_LINKS[param.to]}"
    return args


def reports(visit: Visit) -> Iterator[tuple[str, Any]]:
    """Reports: the list, every report (each choice of its grouping), as JSON, xlsx and its print view; the home
    page's dashboard."""
    from app.extensions import registry

    yield "reports list", visit.api.get("/api/v1/reports/")
    with visit.api.client.application.app_context():
        specs = list(registry().meta.reports.values())
    for report in specs:
        args = report_params(report, visit.tag)
        url = f"/api/v1/reports/{report.key}"
        yield f"report {report.key}", visit.api.get(url, query_string=args)
        for param in report.params:
            if param.type == "select":
                for value, _ in param.options[1:3]:  # two more groupings: the rest reuse the same code
                    yield f"report {report.key} {value}", visit.api.get(url, query_string={**args, param.name: value})
        if visit.renders:
            yield f"report {report.key} xlsx", visit.api.get(url, query_string={**args, "format": "xlsx"})
            yield f"report print {report.key}", visit.web.get(f"/reports/{report.key}/print", query_string=args)
    if visit.renders:
        yield "home dashboard", visit.web.get("/")


def collab(visit: Visit) -> Iterator[tuple[str, Any]]:
    """A record's activity timeline (comments, attachments, approval steps, its masked history) and watchers."""
    for model, _readable in visit.walked():
        if model.is_line:
            continue
        for pk in visit.rows.get(model.key, [])[:1]:
            yield f"collab timeline {model.key}/{pk}", visit.api.get(f"/api/v1/collab/{model.key}/{pk}/timeline")
            if model.kind == "document" or model.key == "partner":
                yield f"collab watchers {model.key}/{pk}", visit.api.get(f"/api/v1/collab/{model.key}/{pk}/watchers")


def beside(visit: Visit) -> Iterator[tuple[str, Any]]:
    """What sits beside the records: a document's flow and the open lines it may pick from, import templates, a
    partner's open items and complaints, batches on hand, the phone's pages and stock lookup, the reader's
    notifications, inbox, assigned records and reorder suggestions."""
    for model, readable in visit.walked():
        if model.kind != "document" or model.is_line or not readable:
            continue
        url = f"/api/v1/{model.key}"
        for pk in visit.rows.get(model.key, [])[:1]:
            yield f"flow {model.key}/{pk}", visit.api.get(f"{url}/{pk}/flow")
        yield f"open lines {model.key}", visit.api.get(f"{url}/open_lines")
        if visit.renders:
            yield f"import template {model.key}", visit.api.get(f"/api/v1/imports/template/{model.key}")
    for key in ("s1", "c1", "c2", "b1"):
        pk = visit.ids[key]
        yield f"open items {key}", visit.api.get(f"/api/v1/accounts/{pk}/open_items")
        yield f"complaints of {key}", visit.api.get(f"/api/v1/complaints/of_partner/{pk}")
    for key in ("sd1", "sd2"):
        yield f"complaint from {key}", visit.api.get(f"/api/v1/complaints/from_delivery/{visit.ids[key]}")
    yield "lots", visit.api.get("/api/v1/lots/", query_string={"item": f"{visit.tag}I1", "warehouse": "WH01"})
    yield "phone stock api", visit.api.get("/api/v1/phone/stock", query_string={"q": visit.tag})
    for which in ("assigned", "following"):
        yield f"mine {which}", visit.api.get(f"/api/v1/collab/mine/{which}")
    for url in ("/api/v1/notifications/", "/api/v1/inbox/", "/api/v1/reorder/suggestions", "/api/v1/reorder/alerts"):
        yield url, visit.api.get(url)
    if not visit.renders:
        return
    phone = ["/phone/", "/phone/inbox", f"/phone/stock?q={visit.tag}", "/phone/customers", "/phone/count/"]
    phone += [f"/phone/customer/{visit.ids[key]}" for key in ("c1", "c2", "b1")]
    phone += [f"/phone/count/{visit.ids['tk1']}", "/phone/sales_order/new", "/reorder/", "/inbox/", "/collab/mine"]
    for url in phone:
        yield f"page {url}", visit.web.get(url)


CHANNELS: list[Callable[[Visit], Iterator[tuple[str, Any]]]] = [rest, grid, pages, accounts, reports, collab, beside]


# -- writes: run in the same order in every world, so the rows they create have the same ids everywhere ----

WRITES: dict[str, list[tuple[str, str, str, dict[str, Any]]]] = {
    # role: (label, method, url, body with {tag} in its strings)
    "purchaser": [
        (
            "order draft",
            "POST",
            "/api/v1/purchase_order/",
            {"partner": "{tag}S1", "warehouse": "WH01", "lines": [{"item": "{tag}I1", "qty": "2"}]},
        ),
        (
            "order for a customer",
            "POST",
            "/api/v1/purchase_order/",
            {"partner": "{tag}C1", "warehouse": "WH01", "lines": [{"item": "{tag}I1", "qty": "1"}]},
        ),
        (
            "item with a sale price",
            "POST",
            "/api/v1/item/",
            {"sku": "{tag}P1", "name": "x", "unit": "PCS", "sale_price": "9"},
        ),
        ("credit limit of a customer", "PUT", "/api/v1/partner/{c1}", {"credit_limit": "1"}),
    ],
    "salesperson": [
        (
            "order draft",
            "POST",
            "/api/v1/sales_order/",
            {"partner": "{tag}C1", "warehouse": "WH01", "lines": [{"item": "{tag}I1", "qty": "2"}]},
        ),
        (
            "order for a supplier",
            "POST",
            "/api/v1/sales_order/",
            {"partner": "{tag}S1", "warehouse": "WH01", "lines": [{"item": "{tag}I1", "qty": "1"}]},
        ),
        (
            "order for another's customer",
            "POST",
            "/api/v1/sales_order/",
            {"partner": "{tag}C2", "warehouse": "WH01", "lines": [{"item": "{tag}I1", "qty": "1"}]},
        ),
        (
            "order for another salesperson",
            "POST",
            "/api/v1/sales_order/",
            {
                "partner": "{tag}C1",
                "warehouse": "WH01",
                "salesperson": "u_clerk",
                "lines": [{"item": "{tag}I1", "qty": "1"}],
            },
        ),
        (
            "order for nobody",
            "POST",
            "/api/v1/sales_order/",
            {
                "partner": "{tag}C1",
                "warehouse": "WH01",
                "salesperson": "no_such_user",
                "lines": [{"item": "{tag}I1", "qty": "1"}],
            },
        ),
    ],
    "warehouse": [
        (
            "receipt draft",
            "POST",
            "/api/v1/purchase_receipt/",
            {"partner": "{tag}S1", "warehouse": "WH01", "lines": [{"item": "{tag}I1", "qty": "1"}]},
        ),
        (
            "receipt with a price",
            "POST",
            "/api/v1/purchase_receipt/",
            {"partner": "{tag}S1", "warehouse": "WH01", "lines": [{"item": "{tag}I1", "qty": "1", "price": "1"}]},
        ),
        (
            "delivery draft",
            "POST",
            "/api/v1/sales_delivery/",
            {"partner": "{tag}C1", "warehouse": "WH01", "lines": [{"item": "{tag}I1", "qty": "1"}]},
        ),
    ],
    "clerk": [
        (
            "sales order draft",
            "POST",
            "/api/v1/sales_order/",
            {"partner": "{tag}C1", "warehouse": "WH01", "lines": [{"item": "{tag}I1", "qty": "1"}]},
        ),
        (
            "purchase order draft",
            "POST",
            "/api/v1/purchase_order/",
            {"partner": "{tag}S1", "warehouse": "WH01", "lines": [{"item": "{tag}I1", "qty": "1"}]},
        ),
    ],
}
GRID_WRITES = {  # role: (model, values of a created row)
    "purchaser": ("purchase_order", {"partner": "{tag}S1", "warehouse": "WH01", "date": DAY}),
    "salesperson": ("sales_order", {"partner": "{tag}C1", "warehouse": "WH01", "date": DAY}),
    "warehouse": ("purchase_receipt", {"partner": "{tag}S1", "warehouse": "WH01", "date": DAY}),
    "clerk": ("item", {"sku": "{tag}K1", "name": "x", "unit": "PCS"}),
}


def _filled(value: Any, visit: Visit) -> Any:
    if isinstance(value, str):
        return value.format(tag=visit.tag, **{k: v for k, v in visit.ids.items()})
    if isinstance(value, dict):
        return {k: _filled(v, visit) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, visit) for v in value]
    return value


def writes(visit: Visit) -> Iterator[tuple[str, Any]]:
    """The answers to the role's writes: REST creates and updates, a grid batch, then a draft's update."""
    created: list[tuple[str, int]] = []
    for label, method, url, body in WRITES.get(visit.role, []):
        response = getattr(visit.api, method.lower())(_filled(url, visit), json=_filled(body, visit))
        if method == "POST" and response.status_code == 201:
            created.append((url.split("/")[3], response.get_json()["id"]))
        yield f"write {label}", response
    if visit.role in GRID_WRITES:
        model, values = GRID_WRITES[visit.role]
        body = {
            "client_batch_id": f"walk-{visit.role}",
            "ops": [{"op": "create", "tmp_id": "t1", "values": _filled(values, visit)}],
        }
        yield f"grid batch {model}", visit.api.post(f"/api/v1/grid/{model}/batch", json=body)
    for model_key, pk in created[:1]:
        yield f"write update {model_key}", visit.api.put(f"/api/v1/{model_key}/{pk}", json={"remark": "walk"})
        yield f"write history {model_key}", visit.api.get(f"/api/v1/{model_key}/{pk}/history")
