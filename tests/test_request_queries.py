"""The fixed SQL around a request (issue 19), on SQLite and PostgreSQL: the user, their roles and the live
sign-in are one statement for a token and for a session cookie, and a grid page's link labels are one
statement however many models its links point at."""

from __future__ import annotations

import re

from tests.conftest import unique
from tests.test_bulk_writes import Statements
from tests.test_grid_api import new_items, rows


def _reading(statements: Statements, table: str) -> list[str]:
    return [s for s, _ in statements.sent if f"FROM {table}" in s or f"JOIN {table}" in s or f", {table}" in s]


def test_a_token_and_a_cookie_read_user_roles_and_sign_in_in_one_statement(app, admin_api, login_as):
    from app.extensions import db

    browser = login_as("clerk")
    with app.app_context():
        engine = db.engine
    for client, path in ((admin_api, "/api/v1/grid/unit/rows"), (browser, "/api/v1/grid/unit/rows")):
        with Statements(engine) as statements:
            response = client.get(path)
        assert response.status_code == 200
        sign_in = _reading(statements, "jxc_login_session")
        assert len(sign_in) == 1, sign_in
        assert "ab_user" in sign_in[0] and "ab_role" in sign_in[0]  # the user and their roles in the same one
        assert not [s for s in _reading(statements, "ab_user_role") if s not in sign_in]


def test_a_grid_pages_link_labels_are_one_statement(app, admin_api):
    from app.extensions import db

    tag = unique("RQ")
    new_items(admin_api, 3, tag, category="C01")
    with app.app_context():
        engine = db.engine
    with Statements(engine) as statements:
        page = rows(admin_api, **{"filter[0][field]": "sku", "filter[0][type]": "like", "filter[0][value]": tag})
    assert [(r["unit"]["key"], r["category"]["key"]) for r in page["data"]] == [("PCS", "C01")] * 3
    assert all(r["category"]["name"] and isinstance(r["unit"]["id"], int) for r in page["data"])
    labels = [s for s, _ in statements.sent if "UNION ALL" in s.upper()]
    assert len(labels) == 1, [s[:120] for s, _ in statements.sent]
    assert not [s for s in _reading(statements, "unit") if s not in labels]


def test_a_rest_call_reads_the_sign_in_once_and_never_the_public_role(app, admin_api):
    """FAB verifies the token twice in a request and asks the public role first on every API call: the sign-in
    is read once and the public role not at all when the signed-in user may use the view."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    with Statements(engine) as statements:
        response = admin_api.get("/api/v1/unit/")
    assert response.status_code == 200 and response.get_json()["count"] >= 1
    assert len(_reading(statements, "jxc_login_session")) == 1
    assert not [s for s, _ in statements.sent if "ab_role.name =" in s], "the public role was read"
    assert not [s for s in _reading(statements, "ab_user_group") if "jxc_login_session" not in s]


def test_a_page_looks_for_documents_to_approve_in_one_statement(app, login_as):
    """The menu's 待审批 count: one statement over every document model, then one per model that has a pending
    document (none on most pages), not one per model."""
    from sqlalchemy import select

    from app.extensions import db, registry

    browser = login_as("admin")
    with Statements(engine_of(app)) as statements:
        assert browser.get("/grid/unit/").status_code == 200
    with app.app_context():
        documents = [m.key for m in registry().meta.models.values() if m.kind == "document"]
        cls = registry().cls
        pending = [k for k in documents if db.session.scalar(select(cls(k).id).where(cls(k).status == "pending"))]
    reading = {s for key in documents for s, _ in statements.sent if re.search(rf"\bFROM {key}\b(?!_)", s)}
    union = [s for s in reading if "UNION ALL" in s]
    assert len(documents) > 5 and len(union) == 1 and all(f"FROM {key} " in union[0] for key in documents)
    assert len(reading) - 1 <= len(pending), [s[:100] for s in reading]


def engine_of(app):
    from app.extensions import db

    with app.app_context():
        return db.engine


def _switch(api, key: str) -> object:
    return next(p["value"] for p in api.get("/api/v1/settings/").get_json()["result"] if p["key"] == key)


def test_settings_are_read_once_per_stamp_and_a_change_in_another_process_is_in_force_at_its_next_request(
    app, admin_api
):
    from sqlalchemy.orm import Session

    from app.extensions import db, registry
    from app.services.records.settings import set_policy
    from app.services.users.access import access_for

    key = "remember_last_price"
    before = _switch(admin_api, key)  # read, and cached under the stamp
    with app.app_context():
        engine = db.engine
    with Statements(engine) as statements:
        assert _switch(admin_api, key) == before
    assert not _reading(statements, "jxc_setting")  # the stamp stood: no read of the settings
    assert len(_reading(statements, "jxc_meta_state")) == 1  # the stamp, with the metadata version
    try:
        with app.app_context():  # another worker: its own connection and transaction
            admin = app.appbuilder.sm.find_user(username="admin")
            with Session(engine) as other:
                set_policy(other, access_for(admin), key, not before)
            assert registry().cache["settings"][1].get(key, before) == before  # this process's copy is older
        with Statements(engine) as statements:
            assert _switch(admin_api, key) == (not before)
        assert len(_reading(statements, "jxc_setting")) == 1
    finally:
        assert admin_api.put(f"/api/v1/settings/{key}", json={"value": before}).status_code == 200
    assert _switch(admin_api, key) == before


def test_a_ten_line_delivery_posts_with_its_fixed_statements(app, admin_api):
    from app.extensions import db
    from tests.ledger_helpers import document, new_item, receive

    skus = [new_item(admin_api) for _ in range(10)]
    for sku in skus:
        receive(admin_api, sku, "10", "2")
    lines = [{"item": s, "qty": "1", "price": "5"} for s in skus]
    draft = document(admin_api, "sales_delivery", lines, warehouse="WH01")
    with app.app_context():
        engine = db.engine
    with Statements(engine) as statements:
        response = admin_api.post(f"/api/v1/sales_delivery/{draft['id']}/submit")
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()["result"]
    assert answer["status"] == "submitted" and answer["version"] == draft["version"] + 1
    assert [line["cost_price"] for line in answer["lines"]] == ["2.00"] * 10
    assert [line["item"]["key"] for line in answer["lines"]] == skus
    sent = [s for s, _ in statements.sent if not s.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    assert not _reading(statements, "jxc_setting")
    # the document locked, read and moved to submitted by one UPDATE … RETURNING (no approval chain for a delivery)
    assert not [s for s in sent if s.lstrip().startswith("SELECT") and "FROM sales_delivery " in s]
    assert len([s for s in sent if s.lstrip().startswith("UPDATE sales_delivery ")]) == 1
    assert len(_reading(statements, "sales_delivery_line")) == 1  # read once, under the document's lock
    assert len([s for s in sent if "FROM stock_balance" in s]) == 1  # every line's balance in one statement
    assert len([s for s in sent if "UNION ALL" in s.upper()]) == 1  # the answer's labels, document and lines
    # PostgreSQL: the stamps, the user, the document's UPDATE, its lines, the items, the balances, the write with the
    # COMMIT, the labels; SQLite writes the audit row, moves, balances and lines' cost one statement each
    assert len(sent) <= (8 if engine.dialect.name == "postgresql" else 11), [s[:100] for s in sent]
    if engine.dialect.name == "postgresql":  # the moves and the balances in one round trip under the balance locks
        writes = [s for s in sent if "stock_move" in s and not s.lstrip().startswith("SELECT")]
        assert len(writes) == 1 and "UPDATE stock_balance" in writes[0], [s[:100] for s in writes]


def test_link_labels_kept_for_the_next_page_still_leave_out_what_a_reader_may_not_see(app):
    """The labels' statement is kept per metadata version only when no reader's scope narrows it: the admin's
    second page reuses it, and a salesperson asking after the admin still reads a customer they do not own
    as empty (K001 is theirs, S001 a supplier nobody gave them)."""
    from sqlalchemy import select

    from app.extensions import db, registry
    from app.services.records.serialize import labels_of_links
    from app.services.users.access import access_for

    def kept() -> list[object]:
        return [value for key, value in reg.cache.items() if isinstance(key, tuple) and key[0] == "link_labels"]

    with app.test_request_context():
        reg = registry()
        partner = reg.cls("partner")
        codes = select(partner.code, partner.id).where(partner.code.in_(["K001", "S001"]))
        ids = {code: row_id for code, row_id in db.session.execute(codes)}
        spec = next(f for f in reg.model("sales_delivery").fields if f.name == "partner")
        sm = app.appbuilder.sm
        admin, seller = access_for(sm.find_user(username="admin")), access_for(sm.find_user(username="u_salesperson"))
        wanted = [(spec, set(ids.values()))]
        (seen,) = labels_of_links(db.session, admin, wanted)
        assert {label["key"] for label in seen.values()} == {"K001", "S001"} and kept()
        before = kept()
        (again,) = labels_of_links(db.session, admin, wanted)
        assert again == seen and kept() == before
        (narrowed,) = labels_of_links(db.session, seller, wanted)
        assert {label["key"] for label in narrowed.values()} == {"K001"}
        (admin_after,) = labels_of_links(db.session, admin, wanted)
        assert admin_after == seen
