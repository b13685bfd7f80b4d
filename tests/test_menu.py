"""The navigation menu is drawn once per set of rights, language and metadata version (app/views/menu.py):
each user still sees exactly the entries their roles grant, in their language."""

from __future__ import annotations

import re

from conftest import PASSWORD, unique

from app.extensions import db
from tests.conftest import another_instance, csrf_from
from tests.ledger_helpers import new_item

ENTRY = re.compile(r'<a tabindex="-1" href="([^"]+)">')


def _menu(client) -> set[str]:
    html = client.get("/grid/unit/").get_data(as_text=True)
    return set(ENTRY.findall(html))


def test_each_role_sees_its_own_menu_whoever_drew_one_first(login_as):
    admin, keeper, admin_again = login_as("admin"), login_as("warehouse"), login_as("admin")
    first = _menu(admin)
    keepers = _menu(keeper)
    payments = {link for link in first if "/m/payment/" in link}
    assert payments and not payments & keepers, payments
    assert keepers < first
    assert _menu(admin_again) == first and _menu(keeper) == keepers


def test_the_menu_follows_the_language(login_as):
    client = login_as("admin")
    assert "待审批" in client.get("/grid/unit/").get_data(as_text=True)
    client.get("/lang/en")  # kept on the user: back to Chinese for the tests after this one
    try:
        page = client.get("/grid/unit/").get_data(as_text=True)
    finally:
        client.get("/lang/zh")
    assert "待审批" not in page and "Approvals" in page


BADGE = re.compile(r'jxc-inbox-badge">(\d+)<')


def _badge(client) -> int:
    """The 待审批 count on the menu of a page that is not the inbox (the inbox page counts its own list)."""
    found = BADGE.findall(client.get("/grid/unit/").get_data(as_text=True))
    return int(found[-1]) if found else 0


def _pending_request(api_as, admin_api) -> dict:
    """A purchase request the clerk made and submitted: it waits for a manager's approval."""
    clerk = api_as("clerk")
    made = clerk.post(
        "/api/v1/purchase_request/",
        json={
            "date": "2026-11-25",
            "warehouse": "WH01",
            "lines": [{"item": new_item(admin_api), "qty": "2", "price": "3"}],
        },
    ).get_json()["result"]
    assert clerk.post(f"/api/v1/purchase_request/{made['id']}/submit").get_json()["result"]["status"] == "pending"
    return made


def test_the_approval_count_follows_a_submit_and_the_readers_own_approval(app, admin_api, api_as, login_as):
    """The menu's count is kept per user and data stamp (app/services/posting/inbox.py, waiting_count): a document
    submitted by someone else counts at the approver's next page, and their own approval at once, in every process
    (a second app on the same database stands for another worker)."""
    with another_instance(app) as other_worker:
        manager, elsewhere = login_as("manager"), login_as("manager", on=other_worker)
        before = _badge(manager)
        assert _badge(manager) == before  # kept: the same as long as nothing was written
        made = _pending_request(api_as, admin_api)
        assert _badge(manager) == before + 1
        assert _badge(elsewhere) == before + 1
        page = manager.get("/inbox/").get_data(as_text=True)
        done = manager.post(f"/inbox/purchase_request/{made['id']}/approve", data={"csrf_token": csrf_from(page)})
        assert done.status_code == 302
        assert _badge(manager) == before  # the reader's own approval: never the count from before it
        assert _badge(elsewhere) == before


def test_the_approval_count_follows_the_readers_roles(app, admin_api, api_as, login_as):
    """A clerk approves no purchase request: no count; made a manager, the count at their next page; a clerk
    again, none. The same count in either language."""
    from app.services.users.accounts import create_user

    username = f"x_{unique('R').lower()}"
    with app.app_context():
        create_user(username, "clerk", PASSWORD)
        sm = app.appbuilder.sm
        user_id = sm.find_user(username=username).id
        clerk_role, manager_role = sm.find_role("clerk").id, sm.find_role("manager").id
        db.session.rollback()
    _pending_request(api_as, admin_api)
    reader = login_as(username)
    assert _badge(reader) == 0
    managers = _badge(login_as("manager"))
    assert managers >= 1

    def roles(role_id: int) -> None:
        answer = admin_api.put(f"/api/v1/security/users/{user_id}", json={"roles": [role_id]})
        assert answer.status_code == 200, answer.get_data(as_text=True)

    roles(manager_role)
    assert _badge(reader) == managers
    reader.get("/lang/en")
    try:
        assert _badge(reader) == managers and "Approvals" in reader.get("/grid/unit/").get_data(as_text=True)
    finally:
        reader.get("/lang/zh")
    roles(clerk_role)
    assert _badge(reader) == 0


def test_pages_between_writes_count_once(app, login_as):
    """On PostgreSQL a page with nothing written since the reader's last page shows the kept count: the documents
    are not looked for again (on SQLite, without a data stamp, each page looks). A commit anywhere on the server
    (another test's database too) makes a new stamp, so the page that looks for nothing is waited for, not
    expected first."""
    from sqlalchemy import event

    manager = login_as("manager")
    shown = _badge(manager)
    looks: list[int] = []

    def seen(conn, cursor, statement, *args) -> None:
        if "UNION ALL" in statement and "status" in statement:
            looks.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for page in range(1, 51):
            looks.clear()
            assert _badge(manager) == shown
            if not looks or engine.dialect.name == "sqlite" and page == 3:
                break
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert looks if engine.dialect.name == "sqlite" else not looks
