"""Worlds for the separation walk: copies of one database that differ only in what some role may not see.

`worlds(app, backend)` clones the session's database (SQLite backup API / PostgreSQL TEMPLATE) once per
world, opens an app on each, and writes the same small business into each through the admin's API: the
same rows, in the same order (so ids and numbers agree), with different values only where the world says:

- base: the reference;
- sale: other selling figures (prices, credit limits, receipts) and other customer names: all hidden from
  a purchaser (a purchaser reads suppliers only and hides sale figures);
- purchase: other purchase figures (so other costs), other supplier names and default suppliers, another
  name for a customer the salesperson does not own, a deleted customer kept: all hidden from a salesperson;
- figures: every kind of figure other (sale, purchase, cost, cash), names alike: hidden from a warehouse
  keeper and from a role under 价格屏蔽.
"""

from __future__ import annotations

import gc
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from tests.conftest import PASSWORD, Api, hide_prices

DAY = "2030-06-14"  # every document of the world is dated so, far from the other tests' documents
MONTH = DAY[:7]


@dataclass(frozen=True)
class World:
    """What differs in one world from the base."""

    name: str
    sale: bool = False  # selling prices, wholesale and customer prices, credit limits, money received
    purchase: bool = False  # purchase prices (so costs), supplier prices, budgets, money paid
    cash: bool = False  # account balances
    customers: bool = False  # customer names (a purchaser reads no customer)
    suppliers: bool = False  # supplier names and the items' default supplier (a salesperson reads no supplier)
    others: bool = False  # a customer the salesperson does not own: its name, and a deleted one that stays

    def pick(self, kind: str, base: str, other: str) -> str:
        """`other` when the world changes this kind of value, else `base`."""
        return other if getattr(self, kind) else base


WORLDS = {
    "base": World("base"),
    "sale": World("sale", sale=True, customers=True),
    "purchase": World("purchase", purchase=True, suppliers=True, others=True),
    "figures": World("figures", sale=True, purchase=True, cash=True),
}
# each role is walked on the base and on a world where everything that differs is hidden from it
COMPARED = {"purchaser": "sale", "salesperson": "purchase", "warehouse": "figures", "clerk": "figures"}
BLIND_ROLE = "clerk"  # 价格屏蔽 is on for clerks in every world
# the blind clerk hides every kind, as the warehouse keeper does: it walks only the models the keeper may not read
WALKED_BEFORE = {"clerk": "warehouse"}


@dataclass
class Built:
    """One world, opened: its app, the admin's API, and what the script created (same ids in every world)."""

    world: World
    app: Any
    admin: Api
    ids: dict[str, int] = field(default_factory=dict)
    numbers: dict[str, str] = field(default_factory=dict)
    cursor: int = 0  # the audit id before the world's rows: the change feed starts here
    start: dict[str, int] = field(default_factory=dict)  # per model, the last id before the world's rows


def _ok(response: Any, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201)), response.get_data(as_text=True)[:800]
    return response.get_json()


def build(built: Built, tag: str) -> None:
    """Write the world's business through the admin's API."""
    w, api, ids, numbers = built.world, built.admin, built.ids, built.numbers
    changes = _ok(api.get("/api/v1/grid/item/changes"))
    built.cursor = changes["cursor"]
    hide_prices(built.app, [BLIND_ROLE])  # stored as an older database holds it: the page refuses it for clerks now

    def create(model: str, key: str, payload: dict[str, Any]) -> dict[str, Any]:
        result = _ok(api.post(f"/api/v1/{model}/", json=payload))["result"]
        ids[key] = result["id"]
        if "number" in result:
            numbers[key] = result["number"]
        return result

    def posted(model: str, key: str, payload: dict[str, Any]) -> None:
        create(model, key, {"date": DAY, **payload})
        _ok(api.post(f"/api/v1/{model}/{ids[key]}/submit"))

    create("category", "category", {"code": f"{tag}C", "name": f"分类{tag}"})
    for key, kind, owner, names in (
        ("s1", "supplier", None, ("suppliers", "供应商甲", "供应商丙")),
        ("s2", "supplier", None, ("suppliers", "供应商乙", "供应商丁")),
        ("c1", "customer", "u_salesperson", ("customers", "客户甲", "客户丙")),
        ("c2", "customer", "admin", ("customers" if w.customers else "others", "客户乙", "客户丁")),
        ("b1", "both", "u_salesperson", ("cash", "往来甲", "往来甲")),
        ("c3", "customer", "admin", ("cash", "客户戊", "客户戊")),
    ):
        limit = w.pick("sale", "100000", "90000") if kind != "supplier" else None
        payload = {"code": f"{tag}{key.upper()}", "name": w.pick(*names) + tag, "kind": kind}
        payload |= {"owner": owner} if owner else {}
        payload |= {"credit_limit": limit, "payment_terms_days": 10} if limit else {}
        create("partner", key, payload)
    for key, supplier in (("i1", "s1"), ("i2", "s2")):
        create(
            "item",
            key,
            {
                "sku": f"{tag}{key.upper()}",
                "name": f"商品{key}{tag}",
                "unit": "PCS",
                "category": f"{tag}C",
                "tax_rate": "13",
                "purchase_price": w.pick("purchase", "5", "6.25"),
                "sale_price": w.pick("sale", "12.5", "13.75"),
                "wholesale_price": w.pick("sale", "11", "11.5"),
                "default_supplier": f"{tag}{w.pick('suppliers', supplier, 's1' if supplier == 's2' else 's2').upper()}",
            },
        )
    create("item_unit", "box", {"item": f"{tag}I1", "unit": "BOX", "ratio": "12"})
    for key, price_list, partner, kind, base, other in (
        ("p_supplier", "supplier", "S1", "purchase", "4.8", "6"),
        ("p_retail", "retail", None, "sale", "13", "14"),
        ("p_customer", "customer", "C1", "sale", "12", "12.9"),
    ):
        payload = {"item": f"{tag}I1", "price_list": price_list, "price": w.pick(kind, base, other)}
        create("item_price", key, payload | ({"partner": f"{tag}{partner}"} if partner else {}))
    create("budget", "budget", {"period": MONTH, "category": f"{tag}C", "amount": w.pick("purchase", "50000", "60000")})
    create(
        "account",
        "account",
        {"code": f"{tag}A", "name": f"账户{tag}", "opening_balance": w.pick("cash", "1000", "1500")},
    )
    if w.others:  # kept, out of the salesperson's scope (one audit row either way: the audit ids stay in step)
        _ok(api.put(f"/api/v1/partner/{ids['c3']}", json={"remark": "kept"}))
    else:
        _ok(api.delete(f"/api/v1/partner/{ids['c3']}"))

    s1, s2, c1, c2, i1, i2 = (f"{tag}{k}" for k in ("S1", "S2", "C1", "C2", "I1", "I2"))
    # i1's cost passes i2's where purchase figures differ: a report sorted on a hidden figure (the idle stock's
    # value: one i1 in WH02, one i2 in WH01) would show it in its order
    buy, buy2 = w.pick("purchase", "5", "6.5"), w.pick("purchase", "7", "6")
    sell, sell2 = w.pick("sale", "12.5", "14"), w.pick("purchase" if w.others else "sale", "20", "21")
    posted(
        "purchase_order",
        "po1",
        {
            "partner": s1,
            "warehouse": "WH01",
            "purchaser": "u_purchaser",
            "lines": [{"item": i1, "qty": "10", "price": buy}],
        },
    )
    posted(
        "purchase_receipt",
        "pr1",
        {
            "partner": s1,
            "warehouse": "WH01",
            "source_number": numbers["po1"],
            "lines": [{"item": i1, "qty": "10", "price": buy}],
        },
    )
    posted(
        "purchase_receipt",
        "pr2",
        {"partner": s2, "warehouse": "WH02", "lines": [{"item": i2, "qty": "4", "price": buy2}]},
    )
    create(
        "purchase_receipt",
        "pr3",
        {"date": DAY, "partner": s1, "warehouse": "WH01", "lines": [{"item": i1, "qty": "1"}]},
    )
    posted(
        "sales_order",
        "so1",
        {
            "partner": c1,
            "warehouse": "WH01",
            "salesperson": "u_salesperson",
            "lines": [{"item": i1, "qty": "3", "price": sell}],
        },
    )
    posted(
        "sales_delivery",
        "sd1",
        {
            "partner": c1,
            "warehouse": "WH01",
            "salesperson": "u_salesperson",
            "source_number": numbers["so1"],
            "lines": [{"item": i1, "qty": "2", "price": sell}],
        },
    )
    posted(
        "sales_delivery",
        "sd2",
        {"partner": c2, "warehouse": "WH01", "lines": [{"item": i1, "qty": "1", "price": sell2}]},
    )
    received = w.pick("sale", "20", "22")
    posted(
        "payment",
        "pay_in",
        {
            "direction": "receipt",
            "partner": c1,
            "account": f"{tag}A",
            "amount": received,
            "lines": [
                {"source_model": "sales_delivery", "source_number": numbers["sd1"], "allocated_amount": received}
            ],
        },
    )
    paid = w.pick("purchase", "30", "33")
    posted(
        "payment",
        "pay_out",
        {
            "direction": "payment",
            "partner": s1,
            "account": f"{tag}A",
            "amount": paid,
            "lines": [{"source_model": "purchase_receipt", "source_number": numbers["pr1"], "allocated_amount": paid}],
        },
    )
    posted(
        "purchase_return",
        "rt1",
        {
            "partner": s1,
            "warehouse": "WH01",
            "source_number": numbers["pr1"],
            "lines": [{"item": i1, "qty": "1", "price": buy}],
        },
    )
    posted(
        "sales_return",
        "sr1",
        {
            "partner": c1,
            "warehouse": "WH01",
            "salesperson": "u_salesperson",
            "source_number": numbers["sd1"],
            "lines": [{"item": i1, "qty": "1", "price": sell}],
        },
    )
    create("purchase_request", "rq1", {"date": DAY, "lines": [{"item": i2, "qty": "3", "price": buy2}]})
    posted("stocktake", "tk1", {"warehouse": "WH02", "lines": [{"item": i2, "counted_qty": "3", "reason": "miscount"}]})
    posted(
        "stock_transfer", "st1", {"from_warehouse": "WH01", "to_warehouse": "WH02", "lines": [{"item": i1, "qty": "1"}]}
    )
    posted(
        "stock_adjustment",
        "sa1",
        {"direction": "in", "warehouse": "WH01", "reason": "other", "lines": [{"item": i2, "qty": "1", "price": buy2}]},
    )
    # money beyond goods: an expense with its tax, and cash moved to a second account (cash figures)
    create("account", "account2", {"code": f"{tag}B", "name": f"现金{tag}", "kind": "cash", "opening_balance": "0"})
    expense = {"direction": "expense", "category": "rent", "account": f"{tag}A", "tax_rate": "9"}
    posted("other_income_expense", "oie1", {**expense, "amount": w.pick("cash", "109", "218")})
    moved = {"from_account": f"{tag}A", "to_account": f"{tag}B", "amount": w.pick("cash", "50", "60")}
    posted("account_transfer", "at1", moved)


def last_ids() -> dict[str, int]:
    """Per model, the highest id so far (inside an app context)."""
    from sqlalchemy import func, select

    from app.extensions import db, registry

    reg = registry()
    return {
        key: db.session.execute(select(func.coalesce(func.max(reg.cls(key).id), 0))).scalar_one()
        for key in reg.meta.models
    }


def world_rows(built: Built, model_key: str) -> list[dict[str, Any]]:
    """The world's rows of a model as stored, without their times (in id order)."""
    from sqlalchemy import select

    from app.extensions import db, registry

    with built.app.app_context():
        cls = registry().cls(model_key)
        rows = db.session.execute(select(cls.__table__).where(cls.id > built.start[model_key]).order_by(cls.id))
        found = [{k: v for k, v in row._mapping.items() if k not in ("created_at", "updated_at")} for row in rows]
        db.session.rollback()
    return found


def differing(one: Built, other: Built) -> set[str]:
    """Models whose world rows differ between two worlds, and those that link to rows whose key or name does."""
    from app.extensions import registry

    with one.app.app_context():
        models = dict(registry().meta.models)
    found: set[str] = set()
    relabelled: set[str] = set()  # models whose rows read differently where they are linked
    for key, model in models.items():
        mine, theirs = world_rows(one, key), world_rows(other, key)
        if mine != theirs:
            found.add(key)
            shown = [model.field(n) for n in (model.business_key, model.display) if n and model.field(n)]
            columns = [f.column for f in shown if f is not None] + ["id"]
            if [[r.get(c) for c in columns] for r in mine] != [[r.get(c) for c in columns] for r in theirs]:
                relabelled.add(key)
    for _ in range(2):  # a document shows its lines
        found |= {m.key for m in models.values() if any(f.type == "link" and f.to in relabelled for f in m.fields)}
        found |= {m.key for m in models.values() if m.lines_model in found}
    return found


def _clone_sqlite(source_url: str, target: Path) -> str:
    source = sqlite3.connect(source_url.removeprefix("sqlite:///"))
    dest = sqlite3.connect(target)
    with dest:
        source.backup(dest)
    source.close()
    dest.close()
    return f"sqlite:///{target}"


def _clone_postgres(source_url: str, name: str) -> str:
    base, source = source_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return f"{base}/{name}"


def _drop_postgres(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def worlds(session_app: Any, tmp: Path) -> Iterator[tuple[str, dict[str, Built]]]:
    """Every world, built, on the session app's backend; dropped afterwards. Yields (tag, worlds by name)."""
    from app import create_app
    from app.extensions import db

    url = str(session_app.config["SQLALCHEMY_DATABASE_URI"]).replace("postgresql+psycopg://", "postgresql://")
    with session_app.app_context():
        start = last_ids()
        db.session.remove()
        db.engine.dispose()  # a PostgreSQL template must have no connections
    tag = f"ZW{uuid.uuid4().hex[:5].upper()}"
    tmp.mkdir(parents=True, exist_ok=True)
    opened: dict[str, Built] = {}
    urls: list[str] = []
    try:
        for name, world in WORLDS.items():
            if url.startswith("sqlite"):
                clone = _clone_sqlite(url, tmp / f"{name}.db")
            else:
                clone = _clone_postgres(url, f"{url.rsplit('/', 1)[1]}_{name}")
                urls.append(clone)
            instance = tmp / f"instance-{name}"
            instance.mkdir(exist_ok=True)
            app = create_app(
                {"DATABASE_URL": clone, "INSTANCE_PATH": str(instance), "SECRET_KEY": session_app.config["SECRET_KEY"]}
            )
            built = Built(world, app, Api(app, "admin"), start=start)
            opened[name] = built
            build(built, tag)
        yield tag, opened
    finally:
        for built in opened.values():
            with built.app.app_context():
                db.session.remove()
                db.engine.dispose()
        for clone in urls:
            _drop_postgres(clone)
        opened.clear()
        gc.unfreeze()  # each app froze what was alive when it started; let the worlds' apps go
        gc.collect()
        shutil.rmtree(tmp, ignore_errors=True)


def login(app: Any, role: str) -> Api:
    """A JWT client for the test user of a role."""
    return Api(app, "admin" if role == "admin" else f"u_{role}")


def browser(app: Any, role: str) -> Any:
    """A cookie-session client signed in through /login/ (pages, the grid's own calls)."""
    from tests.conftest import csrf_from

    client = app.test_client()
    token = csrf_from(client.get("/login/").get_data(as_text=True))
    response = client.post("/login/", data={"username": f"u_{role}", "password": PASSWORD, "csrf_token": token})
    assert response.status_code in (302, 303)
    return client
