"""The phone's API at /api/v1/phone/: counts sent once, and stock lookup. The phone pages use the shared APIs
for everything else (the inbox, approve / reject, link lookups, line defaults, draft totals, creating a
sales order, reports)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.api.responses import service_errors
from app.services.phone.counting import Counting
from app.services.phone.stock_lookup import stock_lookup
from app.web.context import current_access, session


class PhoneApi(BaseApi):
    """/api/v1/phone/...: what only the phone pages need."""

    resource_name = "phone"
    version = "v1"
    allow_browser_login = True
    csrf_exempt = True  # cookie sessions are checked for CSRF in app.web.security; JWT needs none
    class_permission_name = "Meta"  # every signed-in user; what they may read or write is decided per model
    method_permission_name = {"counts": "read", "units": "read", "reasons": "read", "stock": "read"}
    openapi_spec_tag = "phone"

    @expose("/stocktake/<int:stocktake_id>/counts", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def counts(self, stocktake_id: int) -> Any:
        """Add a batch of counts to a draft stocktake, once per key.
        ---
        post:
          summary: Send a batch of counts (idempotent by key)
          parameters:
          - {in: path, name: stocktake_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    key: {type: string, description: the device's key for this batch (at most 64 characters)}
                    counts:
                      type: array
                      items: {type: object, properties: {code: {type: string}, qty: {type: string}}}
          responses:
            200:
              description: '{stocktake, number, key, counted: [{item, added, counted}], unknown, refused, replayed}'
            409:
              description: the stocktake is no longer a draft, or the key was used for another stocktake
        """
        return self.response(
            200, **Counting(session(), current_access()).send(stocktake_id, request.get_json(silent=True))
        )

    @expose("/stocktake/<int:stocktake_id>/units", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def units(self, stocktake_id: int) -> Any:
        """The units a count of a code may be typed in on a draft stocktake the reader may count: the item's own
        (its base unit, sent as "", and its item_unit conversions), the one to offer first as `default` (a case
        barcode's case, else the unit of the item's line on the stocktake, else the base unit).
        ---
        get:
          summary: Units of the item a code names, for counting
          parameters:
          - {in: path, name: stocktake_id, required: true, schema: {type: integer}}
          - {in: query, name: code, schema: {type: string}, description: an item's SKU or barcode, or a case barcode}
          responses:
            200:
              description: '{item: {id, key, name} or null, units: [{code, name, ratio, base}], default}'
        """
        code = request.args.get("code", "")[:128]
        return self.response(200, **Counting(session(), current_access()).units(stocktake_id, code))

    @expose("/stocktake/<int:stocktake_id>/reasons", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def reasons(self, stocktake_id: int) -> Any:
        """Set the 差异原因 of some lines of a draft stocktake before it is submitted (the phone's review): the lines
        named only, through RecordService, refused (409) when the stocktake was saved since the version reviewed.
        ---
        post:
          summary: Explain the differences of some lines
          parameters:
          - {in: path, name: stocktake_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            description: '{version: the version of the stocktake as reviewed, reasons: [{line: its id, reason}]}'
            content: {application/json: {schema: {type: object}}}
          responses:
            200:
              description: '{stocktake, version}: the version to submit with'
            409:
              description: the stocktake was saved since `version`, or is no longer a draft
        """
        body = request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}
        answer = Counting(session(), current_access()).explain(stocktake_id, body.get("version"), body.get("reasons"))
        return self.response(200, **answer)

    @expose("/stock", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def stock(self) -> Any:
        """Items by code, barcode or name with their stock per warehouse in the reader's scope.
        ---
        get:
          summary: Stock lookup
          parameters:
          - {in: query, name: q, schema: {type: string}}
          - {in: query, name: warehouse, schema: {type: string}, description: a warehouse code}
          responses:
            200:
              description: '{items: [{sku, name, ..., stock: [{warehouse, qty, available}], total, available_total}]}'
        """
        found = stock_lookup(session(), current_access(), request.args.get("q", ""), request.args.get("warehouse", ""))
        return self.response(200, **found)
