"""A copy of a role where approvals.yaml and the settings name roles (app/services/access/rights.py
`stands_for`): a copy of 经理 approves where 经理 approves, through the API and the pages, its inbox lists what waits
for 经理, and the approval names the copy; a copy of 销售员 given the approve permission by hand still passes no 经理
level. A copy is named in Chinese after its original (「老板/经理（副本）」, then 「…（副本2）」) and renamed at will.
Each failed before: the copy of 经理 saw the 审批 button and was refused 这一级需要「老板/经理」审批 with an empty
inbox, and the copy was named 「manager copy」."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, csrf_from, unique
from tests.ledger_helpers import new_item
from tests.test_role_copies import _grant, _role_id, copy_role, delete_role, rename_role, user_of


def _waiting_request(api_as: Any, admin_api: Any, date: str = "2026-11-25") -> int:
    """A purchase request a clerk made and submitted: it waits for 老板/经理 (approvals.yaml, level 1)."""
    clerk = api_as("clerk")
    lines = [{"item": new_item(admin_api), "qty": "2", "price": "3"}]
    made = clerk.post("/api/v1/purchase_request/", json={"date": date, "warehouse": "WH01", "lines": lines})
    assert made.status_code == 201, made.get_json()
    pk = made.get_json()["id"]
    submitted = clerk.post(f"/api/v1/purchase_request/{pk}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["result"]["status"] == "pending"
    return int(pk)


def in_inbox(api: Any) -> set[tuple[str, int]]:
    """The documents in the user's 待审批 as (model, id): an id alone meets other models' waiting documents."""
    return {(row["model"], row["id"]) for row in api.get("/api/v1/inbox/").get_json()["result"]}


def test_a_copy_of_manager_approves_where_manager_approves(
    app: Any, admin_api: Any, api_as: Any, login_as: Any
) -> None:
    """老板/经理 copied and renamed 华东经理: its user's inbox (API and page) lists the requests waiting for
    老板/经理, they approve one through the API and one from its page, and each approval step names 华东经理."""
    copy_role(app, login_as, "manager")
    name = f"华东经理{unique()}"
    rename_role(admin_api, _role_id(app, "老板/经理（副本）"), name)
    try:
        username = user_of(app, name)
        boss = Api(app, username)
        by_api, by_page = _waiting_request(api_as, admin_api), _waiting_request(api_as, admin_api)
        waiting = {(row["model"], row["id"]): row for row in boss.get("/api/v1/inbox/").get_json()["result"]}
        requests = {("purchase_request", by_api), ("purchase_request", by_page)}
        assert requests <= set(waiting) and waiting["purchase_request", by_api]["role"] == "manager"
        browser = login_as(username)
        inbox = browser.get("/inbox/").get_data(as_text=True)
        assert f"/m/purchase_request/{by_page}" in inbox, inbox[-1500:]

        approved = boss.post(f"/api/v1/purchase_request/{by_api}/approve", json={"comment": "同意"})
        assert approved.status_code == 200, approved.get_json()
        assert approved.get_json()["result"]["status"] == "submitted"

        page = browser.get(f"/m/purchase_request/{by_page}").get_data(as_text=True)
        assert 'id="jxc-approve"' in page  # the 审批 button, and it works
        answer = browser.post(
            f"/m/purchase_request/{by_page}/approve", data={"csrf_token": csrf_from(page), "comment": "同意"}
        )
        assert answer.status_code == 302
        shown = browser.get(f"/m/purchase_request/{by_page}").get_data(as_text=True)
        assert "需要「老板/经理」审批" not in shown and f"（{name}）" in shown  # the step names the approver's role
        assert "审批角色" in shown and "approved_as" not in shown  # and the history, in words
        assert boss.get(f"/api/v1/purchase_request/{by_page}").get_json()["result"]["status"] == "submitted"
        assert ("purchase_request", by_page) not in in_inbox(boss)
    finally:
        delete_role(app, name)


def test_a_copy_of_salesperson_granted_approve_by_hand_passes_no_manager_level(
    app: Any, admin_api: Any, api_as: Any, login_as: Any
) -> None:
    """Never more than the original: a copy of 销售员 holding the approve permission (given on its role page) is
    refused a 老板/经理 level with the catalogue's words, and nothing waits in its inbox."""
    copy_role(app, login_as, "salesperson")
    name = f"销售员（副本）{unique()}"
    rename_role(admin_api, _role_id(app, "销售员（副本）"), name)
    try:
        _grant(app, name, "can_approve", "PurchaseRequest")
        _grant(app, name, "can_read", "PurchaseRequest")
        seller = Api(app, user_of(app, name))
        pk = _waiting_request(api_as, admin_api)
        refused = seller.post(f"/api/v1/purchase_request/{pk}/approve", json={})
        assert refused.status_code == 403, refused.get_json()
        assert refused.get_json()["message"] == "这一级需要「老板/经理」审批"
        assert ("purchase_request", pk) not in in_inbox(seller)
        assert admin_api.get(f"/api/v1/purchase_request/{pk}").get_json()["result"]["status"] == "pending"
    finally:
        delete_role(app, name)


# FAB's user form renders its role list in a way WTForms 3 deprecates
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_copy_is_named_in_chinese_and_a_second_copy_is_numbered(app: Any, admin_api: Any, login_as: Any) -> None:
    """「Copy Role」 on 销售员 makes 「销售员（副本）」 (was 「salesperson copy」, shown as
    「salesperson copy（复制自销售员）」), again 「销售员（副本2）」; the label is the copy's name, renamed on its
    role page, and so on the user forms."""
    page = copy_role(app, login_as, "salesperson")
    try:
        assert "销售员（副本）" in page and "salesperson copy" not in page and "（复制自" not in page
        assert '销售员（副本） <small class="text-muted jxc-role-origin">复制自 销售员</small>' in page  # beside
        page = copy_role(app, login_as, "salesperson")
        assert "销售员（副本2）" in page
        renamed = f"华北销售{unique()}"
        rename_role(admin_api, _role_id(app, "销售员（副本2）"), renamed)
        form = login_as("admin").get("/users/add").get_data(as_text=True)
        assert "销售员（副本）" in form and renamed in form and "copy" not in form.split("<body", 1)[-1].lower()
    finally:
        for name in ("销售员（副本）", "销售员（副本2）", locals().get("renamed", "")):
            if name and _role_id(app, name) is not None:
                delete_role(app, name)


def test_a_copy_of_an_override_role_posts_into_a_locked_period(app: Any, admin_api: Any, api_as: Any, login_as: Any):
    """关账越权角色 (period_lock_override_roles) names 老板/经理: a copy of it approves a request dated in the locked
    period, as 老板/经理 would, by the same rule as the approval levels; before it was refused
    「2026-01-31 及以前已关账，不能审核或反审核」."""
    pk = _waiting_request(api_as, admin_api, date="2026-01-15")
    copy_role(app, login_as, "manager")
    name = f"华东经理{unique()}"
    rename_role(admin_api, _role_id(app, "老板/经理（副本）"), name)
    settings = "/api/v1/settings/period_lock_"
    assert admin_api.put(settings + "override_roles", json={"value": ["admin", "manager"]}).status_code == 200
    assert admin_api.put(settings + "date", json={"value": "2026-01-31"}).status_code == 200
    try:
        approved = Api(app, user_of(app, name)).post(f"/api/v1/purchase_request/{pk}/approve", json={})
        assert approved.status_code == 200, approved.get_json()
        assert approved.get_json()["result"]["status"] == "submitted"
    finally:
        assert admin_api.put(settings + "date", json={"value": None}).status_code == 200
        assert admin_api.put(settings + "override_roles", json={"value": ["admin"]}).status_code == 200
        delete_role(app, name)
