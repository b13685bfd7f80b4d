"""A stocktake's differences say why (差异原因) before they post, however the counts came in (the grid, a phone, a
file); a draft saves without. The variance sheet of a posted stocktake shows what moved between its snapshot and its
posting and the stock it left, as of its posting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import unique
from tests.ledger_helpers import balance, document, ledger_problems, new_item, post, receive, refusal
from tests.test_stocktake_upload import upload, xlsx

UNEXPLAINED = "没有填写差异原因，不能审核：请在该行「差异原因」中选择原因后再提交（草稿可照常保存）"


def new_warehouse(api: Any) -> str:
    code = unique("W")
    assert api.post("/api/v1/warehouse/", json={"code": code, "name": f"盘点仓 {code}"}).status_code == 201
    return code


def give_reasons(api: Any, take: dict[str, Any], reasons: dict[str, str]) -> dict[str, Any]:
    """Set the reason of the lines of these items (by SKU) on the draft, keeping the others as they are."""
    doc = api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
    lines = [
        {"id": line["id"], "reason": reasons.get(line["item"]["key"], line["reason"])} | {"item": line["item"]["key"]}
        for line in doc["lines"]
    ]
    saved = api.put(f"/api/v1/stocktake/{take['id']}", json={"lines": lines, "version": doc["version"]})
    assert saved.status_code == 200, saved.get_json()
    return saved.get_json()["result"]


def test_a_gain_or_a_loss_without_a_reason_is_refused_naming_each_line_and_the_draft_still_saves(app, admin_api):
    code = new_warehouse(admin_api)
    lost, found, right = new_item(admin_api), new_item(admin_api), new_item(admin_api)
    for sku in (lost, found, right):
        receive(admin_api, sku, "10", "2", warehouse=code)
    take = document(
        admin_api,
        "stocktake",
        [
            {"item": lost, "counted_qty": "7"},
            {"item": found, "counted_qty": "10.5"},
            {"item": right, "counted_qty": "10"},  # no difference: nothing to explain
        ],
        warehouse=code,
    )
    assert [line["diff_qty"] for line in take["lines"]] == ["-3", "0.5", "0"]  # the draft saved without reasons
    assert refusal(admin_api, "stocktake", take) == {
        "lines.0.reason": f"第 1 行盘亏 3，{UNEXPLAINED}",
        "lines.1.reason": f"第 2 行盘盈 0.5，{UNEXPLAINED}",
    }
    assert admin_api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]["status"] == "draft"
    assert balance(app, lost, code) == (Decimal(10), Decimal(20))

    give_reasons(admin_api, take, {lost: "damage"})
    assert set(refusal(admin_api, "stocktake", take)) == {"lines.1.reason"}  # the gain still says not why
    give_reasons(admin_api, take, {found: "miscount"})
    posted = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit")
    assert posted.status_code == 200, posted.get_json()
    assert balance(app, lost, code) == (Decimal(7), Decimal(14))
    assert balance(app, found, code) == (Decimal("10.5"), Decimal(21))
    assert ledger_problems(app) == []


def test_counts_from_a_phone_and_a_file_are_refused_without_their_reasons_too(app, admin_api):
    """A phone's scans carry no reason: the clerk gives it on the line before submitting; a file's 差异原因 column
    gives it (one write path of counts, one check at posting)."""
    code = new_warehouse(admin_api)
    scanned, filed, unexplained = new_item(admin_api), new_item(admin_api), new_item(admin_api)
    for sku in (scanned, filed, unexplained):
        receive(admin_api, sku, "5", "3", warehouse=code)
    take = document(admin_api, "stocktake", [], warehouse=code)
    sent = admin_api.post(
        f"/api/v1/phone/stocktake/{take['id']}/counts",
        json={"key": unique("K"), "counts": [{"code": scanned, "qty": "4"}]},
    )
    assert sent.status_code == 200, sent.get_json()
    counts = xlsx([[filed, 2, None, "A", "过期"], [unexplained, 6, None, "B", None]])
    assert upload(admin_api, take, counts).status_code == 200
    doc = admin_api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
    place = {line["item"]["key"]: n for n, line in enumerate(doc["lines"])}
    refused = refusal(admin_api, "stocktake", take)
    assert set(refused) == {f"lines.{place[scanned]}.reason", f"lines.{place[unexplained]}.reason"}
    assert refused[f"lines.{place[scanned]}.reason"].startswith(f"第 {place[scanned] + 1} 行盘亏 1，没有填写差异原因")
    assert refused[f"lines.{place[unexplained]}.reason"].startswith(f"第 {place[unexplained] + 1} 行盘盈 1，")

    give_reasons(admin_api, take, {scanned: "theft", unexplained: "miscount"})
    posted = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit")
    assert posted.status_code == 200, posted.get_json()
    reasons = {line["item"]["key"]: line["reason"] for line in posted.get_json()["result"]["lines"]}
    assert reasons == {scanned: "theft", filed: "expiry", unexplained: "miscount"}
    assert [balance(app, sku, code)[0] for sku in (scanned, filed, unexplained)] == [4, 2, 6]
    assert ledger_problems(app) == []


def test_a_posted_sheet_shows_what_moved_between_snapshot_and_posting_and_the_stock_it_left(app, admin_api):
    """快照后出入库 and 审核后库存 of a posted stocktake are as of its posting: what moved after it is not its own."""
    code = new_warehouse(admin_api)
    shelf, crate = new_item(admin_api), new_item(admin_api)
    receive(admin_api, shelf, "10", "2", warehouse=code)
    receive(admin_api, crate, "5", "3", warehouse=code)
    take = document(
        admin_api,
        "stocktake",
        [{"item": shelf, "counted_qty": "7", "reason": "damage"}, {"item": crate, "counted_qty": "5"}],
        warehouse=code,
    )
    receive(admin_api, shelf, "4", "2", warehouse=code)  # between the snapshot and the posting
    post(admin_api, "sales_delivery", [{"item": crate, "qty": "1", "price": "9"}], warehouse=code)
    before = admin_api.get(f"/api/v1/stocktake/{take['id']}/variance").get_json()
    assert [(row["moved_since"], row["stock_after"]) for row in before["lines"]] == [("4", "11"), ("-1", "4")]
    posted = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit")
    assert posted.status_code == 200, posted.get_json()
    post(admin_api, "sales_delivery", [{"item": shelf, "qty": "2", "price": "9"}], warehouse=code)  # after it
    post(admin_api, "sales_delivery", [{"item": crate, "qty": "1", "price": "9"}], warehouse=code)

    sheet = admin_api.get(f"/api/v1/stocktake/{take['id']}/variance").get_json()
    seen = [(r["book"], r["counted"], r["diff"], r["moved_since"], r["stock_after"]) for r in sheet["lines"]]
    assert seen == [("10", "7", "-3", "4", "11"), ("5", "5", "0", "-1", "4")]
    assert sheet["total_value"] == "-6.00"
    assert balance(app, shelf, code)[0] == 9 and balance(app, crate, code)[0] == 3

    # a stocktake that moved nothing (every count the book) is as of its submit
    even = document(admin_api, "stocktake", [{"item": crate, "counted_qty": "3"}], warehouse=code)
    receive(admin_api, crate, "2", "3", warehouse=code)
    assert admin_api.post(f"/api/v1/stocktake/{even['id']}/submit").status_code == 200
    post(admin_api, "sales_delivery", [{"item": crate, "qty": "4", "price": "9"}], warehouse=code)
    row = admin_api.get(f"/api/v1/stocktake/{even['id']}/variance").get_json()["lines"][0]
    assert (row["book"], row["diff"], row["moved_since"], row["stock_after"]) == ("3", "0", "2", "5")
