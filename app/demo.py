"""Demo data (metadata/demo.yaml) loaded through the normal write service, as the admin."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from app.extensions import db, registry
from app.meta.yamlload import load_yaml
from app.services.records.write import RecordService
from app.services.users.access import access_for


def load_demo(app: Flask) -> int:
    """Create the demo rows unless items already exist; return how many rows were created."""
    reg = registry()
    if db.session.execute(select(func.count()).select_from(reg.cls("item"))).scalar_one():
        return 0
    data, problems = load_yaml(Path(app.config["JXC_METADATA_DIR"]) / "demo.yaml")
    if problems:
        raise ValueError("; ".join(p.message for p in problems))
    admin = app.appbuilder.sm.find_user(username="admin")
    service = RecordService(db.session, access_for(admin))
    created = 0
    for model_key, rows in (data or {}).items():
        for row in rows:
            service.create(model_key, dict(row))
            created += 1
        db.session.flush()
    service.commit()
    return created


# The demo's history: what a trading business of the demo's size did over its last HISTORY_WEEKS weeks, so
# that the dashboard, the reports and 补货建议 of a fresh `make run` have something to show. Deterministic (a
# seeded generator), posted day by day through the same services a clerk's documents go through.
HISTORY_WEEKS = 12
HISTORY_SEED = 2026
WAREHOUSE, BANK = "WH01", "A002"
CUSTOMERS = ("K001", "K002", "K003", "K004", "K005", "K006", "K007", "K008", "K009", "K010")
SMALL_CREDIT = {"K001": Decimal(5000), "K004": Decimal(5000)}  # customers on cash terms with a small credit limit


def load_demo_history(app: Flask) -> int:
    """Post the demo's history unless an opening balance exists: the opening balance, then each Monday a
    receipt per supplier of its items that fell below their reorder point, each working day deliveries to three
    customers, each Friday the customers' payments for what they took two weeks before and more, each month-end
    the suppliers paid the same way. Returns how many documents were posted."""
    from app.clock import business_today

    if db.session.execute(select(func.count()).select_from(registry().cls("opening_balance"))).scalar_one():
        return 0
    history = _History(access_for(app.appbuilder.sm.find_user(username="admin")), _demo_items())
    start = business_today() - dt.timedelta(weeks=HISTORY_WEEKS)
    history.post("opening_balance", _opening(history.items, start))
    rnd = random.Random(HISTORY_SEED)
    for offset in range(1, HISTORY_WEEKS * 7):
        day = start + dt.timedelta(days=offset)
        if day.weekday() == 0:  # what fell below its reorder point comes in on Monday
            for supplier in sorted({i["supplier"] for i in history.items}):
                low = [i for i in history.items if i["supplier"] == supplier and i["stock"] < i["reorder_point"]]
                if low:
                    history.post("purchase_receipt", _receipt(day, supplier, low))
        if day.weekday() < 5:
            for customer in rnd.sample(CUSTOMERS, 3):
                history.post("sales_delivery", _delivery(day, customer, rnd.sample(history.items, rnd.randint(2, 6))))
        if day.weekday() == 4:
            history.settle(day, "receipt", CUSTOMERS, BANK)
        if (day + dt.timedelta(days=1)).month != day.month:
            history.settle(day, "payment", sorted({i["supplier"] for i in history.items}), BANK)
    return history.posted


class _History:
    """Posts the history's documents as the admin, through the services a clerk's documents go through."""

    def __init__(self, access: Any, items: list[dict[str, Any]]) -> None:
        from app.services.posting.service import PostingService

        self.access, self.items, self.posted = access, items, 0
        self.records = RecordService(db.session, access)
        self.posting = PostingService(db.session, access)

    def post(self, model_key: str, payload: dict[str, Any]) -> None:
        """Create and submit a document, keeping each item's stock (`stock`) as the ledger will have it."""
        sign = {"opening_balance": 1, "purchase_receipt": 1, "sales_delivery": -1}[model_key]
        by_sku = {i["sku"]: i for i in self.items}
        for line in payload["lines"]:
            if "item" in line:
                by_sku[line["item"]]["stock"] += sign * Decimal(line["qty"])
        row = self.records.create(model_key, payload)
        self.records.commit()
        self._submit(model_key, row)

    def settle(self, day: dt.date, direction: str, partners: Any, account: str) -> None:
        """Pay (or be paid for) every open document of each partner dated two weeks or more before `day`."""
        from app.services.money.open_items import SIDE_OF, open_items, payment_from_open_items

        partner = registry().cls("partner")
        for code in partners:
            partner_id = db.session.execute(select(partner.id).where(partner.code == code)).scalar_one()
            due = day - dt.timedelta(days=14)
            found = open_items(db.session, self.access, partner_id, SIDE_OF[direction])
            picks: dict[str, Decimal | None] = {i["number"]: None for i in found if i["date"] <= due}
            if not picks:
                continue
            header = {"date": day.isoformat(), "account": account}
            row = payment_from_open_items(db.session, self.access, direction, partner_id, picks, None, header)
            self.records.commit()
            self._submit("payment", row)

    def _submit(self, model_key: str, row: Any) -> None:
        self.posting.submit(model_key, row.id)
        self.posted += 1


def _demo_items() -> list[dict[str, Any]]:
    """The demo's items with what the history needs of them: cost, wholesale price, quantities, supplier."""
    item = registry().cls("item")
    partner = registry().cls("partner")
    rows = db.session.execute(
        select(
            item.sku,
            item.purchase_price,
            item.wholesale_price,
            item.reorder_point,
            item.reorder_qty,
            item.max_stock,
            partner.code,
        )
        .join(partner, partner.id == item.default_supplier_id)
        .order_by(item.sku)
    ).all()
    keys = ("sku", "cost", "price", "reorder_point", "reorder_qty", "max_stock", "supplier")
    return [dict(zip(keys, row, strict=True), stock=Decimal(0)) for row in rows]


def _opening(items: list[dict[str, Any]], day: dt.date) -> dict[str, Any]:
    """Half the maximum stock of every item at its cost, a customer owing and a supplier owed."""
    due = (day + dt.timedelta(days=30)).isoformat()
    lines: list[dict[str, Any]] = [
        {"item": i["sku"], "warehouse": WAREHOUSE, "qty": str(i["max_stock"] // 2), "price": str(i["cost"])}
        for i in items
    ]
    lines.append({"partner": "K002", "receivable_amount": "12800.00", "due_date": due})
    lines.append({"partner": "S001", "payable_amount": "8600.00", "due_date": due})
    return {"date": day.isoformat(), "warehouse": WAREHOUSE, "remark": "演示数据：开账期初", "lines": lines}


def _receipt(day: dt.date, supplier: str, chosen: list[dict[str, Any]]) -> dict[str, Any]:
    """A reorder quantity of each chosen item, at its cost."""
    lines = [{"item": i["sku"], "qty": str(i["reorder_qty"]), "price": str(i["cost"])} for i in chosen]
    return {"date": day.isoformat(), "partner": supplier, "warehouse": WAREHOUSE, "lines": lines}


def _delivery(day: dt.date, customer: str, chosen: list[dict[str, Any]]) -> dict[str, Any]:
    """A tenth of a reorder quantity of each chosen item at the wholesale price (no more than is in stock),
    kept under the credit limit of the customers that have a small one."""
    limit = SMALL_CREDIT.get(customer)
    lines = []
    for i in chosen:
        qty = min(max(Decimal(1), i["reorder_qty"] // 10), i["stock"])
        if limit is not None:
            qty = max(Decimal(1), min(qty, (limit / len(chosen) / i["price"] / 2).to_integral_value()))
        if qty > 0:
            lines.append({"item": i["sku"], "qty": str(qty), "price": str(i["price"])})
    return {"date": day.isoformat(), "partner": customer, "warehouse": WAREHOUSE, "lines": lines}
