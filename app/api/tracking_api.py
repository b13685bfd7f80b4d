"""Batch and serial tracking APIs: where a serial number is and how it got there; an item's batches in a
warehouse, the one that expires first first (FEFO)."""

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
from app.services.stock.lots import batches_in_stock
from app.services.stock.serials import serial_history
from app.web.context import current_access, session


class SerialsApi(BaseApi):
    """/api/v1/serials/<serial>: the serial's item(s), where it is now and every move of it."""

    resource_name = "serials"
    version = "v1"
    allow_browser_login = True
    class_permission_name = "StockMove"
    method_permission_name = {"get_serial": "read"}
    openapi_spec_tag = "serials"

    @expose("/<path:number>", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def get_serial(self, number: str) -> Any:
        """Where a serial number is and its history (stock moves the user may read).
        ---
        get:
          summary: A serial number's location and history
          parameters:
          - in: path
            schema: {type: string}
            name: number
          responses:
            200:
              description: The serial per item that has it
            404:
              $ref: '#/components/responses/404'
        """
        found = serial_history(session(), current_access(), number)
        if not found:
            return self.response_404()
        return self.response(200, serial=number.strip(), result=found)


class LotsApi(BaseApi):
    """/api/v1/lots/?item=<sku>&warehouse=<code>: batches (lots, 批次) on hand, the one that expires first first."""

    resource_name = "lots"
    version = "v1"
    allow_browser_login = True
    class_permission_name = "StockBalance"
    method_permission_name = {"get_batches": "read"}
    openapi_spec_tag = "batches"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def get_batches(self) -> Any:
        """An item's batches with stock in a warehouse, first to expire first (FEFO suggestion).
        ---
        get:
          summary: Batches on hand in FEFO order
          parameters:
          - in: query
            schema: {type: string}
            name: item
          - in: query
            schema: {type: string}
            name: warehouse
          responses:
            200:
              description: Batches, the one to issue first first
            422:
              description: Unknown item or warehouse
        """
        access, reg = current_access(), registry()
        access.require("stock_balance", "read")
        item, warehouse = reg.cls("item"), reg.cls("warehouse")
        sku, code = request.args.get("item", ""), request.args.get("warehouse", "")
        item_id = session().execute(select(item.id).where(item.sku == sku)).scalar()
        warehouse_id = session().execute(select(warehouse.id).where(warehouse.code == code)).scalar()
        errors = [CellError("item", t("link_missing", value=sku))] if item_id is None else []
        if warehouse_id is None:
            errors.append(CellError("warehouse", t("link_missing", value=code)))
        if errors:
            raise ValidationFailed(errors)
        scope = access.scope(reg.model("stock_balance"))
        found = batches_in_stock(session(), reg, item_id, warehouse_id, scope)
        return self.response(200, item=sku, warehouse=code, result=[b.as_json() for b in found])
