"""User fields (销售员, 采购员, a partner's owner) offer users as link fields offer rows (both databases): found by
user name or name, shown by name, only those the writer may name there (a salesperson: themselves), and nothing
to who may not write the field; the form, the grid and `_info` point at the same lookup."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import update

from app.extensions import db
from app.services.users.accounts import create_user
from tests.conftest import PASSWORD, unique, writing

LOOKUP = "/api/v1/grid/user_lookup"


def make_people(app: Any) -> tuple[str, str]:
    """(a salesperson called 张三丰, an inactive clerk called 张三丰二): users no role may be shown by accident."""
    active, gone = unique("x_zs").lower(), unique("x_zg").lower()
    with app.app_context(), writing():
        create_user(active, "salesperson", PASSWORD, name="张三丰")
        create_user(gone, "clerk", PASSWORD, name="张三丰二")
        db.session.execute(update(User).where(User.username == gone).values(active=False))
        db.session.commit()
        db.session.remove()
    return active, gone


def offered(client: Any, purpose: str, text: str) -> list[dict[str, Any]]:
    answer = client.get(LOOKUP, query_string={"for": purpose, "q": text})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["results"]


def test_a_user_field_offers_the_users_its_writer_may_name(app, api_as):
    name, inactive = make_people(app)
    clerk, salesperson = api_as("clerk"), api_as("salesperson")
    by_name = offered(clerk, "sales_order.salesperson", "张三丰")
    assert [(r["key"], r["name"]) for r in by_name] == [(name, "张三丰")]  # shown by name; the inactive one not
    assert [r["key"] for r in offered(clerk, "sales_order.salesperson", name[2:].upper())] == [name]
    assert inactive not in {r["key"] for r in offered(api_as("admin"), "purchase_order.purchaser", "张三")}
    # a salesperson names only themselves on an order and as a customer's owner: nobody else is offered
    for purpose in ("sales_order.salesperson", "partner.owner"):
        assert offered(salesperson, purpose, "张三丰") == []
        assert [r["key"] for r in offered(salesperson, purpose, "")] == ["u_salesperson"]
        assert [r["key"] for r in offered(salesperson, purpose, "u_")] == ["u_salesperson"]
    # who may not write the field learns nobody's name from it; no such user field is 404
    keeper = api_as("warehouse")
    assert keeper.get(LOOKUP, query_string={"for": "sales_order.salesperson", "q": "u"}).status_code == 403
    assert api_as("purchaser").get(LOOKUP, query_string={"for": "sales_order.salesperson"}).status_code == 403
    assert clerk.get(LOOKUP, query_string={"for": "sales_order.partner", "q": "K"}).status_code == 404
    assert clerk.get(LOOKUP, query_string={"for": "nothing.here", "q": "u"}).status_code == 404
    assert clerk.get(LOOKUP, query_string={"q": "u"}).status_code == 404


def test_the_form_the_grid_and_info_point_a_user_field_at_its_lookup(app, api_as, login_as):
    fields = {f["name"]: f for f in api_as("clerk").get("/api/v1/sales_order/_info").get_json()["fields"]}
    assert fields["salesperson"]["lookup"] == f"{LOOKUP}?for=sales_order.salesperson"
    assert fields["partner"]["lookup"] == "/api/v1/grid/lookup/partner?for=sales_order.partner"
    form = login_as("clerk").get("/m/sales_order/new").get_data(as_text=True)
    (salesperson,) = re.findall(r'<input[^>]*name="salesperson"[^>]*>', form)
    assert f'data-lookup="{LOOKUP}"' in salesperson and 'data-link=""' not in salesperson, salesperson
    assert 'placeholder="用户名或姓名"' in salesperson
    grid = login_as("clerk").get("/grid/sales_order/").get_data(as_text=True)
    config = json.loads(html.unescape(re.search(r'id="jxc-grid" data-config="([^"]*)"', grid).group(1)))
    columns = {c["field"]: c for c in config["columns"]}
    assert (columns["salesperson"]["editor"], columns["salesperson"]["lookup"]) == ("link", LOOKUP)
    assert columns["partner"]["lookup"] == "/api/v1/grid/lookup/partner"
