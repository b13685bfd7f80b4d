"""Reorder API: suggestions, low / overstock alerts, and draft purchase orders in one click."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect
from sqlalchemy import select

from app.api.responses import service_errors
from app.extensions import registry
from app.services.money.reorder import alerts, create_purchase_orders, suggestions
from app.web.context import current_access, session


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
        """Items below their reorder point with the quantity to order.
        ---
        get:
          summary: Reorder suggestions
          responses:
            200:
              description: Suggestions
        """
        return self.response(200, result=[p.as_json() for p in suggestions(session(), current_access())])

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
                  properties:
                    warehouse: {type: string}
                    items: {type: array, items: {type: string}}
          responses:
            201:
              description: Orders created
        """
        body = request.get_json(silent=True) or {}
        access = current_access()
        warehouse = body.get("warehouse") or _first_warehouse()
        result = create_purchase_orders(session(), access, warehouse, body.get("items"))
        return self.response(201, **result)


def _first_warehouse() -> str:
    cls = registry().cls("warehouse")
    return session().execute(select(cls.code).order_by(cls.code).limit(1)).scalar_one()
