"""A copy of a role (「Copy Role」 on the role list) behaves like the original (app/services/access/origins.py): it
takes the original's masks, hidden figures, sides and row scope through a link kept by the copy's id, never more than
the original; a role roles.yaml does not know and that is not a copy still takes nothing. Each failed before: the
copy's users saw no field and every write with a required field was left out of force."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.services.users.accounts import create_user
from tests.conftest import PASSWORD, Api, another_instance, csrf_from, hide_prices, unique
from tests.ledger_helpers import new_item


def _role_id(app: Any, name: str) -> int | None:
    with app.app_context():
        role = app.appbuilder.sm.find_role(name)
        found = role.id if role is not None else None
        db.session.rollback()
    return found


def copy_role(app: Any, login_as: Any, name: str) -> Any:
    """「Copy Role」 on the role list, as a person does it; the answer to the list page after it."""
    admin = login_as("admin")
    token = csrf_from(admin.get("/roles/list/").get_data(as_text=True))
    role_id = _role_id(app, name)
    answer = admin.post("/roles/action_post", data={"csrf_token": token, "action": "copyrole", "rowid": str(role_id)})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    return admin.get("/roles/list/").get_data(as_text=True)


def rename_role(admin_api: Api, role_id: int, name: str) -> None:
    renamed = admin_api.put(f"/api/v1/security/roles/{role_id}", json={"name": name})
    assert renamed.status_code == 200, renamed.get_json()


def delete_role(app: Any, name: str) -> None:
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role(name)
        for user in list(role.user):
            user.roles = [r for r in user.roles if r.id != role.id]
        db.session.delete(role)
        db.session.commit()


def user_of(app: Any, role: str) -> str:
    """A new user holding only `role`."""
    username = unique("x_copy").lower()
    with app.app_context():
        create_user(username, role, PASSWORD)
        db.session.remove()
    return username


def origins(app: Any) -> dict[str, str]:
    from app.services.access.origins import read_origins

    with app.app_context():
        found = read_origins(db.session)
        db.session.rollback()
    return found


def test_a_copy_of_salesperson_sees_and_writes_what_a_salesperson_does(
    app: Any, admin_api: Any, login_as: Any, api_as: Any
) -> None:
    """销售员 copied on the role list: the copy is linked to salesperson, and its user sees a customer's fields, no
    purchase figure (hidden_figures), only the customers they own (row scope), and saves a sales order (every required
    field fillable, the write in force: nothing said left out). Renamed, the copy stays what it was made of."""
    copy = f"华南销售 {unique()}"
    page = copy_role(app, login_as, "salesperson")
    assert "不能这样修改角色" not in page
    role_id = _role_id(app, "销售员（副本）")
    assert role_id is not None
    try:
        rename_role(admin_api, role_id, copy)  # kept by the copy's id: the link survives a rename
        assert origins(app)[copy] == "salesperson"
        listed = login_as("admin").get("/roles/list/").get_data(as_text=True)  # renamed: its label, and its origin
        assert f'>{copy} <small class="text-muted jxc-role-origin">复制自 销售员</small><' in listed
        seller = Api(app, user_of(app, copy))
        said = admin_api.get("/api/v1/settings/").get_json()["writes_left_out"]
        assert [one for one in said if one["role"] == copy] == []
        partner = seller.post(
            "/api/v1/partner/", json={"code": unique("KC"), "name": "复制角色的客户", "kind": "customer"}
        )
        assert partner.status_code == 201, partner.get_json()
        partners = seller.get("/api/v1/partner/").get_json()["result"]
        assert [row["code"] for row in partners] == [partner.get_json()["result"]["code"]]  # row scope: their own
        assert "name" in partners[0]  # a field the copy sees (a role roles.yaml does not know sees none)
        sku = new_item(admin_api, purchase_price="3.21", sale_price="9.99")
        item = next(row for row in seller.get("/api/v1/item/?q=(page_size:100)").get_json()["result"] if row)
        assert "sale_price" in item and "purchase_price" not in item  # the salesperson's hidden figures
        order = seller.post(
            "/api/v1/sales_order/",
            json={
                "partner": partner.get_json()["result"]["code"],
                "warehouse": "WH01",
                "lines": [{"item": sku, "qty": "2", "price": "9.99"}],
            },
        )
        assert order.status_code == 201, order.get_json()
        assert order.get_json()["result"]["total_with_tax"] is not None
        assert api_as("salesperson").get(f"/api/v1/sales_order/{order.get_json()['id']}").status_code == 404
    finally:
        delete_role(app, copy)
    assert copy not in origins(app)
    from app.services.access.tables import role_origin

    with app.app_context():  # the link went with the role: an id used again inherits nothing
        assert db.session.execute(select(role_origin).where(role_origin.c.role_id == role_id)).first() is None
        db.session.rollback()


def test_a_copy_gets_no_more_than_its_original(app: Any, admin_api: Any, login_as: Any) -> None:
    """价格屏蔽 on salespeople masks a copy of salesperson too (it would otherwise see every price); a copy of the copy
    links to salesperson; a copy renamed to a name roles.yaml knows stays a salesperson (the link wins over the
    name), and a copy whose original roles.yaml no longer has takes nothing, never its name's entry."""
    copy_role(app, login_as, "salesperson")
    first = f"华南销售 {unique()}"
    rename_role(admin_api, _role_id(app, "销售员（副本）"), first)
    copy_role(app, login_as, first)
    second = "销售员（副本）"  # named after the original it is linked to, not the copy it was made of
    try:
        assert origins(app)[second] == "salesperson"
        seller = Api(app, user_of(app, second))
        new_item(admin_api, purchase_price="3.21", sale_price="9.99")
        assert "sale_price" in seller.get("/api/v1/item/").get_json()["result"][0]
        hide_prices(app, ["salesperson"])
        try:
            assert "sale_price" not in seller.get("/api/v1/item/").get_json()["result"][0]
        finally:
            assert admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []}).status_code == 200
    finally:
        delete_role(app, second)
        delete_role(app, first)
    from app.services.access.origins import spec_of

    roles = app.extensions["jxc_registry"].current.meta.roles
    as_manager = spec_of(roles, "manager", {"manager": "salesperson"})
    assert as_manager is not None and as_manager.hidden_figures == roles["salesperson"].hidden_figures
    assert as_manager.row_scope == roles["salesperson"].row_scope and as_manager.origin == "salesperson"
    assert spec_of(roles, "manager", {"manager": "gone"}) is None
    assert spec_of(roles, unique("new"), {}) is None


def test_a_copy_of_a_role_roles_yaml_does_not_know_still_takes_nothing(app: Any, admin_api: Any, login_as: Any) -> None:
    """A new role (not a copy) that reads payments, copied: the copy is linked to nothing and its users see no
    field, as before; a role that may write with a required field is still refused when it takes no entry."""
    name = unique("reader")
    made = admin_api.post("/api/v1/security/roles/", json={"name": name})
    assert made.status_code == 201, made.get_json()
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role(name)
        sm.add_permission_role(role, sm.find_permission_view_menu("can_read", "Payment"))
        db.session.remove()
    copy_role(app, login_as, name)
    try:
        assert f"{name}（副本）" not in origins(app)
        reader = Api(app, user_of(app, f"{name}（副本）"))
        rows = reader.get("/api/v1/payment/").get_json()["result"]
        assert all(row == {} or set(row) <= {"id"} for row in rows), rows[:1]
        with app.app_context():
            sm = app.appbuilder.sm
            sm.add_permission_role(sm.find_role(name), sm.find_permission_view_menu("can_write", "Payment"))
            db.session.remove()
        page = copy_role(app, login_as, name)  # a second copy: the next free name
        assert f"不能这样修改角色「{name}（副本2）」" in page
        assert _role_id(app, f"{name}（副本2）") is None
    finally:
        if _role_id(app, f"{name}（副本）") is not None:
            delete_role(app, f"{name}（副本）")
        delete_role(app, name)


def _grant(app: Any, role: str, permission: str, view: str) -> None:
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_permission_role(sm.find_role(role), sm.find_permission_view_menu(permission, view))
        db.session.remove()


def _sees_prices(api: Api) -> bool:
    rows = api.get("/api/v1/item/").get_json()["result"]
    assert rows
    return all("sale_price" in row for row in rows)


def test_a_price_mask_left_out_for_a_copy_is_out_for_the_copy(app: Any, admin_api: Any, login_as: Any) -> None:
    """价格屏蔽 stored on 销售员 before the switch was checked, and a copy of 销售员 given the write of payments (whose
    金额 is required) on the side: start-up leaves the copy out and the settings page says so; the copy's user sees
    prices, 销售员's user stays masked. Before, the copy stayed masked (the name taken out of the mask was the
    copy's, while a copy is masked by its origin's)."""
    copy_role(app, login_as, "salesperson")
    name = f"销售员（副本）{unique()}"
    rename_role(admin_api, _role_id(app, "销售员（副本）"), name)
    _grant(app, name, "can_read", "Payment")
    _grant(app, name, "can_write", "Payment")
    new_item(admin_api, purchase_price="3.21", sale_price="9.99")
    hide_prices(app, ["salesperson"])
    try:
        with another_instance(app) as started:
            copied, original = Api(started, user_of(app, name)), Api(started, "u_salesperson")
            said = Api(started, "admin").get("/api/v1/settings/").get_json()["result"]
            (mask,) = [one for one in said if one["key"] == "hide_prices_from_roles"]
            assert {one["role"] for one in mask["left_out"]} == {name}
            page = login_as("admin", on=started).get("/admin/settings/").get_data(as_text=True)
            assert f"价格屏蔽未对角色「{name}」生效" in page
            assert _sees_prices(copied) and not _sees_prices(original)
    finally:
        assert admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []}).status_code == 200
        delete_role(app, name)


def old_copy(app: Any, of: str, extra: tuple[str, str] | None = None) -> str:
    """A copy of `of` as 「Copy Role」 made one before it linked copies: its permissions (and `extra`), no link."""
    name = f"{of} copy {unique()}"
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.add_role(name)
        role.permissions = list(sm.find_role(of).permissions)
        if extra is not None:
            role.permissions.append(sm.find_permission_view_menu(*extra))
        db.session.commit()
        db.session.remove()
    return name


def set_origin(app: Any, name: str, origin: str) -> bool:
    from app.extensions import registry
    from app.services.users.accounts import set_role_origin

    with app.app_context():
        try:
            return set_role_origin(name, origin, registry().meta.roles)
        finally:
            db.session.remove()


def test_an_old_copy_is_given_its_original_and_never_more_than_it(app: Any, admin_api: Any) -> None:
    """A copy made before copies were linked takes nothing (its users see no field); linked to salesperson (what
    `jxc role origin` does) its user sees a customer's fields as a salesperson does, audited. Refused, saying why and
    linking nothing: a role roles.yaml names, an origin roles.yaml does not have, a copy holding a permission the
    origin does not (it would see more than the original), and one linked to another role already."""
    from app.services.users.accounts import UserError

    copy = old_copy(app, "salesperson")
    wider = old_copy(app, "salesperson", ("can_write", "Payment"))
    try:
        seller = Api(app, user_of(app, copy))
        new_item(admin_api, purchase_price="3.21", sale_price="9.99")
        assert copy not in origins(app)
        rows = seller.get("/api/v1/item/").get_json()["result"]
        assert all(set(row) <= {"id"} for row in rows), rows[:1]  # no entry: no field

        assert set_origin(app, copy, "salesperson") is True
        assert origins(app)[copy] == "salesperson"
        rows = seller.get("/api/v1/item/").get_json()["result"]
        assert "sale_price" in rows[0] and "purchase_price" not in rows[0]  # a salesperson's fields, and no more
        assert set_origin(app, copy, "salesperson") is False  # again: nothing to change
        with app.app_context():
            from app.services.records.tables import audit_log

            audited = db.session.execute(
                select(audit_log.c.after).where(
                    audit_log.c.model == "ab_role", audit_log.c.record_id == _role_id(app, copy)
                )
            ).all()
            db.session.rollback()
        assert any("salesperson" in str(row[0]) for row in audited), audited

        with pytest.raises(UserError, match="已是「销售员」的副本，不能改为其他角色的副本"):
            set_origin(app, copy, "manager")
        with pytest.raises(UserError, match="「clerk」是 roles.yaml 中的角色"):
            set_origin(app, "clerk", "salesperson")
        with pytest.raises(UserError, match="roles.yaml 中没有角色「boss」；可用的角色：admin（系统管理员）、"):
            set_origin(app, copy, "boss")
        with pytest.raises(UserError, match=r"有「销售员」没有的权限（can_write Payment）"):
            set_origin(app, wider, "salesperson")
        assert wider not in origins(app) and origins(app)[copy] == "salesperson"
    finally:
        delete_role(app, copy)
        delete_role(app, wider)


# a role's page lists its users through FAB's related view, whose filter calls SQLAlchemy's legacy Query.get()
@pytest.mark.filterwarnings("ignore:The Query.get:sqlalchemy.exc.LegacyAPIWarning")
def test_a_renamed_copy_still_says_what_it_was_copied_from(app: Any, admin_api: Any, login_as: Any) -> None:
    """A copy is named in Chinese even when the admin reads English (a name is data, as the demo's are), and its role
    list row and role page say 「复制自 销售员」 (Copied from Salesperson in English) from its stored origin whatever
    it is renamed to; the original says no such thing."""
    admin = login_as("admin")
    assert admin.get("/lang/en").status_code in (302, 303)
    try:
        token = csrf_from(admin.get("/roles/list/").get_data(as_text=True))
        data = {"csrf_token": token, "action": "copyrole", "rowid": str(_role_id(app, "salesperson"))}
        assert admin.post("/roles/action_post", data=data).status_code == 302
        role_id = _role_id(app, "销售员（副本）")
        assert role_id is not None and _role_id(app, "Salesperson (copy)") is None
        renamed = f"华东团队 {unique()}"
        rename_role(admin_api, role_id, renamed)
        english = admin.get("/roles/list/").get_data(as_text=True)
        assert f'{renamed} <small class="text-muted jxc-role-origin">Copied from Salesperson</small>' in english
    finally:
        assert admin.get("/lang/zh").status_code in (302, 303)
    try:
        listed = admin.get("/roles/list/").get_data(as_text=True)
        assert f'{renamed} <small class="text-muted jxc-role-origin">复制自 销售员</small>' in listed
        assert listed.count("复制自 销售员") == 1  # the copy's row only: not the original's
        shown = admin.get(f"/roles/show/{role_id}").get_data(as_text=True)
        assert "复制自 销售员" in shown and renamed in shown
        original = admin.get(f"/roles/show/{_role_id(app, 'salesperson')}").get_data(as_text=True)
        assert "复制自" not in original
    finally:
        delete_role(app, renamed)
