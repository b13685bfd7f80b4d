"""An import's check (检查文件) stops nobody: while it runs, another user's grid save, API save and posting of the
same item go through at once (on SQLite the check writes a copy of the database; on PostgreSQL its postings lock no
balance row), and the check still finds every error the import finds, on its cells."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import unique
from tests.ledger_helpers import balance, document, new_item, new_partner, post, receive
from tests.test_grid_api import save
from tests.test_imports import finished, stored, upload, workbook

AT_ONCE = 5.0  # seconds another user's write may take while a check runs (main: the busy timeout, 30 s)


@pytest.fixture
def in_process(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app with jobs on its in-process pool."""
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    return app


def timed(work: Callable[[], Any]) -> tuple[Any, float | None]:
    """`work` in a thread of its own: its answer and seconds, or (None, None) when it had not ended in AT_ONCE."""
    box: dict[str, Any] = {}

    def go() -> None:
        start = time.monotonic()
        box["answer"] = work()
        box["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    thread.join(AT_ONCE)
    return box.get("answer"), box.get("seconds")


@pytest.fixture
def while_checking(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[], Any]], list[tuple[Any, float | None]]]:
    """Run `work` once while the next check job is under way: at its first progress, which it reports after the
    rows are written, in the check's open transaction. Returns the list `timed` appends its outcome to."""
    from app.jobs.context import JobContext

    def arm(work: Callable[[], Any]) -> list[tuple[Any, float | None]]:
        seen: list[tuple[Any, float | None]] = []
        original = JobContext.progress

        def progress(self: Any, done: int, total: int | None = None) -> None:
            if not seen:
                seen.append(timed(work))
            original(self, done, total)

        monkeypatch.setattr(JobContext, "progress", progress)
        return seen

    return arm


def checked(api: Any, model: str, data: bytes, **form: Any) -> dict[str, Any]:
    response = api.post(
        "/api/v1/imports/check",
        data={"model": model, "file": (io.BytesIO(data), "checked.xlsx"), **form},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    job = finished(api, response.get_json()["job_id"], timeout=60)
    assert job["status"] == "done" and job["kind"] == "import_check", job
    return job


def issues(job: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(i["row"], i["column"], i["message"]) for i in job["result"]["issues"]]


def an_item(api: Any) -> tuple[str, int]:
    """A new item's (sku, id)."""
    sku = unique("L")
    response = api.post("/api/v1/item/", json={"sku": sku, "name": f"检查测试 {sku}", "unit": "PCS"})
    assert response.status_code == 201, response.get_json()
    return sku, response.get_json()["id"]


def test_others_save_at_once_while_a_check_runs_and_it_finds_every_error(in_process, admin_api, api_as, while_checking):
    """A grid save and an API save by another user during a check end at once (on SQLite a check held the one
    writer's lock, and they failed after the busy timeout); the check names a cell the file gets wrong, a code the
    database already holds and, for prices, a row only a row created earlier in the same file refuses."""
    taken = new_item(admin_api)
    edited, pk = an_item(admin_api)
    tag = unique("LK")
    data = workbook(
        [
            ["sku", "name", "unit"],
            [f"{tag}-1", "好", "PCS"],
            [taken, "已有的编码", "PCS"],  # row 3: the database holds this code
            [f"{tag}-2", "单位不对", "没有"],  # row 4: no such unit
            [f"{tag}-1", "又一次", "PCS"],  # row 5: row 2's code again
        ]
    )

    def saves() -> list[int]:
        clerk = api_as("clerk")
        grid = save(clerk, [{"op": "update", "id": pk, "values": {"name": f"网格改 {tag}"}}])
        api = clerk.put(f"/api/v1/item/{pk}", json={"remark": f"接口改 {tag}"})
        return [grid.status_code, api.status_code]

    seen = while_checking(saves)
    job = checked(admin_api, "item", data)
    assert len(seen) == 1
    answer, seconds = seen[0]
    assert answer == [200, 200] and seconds is not None and seconds < AT_ONCE, seen
    found = issues(job)
    assert [(row, column) for row, column, _ in found] == [(3, "sku"), (4, "unit"), (5, "sku")], found
    assert taken in found[0][2] and found[1][2] == "找不到「没有」" and "第 2 行" in found[2][2], found
    assert job["counts"]["created"] == 1 and not job["result"]["applied"]
    saved = stored(in_process, "item", "sku", edited)
    assert saved is not None and saved["name"] == f"网格改 {tag}" and saved["remark"] == f"接口改 {tag}"
    assert stored(in_process, "item", "sku", f"{tag}-1") is None  # nothing of the check stays

    # a price that only the price created by an earlier row of the same file refuses (back-dated against it)
    sku = new_item(admin_api)
    prices = workbook(
        [
            ["商品", "价格类型", "单价", "生效日期", "备注"],
            [sku, "零售价", "3", "2027-03-01", tag],
            [sku, "零售价", "2", "2027-02-01", tag],  # row 3: before row 2's, which the file itself creates
        ]
    )
    seen = while_checking(saves)
    job = checked(admin_api, "item_price", prices)
    answer, seconds = seen[0]
    assert answer == [200, 200] and seconds is not None and seconds < AT_ONCE, seen
    assert [(row, column) for row, column, _ in issues(job)] == [(3, "生效日期")], issues(job)
    assert issues(job)[0][2].startswith("不能倒签价格"), issues(job)


def test_a_posting_of_an_item_does_not_wait_for_a_check_posting_it(in_process, admin_api, api_as, while_checking):
    """A check of deliveries with 过账 (`post`) posts them as the import would, so the second delivery, beyond what the
    first leaves, is refused on its cell; meanwhile another user's delivery of the same item posts at once (on
    PostgreSQL the check locked the item's balance row until it ended)."""
    sku = new_item(admin_api)
    receive(admin_api, sku, "5", "2")
    customer, _ = new_partner(admin_api, "customer", credit_limit="100000")  # its credit is checked (and was locked)
    first, second = unique("F"), unique("G")
    data = workbook(
        [
            ["单据编号", "单据日期", "客户", "出库仓库", "商品", "出库数量", "单价"],
            [first, "2026-11-26", customer, "WH01", sku, "3", "4"],
            [second, "2026-11-26", customer, "WH01", sku, "3", "4"],  # row 3: 2 left after row 2's delivery
        ]
    )
    other = api_as("manager")
    lines = [{"item": sku, "qty": "1", "price": "4"}]
    draft = document(admin_api, "sales_delivery", lines, warehouse="WH01", partner=customer)
    seen = while_checking(lambda: other.post(f"/api/v1/sales_delivery/{draft['id']}/submit").status_code)
    job = checked(admin_api, "sales_delivery", data, post="1")
    answer, seconds = seen[0]
    assert answer == 200 and seconds is not None and seconds < AT_ONCE, seen
    found = issues(job)
    assert [(row, column) for row, column, _ in found] == [(3, "出库数量")], found
    assert "库存不足" in found[0][2] and job["counts"]["created"] == 1, found
    assert balance(in_process, sku)[0] == 4  # the other delivery only: nothing of the check stays

    # the import finds what the check finds (now 1 is left for the second delivery)
    again = issues(checked(admin_api, "sales_delivery", data, post="1"))
    imported = finished(admin_api, upload(admin_api, "sales_delivery", data, "d.xlsx", post="1").get_json()["job_id"])
    assert imported["status"] == "failed" and issues(imported) == again and "可用 1，需要 3" in again[0][2], again


def test_a_check_leaves_no_copy_behind(in_process, admin_api):
    """On SQLite the copy a check ran against is gone when it ends, and so is one a killed check left (its process
    gone: it stayed 4 hours, a database's size of disk meanwhile); a running check's copy stays."""
    import os
    import subprocess

    from app.instance_files import private_folder

    child = subprocess.Popen(["true"])  # noqa: S607 - a process gone once waited for: its id names none
    child.wait()
    with in_process.app_context():
        folder = private_folder("checks")
    killed, running = folder / f"check-{child.pid}-killed.db", folder / f"check-{os.getpid()}-running.db"
    for path in (killed, running):
        path.write_bytes(b"")
    checked(admin_api, "item", workbook([["sku", "name", "unit"], [unique("CP"), "好", "PCS"]]))
    left = sorted(path.name for path in folder.iterdir())
    for path in (killed, running):
        path.unlink(missing_ok=True)
    copies = in_process.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")  # PostgreSQL: no copy, no sweep
    assert left == ([running.name] if copies else sorted([killed.name, running.name])), left


def test_a_check_posts_each_document_after_what_the_files_earlier_ones_posted(in_process, admin_api):
    """The check values each document of a file from what its earlier documents left, as the import does: a receipt
    dated before an earlier receipt of the same new stock (FIFO, no balance row yet) is refused as back-dated, and a
    FIFO delivery beyond what an earlier one left is short, by the same figures, and a delivery past the customer's
    credit with what an earlier one added; the import then refuses the same cells with the same words."""
    header = ["number", "date", "partner", "warehouse", "lines.item", "lines.qty", "lines.price"]
    new = new_item(admin_api, costing="fifo")
    receipts = workbook(
        [
            header,
            [unique("F"), "2026-11-27", "S001", "WH02", new, "5", "2"],
            [unique("G"), "2026-11-26", "S001", "WH02", new, "1", "3"],  # row 3: before row 2's receipt
        ]
    )
    held = new_item(admin_api, costing="fifo")
    receive(admin_api, held, "5", "2")
    receive(admin_api, held, "5", "3")
    deliveries = workbook(
        [
            header,
            [unique("F"), "2026-11-26", "K001", "WH01", held, "6", "9"],
            [unique("G"), "2026-11-26", "K001", "WH01", held, "5", "9"],  # row 3: 4 left after row 2's
        ]
    )
    customer, _ = new_partner(admin_api, "customer", credit_limit="50")
    credit = workbook(
        [
            header,
            [unique("F"), "2026-11-26", customer, "WH01", held, "1", "27"],  # 27 (or 30.51 with tax on top)
            [unique("G"), "2026-11-26", customer, "WH01", held, "1", "27"],  # row 3: past 50 with row 2
        ]
    )
    for model, data, column, words in (
        ("purchase_receipt", receipts, "date", "2026-11-27"),
        ("sales_delivery", deliveries, "lines.qty", "可用 4，需要 5"),
        ("sales_delivery", credit, "partner", "超出信用额度 50.00"),
    ):
        found = issues(checked(admin_api, model, data, post="1"))
        assert [(row, col) for row, col, _ in found] == [(3, column)] and words in found[0][2], found
        imported = finished(admin_api, upload(admin_api, model, data, f"{model}.xlsx", post="1").get_json()["job_id"])
        assert imported["status"] == "failed" and issues(imported) == found
    assert balance(in_process, new, "WH02")[0] == 0 and balance(in_process, held)[0] == 10


def test_a_check_suggests_the_batch_an_earlier_document_of_the_file_left_in_stock(in_process, admin_api):
    """A delivery line without a batch takes the batch that expires first among those in stock (FEFO); when an earlier
    delivery of the same file empties that batch, the import gives the next one the following batch and posts it.
    The check does the same: it read the batches in stock from the balance rows, which a check's postings leave as
    they were (PostgreSQL, `StockCarry`), suggested the emptied batch again and refused the delivery as short."""
    sku = new_item(admin_api, track_batch=True)
    for batch, qty in (("B1", "3"), ("B2", "5")):
        post(admin_api, "purchase_receipt", [{"item": sku, "qty": qty, "price": "2", "batch": batch}], warehouse="WH01")
    data = workbook(
        [
            ["单据编号", "单据日期", "客户", "出库仓库", "商品", "出库数量", "单价"],
            [unique("F"), "2026-11-26", "K001", "WH01", sku, "3", "4"],  # B1, all of it
            [unique("G"), "2026-11-26", "K001", "WH01", sku, "2", "4"],  # B2: B1 has none left
        ]
    )
    job = checked(admin_api, "sales_delivery", data, post="1")
    assert issues(job) == [] and job["counts"]["created"] == 2, issues(job)
    imported = finished(admin_api, upload(admin_api, "sales_delivery", data, "b.xlsx", post="1").get_json()["job_id"])
    assert imported["status"] == "done" and issues(imported) == [], imported
    assert balance(in_process, sku, batch="B1")[0] == 0 and balance(in_process, sku, batch="B2")[0] == 3


def test_a_check_queued_as_an_import_stops_nobody_either(in_process, admin_api, api_as, while_checking):
    """A dry run queued as an `import` (a job of before checks had a kind of their own, or one retried from then) runs
    as a check: it too lets another user's save through at once, on SQLite as well, where an `import` job's session
    begins its transactions with the write lock."""
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.jobs.queue import submit
    from app.services.users.access import access_for
    from importers.jobs import keep_upload

    edited, pk = an_item(admin_api)
    tag = unique("LQ")
    data = workbook([["sku", "name", "unit"], [f"{tag}-1", "好", "PCS"], [f"{tag}-2", "单位不对", "没有"]])

    def saves() -> int:
        return api_as("clerk").put(f"/api/v1/item/{pk}", json={"remark": f"改 {tag}"}).status_code

    seen = while_checking(saves)
    with in_process.app_context():
        access = access_for(db.session.execute(db.select(User).filter_by(username="admin")).scalar_one())
        args = {"model": "item", "upload": keep_upload(data), "filename": "q.xlsx", "mode": "all", "dry_run": True}
        job_id = submit("import", args, access)
        db.session.commit()
    job = finished(admin_api, job_id, timeout=60)
    answer, seconds = seen[0] if seen else (None, None)
    assert job["status"] == "done" and [(r, c) for r, c, _ in issues(job)] == [(3, "unit")], job
    assert answer == 200 and seconds is not None and seconds < AT_ONCE, seen
    assert stored(in_process, "item", "sku", edited)["remark"] == f"改 {tag}"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # only SQLite's check copies the database
def test_a_check_without_disk_room_for_its_copy_is_refused_plainly(in_process, admin_api, monkeypatch):
    """The copy of the database a check runs against needs the disk the live database grows into: a check that would
    leave less free than JXC_CHECK_KEEP_FREE_MB is refused before copying, in the clerk's words (a copy that filled
    the disk failed every other user's save meanwhile, and the check with a bare OperationalError)."""
    from app.instance_files import private_folder

    monkeypatch.setitem(in_process.config, "JXC_CHECK_KEEP_FREE_MB", 1 << 40)  # more than any disk has
    data = workbook([["sku", "name", "unit"], [unique("NR"), "好", "PCS"]])
    response = admin_api.post(
        "/api/v1/imports/check",
        data={"model": "item", "file": (io.BytesIO(data), "room.xlsx")},
        content_type="multipart/form-data",
    )
    job = finished(admin_api, response.get_json()["job_id"], timeout=60)
    assert job["status"] == "failed" and job["message"].startswith("磁盘空间不足，无法检查文件"), job
    with in_process.app_context():
        left = list(private_folder("checks").iterdir())
    assert left == []
    monkeypatch.setitem(in_process.config, "JXC_CHECK_KEEP_FREE_MB", 0)
    assert checked(admin_api, "item", data)["counts"]["created"] == 1
