"""No role is locked out of what it writes (app/services/access/locks.py): a required field it may write and could
not fill. roles.yaml is checked at load; here 价格屏蔽 as a database stored it before the switch was checked (checked
when the app starts), 价格屏蔽 against the permissions the roles hold, and FAB's role pages and role API."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from app.extensions import db
from tests.conftest import Api, another_instance, csrf_from, hide_prices, unique

PAYMENT = {"direction": "receipt", "partner": "K001", "account": "A001", "amount": "5"}
LOCKED_CLERK = "价格屏蔽未对角色「文员」生效：它可以新建和修改「收付款单」，而必填字段「金额」是价格或金额"


def _sees_prices(api: Api) -> bool:
    rows = api.get("/api/v1/item/").get_json()["result"]
    assert rows
    return all("sale_price" in row for row in rows)


def _role(app: Any, name: str) -> tuple[int, list[int]]:
    """The role's id and the ids of its (permission, view menu) pairs."""
    with app.app_context():
        role = app.appbuilder.sm.find_role(name)
        found = role.id, sorted(pv.id for pv in role.permissions)
        db.session.rollback()
    return found


def _pair(app: Any, permission: str, view: str) -> int:
    with app.app_context():
        found = app.appbuilder.sm.find_permission_view_menu(permission, view).id
        db.session.rollback()
    return found


def _set_permissions(api: Api, role_id: int, ids: list[int]) -> Any:
    return api.post(f"/api/v1/security/roles/{role_id}/permissions", json={"permission_view_menu_ids": ids})


def _said(answer: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in one.items() if k != "message"} for one in answer]


def _left_out(api: Api, role: str) -> list[dict[str, str]]:
    """The role's writes the settings API says are not in force (other tests leave roles of their own)."""
    return [one for one in api.get("/api/v1/settings/").get_json()["writes_left_out"] if one["role"] == role]


CLERK_ACCOUNT = ("clerk", "payment", "account")


def test_a_stored_price_mask_that_locks_a_role_out_is_left_out_when_the_app_starts(
    app: Any, admin_api: Any, login_as: Any, caplog: Any
) -> None:
    """价格屏蔽 on clerks (who must fill a payment's 金额) as a database stored it before the switch was checked: the
    app starting on it logs which role, model and field, leaves clerks out of the mask (they see and post amounts),
    keeps it on salespeople, and says so on the settings page, until the switch is changed (then checked)."""
    hide_prices(app, ["clerk", "salesperson"])
    try:
        with caplog.at_level(logging.WARNING), another_instance(app) as started:
            warned = [r.getMessage() for r in caplog.records if "hide_prices_from_roles" in r.getMessage()]
            assert any("'clerk'" in w and "payment" in w and "'amount'" in w for w in warned), warned
            assert not any("'salesperson'" in w for w in warned), warned
            clerk, salesperson = Api(started, "u_clerk"), Api(started, "u_salesperson")
            assert _sees_prices(clerk) and not _sees_prices(salesperson)
            posted = clerk.post("/api/v1/payment/", json=PAYMENT)
            assert posted.status_code == 201, posted.get_json()
            admin = login_as("admin", on=started)
            page = admin.get("/admin/settings/").get_data(as_text=True)
            assert LOCKED_CLERK in page and "未对角色「销售员」" not in page
            answered = Api(started, "admin").get("/api/v1/settings/").get_json()["result"]
            (mask,) = [one for one in answered if one["key"] == "hide_prices_from_roles"]
            assert mask["value"] == ["clerk", "salesperson"]  # as stored, and what of it is not in force
            assert {"role": "clerk", "model": "payment", "field": "amount"} in [
                {k: v for k, v in one.items() if k != "message"} for one in mask["left_out"]
            ]
            assert {one["role"] for one in mask["left_out"]} == {"clerk"}
            assert LOCKED_CLERK in [one["message"][: len(LOCKED_CLERK)] for one in mask["left_out"]]
            assert all(one["left_out"] == [] for one in answered if one is not mask)
            hide_prices(app, ["clerk"])  # changed since start-up (the settings stamp moved): as stored
            assert not _sees_prices(clerk)
            assert LOCKED_CLERK not in admin.get("/admin/settings/").get_data(as_text=True)
            answered = Api(started, "admin").get("/api/v1/settings/").get_json()["result"]
            assert all(one["left_out"] == [] for one in answered)
    finally:
        assert admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []}).status_code == 200


def test_price_masking_checks_the_permissions_a_role_holds(app: Any, admin_api: Any) -> None:
    """A salesperson given 收付款单：修改 on the role pages may write payments (they see their amounts), and then
    hiding prices from salespeople is refused; with prices hidden from them, that permission is refused instead."""
    role_id, held = _role(app, "salesperson")
    write = _pair(app, "can_write", "Payment")
    try:
        assert _set_permissions(admin_api, role_id, [*held, write]).status_code == 200
        refused = admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": ["salesperson"]})
        assert refused.status_code == 422, refused.get_json()
        messages = [e["message"] for e in refused.get_json()["errors"]]
        assert messages == [
            "不能对角色「销售员」屏蔽价格：它可以新建和修改「收付款单」，而必填字段「金额」是价格或金额，"
            "屏蔽后它看不到也填不了，将无法保存。请先取消「金额」的必填或给它默认值"
        ]
        assert _set_permissions(admin_api, role_id, held).status_code == 200
        assert (
            admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": ["salesperson"]}).status_code == 200
        )
        given = _set_permissions(admin_api, role_id, [*held, write])
        assert given.status_code == 422, given.get_json()
        (said,) = given.get_json()["message"]["permission_view_menu_ids"]
        assert said.startswith(
            "不能这样修改角色「销售员」：它将可以新建和修改「收付款单」，而必填字段「金额」对它隐藏或只读"
        )
    finally:
        admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []})
        assert _set_permissions(admin_api, role_id, held).status_code == 200
    assert _role(app, "salesperson") == (role_id, held)


def test_a_role_page_edit_that_would_lock_a_role_out_is_refused(app: Any, admin_api: Any, login_as: Any) -> None:
    """A warehouse keeper hides every kind of figure (roles.yaml): given 收付款单：修改 on the role page or through the
    role API, they could save no payment (金额 is required). Refused, naming the role, model and field; nothing
    stored. Renaming a role to one roles.yaml does not know (whose users see no field) is refused alike; a copy
    takes the keeper's masks and row scope (tests/test_role_copies.py), so copying the keeper is not; a new role that
    reads only is saved."""
    role_id, held = _role(app, "warehouse")
    write = _pair(app, "can_write", "Payment")
    words = "不能这样修改角色「仓管员」：它将可以新建和修改「收付款单」，而必填字段「金额」对它隐藏或只读，它将无法保存"
    admin = login_as("admin")
    form = admin.get("/admin/settings/").get_data(as_text=True)  # a form token (the role pages warn under -W error)
    data = {"csrf_token": csrf_from(form), "name": "warehouse", "permissions": [str(i) for i in [*held, write]]}
    try:
        saved = admin.post(f"/roles/edit/{role_id}", data=data)
        assert saved.status_code == 302 and saved.location.endswith(f"/roles/edit/{role_id}")  # back to the form
        assert words in admin.get("/admin/settings/").get_data(as_text=True)  # the next page says why
        assert _role(app, "warehouse") == (role_id, held)
        answer = _set_permissions(admin_api, role_id, [*held, write])
        assert answer.status_code == 422 and words in answer.get_json()["message"]["permission_view_menu_ids"][0]
        renamed = admin_api.put(f"/api/v1/security/roles/{role_id}", json={"name": unique("keeper")})
        assert renamed.status_code == 422 and "「采购入库单」" in str(renamed.get_json()["message"]["name"])
        copied = admin.post(
            "/roles/action_post", data={"csrf_token": csrf_from(form), "action": "copyrole", "rowid": str(role_id)}
        )
        assert copied.status_code == 302
        assert "不能这样修改角色" not in admin.get("/roles/list/").get_data(as_text=True)
        assert _role(app, "仓管员（副本）")[1] == held
    finally:
        _set_permissions(admin_api, role_id, held)
        admin_api.put(f"/api/v1/security/roles/{role_id}", json={"name": "warehouse"})
        with app.app_context():
            copy = app.appbuilder.sm.find_role("仓管员（副本）")
            if copy is not None:
                db.session.delete(copy)
                db.session.commit()
    assert _role(app, "warehouse") == (role_id, held)
    made = admin_api.post("/api/v1/security/roles/", json={"name": unique("reader")})
    assert made.status_code == 201, made.get_json()
    assert _set_permissions(admin_api, made.get_json()["id"], [_pair(app, "can_read", "Payment")]).status_code == 200


def _store_pair(app: Any, role: str, permission: str, view: str, given: bool) -> None:
    """Give (or take) a role a pair as a database holds one from before the role pages were checked."""
    with app.app_context():
        sm = app.appbuilder.sm
        pair = sm.find_permission_view_menu(permission, view)
        (sm.add_permission_role if given else sm.del_permission_role)(sm.find_role(role), pair)
        db.session.remove()


KEEPER_PAYS = "角色「仓管员」的「收付款单：修改」权限未生效：必填字段「金额」对它隐藏或只读，它填不了，将无法保存"


def test_a_stored_role_that_is_locked_out_does_not_write_and_is_said_to_be(
    app: Any, admin_api: Any, login_as: Any, caplog: Any
) -> None:
    """仓管员 given 「收付款单：修改」 before the role pages were checked (every figure is hidden from them, a payment's
    金额 is required): the app starting on it logs role, model and field; that write is not in force (no payment form
    or save that can never succeed: 403, as for a role without it), and the settings page, the role list and the
    settings API say so, until the role's permissions change. Nothing refuses to start."""
    keeper = Api(app, "u_warehouse")
    _store_pair(app, "warehouse", "can_write", "Payment", True)
    try:
        with caplog.at_level(logging.WARNING), another_instance(app) as started:
            warned = [r.getMessage() for r in caplog.records if r.getMessage().startswith("role 'warehouse'")]
            assert any("payment" in w and "'amount'" in w for w in warned), warned
            assert Api(started, "u_warehouse").post("/api/v1/payment/", json=PAYMENT).status_code == 403
        assert keeper.post("/api/v1/payment/", json=PAYMENT).status_code == 403
        ops = [{"op": "create", "tmp_id": "n1", "values": PAYMENT}]
        batch = keeper.post("/api/v1/grid/payment/batch", json={"client_batch_id": unique("b"), "ops": ops})
        assert batch.status_code == 403, batch.get_json()
        assert keeper.post("/api/v1/stocktake/", json={}).status_code != 403  # their other writes stay
        admin = login_as("admin")
        assert KEEPER_PAYS in admin.get("/admin/settings/").get_data(as_text=True)
        assert KEEPER_PAYS in admin.get("/roles/list/").get_data(as_text=True)
        said = _left_out(admin_api, "warehouse")
        assert {"role": "warehouse", "model": "payment", "field": "amount"} in _said(said)
        assert all(one["message"].startswith("角色「") for one in said)
    finally:
        _store_pair(app, "warehouse", "can_write", "Payment", False)
    assert _left_out(admin_api, "warehouse") == []
    assert KEEPER_PAYS not in login_as("admin").get("/admin/settings/").get_data(as_text=True)


def test_the_openapi_spec_says_what_the_settings_leave_out(admin_api: Any) -> None:
    spec = admin_api.get("/api/v1/_openapi").get_json()
    (path,) = [p for p in spec["paths"] if p.endswith("/settings/")]
    answer = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/Settings"}
    settings = spec["components"]["schemas"]["Settings"]["properties"]
    assert settings["writes_left_out"]["items"] == {"$ref": "#/components/schemas/LeftOut"}
    assert settings["result"]["items"]["properties"]["left_out"]["items"] == {"$ref": "#/components/schemas/LeftOut"}
    assert set(spec["components"]["schemas"]["LeftOut"]["required"]) == {"role", "model", "field", "message"}


SCOPE_REFUSED = (
    "不能这样修改角色「销售员」：它将可以新建和修改「收付款单」，而按它的数据范围，「往来单位」没有它可以填写的记录"
)


def test_a_role_whose_row_scope_would_leave_it_nothing_to_write_is_refused_and_left_out(
    app: Any, admin_api: Any
) -> None:
    """销售员 reads the payments of partners they see (row_scope `payment: {partner: visible}`). Given
    「收付款单：修改」 they write their customers' receipts; without 「往来单位：查看」 too, no payment is in their
    scope (a partner they may not read is nobody's they see), so every save would be refused 超出您的数据范围: the
    role API refuses that edit, naming 往来单位; stored so anyway, the write is left out of force and said, as a
    masked field's is."""
    role_id, held = _role(app, "salesperson")
    write, read_partner = _pair(app, "can_write", "Payment"), _pair(app, "can_read", "Partner")
    seller = Api(app, "u_salesperson")
    try:
        assert _set_permissions(admin_api, role_id, [*held, write]).status_code == 200  # within their scope: fine
        refused = _set_permissions(admin_api, role_id, [i for i in [*held, write] if i != read_partner])
        assert refused.status_code == 422, refused.get_json()
        (said,) = refused.get_json()["message"]["permission_view_menu_ids"]
        assert said.startswith(SCOPE_REFUSED), said
        assert _left_out(admin_api, "salesperson") == []
        _store_pair(app, "salesperson", "can_read", "Partner", False)  # as a database from before the check holds it
        left_out = _left_out(admin_api, "salesperson")
        assert _said(left_out) == [{"role": "salesperson", "model": "payment", "field": "partner"}]
        assert left_out[0]["message"].startswith("角色「销售员」的「收付款单：修改」权限未生效：按它的数据范围")
        assert seller.post("/api/v1/payment/", json=PAYMENT).status_code == 403
    finally:
        _store_pair(app, "salesperson", "can_read", "Partner", True)
        assert _set_permissions(admin_api, role_id, held).status_code == 200
    assert _role(app, "salesperson") == (role_id, held)


def test_a_row_scope_on_accounts_that_admits_none_locks_a_payment_writer_out(app: Any, monkeypatch: Any) -> None:
    """A role limited to the accounts its users made (`row_scope: {account: {created_by: me}}`, roles.yaml) names
    those on a payment, so it may write payments when it makes accounts (财务); one that makes none (文员 reads
    accounts only) has no account to name and could save no payment (结算账户 is required): that write is left out of
    force and said, with the field. Nothing refuses to start."""
    with another_instance(app) as started:
        roles = started.extensions["jxc_registry"].current.meta.roles
        for name in ("clerk", "finance"):
            scopes = {**roles[name].row_scope, "account": {"created_by": "me"}}
            monkeypatch.setitem(roles, name, replace(roles[name], row_scope=scopes))
        said = Api(started, "admin").get("/api/v1/settings/").get_json()["writes_left_out"]
        assert {"role": "clerk", "model": "payment", "field": "account"} in _said(said)
        assert not [one for one in said if one["role"] == "finance"]
        (message,) = [one["message"] for one in said if (one["role"], one["model"], one["field"]) == CLERK_ACCOUNT]
        assert message.startswith("角色「文员」的「收付款单：修改」权限未生效：按它的数据范围，「结算账户」没有")
        assert Api(started, "u_clerk").post("/api/v1/payment/", json=PAYMENT).status_code == 403
        assert Api(started, "u_finance").post("/api/v1/payment/", json=PAYMENT).status_code != 403
