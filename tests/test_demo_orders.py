"""A fresh demo (`jxc init --demo --history`, what `make run` loads) has orders under way: approved purchase and
sales orders not received / shipped yet, partly filled by a pushed-down receipt or delivery, one received whole and one
shipped in part and closed for the rest, so the home page's 待入库 / 待出库 and 下推 have something to show; all
posted through the services (the follow-ons' lines linked to the orders' lines, the reservations those of the orders
still open), the ledger checked, on SQLite and PostgreSQL (each a database of its own: the demo's history is built
once for PostgreSQL here, in this process; the SQLite database is a copy of the run's `jxc init --demo --history`
(tests/servers.py), which tests/test_cli.py and the browser's demo share)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, fresh_pg_database
from tests.ledger_helpers import ledger_problems
from tests.servers import demo_documents_posted, jxc_init

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def _database(engine: str, tmp_path: Path) -> Iterator[str]:
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'demo.db'}"
    else:
        with fresh_pg_database() as url:
            yield url


def _demo_app(url: str, tmp_path: Path) -> Any:
    import os

    from app import create_app
    from app.setup import init_database

    os.environ["JXC_ADMIN_PASSWORD"] = PASSWORD
    settings = {"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "demo-orders-" + "0" * 32}
    if url.startswith("sqlite"):  # a copy of the run's history, made before the app opens the file; what its init said
        output = jxc_init(url, tmp_path / "instance", demo=True, history=True, log_name="jxc-init-demo-orders")
        app, posted = create_app(settings), demo_documents_posted(output)
    else:
        app = create_app(settings)
        posted = init_database(app, demo=True, history=True).demo_documents
    assert posted > 100
    return app


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_fresh_demo_has_orders_under_way(engine: str, tmp_path: Path) -> None:
    from app.extensions import db, registry
    from app.services.posting.worklist import worklist
    from app.services.users.access import access_for

    with _database(engine, tmp_path) as url:
        app = _demo_app(url, tmp_path)
        try:
            with app.app_context():
                reg = registry()
                found: dict[str, list[tuple[str, str, str | None]]] = {}
                for model, field in (("purchase_order", "receipt_status"), ("sales_order", "delivery_status")):
                    cls = reg.cls(model)
                    rows = db.session.execute(select(cls.status, getattr(cls, field), cls.close_status)).all()
                    found[model] = sorted((s, f, c or None) for s, f, c in rows)
                assert found["purchase_order"] == [
                    ("submitted", "full", None),
                    ("submitted", "none", None),
                    ("submitted", "partly", None),
                ]
                assert found["sales_order"] == [
                    ("submitted", "full", "closed"),
                    ("submitted", "none", None),
                    ("submitted", "none", None),
                    ("submitted", "partly", None),
                ]
                admin = access_for(app.appbuilder.sm.find_user(username="admin"))
                blocks = {block["model"]: block for block in worklist(db.session, admin)}
                assert (blocks["purchase_order"]["count"], blocks["sales_order"]["count"]) == (2, 3)
                assert blocks["purchase_order"]["can_push"] and blocks["sales_order"]["can_push"]
                for target, source, count in (
                    ("purchase_receipt", "purchase_order", 3),  # half a line, and an order of two lines whole
                    ("sales_delivery", "sales_order", 2),  # half a line twice
                ):
                    line = reg.cls(f"{target}_line")
                    linked = db.session.execute(
                        select(func.count()).where(line.source_model == source, line.source_line_id.isnot(None))
                    ).scalar_one()
                    assert linked == count, target  # pushed down: each line names the order line it fills
                # what the open sales orders still hold is reserved, nothing more (the closed rest was released)
                order_line, order = reg.cls("sales_order_line"), reg.cls("sales_order")
                held = db.session.execute(
                    select(
                        func.sum(
                            order_line.base_qty
                            - func.coalesce(order_line.delivered_qty, 0)
                            - func.coalesce(order_line.closed_qty, 0)
                        )
                    )
                    .join(order, order.id == order_line.parent_id)
                    .where(order.status == "submitted")
                ).scalar_one()
                balance = reg.cls("stock_balance")
                reserved = db.session.execute(select(func.sum(balance.reserved_qty))).scalar_one()
                assert Decimal(reserved) == Decimal(held) > 0
                db.session.rollback()
            assert ledger_problems(app) == []
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
