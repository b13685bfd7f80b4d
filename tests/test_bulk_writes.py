"""The set-based write path on SQLite and PostgreSQL: RecordService.create_many (imports) checks every row as
`create` does and writes the good ones in a few statements; a grid batch of updates is one UPDATE per set of
changed columns, versions checked and bumped, audited, computed fields recomputed only when what they read
changed."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, select

from tests.conftest import unique

BATCH = "/api/v1/grid/item/batch"


def _service(app: Any, username: str) -> Any:
    from app.extensions import db
    from app.services.records.write import RecordService
    from app.services.users.access import access_for

    return RecordService(db.session, access_for(app.appbuilder.sm.find_user(username=username)), batch=True)


class Statements:
    """The SQL statements sent while it is active (engine events)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.sent: list[tuple[str, bool]] = []

    def _seen(self, _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, many: bool) -> None:
        self.sent.append((statement, many))

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def starting(self, prefix: str) -> list[tuple[str, bool]]:
        return [s for s in self.sent if s[0].lstrip().upper().startswith(prefix)]


def test_create_many_checks_every_row_and_writes_the_good_ones_set_based(app):
    from app.extensions import db
    from app.services.records.tables import audit_log

    tag = unique("BW").upper()
    with app.app_context():
        records = _service(app, "admin")
        cls = records.registry.cls("item")
        taken = cls(sku=f"{tag}-OLD", name="已有商品", version=1)
        db.session.add(taken)
        db.session.flush()
        full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in f"{tag}-1")
        items = [
            ({"sku": full_width, "name": "农夫山泉", "unit": "PCS", "sale_price": "2.50"}, 2),
            ({"sku": f"{tag}-1".lower(), "name": "重复编码", "unit": "PCS"}, 3),  # the same code, other case
            ({"sku": f"{tag}-old", "name": "已存在", "unit": "PCS"}, 4),
            ({"sku": f"{tag}-2", "unit": "PCS"}, 5),  # no name
            ({"sku": f"{tag}-3", "name": "价格错", "unit": "PCS", "sale_price": "abc"}, 6),
            ({"sku": f"{tag}-4", "name": "怡宝", "unit": "没有这个单位"}, 7),
            ({"sku": f"{tag}-5", "name": "康师傅", "unit": "PCS", "sale_price": "2.50"}, 8),
        ]
        with Statements(db.engine) as seen:
            results = records.create_many("item", items)
        inserts = [s for s in seen.starting("INSERT INTO ITEM ") if "audit" not in s[0]]
        if db.engine.dialect.name == "postgresql":
            assert not inserts, inserts  # the chunk goes in by COPY, which no INSERT event sees
        else:
            assert len(inserts) == 1 and inserts[0][1], inserts  # one executemany for the chunk
        assert not seen.starting("UPDATE")
        errors = {ref: {e.field for e in errs} for (_, ref), (_, errs) in zip(items, results, strict=True)}
        assert errors == {2: set(), 3: {"sku"}, 4: {"sku"}, 5: {"name"}, 6: {"sale_price"}, 7: {"unit"}, 8: set()}
        assert all(e.row == ref for (_, ref), (_, errs) in zip(items, results, strict=True) for e in errs)
        ids = [pk for pk, _ in results if pk is not None]
        assert len(ids) == 2
        rows = {r.id: r for r in db.session.execute(select(cls).where(cls.id.in_(ids))).scalars()}
        first, last = rows[ids[0]], rows[ids[1]]
        assert first.sku == f"{tag}-1"  # normalised as on every other channel
        assert (first.pinyin, last.pinyin) == ("NFSQ", "KSF")  # computed fields
        assert first.version == last.version == 1
        assert str(last.sale_price).startswith("2.5")
        audited = db.session.execute(
            select(audit_log.c.record_id, audit_log.c.action, audit_log.c.username).where(
                audit_log.c.model == "item", audit_log.c.record_id.in_(ids)
            )
        ).all()
        assert sorted(audited) == sorted((pk, "create", "admin") for pk in ids)
        # each row's snapshot, written column by column, is the text `snapshot` of the stored row encodes to
        from app.services.records.audit import audit_row
        from app.services.records.serialize import snapshot

        afters = dict(
            db.session.execute(
                select(audit_log.c.record_id, audit_log.c.after).where(
                    audit_log.c.model == "item", audit_log.c.record_id.in_(ids)
                )
            ).all()
        )
        model = records.registry.model("item")
        for pk, row in rows.items():
            expected = audit_row(
                user_id=None,
                username="",
                model="item",
                record_id=pk,
                action="create",
                before=None,
                after=snapshot(model, row),
            )["after"]
            assert afters[pk] == expected
        db.session.rollback()


def test_create_many_fills_the_writers_own_scope(app):
    from app.extensions import db

    tag = unique("BWP").upper()
    with app.app_context():
        records = _service(app, "u_salesperson")
        results = records.create_many(
            "partner",
            [({"code": f"{tag}-{n}", "name": f"批量客户 {tag} {n}", "kind": "customer"}, n) for n in range(3)],
        )
        assert all(pk is not None and not errs for pk, errs in results), results
        cls = records.registry.cls("partner")
        owners = set(db.session.execute(select(cls.owner_id).where(cls.id.in_([pk for pk, _ in results]))).scalars())
        assert owners == {records.access.user_id}
        db.session.rollback()


def test_insert_rows_stores_values_as_an_insert_would(app):
    from decimal import Decimal

    from app.extensions import db, registry_holder
    from app.services.records.bulk import insert_rows

    tag = unique("BWC").upper()
    with app.app_context():
        table = registry_holder().current.cls("item").__table__
        price = Decimal("12.3456")
        rows = [{"sku": f"{tag}-{n}", "name": f"批量 {n}", "sale_price": price, "version": 3} for n in (1, 2)]
        insert_rows(db.session, table, rows)  # COPY on PostgreSQL: the exact decimal through the column's type
        insert_rows(db.session, table, [{"sku": f"{tag}-3", "name": "批量 3"}])  # version left to its default
        stored = db.session.execute(
            select(table.c.sku, table.c.sale_price, table.c.version).where(table.c.sku.like(f"{tag}-%"))
        ).all()
        assert sorted(stored) == [(f"{tag}-1", price, 3), (f"{tag}-2", price, 3), (f"{tag}-3", None, 1)]
        db.session.rollback()


def test_insert_columns_leaves_a_column_of_blanks_to_the_database(app, monkeypatch):
    """A column whose every value is None, which nothing but NULL would fill, is not sent (SQLite bound a parameter
    per blank cell: an imported item's 13 blank columns were a quarter of its insert); the rows read back as
    inserted, and a column blank in some rows only is sent with its values."""
    from decimal import Decimal

    import psycopg

    from app.extensions import db, registry_holder
    from app.services.records.bulk import insert_columns

    copies: list[str] = []
    copy = psycopg.Cursor.copy

    def recorded(cursor: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
        copies.append(str(statement))
        return copy(cursor, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", recorded)  # PostgreSQL's COPY passes no engine event
    tag = unique("BWN").upper()
    with app.app_context():
        table = registry_holder().current.cls("item").__table__
        columns = {
            "id": [90_000_000, 90_000_001],
            "version": [1, 1],
            "sku": [f"{tag}-1", f"{tag}-2"],
            "name": ["空列 1", "空列 2"],
            "barcode": [None, None],
            "remark": [None, None],
            "sale_price": [Decimal("2.50"), None],
        }
        with Statements(db.engine) as seen:
            insert_columns(db.session, table, columns)
        sent = [s for s, _ in seen.starting("INSERT INTO ITEM ")] + [c for c in copies if "item" in c]
        assert len(sent) == 1, sent
        assert "barcode" not in sent[0] and "remark" not in sent[0], sent[0]
        assert "sale_price" in sent[0] and "sku" in sent[0], sent[0]
        stored = db.session.execute(
            select(table.c.sku, table.c.barcode, table.c.remark, table.c.sale_price).where(table.c.sku.like(f"{tag}-%"))
        ).all()
        assert sorted(stored) == [(f"{tag}-1", None, None, Decimal("2.50")), (f"{tag}-2", None, None, None)]
        db.session.rollback()


def test_array_params_written_as_text_read_back_as_sent(app):
    """The arrays of set-based statements are written as PostgreSQL's array text (`array_param`): every kind a
    posting sends comes back as it went, quotes, backslashes, braces, the word NULL and empty text included; a kind
    it does not write goes to the driver as the list."""
    from datetime import date, datetime
    from decimal import Decimal

    from sqlalchemy import text

    from app.extensions import db
    from app.services.records.bulk import array_param

    cases = [
        ([1, None, 3], "bigint"),
        ([Decimal("1.50"), None, Decimal("1E+2"), Decimal("-0.0001")], "numeric"),
        (["a", 'b"c', "d\\e", "", None, "NULL", "{x,y}", " sp ", "中文"], "text"),
        ([date(2026, 1, 2), None], "date"),
        ([datetime(2026, 1, 2, 3, 4, 5, 6), None], "timestamp"),
        ([True, False, None], "boolean"),
        # repeated values (a chunk's stamps and batches) are written once each: the same text comes back
        (["x"] * 10 + ['q"', None, "x"], "text"),
        (["", "B1"] * 6, "text"),
        ([datetime(2026, 1, 2, 3, 4, 5, 6)] * 10 + [None, datetime(2026, 1, 2)], "timestamp"),
        ([date(2026, 1, 2)] * 12 + [None], "date"),
        ([True] * 12 + [None, False], "boolean"),
    ]
    assert array_param([1.5]) == [1.5] and array_param([{"a": 1}]) == [{"a": 1}]
    with app.app_context():
        if db.session.get_bind().dialect.name != "postgresql":
            return  # only PostgreSQL takes arrays
        for values, kind in cases:
            sent = array_param(values)
            assert isinstance(sent, str)
            assert db.session.execute(text(f"SELECT CAST(:a AS {kind}[])"), {"a": sent}).scalar() == values
        db.session.rollback()


def _grid_items(admin_api: Any, tag: str, count: int) -> list[dict[str, Any]]:
    ops = [
        {"op": "create", "tmp_id": f"t{i}", "values": {"sku": f"{tag}-{i:03d}", "name": f"农夫 {i}", "unit": "PCS"}}
        for i in range(count)
    ]
    response = admin_api.post(BATCH, json={"client_batch_id": uuid.uuid4().hex, "source": "paste", "ops": ops})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["rows"]


def test_a_grid_batch_of_updates_is_one_statement_per_column_set(app, admin_api):
    from app.extensions import db
    from app.services.records.tables import audit_log

    tag = unique("BWG").upper()
    rows = _grid_items(admin_api, tag, 30)
    ops = [
        {"op": "update", "id": r["id"], "version": r["version"], "values": {"sale_price": f"{i + 1}.25"}}
        for i, r in enumerate(rows[:29])
    ] + [{"op": "update", "id": rows[29]["id"], "version": rows[29]["version"], "values": {"name": "怡宝 新名"}}]
    with app.app_context():
        seen = Statements(db.engine)
    with seen:
        response = admin_api.post(BATCH, json={"client_batch_id": uuid.uuid4().hex, "source": "paste", "ops": ops})
    assert response.status_code == 200, response.get_json()
    updates = seen.starting("UPDATE ITEM ")
    assert len(updates) == 2, updates  # the 29 prices in one executemany, and the renamed item
    assert "sale_price" in updates[0][0] and updates[0][1] and "pinyin" not in updates[0][0]
    saved = {r["id"]: r for r in response.get_json()["rows"]}
    assert all(saved[r["id"]]["version"] == r["version"] + 1 for r in rows)
    assert saved[rows[0]["id"]]["sale_price"].startswith("1.25")
    assert saved[rows[0]["id"]]["pinyin"] == "NF 0"  # a price edit leaves the pinyin as it was
    assert saved[rows[29]["id"]]["pinyin"] == "YB XM"  # a new name spells it again
    with app.app_context():
        audited = db.session.execute(
            select(audit_log.c.record_id).where(
                audit_log.c.model == "item",
                audit_log.c.action == "update",
                audit_log.c.record_id.in_([r["id"] for r in rows]),
            )
        ).scalars()
        assert sorted(audited) == sorted(r["id"] for r in rows)


def test_a_stale_version_in_a_set_based_batch_saves_nothing(app, admin_api):
    tag = unique("BWS").upper()
    rows = _grid_items(admin_api, tag, 5)
    ops = [{"op": "update", "id": r["id"], "version": r["version"], "values": {"spec": "新规格"}} for r in rows[:4]] + [
        {"op": "update", "id": rows[4]["id"], "version": rows[4]["version"] + 7, "values": {"spec": "新规格"}}
    ]
    response = admin_api.post(BATCH, json={"client_batch_id": uuid.uuid4().hex, "source": "paste", "ops": ops})
    assert response.status_code == 409
    assert [c["id"] for c in response.get_json()["conflicts"]] == [rows[4]["id"]]
    for r in rows:
        now = admin_api.get(f"/api/v1/item/{r['id']}").get_json()["result"]
        assert (now["version"], now["spec"]) == (r["version"], r["spec"])


def test_among_and_keys_among_find_rows_by_array_text(app):
    """`among`, `among_param`, `keys_among` and `keys_among_param` find the same rows whether the values go as
    PostgreSQL array text (ids, codes with quotes and backslashes) or, on SQLite, as parameters or (many texts)
    one JSON array."""
    from sqlalchemy import func

    from app.extensions import db, registry_holder
    from app.services.records.bulk import (
        TEXTS_AS_JSON,
        among,
        among_param,
        insert_rows,
        keys_among,
        keys_among_param,
        keys_among_values,
    )

    tag = unique("AMG").upper()
    with app.app_context():
        session = db.session
        table = registry_holder().current.cls("item").__table__
        skus = [f"{tag}-1", f'{tag}-"2', f"{tag}-\\3", f"{tag}-{{4}}", f"{tag}-NULL"]
        insert_rows(session, table, [{"sku": sku, "name": f"数组 {n}"} for n, sku in enumerate(skus)])
        found = dict(session.execute(select(table.c.sku, table.c.id).where(table.c.sku.like(f"{tag}-%"))).all())
        assert sorted(found) == sorted(skus)
        wanted = skus[1:4] + ["nothing"]
        by_code = session.execute(select(table.c.sku).where(among(session, table.c.sku, wanted))).scalars()
        assert sorted(by_code) == sorted(skus[1:4])
        lowered = session.execute(select(table.c.sku).where(among(session, func.lower(table.c.sku), [skus[4].lower()])))
        assert list(lowered.scalars()) == [skus[4]]
        ids = [found[sku] for sku in skus[:2]]
        dialect = session.get_bind().dialect.name
        stmt = select(table.c.sku).where(among_param(dialect, table.c.id, "ids"))
        assert sorted(session.execute(stmt, {"ids": ids}).scalars()) == sorted(skus[:2])
        keys = [(found[skus[0]], skus[0]), (found[skus[2]], skus[2]), (found[skus[1]], skus[3])]  # the last no row
        columns = (table.c.id, table.c.sku)
        assert sorted(session.execute(select(table.c.sku).where(keys_among(session, columns, keys))).scalars()) == [
            skus[0],
            skus[2],
        ]
        stmt = select(table.c.sku).where(keys_among_param(dialect, columns, "k"))
        assert sorted(session.execute(stmt, keys_among_values(dialect, "k", 2, keys)).scalars()) == [skus[0], skus[2]]
        # more texts than TEXTS_AS_JSON (on SQLite one JSON array read by json_each) find what a few find
        others = [f"{tag}-无-{n}" for n in range(TEXTS_AS_JSON + 1)]
        stmt = select(table.c.sku).where(among(session, table.c.sku, [*others, *wanted]))
        assert ("json_each" in str(stmt)) == (dialect == "sqlite")
        assert sorted(session.execute(stmt).scalars()) == sorted(skus[1:4])
        lowered = among(session, func.lower(table.c.sku), [*others, skus[4].lower(), skus[0].lower()])
        assert sorted(session.execute(select(table.c.sku).where(lowered)).scalars()) == sorted([skus[0], skus[4]])
        session.rollback()


def test_lines_computed_column_by_column_as_line_by_line(app):
    """`apply_lines_computed` sets what `apply_line_computed` sets on each line (a stocktake's difference, a
    delivery's money with and without tax included, rounded half-up), and leaves a value that did not change."""
    from decimal import Decimal

    from app.extensions import registry_holder
    from app.services.records.computed import apply_line_computed, apply_lines_computed

    class Line:
        pass

    def lines(rows: list[dict[str, Any]], columns: list[str]) -> list[Any]:
        made = []
        for row in rows:
            line = Line()
            line.__dict__.update(dict.fromkeys(columns) | row)
            made.append(line)
        return made

    with app.app_context():
        registry = registry_holder().current
        cases = [
            (
                "stocktake_line",
                {},
                [
                    {"counted_qty": Decimal("12.5"), "book_qty": Decimal(10)},
                    {"counted_qty": None, "book_qty": Decimal(3)},
                    {"counted_qty": Decimal(0), "book_qty": None, "diff_qty": Decimal("0")},
                ],
            ),
            *[
                (
                    "sales_delivery_line",
                    {"prices_include_tax": included},
                    [
                        {"qty": Decimal(3), "price": Decimal("3.3333"), "tax_rate": Decimal(13)},
                        {"qty": Decimal("0.5"), "price": Decimal("0.015"), "discount_rate": Decimal(10)},
                        {"qty": None, "price": Decimal(1)},
                    ],
                )
                for included in (False, True)
            ],
        ]
        for key, header, rows in cases:
            model = registry.model(key)
            assert model.computed_fields
            columns = [spec.column for spec in model.data_fields]
            one, many = lines(rows, columns), lines(rows, columns)
            for line in one:
                apply_line_computed(registry, model, line, header)
            apply_lines_computed(registry, model, many, header)
            for a, b in zip(one, many, strict=True):
                for spec in model.computed_fields:
                    assert type(a.__dict__[spec.column]) is type(b.__dict__[spec.column]), (key, spec.name)
                    assert a.__dict__[spec.column] == b.__dict__[spec.column], (key, spec.name)
        model = registry.model("stocktake_line")
        line = lines([{"counted_qty": Decimal(5), "book_qty": Decimal(2), "diff_qty": Decimal(3)}], columns=[])[0]
        kept = line.__dict__["diff_qty"]
        apply_lines_computed(registry, model, [line], {})
        assert line.__dict__["diff_qty"] is kept  # equal: not set again
        assert Decimal(line.__dict__["diff_qty"]) == 3


def test_long_id_and_key_lists_go_as_one_parameter(app):
    """On SQLite many ids (`among`), and the keys of `among_param` and `keys_among_param` (a posting's balance lock:
    5,000 (item, warehouse, batch) keys a statement), go as one JSON text read back by json_each, not a parameter
    each for SQLAlchemy to render every time; the rows found are those a short list finds, texts with quotes,
    backslashes and Chinese included. PostgreSQL sends them as array text."""
    from app.extensions import db, registry_holder
    from app.services.records import bulk

    tag = unique("AMJ").upper()
    with app.app_context():
        session = db.session
        dialect = session.get_bind().dialect.name
        table = registry_holder().current.cls("item").__table__
        skus = [f'{tag}-"引号', f"{tag}-\\斜杠", f"{tag}-[1,2]", f"{tag}-plain"]
        bulk.insert_rows(session, table, [{"sku": sku, "name": f"列表 {n}"} for n, sku in enumerate(skus)])
        found = dict(session.execute(select(table.c.sku, table.c.id).where(table.c.sku.like(f"{tag}-%"))).all())
        absent = max(found.values()) + 1_000_000
        ids = [found[skus[0]], found[skus[2]], *range(absent, absent + bulk.TEXTS_AS_JSON + 1)]
        stmt = select(table.c.sku).where(bulk.among(session, table.c.id, ids))
        assert ("json_each" in str(stmt)) == (dialect == "sqlite")
        assert sorted(session.execute(stmt).scalars()) == sorted([skus[0], skus[2]])
        stmt = select(table.c.sku).where(bulk.among_param(dialect, table.c.id, "ids"))
        compiled = stmt.compile(dialect=session.get_bind().dialect)
        assert len(compiled.params) == 1
        assert sorted(session.execute(stmt, {"ids": ids}).scalars()) == sorted([skus[0], skus[2]])
        keys = [(found[sku], sku) for sku in skus[:3]] + [(found[skus[3]], "other")]  # the last finds no row
        keys += [(n, f"{tag}-无") for n in range(absent, absent + bulk.TEXTS_AS_JSON + 1)]
        columns = (table.c.id, table.c.sku)
        stmt = select(table.c.sku).where(bulk.keys_among_param(dialect, columns, "k"))
        if dialect == "sqlite":
            assert "json_each" in str(stmt) and len(stmt.compile(dialect=session.get_bind().dialect).params) == 1
        assert sorted(session.execute(stmt, bulk.keys_among_values(dialect, "k", 2, keys)).scalars()) == sorted(
            skus[:3]
        )
        stmt = select(table.c.sku).where(bulk.keys_among(session, columns, keys))
        assert ("json_each" in str(stmt)) == (dialect == "sqlite")
        assert sorted(session.execute(stmt).scalars()) == sorted(skus[:3])
        session.rollback()


def test_every_priced_line_is_computed_column_by_column(app):
    """Lines whose money handlers read a field their model does not have (an order line without a discount, an
    opening balance's or an adjustment's without tax) are computed column by column too (`_lines_plan`), with what
    computing each line by itself gives them: the missing fields read as empty, as `compute_fields` leaves them."""
    from decimal import Decimal

    from app.extensions import registry_holder
    from app.services.records.computed import _lines_plan, apply_line_computed, apply_lines_computed

    class Line:
        pass

    rows = [
        {"qty": Decimal(3), "price": Decimal("3.3333"), "tax_rate": Decimal(13), "discount_rate": Decimal(10)},
        {"qty": Decimal("0.5"), "price": Decimal("0.015"), "unit_ratio": Decimal(24)},
        {"qty": None, "price": Decimal(1)},
    ]
    with app.app_context():
        registry = registry_holder().current
        keys = ("opening_balance", "purchase_order", "purchase_receipt", "sales_order", "stock_adjustment")
        for key in keys:
            model = registry.model(registry.model(key).lines_model)
            assert _lines_plan(registry, model) is not None, key
            columns = [spec.column for spec in model.data_fields]
            for included in (False, True):
                one, many = [], []
                for row in rows:
                    for made in (one, many):
                        line = Line()
                        line.__dict__.update(dict.fromkeys(columns) | {k: v for k, v in row.items() if k in columns})
                        made.append(line)
                for line in one:
                    apply_line_computed(registry, model, line, {"prices_include_tax": included})
                apply_lines_computed(registry, model, many, {"prices_include_tax": included})
                for a, b in zip(one, many, strict=True):
                    for spec in model.computed_fields:
                        assert type(a.__dict__[spec.column]) is type(b.__dict__[spec.column]), (key, spec.name)
                        assert a.__dict__[spec.column] == b.__dict__[spec.column], (key, spec.name)
                assert many[0].__dict__["amount"] is not None and many[2].__dict__["amount"] is None


def test_bulk_update_writes_exact_values_in_one_statement_a_chunk(app):
    """`bulk_update` (posting's item costs, balances, layers, lines) writes each row's values exactly (decimals to
    the last digit, timestamps), raises increments and versions, sends one statement for 1,500 rows (SQLite: one
    executemany of the driver, each distinct value bound once) and, versioned, refuses a row that moved."""
    from datetime import datetime
    from decimal import Decimal

    import pytest
    from sqlalchemy.orm.exc import StaleDataError

    from app.extensions import db, registry_holder
    from app.services.records.bulk import insert_rows
    from app.services.stock.bulk import bulk_update

    tag = unique("BUP").upper()
    with app.app_context():
        session = db.session
        table = registry_holder().current.cls("item").__table__
        insert_rows(session, table, [{"sku": f"{tag}-{n}", "name": f"更新 {n}", "version": 1} for n in range(1500)])
        ids = list(
            session.execute(select(table.c.id).where(table.c.sku.like(f"{tag}-%")).order_by(table.c.id)).scalars()
        )
        stamp = datetime(2026, 12, 5, 8, 30, 15)
        rows = [{"id": pk, "cost_price": Decimal("1.2345") + n, "updated_at": stamp} for n, pk in enumerate(ids)]
        seen = Statements(db.engine)
        with seen:
            bulk_update(session, table, rows, increments=("version",))
        assert len(seen.starting("UPDATE")) == 1, seen.sent
        got = session.execute(
            select(table.c.cost_price, table.c.updated_at, table.c.version).where(table.c.id.in_(ids[:2] + ids[-1:]))
        ).all()
        assert sorted(got) == [
            (Decimal("1.2345"), stamp, 2),
            (Decimal("2.2345"), stamp, 2),
            (Decimal("1500.2345"), stamp, 2),
        ]
        versioned = [{"id": pk, "_version": 2, "cost_price": Decimal("0.0001")} for pk in ids[:3]]
        bulk_update(session, table, versioned, versioned=True)
        assert session.execute(select(table.c.cost_price, table.c.version).where(table.c.id == ids[0])).one() == (
            Decimal("0.0001"),
            3,
        )
        with pytest.raises(StaleDataError):
            bulk_update(session, table, [{"id": ids[0], "_version": 2, "cost_price": Decimal(9)}], versioned=True)
        session.rollback()
