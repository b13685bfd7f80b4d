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
    history.orders(start + dt.timedelta(days=HISTORY_WEEKS * 7))
    return history.posted


# The orders still under way at the end of the history (待入库 / 待出库 on the home page, 下推 to show): (partner,
# days before today it was ordered, how many of its items, what came of it): `open` nothing received or shipped
# yet, `part` a pushed-down receipt or delivery of half of its first line today, `full` all of it received today,
# `close` half of its first line shipped today and the rest closed (全部出库, 已关闭). Small enough to post on submit
# (no level of approvals.yaml), within the customers' credit limits.
PURCHASE_ORDERS = (("S002", 9, 3, "part"), ("S003", 6, 2, "open"), ("S004", 12, 2, "full"))
SALES_ORDERS = (("K002", 8, 3, "part"), ("K003", 5, 2, "open"), ("K005", 11, 2, "close"), ("K006", 3, 2, "open"))


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

    def orders(self, today: dt.date) -> None:
        """The purchase and sales orders under way today (PURCHASE_ORDERS, SALES_ORDERS), approved, and what was
        pushed down from them, through the services a clerk's 下推 goes through: the receipts and deliveries take
        from the orders' lines, so 入库状态 / 出库状态, the reservations and the stock are what the ledger says."""
        for supplier, days_ago, count, outcome in PURCHASE_ORDERS:
            chosen = [i for i in self.items if i["supplier"] == supplier][:count]
            lines = [{"item": i["sku"], "qty": str(i["reorder_qty"]), "price": str(i["cost"])} for i in chosen]
            self._order("purchase_order", today - dt.timedelta(days=days_ago), supplier, lines, outcome, today)
        by_stock = sorted(self.items, key=lambda i: (-i["stock"] / max(i["reorder_qty"], 1), i["sku"]))
        for index, (customer, days_ago, count, outcome) in enumerate(SALES_ORDERS):
            chosen = by_stock[index * count : (index + 1) * count]
            lines = [
                {"item": i["sku"], "qty": str(max(Decimal(2), i["reorder_qty"] // 10 * 2)), "price": str(i["price"])}
                for i in chosen
            ]
            self._order("sales_order", today - dt.timedelta(days=days_ago), customer, lines, outcome, today)

    def _order(
        self, model_key: str, day: dt.date, partner: str, lines: list[dict[str, Any]], outcome: str, today: dt.date
    ) -> None:
        """Post one order, then what came of it (`outcome`, see PURCHASE_ORDERS)."""
        from app.documents.flow import closing_done_field, push

        payload = {"date": day.isoformat(), "partner": partner, "warehouse": WAREHOUSE, "lines": lines}
        order = self.records.create(model_key, payload)
        self.records.commit()
        self._submit(model_key, order)
        if outcome == "open":
            return
        target, _ = closing_done_field(registry(), model_key)
        pushed = push(db.session, self.access, model_key, order.id, target or "", {"date": today.isoformat()})
        follow_on = pushed.row
        if outcome in ("part", "close"):  # half of the first line; the rest waits (or is closed below)
            first, *_ = sorted(follow_on.lines, key=lambda line: line.line_no)
            half = {"id": first.id, "item": first.item_id, "qty": str(max(Decimal(1), Decimal(first.qty) // 2))}
            self.records.update(target or "", follow_on.id, {"lines": [half], "version": follow_on.version})
            self.records.commit()
        sign = 1 if target == "purchase_receipt" else -1
        by_id = {i["id"]: i for i in self.items}
        for line in follow_on.lines:
            by_id[line.item_id]["stock"] += sign * Decimal(line.qty)
        self._submit(target or "", follow_on)
        if outcome == "close":
            self.posting.close(model_key, order.id)

    def _submit(self, model_key: str, row: Any) -> None:
        done = self.posting.submit(model_key, row.id)
        if done.status != "submitted":  # the demo posts on submit: an approval level would leave it waiting
            raise ValueError(f"demo {model_key} {row.number} is {done.status}, not submitted")
        self.posted += 1


def _demo_items() -> list[dict[str, Any]]:
    """The demo's items with what the history needs of them: cost, wholesale price, quantities, supplier."""
    item = registry().cls("item")
    partner = registry().cls("partner")
    rows = db.session.execute(
        select(
            item.id,
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
    keys = ("id", "sku", "cost", "price", "reorder_point", "reorder_qty", "max_stock", "supplier")
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
