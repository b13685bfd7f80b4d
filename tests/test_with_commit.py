"""Statements sent with their transaction's COMMIT (app/services/records/with_commit.py): on PostgreSQL a posting's
last write and its audit row go in the COMMIT's round trip, and what is kept so is all or nothing with the rest of
the transaction; elsewhere they are executed at once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm.exc import StaleDataError

from tests.conftest import unique
from tests.ledger_helpers import balance, document, new_item, receive, statements_sent


def _audit_rows(session: Any, model: str) -> int:
    from app.services.records.tables import audit_log

    return session.execute(select(func.count()).select_from(audit_log).where(audit_log.c.model == model)).scalar()


def _access(app: Any) -> Any:
    from app.services.users.access import access_for

    return access_for(app.appbuilder.sm.find_user(username="admin"))


def test_a_delivery_sends_its_last_write_and_audit_row_with_the_commit(app, admin_api):
    from app.extensions import db

    skus = [new_item(admin_api) for _ in range(3)]
    for sku in skus:
        receive(admin_api, sku, "10", "2")
    draft = document(
        admin_api, "sales_delivery", [{"item": s, "qty": "4", "price": "5"} for s in skus], warehouse="WH01"
    )
    with app.app_context():
        engine = db.engine
    with statements_sent(app) as sent:
        response = admin_api.post(f"/api/v1/sales_delivery/{draft['id']}/submit")
    assert response.status_code == 200, response.get_json()
    assert [line["cost_price"] for line in response.get_json()["result"]["lines"]] == ["2.00"] * 3
    for sku in skus:
        assert balance(app, sku) == (Decimal("6"), Decimal("12"))
    piped = [statement for statement, in_pipeline in sent if in_pipeline]
    order = [s for s, _ in sent]
    audited = [s for s in order if "INSERT INTO jxc_audit" in s]
    if engine.dialect.name == "postgresql":
        # the audit row, the moves, balances and lines' cost in one statement, queued with the COMMIT, nothing after
        assert len(piped) == 1, [s[:80] for s in piped]
        audit_part, _, rest = piped[0].partition("), inserted AS (INSERT INTO stock_move")
        assert audit_part.startswith("WITH added AS (INSERT INTO jxc_audit") and "RETURNING" not in audit_part
        assert "UPDATE stock_balance" in rest and "UPDATE sales_delivery_line" in rest
        assert audited == piped
        assert order.index(piped[0]) == order.index(next(s for s in order if "FROM stock_balance" in s)) + 1
    else:
        assert piped == []
        assert len(audited) == 1
    with app.app_context():
        from app.services.records.tables import audit_log

        after = db.session.execute(
            select(audit_log.c.after).where(
                audit_log.c.model == "sales_delivery",
                audit_log.c.record_id == draft["id"],
                audit_log.c.action == "submit",
            )
        ).scalar_one()
        db.session.rollback()
    assert '"moves": 3' in after


def test_what_is_kept_for_the_commit_is_all_or_nothing_with_its_transaction(app):
    from sqlalchemy import insert

    from app.extensions import db
    from app.services.records.audit import audit_change, change_row
    from app.services.records.tables import audit_log
    from app.services.records.with_commit import STALE, send_with_commit

    tag = unique("wc")
    with app.app_context():
        session, access = db.session, _access(app)
        postgresql = session.get_bind().dialect.name == "postgresql"

        def kept(record: int) -> None:
            send_with_commit(
                session, insert(audit_log).inline(), change_row(access, tag, record, "kept", None, {"n": record})
            )

        # kept, then the commit: sent with it, not before (on SQLite, at once)
        kept(1)
        assert _audit_rows(session, tag) == (0 if postgresql else 1)
        session.commit()
        assert _audit_rows(session, tag) == 1
        session.rollback()
        # a kept statement that fails: the commit raises and nothing of the transaction stays, nor the other kept
        audit_change(session, access, tag, 2, "at once", None, {"n": 2})
        kept(3)
        if postgresql:
            send_with_commit(session, text("SELECT CAST(:stale AS integer)"), {"stale": f"{STALE} 1"})
            with pytest.raises(StaleDataError):
                session.commit()
            session.rollback()
            assert _audit_rows(session, tag) == 1
            # kept, then a rollback: forgotten, the next transaction's commit does not send it
            kept(4)
            session.rollback()
            session.execute(text("SELECT 1"))
            session.commit()
        else:
            session.rollback()
        assert _audit_rows(session, tag) == 1
        session.rollback()


def test_lines_changed_meanwhile_refuse_the_write_sent_with_the_commit(app, admin_api):
    """insert_and_update's versioned rows counted by the statement itself when it goes with the COMMIT: a row
    whose version moved fails it, and the commit writes nothing (PostgreSQL; SQLite refuses at once)."""
    from app.extensions import db, registry
    from app.services.records.audit import change_row
    from app.services.records.tables import audit_log
    from app.services.stock.bulk import insert_and_update

    sku = new_item(admin_api)
    tag = unique("wc")
    with app.app_context():
        session = db.session
        item, warehouse = registry().cls("item").__table__, registry().cls("warehouse").__table__
        pk, version, cost = session.execute(
            select(item.c.id, item.c.version, item.c.cost_price).where(item.c.sku == sku)
        ).one()
        place, name = session.execute(select(warehouse.c.id, warehouse.c.name).where(warehouse.c.code == "WH01")).one()
        session.rollback()
        row = change_row(_access(app), tag, pk, "stale", None, {"n": 1})
        also = (audit_log, [change_row(_access(app), tag, pk, "also", None, {"n": 2})])  # written by the statement too
        with pytest.raises(StaleDataError):
            insert_and_update(
                session,
                audit_log,
                [row],
                item,
                [{"id": place, "name": "不该写入"}],
                versioned=(item, [{"id": pk, "_version": version + 1, "cost_price": Decimal("1.00")}]),
                with_commit=True,
                also=also,
            )
            session.commit()
        session.rollback()
        kept = session.execute(select(item.c.version, item.c.cost_price).where(item.c.id == pk)).one()
        assert kept == (version, cost)
        assert session.execute(select(warehouse.c.name).where(warehouse.c.id == place)).scalar() == name
        assert _audit_rows(session, tag) == 0
        # the same with the version it has: written, once, with the commit
        insert_and_update(
            session,
            audit_log,
            [row],
            item,
            [{"id": place, "name": name}],
            versioned=(item, [{"id": pk, "_version": version, "cost_price": Decimal("1.00")}]),
            with_commit=True,
            also=also,
        )
        session.commit()
        assert session.execute(select(item.c.version, item.c.cost_price).where(item.c.id == pk)).one() == (
            version + 1,
            Decimal("1.00"),
        )
        assert _audit_rows(session, tag) == 2
        session.rollback()
