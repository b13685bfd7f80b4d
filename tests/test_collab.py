"""Collaboration on both databases: comments with @mentions notify through the notification centre, only
readers of a record reach its comments, attachments and timeline, attachments are checked by content, owners
and followers, and the complaint (客诉) flow from a delivery to closed, with the overdue alert."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.extensions import db, registry
from app.schedules.notify import notify
from tests.conftest import PASSWORD, Api, unique, writing
from tests.ledger_helpers import document, new_item
from tests.test_grid_api import save
from tests.test_reports import follow

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode"
)


@pytest.fixture(scope="module")
def other_salesperson(app: Any, api_as: Any) -> Api:
    """A second salesperson: same role, other customers and documents (row scope)."""
    with app.app_context():
        from app.services.users.accounts import create_user

        if app.appbuilder.sm.find_user(username="x_sales2") is None:
            create_user("x_sales2", "salesperson", PASSWORD)
    return api_as("x_sales2")


@pytest.fixture(scope="module")
def delivery(api_as: Any) -> dict[str, Any]:
    """A draft delivery of u_salesperson to K001 (their customer)."""
    sku = new_item(api_as("admin"))
    return document(
        api_as("salesperson"), "sales_delivery", [{"item": sku, "qty": "2", "price": "10"}], warehouse="WH01"
    )


def note_user(app: Any, username: str) -> int:
    with app.app_context():
        return int(app.appbuilder.sm.find_user(username=username).id)


def notifications(api: Api) -> list[dict[str, Any]]:
    response = api.get("/api/v1/notifications/")
    assert response.status_code == 200
    return response.get_json()["result"]


def upload(api: Api, url: str, name: str, data: bytes) -> Any:
    """POST one file as multipart, the body built here (Werkzeug's builder spools big ones to a temp file)."""
    boundary = "jxc-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return api.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_comment_mentions_notify_readers_only(api_as, delivery):
    sales, manager, purchaser = api_as("salesperson"), api_as("manager"), api_as("purchaser")
    url = f"/api/v1/collab/sales_delivery/{delivery['id']}/comments"
    before = len(notifications(purchaser))
    body = "请 @u_manager 确认交期，@u_purchaser 看一下。@nobody_here"
    made = sales.post(url, json={"body": body})
    assert made.status_code == 201, made.get_json()
    result = made.get_json()["result"]
    assert result["mentions"] == ["u_manager"]
    assert result["not_notified"] == ["u_purchaser", "nobody_here"]  # purchaser may not read sales documents
    mine = [n for n in notifications(manager) if n["kind"] == "mention"]
    assert mine and mine[0]["link"] == f"/m/sales_delivery/{delivery['id']}"
    assert delivery["number"] in mine[0]["text"] and "u_salesperson" in mine[0]["text"]
    assert len(notifications(purchaser)) == before
    listed = manager.get(url).get_json()["result"]
    assert listed[-1]["body"] == body and listed[-1]["user"] == "u_salesperson"
    assert sales.post(url, json={"body": "   "}).status_code == 422


def test_who_may_not_read_the_record_reaches_nothing(api_as, delivery, other_salesperson):
    sales, purchaser = api_as("salesperson"), api_as("purchaser")
    base = f"/api/v1/collab/sales_delivery/{delivery['id']}"
    stored = upload(sales, f"{base}/attachments", "照片.png", PNG)
    assert stored.status_code == 201, stored.get_json()
    download = stored.get_json()["result"]["url"]
    for api, status in ((purchaser, 403), (other_salesperson, 404)):  # no read on the model / out of scope
        for path in ("/comments", "/attachments", "/timeline", "/cursor"):
            assert api.get(base + path).status_code == status, (api.username, path)
        assert api.post(base + "/comments", json={"body": "hi"}).status_code == status
        assert upload(api, f"{base}/attachments", "x.png", PNG).status_code == status
        assert api.get(download).status_code == status
    got = api_as("manager").get(download)
    assert got.status_code == 200 and got.data == PNG
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_attachments_are_checked_by_content(app, api_as, delivery, admin_api):
    sales = api_as("salesperson")
    url = f"/api/v1/collab/sales_delivery/{delivery['id']}/attachments"
    refused = upload(sales, url, "invoice.pdf", EXE)
    assert refused.status_code == 422
    assert "不是图片或 PDF" in refused.get_json()["errors"][0]["message"]
    assert upload(sales, url, "scan.pdf.png", PDF).status_code == 422  # the name must fit the content
    unnamed = upload(sales, url, "", PDF)  # a pasted file without a name: named by its content
    assert unnamed.status_code == 201 and unnamed.get_json()["result"]["filename"] == "file.pdf", unnamed.get_json()
    made = upload(sales, url, "发票.pdf", PDF)
    assert made.status_code == 201
    assert made.get_json()["result"]["content_type"] == "application/pdf"
    assert "stored" not in made.get_json()["result"]
    names = [a["filename"] for a in sales.get(url).get_json()["result"]]
    assert "发票.pdf" in names and "invoice.pdf" not in names
    folder = app.config["INSTANCE_PATH"] + "/files/attachments"
    import os

    assert oct(os.stat(folder).st_mode & 0o777) == "0o700"
    assert admin_api.put("/api/v1/settings/attachment_max_mb", json={"value": 1}).status_code == 200
    try:
        too_big = upload(sales, url, "big.pdf", PDF + b"0" * (1024 * 1024))
        assert too_big.status_code == 422 and "1 MB" in too_big.get_json()["errors"][0]["message"]
    finally:
        admin_api.put("/api/v1/settings/attachment_max_mb", json={"value": 10})


def test_timeline_merges_comments_attachments_and_masked_history(api_as, delivery):
    sales, warehouse = api_as("salesperson"), api_as("warehouse")  # WH01 deliveries, no sale figures
    base = f"/api/v1/collab/sales_delivery/{delivery['id']}"
    # its own comment and attachment: the tests of this module may run on other workers (pytest-xdist)
    assert sales.post(f"{base}/comments", json={"body": "时间线"}).status_code == 201
    assert upload(sales, f"{base}/attachments", "时间线.png", PNG).status_code == 201
    entries = warehouse.get(f"{base}/timeline").get_json()["result"]
    kinds = {e["kind"] for e in entries}
    assert {"comment", "attachment", "change"} <= kinds
    created = next(e for e in entries if e["kind"] == "change" and e["action"] == "create")
    history = warehouse.get(f"/api/v1/sales_delivery/{delivery['id']}/history").get_json()["result"]
    assert created["after"] == next(h for h in history if h["action"] == "create")["after"]
    assert "total_amount" not in created["after"]  # masked as the history endpoint masks it
    assert all(e["at"] >= f["at"] for e, f in zip(entries, entries[1:], strict=False))


def test_owner_and_followers(api_as, delivery):
    sales, manager = api_as("salesperson"), api_as("manager")
    base = f"/api/v1/collab/sales_delivery/{delivery['id']}"
    assigned = manager.put(f"{base}/owner", json={"owner": "u_salesperson"})
    assert assigned.status_code == 200 and assigned.get_json()["result"]["owner"] == "u_salesperson"
    assert any(n["kind"] == "assigned" and n["link"].endswith(f"/{delivery['id']}") for n in notifications(sales))
    assert manager.put(f"{base}/owner", json={"owner": "u_purchaser"}).status_code == 422  # may not read it
    assert manager.post(f"{base}/follow").get_json()["result"]["following"] is True
    mine = sales.get("/api/v1/collab/mine/assigned").get_json()["result"]
    assert any(r["model"] == "sales_delivery" and r["id"] == delivery["id"] for r in mine)
    assert any(r["model"] == "partner" for r in mine)  # K001's owner field
    following = manager.get("/api/v1/collab/mine/following").get_json()["result"]
    assert [r["id"] for r in following if r["model"] == "sales_delivery"] == [delivery["id"]]
    sales.post(f"{base}/comments", json={"body": "已发货"})
    assert any(n["kind"] == "comment" for n in notifications(manager))  # a follower hears of comments
    assert manager.delete(f"{base}/follow").get_json()["result"]["following"] is False


def test_complaint_from_delivery_to_closed(api_as, delivery):
    clerk, sales = api_as("clerk"), api_as("salesperson")
    opened = clerk.post(
        f"/api/v1/complaints/from_delivery/{delivery['id']}",
        json={"summary": "包装破损", "type": "damage", "severity": "high", "description": "两箱外包装压坏"},
    )
    assert opened.status_code == 201, opened.get_json()
    body = opened.get_json()
    complaint, pk = body["result"], body["id"]
    assert complaint["partner"]["key"] == "K001" and complaint["delivery"]["key"] == delivery["number"]
    assert complaint["item"]["key"] == delivery["lines"][0]["item"]["key"]
    assert complaint["status"] == "open" and complaint["number"].startswith("KS")
    opened_on = dt.date.fromisoformat(complaint["date"])
    assert complaint["due_date"] == (opened_on + dt.timedelta(days=3)).isoformat()  # high: 3 days
    assert body["steps"] == ["start", "resolve"]
    assert clerk.put(f"/api/v1/collab/complaint/{pk}/owner", json={"owner": "u_salesperson"}).status_code == 200
    assert any(n["kind"] == "assigned" and n["link"] == f"/m/complaint/{pk}" for n in notifications(sales))
    assert sales.post(f"/api/v1/complaints/{pk}/close").status_code == 403  # no close action
    assert sales.post(f"/api/v1/complaints/{pk}/start").get_json()["result"]["status"] == "in_progress"
    assert sales.post(f"/api/v1/complaints/{pk}/start").status_code == 409
    assert sales.post(f"/api/v1/complaints/{pk}/resolve", json={}).status_code == 422  # no resolution
    resolved = sales.post(f"/api/v1/complaints/{pk}/resolve", json={"resolution": "补发两箱", "credit_amount": "50"})
    assert resolved.status_code == 200, resolved.get_json()
    assert resolved.get_json()["result"]["credit_amount"] == "50.00"
    closed = clerk.post(f"/api/v1/complaints/{pk}/close")
    assert closed.status_code == 200 and closed.get_json()["result"]["status"] == "closed"
    assert closed.get_json()["result"]["closed_at"]
    assert clerk.put(f"/api/v1/complaint/{pk}", json={"summary": "改"}).status_code == 422  # closed
    steps = [
        e["action"]
        for e in sales.get(f"/api/v1/collab/complaint/{pk}/timeline").get_json()["result"]
        if e["kind"] == "approval"
    ]
    assert steps == ["close", "resolve", "start"]
    partner_id = complaint["partner"]["id"]
    listed = sales.get(f"/api/v1/complaints/of_partner/{partner_id}").get_json()["result"]
    assert pk in [c["id"] for c in listed]
    report = clerk.get("/api/v1/reports/complaints?by=type").get_json()
    damage = next(r for r in report["rows"] if r["group"] == "运输破损")  # the type's label, not its value
    assert int(damage["count"]) >= 1 and "type=damage" in damage["_drill"]
    listed = follow(clerk, damage["_drill"])  # the complaints behind the row, each opening its complaint
    (mine,) = [r for r in listed["rows"] if r["number"] == complaint["number"]]
    assert (mine["type"], mine["severity"], mine["status"], mine["credit"]) == ("运输破损", "高", "已关闭", "50.00")
    assert mine["_drill"] == f"/m/complaint/?search={complaint['number']}"
    assert {r["type"] for r in listed["rows"]} == {"运输破损"}
    assert api_as("purchaser").get(f"/api/v1/complaints/of_partner/{partner_id}").status_code in (403, 404)


def test_overdue_complaints_notify_their_owner(app, api_as):
    clerk, sales = api_as("clerk"), api_as("salesperson")
    past = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    made = clerk.post(
        "/api/v1/complaint/",
        json={
            "summary": "迟迟未回复",
            "partner": "K001",
            "type": "service",
            "severity": "critical",
            "date": past,
            "owner": "u_salesperson",
        },
    )
    assert made.status_code == 201, made.get_json()
    pk = made.get_json()["id"]
    from app.collab.complaints import notify_overdue

    with app.app_context():
        rung = notify_overdue(db.session, registry())
        db.session.commit()
        again = notify_overdue(db.session, registry())
        db.session.commit()
    assert rung >= 1 and again == 0  # once while unread
    overdue = [n for n in notifications(sales) if n["kind"] == "complaint_overdue"]
    assert any(n["link"] == f"/m/complaint/{pk}" for n in overdue)


def test_record_pages_carry_the_panel(login_as, delivery, api_as):
    client = login_as("salesperson")
    page = client.get(f"/m/sales_delivery/{delivery['id']}").get_data(as_text=True)
    assert 'id="jxc-collab"' in page and "jxc-new-complaint-form" in page and "collab.js" in page
    partner_id = api_as("salesperson").get("/api/v1/partner/?q=(filters:!((col:code,opr:eq,value:K001)))").get_json()
    pid = partner_id["ids"][0]
    assert "jxc-partner-complaints" in client.get(f"/m/partner/{pid}").get_data(as_text=True)
    assert login_as("purchaser").get(f"/m/sales_delivery/{delivery['id']}").status_code in (403, 302)


def test_my_records_page(login_as, delivery, api_as):
    api_as("manager").post(f"/api/v1/collab/sales_delivery/{delivery['id']}/follow")
    page = login_as("manager").get("/collab/mine").get_data(as_text=True)
    assert f'data-model="sales_delivery" data-id="{delivery["id"]}"' in page.split('id="jxc-mine-following"')[1]
    assert 'href="/collab/mine"' in page  # in the menu


def test_a_new_owner_hears_of_it_whichever_way_the_owner_field_was_written(api_as, admin_api):
    """The 负责人 of a complaint or a customer is a field: a form or REST write, a grid batch and the 指派 button
    all write it through RecordService, and its new owner's bell rings once, as the change commits."""
    clerk, sales = api_as("clerk"), api_as("salesperson")

    def rung(link: str) -> list[dict[str, Any]]:
        return [n for n in notifications(sales) if n["kind"] == "assigned" and n["link"] == link]

    made = clerk.post(
        "/api/v1/complaint/",
        json={"summary": unique("换人"), "partner": "K001", "type": "service", "severity": "low"},
    )
    assert made.status_code == 201, made.get_json()
    pk = made.get_json()["id"]
    link = f"/m/complaint/{pk}"
    assert rung(link) == []
    assert clerk.put(f"/api/v1/complaint/{pk}", json={"owner": "u_salesperson"}).status_code == 200
    (first,) = rung(link)
    assert "u_clerk" in first["text"] and made.get_json()["result"]["number"] in first["text"]
    assert clerk.put(f"/api/v1/complaint/{pk}", json={"summary": unique("改")}).status_code == 200
    assert len(rung(link)) == 1  # a change of something else is no new assignment
    # a customer's owner set in the grid; a batch refused as a whole rings nobody
    code = unique("OW")
    partner = admin_api.post("/api/v1/partner/", json={"code": code, "name": f"负责人 {code}", "kind": "customer"})
    partner_id = partner.get_json()["id"]
    refused = save(
        admin_api,
        [
            {"op": "update", "id": partner_id, "values": {"owner": "u_salesperson"}},
            {"op": "update", "id": partner_id, "values": {"credit_limit": "-1"}},
        ],
        url="/api/v1/grid/partner/batch",
    )
    assert refused.status_code == 422
    assert rung(f"/m/partner/{partner_id}") == []
    ops = [{"op": "update", "id": partner_id, "values": {"owner": "u_salesperson"}}]
    assert save(admin_api, ops, url="/api/v1/grid/partner/batch").status_code == 200
    assert len(rung(f"/m/partner/{partner_id}")) == 1
    # the 指派 button rings once too (RecordService notes it, nothing else rings)
    assert clerk.put(f"/api/v1/collab/complaint/{pk}/owner", json={"owner": "u_clerk"}).status_code == 200
    assert clerk.put(f"/api/v1/collab/complaint/{pk}/owner", json={"owner": "u_salesperson"}).status_code == 200
    assert len(rung(link)) == 2


def said_about(app: Any, model_key: str, pk: int) -> list[str]:
    """The comments, attachments and watchers kept for (model, record id), as the tables hold them."""
    from sqlalchemy import select

    from app.collab.tables import attachment, comment, watcher

    with app.app_context():
        found = [
            f"{table.name}:{row.id}"
            for table in (comment, attachment, watcher)
            for row in db.session.execute(select(table.c.id).where(table.c.model == model_key, table.c.record_id == pk))
        ]
        db.session.remove()
    return found


def test_what_was_said_about_a_deleted_record_goes_with_it(app, api_as, admin_api):
    """SQLite gives a deleted last row's id to the next row: its comments, files and followers must not pass to
    whoever's record gets the id next (a draft deleted through REST, an item through a grid batch)."""
    sales, manager = api_as("salesperson"), api_as("manager")
    sku = new_item(admin_api)
    gone = document(sales, "sales_delivery", [{"item": sku, "qty": "1", "price": "10"}], warehouse="WH01")
    base = f"/api/v1/collab/sales_delivery/{gone['id']}"
    assert sales.post(f"{base}/comments", json={"body": "内部：客户要求返点 3%"}).status_code == 201
    assert upload(sales, f"{base}/attachments", "返点.pdf", PDF).status_code == 201
    assert manager.post(f"{base}/follow").status_code == 200
    folder = app.config["INSTANCE_PATH"] + "/files/attachments"
    import os

    files = set(os.listdir(folder))
    assert sales.delete(f"/api/v1/sales_delivery/{gone['id']}").status_code == 200
    assert said_about(app, "sales_delivery", gone["id"]) == []
    assert len(set(os.listdir(folder))) == len(files) - 1  # its file is gone too
    after = document(admin_api, "sales_delivery", [{"item": sku, "qty": "1", "price": "10"}], warehouse="WH01")
    timeline = admin_api.get(f"/api/v1/collab/sales_delivery/{after['id']}/timeline").get_json()["result"]
    assert [e["kind"] for e in timeline] == ["change"]  # its own creation only, whatever id it got

    item_id = admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{sku})))").get_json()["ids"][0]
    assert admin_api.post(f"/api/v1/collab/item/{item_id}/comments", json={"body": "停产"}).status_code == 201
    unused = new_item(admin_api)
    unused_id = admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{unused})))").get_json()["ids"][0]
    assert admin_api.post(f"/api/v1/collab/item/{unused_id}/comments", json={"body": "不再采购"}).status_code == 201
    deleted = save(admin_api, [{"op": "delete", "id": unused_id}], url="/api/v1/grid/item/batch")
    assert deleted.status_code == 200, deleted.get_json()
    assert said_about(app, "item", unused_id) == [] and said_about(app, "item", item_id) != []


def test_a_mention_about_a_deleted_record_stays_marked_and_leads_nowhere(app, api_as, admin_api, login_as):
    """A mention's notification about a draft deleted afterwards opened the draft that took its id (SQLite gives a
    deleted last row's id to the next); then it was deleted with the record, and its reader lost the trace. Now it
    stays, says what it was about (model, id) and that the record is deleted (记录已删除), gives no link and opens
    nothing; the next record's own notifications, whatever id it got, are not marked."""
    sales, manager = api_as("salesperson"), api_as("manager")
    sku = new_item(admin_api)
    gone = document(sales, "sales_delivery", [{"item": sku, "qty": "1", "price": "10"}], warehouse="WH01")
    link = f"/m/sales_delivery/{gone['id']}"
    said = sales.post(f"/api/v1/collab/sales_delivery/{gone['id']}/comments", json={"body": "@u_manager 请看价格"})
    assert said.status_code == 201 and said.get_json()["result"]["mentions"] == ["u_manager"]
    (note,) = [n for n in notifications(manager) if n["kind"] == "mention" and n["link"] == link]
    manager_id, key = note_user(app, "u_manager"), f"approval:sales_delivery:{gone['id']}:1"
    alert = "销售出库单 … 待您审批"
    with app.app_context(), writing():  # an alert about it too, unread when it is deleted
        assert notify(db.session, manager_id, "alert", alert, link, dedupe=key) is not None
        db.session.commit()
    assert sales.delete(f"/api/v1/sales_delivery/{gone['id']}").status_code == 200
    after = document(admin_api, "sales_delivery", [{"item": sku, "qty": "5", "price": "99"}], warehouse="WH01")
    said = admin_api.post(f"/api/v1/collab/sales_delivery/{after['id']}/comments", json={"body": "@u_manager 新单"})
    assert said.status_code == 201
    kept = {n["id"]: n for n in notifications(manager)}
    assert note["id"] in kept and kept[note["id"]]["text"] == note["text"]  # the trace stays
    assert (kept[note["id"]]["model"], kept[note["id"]]["record_id"]) == ("sales_delivery", gone["id"])
    assert (kept[note["id"]]["record_deleted"], kept[note["id"]]["link"]) == (True, None)
    newer = [n for n in kept.values() if n["id"] > note["id"] and n["kind"] == "mention"]
    assert [(n["record_id"], n["record_deleted"], n["link"]) for n in newer] == [
        (after["id"], False, f"/m/sales_delivery/{after['id']}")
    ]
    with app.app_context(), writing():  # the alert about the deleted one (unread) holds back none about the id now
        assert notify(db.session, manager_id, "alert", alert, link, dedupe=key) is not None
        assert notify(db.session, manager_id, "alert", alert, link, dedupe=key) is None  # the new one, unread
        db.session.rollback()
    page = login_as("manager")
    opened = page.get(f"/notifications/{note['id']}/open")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/notifications/")
    listed = page.get("/notifications/").get_data(as_text=True)
    row = listed.split(f'data-id="{note["id"]}"')[1].split("</tr>")[0]
    assert "jxc-record-deleted" in row.split(">")[0] and "记录已删除" in row
    assert "/open" not in row and note["text"] in row


def test_the_upgrade_finds_the_record_each_earlier_notification_is_about(app):
    """Notifications rung before they kept their record (0017) get it from their link on upgrade, so a record
    deleted afterwards marks them too; a link that is no record's page (an alert's list) keeps none."""
    import importlib.util
    from pathlib import Path

    from sqlalchemy import insert, select

    from app.clock import utcnow
    from app.schedules.tables import notification

    path = Path(__file__).resolve().parent.parent / "app" / "migrations" / "versions" / "0017_notification_record.py"
    spec = importlib.util.spec_from_file_location("notification_record", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    links = ("/m/purchase_order/41", "/m/budget/", "/reorder/", "/m/item/7?tab=stock", None)
    old = {"user_id": 1, "kind": "alert", "text": "采购订单 CG… 待您审批"}
    with app.app_context(), writing():
        with db.engine.begin() as conn:  # as earlier versions rang them: the columns added by the upgrade empty
            ids = [
                conn.execute(insert(notification).values(**old, link=link, created_at=utcnow())).inserted_primary_key[0]
                for link in links
            ]
            migration.fill_records(conn)
        got = notification.c
        found = db.session.execute(
            select(got.link, got.model, got.record_id, got.record_deleted_at).where(got.id.in_(ids)).order_by(got.id)
        ).all()
        db.session.remove()
    assert [tuple(row) for row in found] == [
        ("/m/purchase_order/41", "purchase_order", 41, None),
        ("/m/budget/", None, None, None),
        ("/reorder/", None, None, None),
        ("/m/item/7?tab=stock", None, None, None),
        (None, None, None, None),
    ]


def test_a_file_written_for_a_request_that_fails_is_not_kept(app, admin_api):
    """An attachment's file is written before its row: a failure after the write (here its transaction's commit)
    rolled the row back and left the file on disk, named by nothing. Now the file goes with the rollback; a commit
    keeps it."""
    import os

    from sqlalchemy import event, select
    from sqlalchemy.orm import Session

    from app.collab.attachments import add_attachment, attachments_root
    from app.collab.records import access_of
    from app.collab.tables import attachment

    sku = new_item(admin_api)
    item_id = admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{sku})))").get_json()["ids"][0]
    url = f"/api/v1/collab/item/{item_id}/attachments"
    with app.app_context():
        folder = attachments_root()
    before = set(os.listdir(folder))

    def fail(session: Session) -> None:
        raise RuntimeError("the commit fails after the file was written")

    event.listen(Session, "before_commit", fail)
    try:
        failed = upload(admin_api, url, "送货单.png", PNG)
    finally:
        event.remove(Session, "before_commit", fail)
    assert failed.status_code == 500
    assert set(os.listdir(folder)) == before
    assert admin_api.get(url).get_json()["result"] == []

    with app.app_context():  # the service itself: rolled back, nothing is kept; committed, the file stays
        admin = app.appbuilder.sm.find_user(username="admin")
        add_attachment(db.session, access_of(admin), "item", item_id, "a.png", PNG)
        assert len(set(os.listdir(folder)) - before) == 1
        db.session.rollback()
        assert set(os.listdir(folder)) == before
        made = add_attachment(db.session, access_of(admin), "item", item_id, "b.png", PNG)
        db.session.commit()
        stored = db.session.execute(select(attachment.c.stored).where(attachment.c.id == made["id"])).scalar_one()
        assert set(os.listdir(folder)) - before == {stored}
        db.session.remove()
