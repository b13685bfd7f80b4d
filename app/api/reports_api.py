"""/api/v1/reports/: the reports the reader may run, and one report's answer as JSON, xlsx or csv."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import jsonify, request
from flask_appbuilder.api import BaseApi, expose, safe

from app.api.grid_api import signed_in
from app.api.responses import XLSX_MIME, download, kept_answer, service_errors
from app.errors import NotFound, argument_refused
from app.i18n import label, t
from app.meta.types import MAX_INTEGER
from app.services.access.rights import Access
from app.services.records.query import page_asked, page_size_asked
from app.services.records.serialize import user_name
from app.web.context import current_access, request_user, session
from reports.context import Page
from reports.output import title, to_csv, write_xlsx
from reports.params import OFFERS, offered_help, offered_options, offered_users
from reports.runner import as_json, available, find, run_report

FORMATS = ("json", "xlsx", "csv")
MAX_PAGE = 1000


def requested_page(default_size: int) -> Page:
    """The request's `page` (counted from 1, as the reorder page numbers its pages and the grid asks for rows) of
    `page_size` rows (1 to MAX_PAGE) as a runner's Page; a page 0, negative or not a whole number is a 422 saying what
    a page is (页码应为从 1 起的整数), a page size out of bounds a 422 alike (每页行数应为 1 到 1000 的整数)."""
    size = page_size_asked("page_size", request.args.get("page_size"), default_size, MAX_PAGE)
    number = page_asked("page", request.args.get("page"))
    if (number - 1) * size > MAX_INTEGER:
        raise argument_refused("page", t("out_of_range", bound=MAX_INTEGER))
    return Page.numbered(number, size)


def author() -> str:
    """制表人: the reader's name (their user name when they have none)."""
    user = request_user()
    return "" if user is None else user_name(user)


def _report_list(access: Access) -> dict[str, Any]:
    """The list's answer: the reports `access` may run, with their parameters."""
    result = [
        {
            "name": report.key,
            "label": label(report.label, report.key),
            "help": offered_help(access, report),
            "params": [
                {
                    "name": p.name,
                    "type": p.type,
                    "label": label(p.label, p.name),
                    "options": [
                        {"value": v, "label": label(text, v)} for v, text in offered_options(access, report, p)
                    ],
                }
                for p in report.params
            ],
        }
        for report in available(access)
    ]
    return {"result": result}


class ReportsApi(BaseApi):
    """Reports, always run as the reader (row scope, masks, the sources they may read)."""

    resource_name = "reports"
    version = "v1"
    allow_browser_login = True
    openapi_spec_tag = "reports"

    @expose("/", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def list_reports(self) -> Any:
        """The reports the reader may run, with their parameters.
        ---
        get:
          summary: Reports the reader may run
          responses:
            200:
              description: '{result: [{name, label, help, params: [{name, type, label, options}]}]}'
        """
        return kept_answer(current_access(), "report_list", None, _report_list)

    @expose("/<name>", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def run(self, name: str) -> Any:
        """Run a report: its parameters in the query string, `format` json (default), xlsx or csv; with
        `page_size` (up to 1000) and `page` (from 1) json answers that page of the rows and `count`.
        ---
        get:
          summary: Run a report
          parameters:
          - {in: path, name: name, required: true, schema: {type: string}}
          - {in: query, name: format, schema: {type: string, enum: [json, xlsx, csv]}}
          - {in: query, name: page, schema: {type: integer, minimum: 1}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 1000}}
          responses:
            200:
              description: '{columns, rows, totals, chart} or the file'
            403:
              description: The reader may not run it
            422:
              description: 'A parameter is wrong (or `page`, `page_size`): {message, errors: [{field, message}]}'
        """
        args = {k: v for k, v in request.args.items() if k not in ("format", "_l_", "page", "page_size")}
        fmt = request.args.get("format", "json")
        if fmt not in FORMATS:
            fmt = "json"
        page = requested_page(0) if fmt == "json" and "page_size" in request.args else None  # `count`: all rows
        result = run_report(session(), current_access(), name, args, page)
        session().rollback()  # a report only reads
        if fmt == "csv":
            return download(to_csv(result), "text/csv", f"{name}.csv", f"{title(result)}.csv")
        if fmt == "xlsx":
            buffer = io.BytesIO()
            write_xlsx(result, buffer, author())
            return download(buffer.getvalue(), XLSX_MIME, f"{name}.xlsx", f"{title(result)}.xlsx")
        return jsonify(as_json(result))

    @expose("/<name>/lookup", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def lookup(self, name: str) -> Any:
        """What a link or user parameter of the report offers as the reader types: a link's rows (商品, 客户, 供应商,
        仓库) by code, name or pinyin initials, through the grid's lookup of the linked model as the reader sees it
        (their row scope: a salesperson's own customers) and as the fields the parameter filters let them name (a
        warehouse keeper: their own warehouses); a user parameter's users (业务员, 负责人) by user name or name, whom
        they may filter by (a salesperson: themselves). The report takes no other value. 403 to who may not run it.
        ---
        get:
          summary: Lookup for a report's link or user parameter
          parameters:
          - {in: path, name: name, required: true, schema: {type: string}}
          - {in: query, name: param, required: true, schema: {type: string}}
          - {in: query, name: q, schema: {type: string}}
          responses:
            200:
              description: '{results: [{id, key, name}]}: key the business key (code, SKU) or user name'
            403:
              description: The reader may not run the report
            404:
              description: No such report, or no link or user parameter of that name
        """
        return _offered(name, OFFERS)

    @expose("/<name>/users", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def users(self, name: str) -> Any:
        """`lookup` for a user parameter only (业务员, 负责人: whom the reader may filter by); 404 for any other.
        ---
        get:
          summary: User lookup for a report's user parameter (as lookup)
          parameters: [{in: path, name: name, required: true, schema: {type: string}}, {in: query, name: param,
            required: true, schema: {type: string}}, {in: query, name: q, schema: {type: string}}]
          responses: {200: {description: '{results: [{id, key, name}]}'}, 403: {description: Not to run}, 404:
            {description: No such report or user parameter}}
        """
        return _offered(name, {"user": offered_users})


def _offered(name: str, offers: dict[str, Callable[..., list[Any]]]) -> Any:
    """What the report's parameter `param` offers as the reader types `q`, by its type (`offers`); 404 for no such
    parameter of those types."""
    access = current_access()
    report = find(access, name)
    wanted = request.args.get("param", "")
    spec = next((p for p in report.params if p.name == wanted and p.type in offers), None)
    if spec is None:
        raise NotFound(t("report.unknown_param", name=wanted))
    found = offers[spec.type](session(), access, report, spec, request.args.get("q", "")[:100])
    session().rollback()  # a lookup only reads
    return jsonify(results=found)
