"""The fixed SQL around a request (issue 19), on SQLite and PostgreSQL: the user, their roles and the live
sign-in are one statement for a token and for a session cookie, and a grid page's link labels are one
statement however many models its links point at."""

from __future__ import annotations

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
