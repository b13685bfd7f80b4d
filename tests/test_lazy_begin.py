"""A read-only request on PostgreSQL sends no BEGIN and no ROLLBACK (app.extensions.install_lazy_begin): its
connection is in autocommit until a statement that is not a plain SELECT, which begins the transaction that
then runs to its commit or rollback as in any other request."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text

from app.extensions import LAZY_BEGIN, only_reads
from tests.conftest import unique


class Modes:
    """Each statement sent while active, with its connection's autocommit and prepare threshold before it."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.sent: list[tuple[str, bool, int | None]] = []

    def _seen(self, _conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        self.sent.append((statement, cursor.connection.autocommit, cursor.connection.prepare_threshold))

    def __enter__(self) -> Modes:
        event.listen(self.engine, "before_cursor_execute", self._seen)  # after the app's own listener
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def _postgres(app: Any) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite begins in process: no round trip to save")


def test_a_read_only_request_sends_every_statement_outside_a_transaction_a_write_inside_one(app, admin_api):
    from app.extensions import db

    _postgres(app)
    with app.app_context():
        engine = db.engine
    with Modes(engine) as read:
        assert admin_api.get("/api/v1/grid/unit/rows").status_code == 200
    assert read.sent and all(autocommit for _, autocommit, _ in read.sent), read.sent
    assert all(threshold is None for _, _, threshold in read.sent)  # a read-only request prepares nothing
    code = unique("LB")
    with Modes(engine) as write:
        response = admin_api.post("/api/v1/unit/", json={"code": code, "name": code})
    assert response.status_code in (200, 201), response.get_data(as_text=True)[:300]
    assert write.sent and not any(autocommit for _, autocommit, _ in write.sent), write.sent
    assert all(threshold is not None for _, _, threshold in write.sent)  # given back at the checkin


def test_a_grid_page_estimated_by_explain_sends_no_begin_and_no_rollback(app, admin_api):
    """A view of more than COUNT_EXACT_UP_TO rows asks the planner for its size (`EXPLAIN (FORMAT JSON)`): that is
    a read too: every statement of the request is sent in autocommit, so psycopg sends no BEGIN and the request
    ends with no transaction to roll back (two round trips of every such page)."""
    from app.extensions import db
    from app.services.grid.rows import COUNT_EXACT_UP_TO

    _postgres(app)
    prefix = unique("EX")
    with app.app_context():
        db.session.execute(
            text("INSERT INTO unit (code, name, version) SELECT :p || g, :p || g, 1 FROM generate_series(1, :n) g"),
            {"p": prefix, "n": COUNT_EXACT_UP_TO + 5},
        )
        db.session.commit()
        engine = db.engine
    try:
        with Modes(engine) as read:
            response = admin_api.get(
                f"/api/v1/grid/unit/rows?page=1&size=10&sort[0][field]=code&filter[0][field]=code"
                f"&filter[0][type]=starts&filter[0][value]={prefix}"
            )
    finally:
        with app.app_context():
            db.session.execute(text("DELETE FROM unit WHERE code LIKE :p"), {"p": prefix + "%"})
            db.session.commit()
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json()["last_row"] > COUNT_EXACT_UP_TO
    explains = [(statement, autocommit) for statement, autocommit, _ in read.sent if statement.startswith("EXPLAIN")]
    assert explains and all(autocommit for _, autocommit in explains), read.sent
    assert all(autocommit for _, autocommit, _ in read.sent), read.sent


def test_a_lazily_begun_connection_begins_before_what_a_transaction_changes(app):
    from app.extensions import db

    _postgres(app)
    code = unique("LB")
    with app.app_context():
        connection = db.session.connection(execution_options=LAZY_BEGIN)
        raw = connection.connection.driver_connection
        assert connection.execute(text("SELECT 1")).scalar() == 1
        assert raw.autocommit and raw.info.transaction_status.name == "IDLE"  # no BEGIN was sent
        connection.execute(text("SET LOCAL statement_timeout = '1234ms'"))
        assert not raw.autocommit  # begun before the SET LOCAL, which therefore holds
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "1234ms"
        db.session.rollback()
        assert not raw.autocommit or raw.info.transaction_status.name == "IDLE"

        connection = db.session.connection(execution_options=LAZY_BEGIN)
        raw = connection.connection.driver_connection
        connection.execute(text("SELECT id FROM unit ORDER BY id LIMIT 1 FOR UPDATE"))
        assert not raw.autocommit and raw.info.transaction_status.name == "INTRANS"  # the row lock is held
        db.session.rollback()

        connection = db.session.connection(execution_options=LAZY_BEGIN)
        assert connection.execute(text("SELECT count(*) FROM unit WHERE code = :c"), {"c": code}).scalar() == 0
        connection.execute(text("INSERT INTO unit (code, name, version) VALUES (:c, :c, 1)"), {"c": code})
        connection.execute(text("INSERT INTO unit (code, name, version) VALUES (:c, :c, 1)"), {"c": code + "b"})
        db.session.rollback()  # both writes were in one transaction: neither is kept
        assert db.session.execute(text("SELECT count(*) FROM unit WHERE code LIKE :c"), {"c": code + "%"}).scalar() == 0
        db.session.rollback()
    with app.app_context():
        connection = db.session.connection()  # back in the pool, the connection left autocommit
        assert not connection.connection.driver_connection.autocommit
        db.session.rollback()


@pytest.mark.parametrize(
    ("statement", "reads_only"),
    [
        ("SELECT item.id FROM item WHERE item.sku = %(sku)s", True),
        ("  select count(*) from stock_move", True),
        ("SELECT id FROM stock_balance WHERE item_id = %(i)s FOR UPDATE", False),
        ("SELECT id FROM stock_balance ORDER BY id for no key update", False),
        ("SELECT id FROM document FOR SHARE SKIP LOCKED", False),
        ("SELECT nextval('doc_no_seq')", False),
        ("SELECT pg_advisory_xact_lock(%(key)s)", False),
        ("SELECT set_config('jxc.user', %(u)s, true)", False),
        ("UPDATE item SET name = %(n)s WHERE id = %(id)s", False),
        ("WITH moved AS (INSERT INTO stock_move DEFAULT VALUES RETURNING id) SELECT id FROM moved", False),
        ("SAVEPOINT sa_savepoint_1", False),
        ("EXPLAIN (FORMAT JSON) SELECT item.id FROM item WHERE item.category_id = %(c)s", True),
        ("EXPLAIN (FORMAT JSON) SELECT id FROM stock_balance FOR UPDATE", False),
        ("EXPLAIN ANALYZE SELECT nothing_but_reads()", False),  # ANALYZE runs the statement: it may write
        ("EXPLAIN (ANALYZE, FORMAT JSON) SELECT 1", False),
        ("EXPLAIN (FORMAT JSON) UPDATE item SET name = %(n)s", False),
    ],
)
def test_only_plain_reads_stay_outside_a_transaction_the_same_answer_from_the_kept_one(statement, reads_only):
    """The classification is kept per statement text: asked again, the same text gets the same answer."""
    assert only_reads(statement) is reads_only
    assert only_reads(statement) is reads_only


def test_a_posting_answers_outside_a_transaction_once_it_has_committed(app, admin_api):
    """The submit's answer (its link labels) is read as a read-only request reads: no BEGIN before it, no
    ROLLBACK at the request's end; the posting itself runs in its transaction, as before."""
    from app.extensions import db
    from tests.ledger_helpers import document, new_item, receive

    _postgres(app)
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "2")
    draft = document(admin_api, "sales_delivery", [{"item": sku, "qty": "4", "price": "5"}], warehouse="WH01")
    with app.app_context():
        engine = db.engine
    with Modes(engine) as submit:
        response = admin_api.post(f"/api/v1/sales_delivery/{draft['id']}/submit")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["result"]["status"] == "submitted"
    statements = [statement for statement, _, _ in submit.sent]
    written = next(n for n, statement in enumerate(statements) if "INSERT INTO stock_move" in statement)
    assert not any(autocommit for _, autocommit, _ in submit.sent[: written + 1]), statements[: written + 1]
    answer = submit.sent[written + 1 :]
    assert answer and all(autocommit and threshold is None for _, autocommit, threshold in answer), answer
