"""Accounts API: a partner's receivable / payable, ageing and statement (对账单); overdue customers; last prices
and supplier scorecards. Each reads documents: it needs read on those document models and sight of their
figures (else 403), and counts only the documents in the reader's row scope. Accounts and overdue customers
are views of the report runner (reports/views.py): the same figures, masks and scope as the reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.api.responses import service_errors
from app.clock import business_today
from app.errors import CellError, ValidationFailed
from app.extensions import registry
from app.i18n import t
from app.schedules.dunning import send_now
from app.services.money.open_items import (
    allocate_oldest_first,
    item_json,
    open_items,
    parse_amount,
    payment_from_open_items,
)
from app.services.money.prices import last_price as last_partner_price
from app.services.money.receivables import PAYABLE, RECEIVABLE
from app.services.records.query import get_row
from app.services.records.serialize import rows_to_json
from app.web.context import current_access, session
from app.web.inputs import json_object
from reports.views import overdue_customers, partner_account, supplier_scorecard


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
    csrf_exempt = True  # cookie sessions are checked for CSRF in app.web.security; JWT needs none
    method_permission_name = {
        "partner_account": "read",
        "overdue": "read",
        "last_price": "read",
        "scorecard": "read",
        "open_items": "read",
        "pay_open_items": "read",  # the draft payment is written through RecordService: payment write needed
        "dunning": "read",  # whoever reads the customer's receivable (their own customers: a salesperson)
    }
    openapi_spec_tag = "accounts"

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def partner_account(self, pk: int) -> Any:
        """Receivable, payable, ageing and statement of one partner (the partner_statement and ar_ageing /
        ap_ageing reports, run as the reader).
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

    @expose("/<int:pk>/dunning", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def dunning(self, pk: int) -> Any:
        """催款 now: mail the customer every overdue invoice with their statement, through the mail queue as the
        催款 schedule does (the same builder and delivery log); answers 202 `{run_id, message}`, 422 with the
        reason when the customer has no e-mail address or owes nothing overdue.
        ---
        post:
          summary: Send a payment reminder now
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            202:
              description: '{run_id, message}'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        run_id, message = send_now(session(), current_access(), pk)
        return self.response(202, run_id=run_id, message=message)

    @expose("/overdue", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def overdue(self) -> Any:
        """Customers with receivables past their payment terms (for dunning 催款): the overdue report.
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
        return self.response(200, **supplier_scorecard(session(), access, pk))

    @expose("/<int:pk>/open_items", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def open_items(self, pk: int) -> Any:
        """未结单据: the partner's unpaid deliveries (`side=receivable`) or receipts (`side=payable`, the
        default for a supplier), oldest first, less returns and earlier payments; with `amount`, how it
        would be allocated oldest first.
        ---
        get:
          summary: A partner's open items
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200:
              description: "`result`: {model, id, number, date, total, returned, paid, open}; `allocation`"
        """
        access, reg = current_access(), registry()
        partner = get_row(session(), access, reg.model("partner"), pk)
        side = _side(request.args.get("side")) or (PAYABLE if partner.kind == "supplier" else RECEIVABLE)
        items = open_items(session(), access, pk, side)
        amount = parse_amount(request.args.get("amount"), "amount")
        allocation = (
            [
                {"number": item["number"], "amount": f"{value:.2f}"}
                for item, value in allocate_oldest_first(items, amount)
            ]
            if amount is not None
            else None
        )
        total = sum((item["open"] for item in items), Decimal(0))
        return self.response(
            200,
            side=side,
            count=len(items),
            open_total=f"{total:.2f}",
            result=[item_json(item) for item in items],
            allocation=allocation,
        )

    @expose("/<int:pk>/open_items", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def pay_open_items(self, pk: int) -> Any:
        """A draft payment (收款 / 付款) settling open items: `{"direction": "payment", "account": "BANK01",
        "items": [{"number": "CGRK...", "amount": "100.00"}, ...], "amount": "..."}`; an item without amount
        settles all that is open on it; without items, `amount` is allocated oldest first.
        ---
        post:
          summary: Pay (or receive) open items
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            201:
              description: The draft payment
            422:
              $ref: '#/components/responses/422'
        """
        access, reg = current_access(), registry()
        partner = get_row(session(), access, reg.model("partner"), pk)
        body = json_object(required=True)
        direction = body.pop("direction", None) or ("payment" if partner.kind == "supplier" else "receipt")
        picks = _picks(body.pop("items", None))
        amount = parse_amount(body.pop("amount", None), "amount")
        body.pop("partner", None)
        row = payment_from_open_items(session(), access, direction, pk, picks, amount, body)
        session().commit()
        result = rows_to_json(session(), access, reg.model("payment"), [row], with_lines=True)[0]
        return self.response(201, id=row.id, model="payment", result=result, message=t("draft_made", number=row.number))


def _picks(raw: Any) -> dict[str, Any] | None:
    """`items` as number -> amount (None: all that is open); numbers alone are accepted."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ValidationFailed([CellError("items", t("open_items_pick_needed"))])
    picks: dict[str, Any] = {}
    for index, entry in enumerate(raw):
        number, value = (entry, None) if isinstance(entry, str) else (None, None)
        if isinstance(entry, dict):
            number, value = entry.get("number"), entry.get("amount")
        if not isinstance(number, str) or not number:
            raise ValidationFailed([CellError(f"items.{index}.number", t("required"))])
        picks[number] = parse_amount(value, f"items.{index}.amount")
    return picks
