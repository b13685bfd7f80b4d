"""Reorder API: suggestions, low / overstock alerts, and draft purchase orders in one click."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect
from sqlalchemy import select

from app.api.responses import service_errors
from app.errors import CellError, ValidationFailed
from app.extensions import registry
from app.i18n import t
from app.services.money.reorder import alerts, create_purchase_orders
from app.web.context import current_access, session
from reports.views import reorder_suggestions

PAGE_ONLY = ("supplier", "supplier_name")  # the page names the default supplier; the API never did


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
        """Items below their reorder point with the quantity to order (the reorder report, run as the reader).
        ---
        get:
          summary: Reorder suggestions
          responses:
            200:
              description: Suggestions
        """
        found = reorder_suggestions(session(), current_access())
        session().rollback()  # a report only reads
        return self.response(200, result=[{k: v for k, v in row.items() if k not in PAGE_ONLY} for row in found])

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
        """Turn suggestions into draft purchase orders grouped by default supplier.
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
                    warehouse: {type: string, description: receiving warehouse code (default the first)}
                    items:
                      type: array
                      minItems: 1
                      items: {type: string}
                      description: skus to order, each a current suggestion (default every suggestion)
          responses:
            201:
              description: Orders created
            422:
              description: An unknown key, or an item that is not a current suggestion
        """
        body = request.get_json(silent=True)
        body = {} if body is None else body
        errors = _body_errors(body)
        if errors:
            raise ValidationFailed(errors)
        access = current_access()
        warehouse = body.get("warehouse") or _first_warehouse()
        result = create_purchase_orders(session(), access, warehouse, body.get("items"))
        return self.response(201, **result)


def _body_errors(body: Any) -> list[CellError]:
    """What is wrong with the request: not an object, keys it does not know, items not a list of skus."""
    if not isinstance(body, dict):
        return [CellError("_record", t("not_object"))]
    errors = [CellError(str(key), t("unknown_field")) for key in body if key not in ("warehouse", "items")]
    items = body.get("items")
    if items is not None and (not isinstance(items, list) or not all(isinstance(sku, str) for sku in items)):
        errors.append(CellError("items", t("reorder_items_list")))
    if body.get("warehouse") is not None and not isinstance(body["warehouse"], str):
        errors.append(CellError("warehouse", t("reorder_warehouse_code")))
    return errors


def _first_warehouse() -> str:
    cls = registry().cls("warehouse")
    return session().execute(select(cls.code).order_by(cls.code).limit(1)).scalar_one()
