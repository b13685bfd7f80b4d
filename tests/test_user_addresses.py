"""Users without an e-mail address (both databases): they hold a marked non-address (`<user>@no-email.invalid`,
never a made-up `<user>@jxc.local` that a mail server accepts); the admin's user pages say 无邮箱 and take an
empty field for it; the upgrade turns the made-up addresses earlier versions stored into the marked one."""

from __future__ import annotations

import importlib.util
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select, update

from app.extensions import db
from app.services.users.accounts import create_user
from tests.conftest import csrf_from, unique, writing

MIGRATION = Path(__file__).resolve().parent.parent / "app" / "migrations" / "versions" / "0016_no_address.py"


def email_of(app: Any, username: str) -> str:
    with app.app_context():
        found = db.session.execute(select(User.email).where(User.username == username)).scalar_one()
        db.session.remove()
    return str(found)


def test_a_user_made_without_an_address_has_none(app):
    name = unique("x_none").lower()
    with app.app_context(), writing():
        create_user(name, "clerk", "Qa2-Clerk-99")
        db.session.remove()
    assert email_of(app, name) == f"{name}@no-email.invalid"


# FAB's user form renders its role list in a way WTForms 3 deprecates
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_user_pages_say_no_address_and_take_an_empty_field(app, login_as):
    name = unique("x_page").lower()
    with app.app_context(), writing():
        pk = create_user(name, "clerk", "Qa2-Clerk-99", name="张三").id
        db.session.remove()
    admin = login_as("admin")
    listed = admin.get(f"/users/list/?_flt_0_username={name}").get_data(as_text=True)
    assert "无邮箱" in listed and "no-email.invalid" not in listed
    shown = admin.get(f"/users/show/{pk}").get_data(as_text=True)
    assert "无邮箱" in shown and "no-email.invalid" not in shown
    form = admin.get(f"/users/edit/{pk}").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="email"[^>]*value=""', form), re.findall(r"<input[^>]*email[^>]*>", form)
    assert "没有邮箱的用户可留空" in form
    role = re.search(r'<option selected value="(\d+)"', form) or re.search(r'<option value="(\d+)" selected', form)
    fields = {"first_name": "三", "last_name": "张", "username": name, "active": "y", "email": ""}
    fields |= {"roles": role.group(1) if role else "", "csrf_token": csrf_from(form)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        saved = admin.post(f"/users/edit/{pk}", data=fields)
    assert saved.status_code == 302, saved.get_data(as_text=True)[-2000:]
    assert email_of(app, name) == f"{name}@no-email.invalid"
    typed = admin.post(f"/users/edit/{pk}", data=fields | {"email": "zhang,san@shop.cn"})
    assert typed.status_code == 200 and "不是有效的邮箱地址" in typed.get_data(as_text=True)
    saved = admin.post(f"/users/edit/{pk}", data=fields | {"email": f"{name}@shop.cn"})
    assert saved.status_code == 302 and email_of(app, name) == f"{name}@shop.cn"


def test_the_upgrade_marks_the_made_up_addresses_of_earlier_versions(app):
    spec = importlib.util.spec_from_file_location("no_address", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    made_up, real = unique("x_old").lower(), unique("x_real").lower()
    with app.app_context(), writing():
        create_user(made_up, "clerk", "Qa2-Clerk-99")
        create_user(real, "clerk", "Qa2-Clerk-99", email=f"boss{real}@jxc.local")
        # as `jxc user add` without --email left it before
        db.session.execute(update(User).where(User.username == made_up).values(email=f"{made_up}@jxc.local"))
        db.session.commit()
        with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
            migration.upgrade()
        db.session.remove()
    assert email_of(app, made_up) == f"{made_up}@no-email.invalid"
    assert email_of(app, real) == f"boss{real}@jxc.local"  # an address someone typed is theirs


def test_the_security_api_makes_a_user_without_an_address_as_jxc_user_add_does(app, admin_api):
    """`POST /api/v1/security/users/` without an e-mail (left out, null, blank) makes a user without an address
    (the marked non-address), as `jxc user add` and the user pages do; an e-mail that is not one address, or is
    another user's, is a 422 naming it, with every other problem of the body at once; a change may clear it."""
    users = "/api/v1/security/users/"
    role = next(r["id"] for r in admin_api.get("/api/v1/security/roles/").get_json()["result"] if r["name"] == "clerk")
    names = [unique("x_api").lower() for _ in range(3)]
    body = {"first_name": "张三", "last_name": "", "password": "Qa2-Clerk-99", "roles": [role], "active": True}
    for name, email in zip(names, ({}, {"email": None}, {"email": "  "}), strict=True):
        made = admin_api.post(users, json=body | {"username": name} | email)
        assert made.status_code == 201, made.get_json()
        assert email_of(app, name) == f"{name}@no-email.invalid"
    bad = admin_api.post(users, json=body | {"username": unique("x_api").lower(), "email": "zhang,san@shop.cn"})
    assert bad.status_code == 422 and bad.get_json()["message"] == {
        "email": ["「zhang,san@shop.cn」不是有效的邮箱地址：请填写一个邮箱（如 zhangsan@example.com），没有邮箱请留空"]
    }
    both = admin_api.post(users, json=body | {"email": "Admin@example.com", "password": "password1"}).get_json()
    assert both["message"]["email"] == ["邮箱「Admin@example.com」已被其他用户使用"], both
    assert "太常见" in "".join(both["message"]["password"]) and both["message"]["username"] == ["必填"], both
    listed = admin_api.get(users, query_string={"q": f"(filters:!((col:username,opr:eq,value:{names[0]})))"})
    (pk,) = listed.get_json()["ids"]
    assert admin_api.put(users + str(pk), json={"email": f"{names[0]}@shop.cn"}).status_code == 200
    assert email_of(app, names[0]) == f"{names[0]}@shop.cn"
    assert admin_api.put(users + str(pk), json={"email": "u_clerk@example.com"}).status_code == 422
    assert admin_api.put(users + str(pk), json={"email": ""}).status_code == 200
    assert email_of(app, names[0]) == f"{names[0]}@no-email.invalid"
    # renamed, a user without an address is marked by the new name: a new user may take the old one
    renamed = names[0] + "r"
    assert admin_api.put(users + str(pk), json={"username": renamed}).status_code == 200
    assert email_of(app, renamed) == f"{renamed}@no-email.invalid"
    assert admin_api.post(users, json=body | {"username": names[0]}).status_code == 201
