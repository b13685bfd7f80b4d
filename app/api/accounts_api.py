"""Accounts API: a partner's receivable / payable, ageing and statement (对账单); overdue customers; last prices
and supplier scorecards. Each reads documents: it needs read on those document models and sight of their
figures (else 403), and counts only the documents in the reader's row scope (app.services.money)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.api.responses import service_errors
from app.clock import business_today
from app.extensions import registry
from app.services.money.prices import last_price as last_partner_price
from app.services.money.prices import supplier_scorecard
from app.services.money.receivables import PAYABLE, RECEIVABLE, overdue_customers, partner_account
from app.services.records.query import get_row
from app.web.context import current_access, session


def _today() -> dt.date:
    return business_today()


def _side(raw: str | None) -> str | None:
    """The side asked for (anything else: the partner's own)."""
    return raw if raw in (RECEIVABLE, PAYABLE) else None


class AccountsApi(BaseApi):
    """/api/v1/accounts/<partner id> and /api/v1/accounts/overdue (the partner's row scope applies)."""

    resource_name = "accounts"
    version = "v1"
    allow_browser_login = True
    class_permission_name = "Partner"
    method_permission_name = {"partner_account": "read", "overdue": "read", "last_price": "read", "scorecard": "read"}
    openapi_spec_tag = "accounts"

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def partner_account(self, pk: int) -> Any:
        """Receivable, payable, ageing and statement of one partner.
        ---
        get:
          summary: A partner's account
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200:
              description: Account
            404:
              $ref: '#/components/responses/404'
        """
        access, reg = current_access(), registry()
        partner = get_row(session(), access, reg.model("partner"), pk)
        account = partner_account(session(), access, partner, _side(request.args.get("side")), _today())
        return self.response(
            200,
            **{k: str(v) if k in (RECEIVABLE, PAYABLE) else v for k, v in account.items()},
        )

    @expose("/overdue", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def overdue(self) -> Any:
        """Customers with receivables past their payment terms (for dunning 催款).
        ---
        get:
          summary: Overdue customers
          responses:
            200:
              description: Customers with overdue amounts
        """
        result = [
            {"partner": r["partner"], "name": r["name"], "ageing": r["ageing"], "overdue": r["overdue"]}
            for r in overdue_customers(session(), current_access(), _today())
        ]
        return self.response(200, result=result)

    @expose("/<int:pk>/last_price/<int:item_id>", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def last_price(self, pk: int, item_id: int) -> Any:
        """The last price agreed with this partner for an item (side=sales|purchase).
        ---
        get:
          summary: Last price for a partner and item
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          - in: path
            schema: {type: integer}
            name: item_id
          responses:
            200:
              description: The price, or null
        """
        access, reg = current_access(), registry()
        get_row(session(), access, reg.model("partner"), pk)
        side = "purchase" if request.args.get("side") == "purchase" else "sales"
        price = last_partner_price(session(), reg, side, pk, item_id, access=access)
        return self.response(200, price=None if price is None else str(price))

    @expose("/<int:pk>/scorecard", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def scorecard(self, pk: int) -> Any:
        """Supplier scorecard: on-time rate, rejected rate, price history per item.
        ---
        get:
          summary: Supplier scorecard
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200:
              description: Scorecard
        """
        access, reg = current_access(), registry()
        get_row(session(), access, reg.model("partner"), pk)
        return self.response(200, **supplier_scorecard(session(), reg, pk, access))
