"""Role permissions kept per security stamp and access switches per settings stamp (issue 19): a request does
not read its roles' permissions again until a role changes, and a change made through one app instance (a
process of its own in production) is obeyed by another instance on the same database at its next request."""

from __future__ import annotations

from typing import Any

import pytest

from app.extensions import db
from app.services.users.accounts import create_user
from tests.conftest import another_instance, hide_prices, unique
from tests.test_bulk_writes import Statements
from tests.test_sign_in import STRONG, bearer

ROWS = "/api/v1/grid/unit/rows?size=5"


@pytest.fixture
def other(app: Any) -> Any:
    """A second app instance on the same database: its own registry and caches, as another worker has."""
    with another_instance(app) as second:
        yield second


def _new_role(app: Any, copy_of: str | None) -> str:
    """A role of its own with the permissions of `copy_of` (None: none at all)."""
    name = unique("r_").lower()
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.add_role(name)
        role.permissions = list(sm.find_role(copy_of).permissions) if copy_of else []
        db.session.commit()
    return name


def _set_role_of(app: Any, username: str, role_name: str) -> None:
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.find_user(username=username)
        user.roles = [sm.find_role(role_name)]
        db.session.commit()


def _drop_unit_pairs(app: Any, role_name: str) -> list[Any]:
    """Take the role's permissions on units away (FAB's role page does the same through the ORM)."""
    with app.app_context():
        role = app.appbuilder.sm.find_role(role_name)
        kept = [p for p in role.permissions if p.view_menu.name != "Unit"]
        dropped = [p.id for p in role.permissions if p.view_menu.name == "Unit"]
        role.permissions = kept
        db.session.commit()
    assert dropped, "the clerk may read units"
    return dropped


def _permission_reads(statements: Statements) -> list[str]:
    return [s for s, _ in statements.sent if "ab_permission_view_role" in s]


def test_a_roles_permissions_are_read_once_per_stamp_not_per_request(app: Any) -> None:
    role_name = _new_role(app, "clerk")
    username = unique("x_").lower()
    with app.app_context():
        create_user(username, role_name, STRONG)
        engine = db.engine
    token, client = bearer(app, username), app.test_client()
    assert client.get(ROWS, headers=token).status_code == 200
    with Statements(engine) as statements:
        assert client.get(ROWS, headers=token).status_code == 200
    assert _permission_reads(statements) == []
    _drop_unit_pairs(app, role_name)  # moves the stamp: read again, once
    with Statements(engine) as statements:
        assert client.get(ROWS, headers=token).status_code == 403
    assert len(_permission_reads(statements)) == 1


def test_a_role_losing_a_permission_in_one_instance_is_obeyed_by_another_at_once(app: Any, other: Any) -> None:
    role_name = _new_role(app, "clerk")
    username = unique("x_").lower()
    with app.app_context():
        create_user(username, role_name, STRONG)
    token, elsewhere = bearer(app, username), other.test_client()
    for _ in range(2):  # the second answered from the other instance's cache
        assert elsewhere.get(ROWS, headers=token).status_code == 200
    dropped = _drop_unit_pairs(app, role_name)
    assert elsewhere.get(ROWS, headers=token).status_code == 403
    with app.app_context():
        from flask_appbuilder.security.sqla.models import PermissionView

        role = app.appbuilder.sm.find_role(role_name)
        role.permissions = list(role.permissions) + [db.session.get(PermissionView, pk) for pk in dropped]
        db.session.commit()
    assert elsewhere.get(ROWS, headers=token).status_code == 200


def test_a_user_given_another_role_in_one_instance_is_obeyed_by_another_at_once(app: Any, other: Any) -> None:
    reader, nobody = _new_role(app, "clerk"), _new_role(app, None)
    username = unique("x_").lower()
    with app.app_context():
        create_user(username, reader, STRONG)
    token, elsewhere = bearer(app, username), other.test_client()
    for _ in range(2):
        assert elsewhere.get(ROWS, headers=token).status_code == 200
    _set_role_of(app, username, nobody)
    assert elsewhere.get(ROWS, headers=token).status_code == 403
    _set_role_of(app, username, reader)
    assert elsewhere.get(ROWS, headers=token).status_code == 200


def test_the_price_hiding_switch_set_in_one_instance_is_obeyed_by_another_at_once(
    app: Any, other: Any, admin_api: Any
) -> None:
    username = unique("x_").lower()
    with app.app_context():
        create_user(username, "clerk", STRONG)
    token, elsewhere = bearer(app, username), other.test_client()
    items = "/api/v1/grid/item/rows?size=3"

    def prices_shown() -> bool:
        response = elsewhere.get(items, headers=token)
        assert response.status_code == 200 and response.get_json()["data"]
        return all("sale_price" in row for row in response.get_json()["data"])

    assert prices_shown() and prices_shown()
    hide_prices(app, ["clerk"])
    try:
        assert not prices_shown()
    finally:
        assert admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []}).status_code == 200
    assert prices_shown()


def test_a_role_edited_through_fabs_role_api_is_obeyed_by_another_instance_at_once(
    app: Any, other: Any, admin_api: Any
) -> None:
    role_name = _new_role(app, "clerk")
    username = unique("x_").lower()
    with app.app_context():
        create_user(username, role_name, STRONG)
        role = app.appbuilder.sm.find_role(role_name)
        role_id, kept = role.id, [p.id for p in role.permissions if p.view_menu.name != "Unit"]
        db.session.rollback()
    token, elsewhere = bearer(app, username), other.test_client()
    for _ in range(2):
        assert elsewhere.get(ROWS, headers=token).status_code == 200
    edited = admin_api.post(f"/api/v1/security/roles/{role_id}/permissions", json={"permission_view_menu_ids": kept})
    assert edited.status_code == 200, edited.get_data(as_text=True)[:300]
    assert elsewhere.get(ROWS, headers=token).status_code == 403
