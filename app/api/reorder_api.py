"""Reorder API: suggestions, low / overstock alerts, and draft purchase orders in one click."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.api.reports_api import requested_page
from app.api.responses import service_errors
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.services.money.reorder import alerts
from app.web.context import current_access, session
from reports.views import order_suggestions, reorder_suggestions

PAGE_ONLY = ("supplier", "supplier_name")  # the page names the default supplier; the API never did
FILTERS = ("warehouse", "supplier", "category")  # the reorder report's filters, by business key


class ReorderApi(BaseApi):
    """/api/v1/reorder/: suggestions, alerts, and one click to draft purchase orders."""

    resource_name = "reorder"
    version = "v1"
    allow_browser_login = True
    csrf_exempt = True
    class_permission_name = "PurchaseOrder"
    method_permission_name = {"get_suggestions": "read", "get_alerts": "read", "post_orders": "write"}
    openapi_spec_tag = "reorder"

    @expose("/suggestions", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def get_suggestions(self) -> Any:
        """Items below their reorder point with the quantity to order (the reorder report, run as the reader), a
        page at a time (`page` from 1, `page_size` up to 1000, default 100; `count`: how many in all), A items
        first then by SKU; `warehouse`, `supplier`, `category` (codes) narrow them (a warehouse: its stock and
        the open orders into it against the items' thresholds).
        ---
        get:
          summary: Reorder suggestions
          parameters:
            - {in: query, name: page, schema: {type: integer, minimum: 1}}
            - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 1000}}
            - {in: query, name: warehouse, schema: {type: string}}
            - {in: query, name: supplier, schema: {type: string}}
            - {in: query, name: category, schema: {type: string}}
          responses:
            200:
              description: Suggestions
            422:
              description: '`page` or `page_size` out of bounds: {message, errors: [{field, message}]}'
        """
        page = requested_page(100)
        filters = {name: request.args[name] for name in FILTERS if request.args.get(name)}
        found, count = reorder_suggestions(session(), current_access(), filters, page)
        session().rollback()  # a report only reads
        rows = [{k: v for k, v in row.items() if k not in PAGE_ONLY} for row in found]
        return self.response(200, result=rows, count=count, page=page.number, page_size=page.size)

    @expose("/alerts", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def get_alerts(self) -> Any:
        """Low-stock and overstock items.
        ---
        get:
          summary: Stock alerts
          responses:
            200:
              description: Alerts
        """
        return self.response(200, **alerts(session(), current_access()))

    @expose("/orders", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def post_orders(self) -> Any:
        """Turn suggestions into draft purchase orders grouped by default supplier: the items asked, or every
        suggestion within `filters` (as the suggestions take them); more than 500 of them are drafted by the
        job `reorder_orders` (202 with its id).
        ---
        post:
          summary: Draft purchase orders from suggestions
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  additionalProperties: false
                  properties:
                    warehouse: {type: string, description: "receiving warehouse (default the filter's, or the first)"}
                    items:
                      type: array
                      minItems: 1
                      items: {type: string}
                      description: skus to order, each a current suggestion (default every suggestion)
                    filters:
                      type: object
                      additionalProperties: false
                      properties:
                        warehouse: {type: string}
                        supplier: {type: string}
                        category: {type: string}
          responses:
            201:
              description: Orders created
            202:
              description: Many suggestions, drafted by a job
            422:
              description: An unknown key, or an item that is not a current suggestion
        """
        body = request.get_json(silent=True)
        body = {} if body is None else body
        errors = _body_errors(body)
        if errors:
            raise ValidationFailed(errors)
        filters = {name: value for name, value in (body.get("filters") or {}).items() if value}
        result = order_suggestions(session(), current_access(), body.get("warehouse"), body.get("items"), filters)
        if "job_id" in result:
            session().commit()
            return self.response(202, **result)
        return self.response(201, **result)


def _body_errors(body: Any) -> list[CellError]:
    """What is wrong with the request: not an object, keys it does not know, items not a list of skus."""
    if not isinstance(body, dict):
        return [CellError("_record", t("not_object"))]
    errors = [CellError(str(key), t("unknown_field")) for key in body if key not in ("warehouse", "items", "filters")]
    filters = body.get("filters")
    if filters is not None and not isinstance(filters, dict):
        errors.append(CellError("filters", t("not_object")))
    elif filters:
        errors += [
            CellError(f"filters.{key}", t("unknown_field") if key not in FILTERS else t("reorder_filter_code"))
            for key, value in filters.items()
            if key not in FILTERS or not isinstance(value, str)
        ]
    items = body.get("items")
    if items is not None and (not isinstance(items, list) or not all(isinstance(sku, str) for sku in items)):
        errors.append(CellError("items", t("reorder_items_list")))
    if body.get("warehouse") is not None and not isinstance(body["warehouse"], str):
        errors.append(CellError("warehouse", t("reorder_warehouse_code")))
    return errors
