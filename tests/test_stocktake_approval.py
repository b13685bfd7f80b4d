"""A stocktake put in approvals.yaml by its 差异金额合计 waits for approval by that amount. The amount is the lines'
difference at the stock ledger's cost as they post: submitting values it as posting would, by the one stock writer's
costing, writing nothing, and the chain reads that (app/services/posting/service.py `_valued`). Before, the amount
was empty until posting, so no stocktake ever waited."""

from __future__ import annotations

import shutil
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from app.documents.stocktake import Stocktake
from app.meta.loader import load_metadata
from tests.conftest import Api, another_instance
from tests.ledger_helpers import balance, document, ledger_problems, new_item, receive, statements_sent

METADATA = Path(__file__).resolve().parent.parent / "metadata"
RULE = "stocktake:\n  amount_field: total_amount\n  levels:\n    - {above: 100, role: manager}\n"


def with_stocktake_rule(root: Path) -> Path:
    """metadata/ with a stocktake approved by a manager above 100.00 of 差异金额合计."""
    shutil.copytree(METADATA, root)
    approvals = root / "approvals.yaml"
    approvals.write_text(approvals.read_text(encoding="utf-8") + RULE, encoding="utf-8")
    return root


def test_the_loader_marks_a_rule_on_an_amount_posting_values(tmp_path: Path) -> None:
    meta, errors = load_metadata(with_stocktake_rule(tmp_path / "metadata"))
    assert errors == [] and meta.approvals["stocktake"].valued_at_posting
    assert not any(chain.valued_at_posting for key, chain in meta.approvals.items() if key != "stocktake")


def test_a_stocktake_waits_for_approval_by_its_difference_amount(app: Any, admin_api: Any, tmp_path: Path) -> None:
    """10 on hand at 7.50. Counted 4 (a loss of 45.00): under the band, it posts at once. Counted 100 (a gain of
    96 x 7.50 = 720.00): it waits for a manager with 720.00 on it, nothing posted; approved, it posts. Counted 0 (a
    loss of 750.00, compared by its size): it waits too."""
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "7.5")
    with another_instance(app, JXC_METADATA_DIR=str(with_stocktake_rule(tmp_path / "metadata"))) as started:
        keeper, manager = Api(started, "u_warehouse"), Api(started, "u_manager")

        def counted(qty: str) -> dict[str, Any]:
            line = {"item": sku, "counted_qty": qty, "reason": "damage"}
            return document(keeper, "stocktake", [line], warehouse="WH01")

        small = counted("4")
        posted = keeper.post(f"/api/v1/stocktake/{small['id']}/submit")
        assert posted.status_code == 200, posted.get_json()
        assert posted.get_json()["result"]["status"] == "submitted"
        assert balance(app, sku) == (D(4), D("30.00"))

        gain = counted("100")
        waiting = keeper.post(f"/api/v1/stocktake/{gain['id']}/submit")
        assert waiting.status_code == 200, waiting.get_json()
        assert "待" in waiting.get_json()["message"], waiting.get_json()
        assert balance(app, sku) == (D(4), D("30.00"))  # taken back: nothing posted while it waits
        read = Api(started, "admin").get(f"/api/v1/stocktake/{gain['id']}").get_json()["result"]
        assert (read["status"], read["total_amount"]) == ("pending", "720.00")
        inbox = manager.get("/api/v1/inbox/").get_json()
        assert gain["number"] in [row["number"] for row in inbox["result"]], inbox
        approved = manager.post(f"/api/v1/stocktake/{gain['id']}/approve")
        assert approved.status_code == 200, approved.get_json()
        done = approved.get_json()["result"]
        assert (done["status"], done["total_amount"], done["lines"][0]["amount"]) == ("submitted", "720.00", "720.00")
        assert balance(app, sku) == (D(100), D("750.00"))

        loss = counted("0")
        waiting = keeper.post(f"/api/v1/stocktake/{loss['id']}/submit")
        assert waiting.status_code == 200, waiting.get_json()
        read = Api(started, "admin").get(f"/api/v1/stocktake/{loss['id']}").get_json()["result"]
        assert (read["status"], read["total_amount"]) == ("pending", "-750.00")
        assert balance(app, sku) == (D(100), D("750.00"))
        sent_back = manager.post(f"/api/v1/stocktake/{loss['id']}/reject")
        assert sent_back.status_code == 200 and sent_back.get_json()["result"]["status"] == "draft"


def ledger_writes(sent: list[tuple[str, bool]]) -> list[str]:
    """The statements among `sent` that write the stock ledger (moves, balances, FIFO layers and takes, serials)."""
    tables = ("stock_move", "stock_balance", "cost_layer", "cost_take", "serial")
    return [
        statement
        for statement, _ in sent
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and any(f" {table}" in statement.split("(")[0] or f"{table} " in statement[:60] for table in tables)
    ]


@pytest.mark.parametrize("chunk", [None, 1])
def test_a_waiting_stocktake_is_valued_without_posting_and_posts_once(
    app: Any, admin_api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int | None
) -> None:
    """Submitting a stocktake that waits values its differences as posting would and writes nothing to the ledger
    (before, it posted in a savepoint and took it back: two postings of 100,000 lines). The figure the manager sees
    is what the approval posts, to the cent, by moving average and by FIFO: an average item, 10 at 7.50 then 3 at
    7.77 (average 7.5623), counted 1 (a loss of 12 x 7.5623 = 90.7476, 90.75 to the cent); a FIFO item, 10 at
    2.00 then 10 at 4.13, counted 5 (a loss of 15: 10 x 2.00 + 5 x 4.13 = 40.65). Together -131.40: above 100, it
    waits for a manager."""
    if chunk is not None:  # valued a chunk of lines at a time, as posting takes a large stocktake (one item each)
        monkeypatch.setattr(Stocktake, "line_chunk", chunk)
    average, fifo = new_item(admin_api), new_item(admin_api, costing="fifo")
    receive(admin_api, average, "10", "7.5")
    receive(admin_api, average, "3", "7.77")
    receive(admin_api, fifo, "10", "2")
    receive(admin_api, fifo, "10", "4.13")
    before = balance(app, average), balance(app, fifo)
    with another_instance(app, JXC_METADATA_DIR=str(with_stocktake_rule(tmp_path / "metadata"))) as started:
        keeper, manager = Api(started, "u_warehouse"), Api(started, "u_manager")
        lines = [
            {"item": average, "counted_qty": "1", "reason": "damage"},
            {"item": fifo, "counted_qty": "5", "reason": "damage"},
        ]
        take = document(keeper, "stocktake", lines, warehouse="WH01")
        with statements_sent(started) as sent:
            waiting = keeper.post(f"/api/v1/stocktake/{take['id']}/submit")
        assert waiting.status_code == 200, waiting.get_json()
        assert ledger_writes(sent) == []  # valued, not posted and taken back
        read = Api(started, "admin").get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
        assert (read["status"], read["total_amount"]) == ("pending", "-131.40")
        assert (balance(app, average), balance(app, fifo)) == before
        approved = manager.post(f"/api/v1/stocktake/{take['id']}/approve")
        assert approved.status_code == 200, approved.get_json()
        done = approved.get_json()["result"]
        assert [line["amount"] for line in done["lines"]] == ["-90.75", "-40.65"]
        assert (done["status"], done["total_amount"]) == ("submitted", "-131.40")
        assert balance(app, average) == (D(1), before[0][1] - D("90.7476"))
        assert balance(app, fifo) == (D(5), before[1][1] - D("40.65"))
        assert ledger_problems(app) == []


@pytest.mark.parametrize("chunk", [None, 1])
def test_a_whole_warehouse_count_waits_by_the_stock_no_line_counts(
    app: Any, admin_api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int | None
) -> None:
    """A whole-warehouse count is valued with the stock posting would count 0: 6 at 20.00 of an item not listed is a
    loss of 120.00, 1 at 5.00 of one listed and not counted a loss of 5.00; -125.00 is above 100 though the one line
    counted matches its book."""
    if chunk is not None:  # valued a chunk of lines at a time, as posting takes a large stocktake (one item each)
        monkeypatch.setattr(Stocktake, "line_chunk", chunk)
    code = f"W{new_item(admin_api)[-6:]}"
    made = admin_api.post("/api/v1/warehouse/", json={"code": code, "name": f"盘点仓 {code}"})
    assert made.status_code == 201, made.get_json()
    counted, missing, listed = new_item(admin_api), new_item(admin_api), new_item(admin_api)
    receive(admin_api, counted, "2", "1", warehouse=code)
    receive(admin_api, missing, "6", "20", warehouse=code)
    receive(admin_api, listed, "1", "5", warehouse=code)
    with another_instance(app, JXC_METADATA_DIR=str(with_stocktake_rule(tmp_path / "metadata"))) as started:
        keeper, manager = Api(started, "admin"), Api(started, "u_manager")  # the new warehouse is no keeper's
        lines = [{"item": counted, "counted_qty": "2"}, {"item": listed}]
        take = document(keeper, "stocktake", lines, warehouse=code, scope="whole")
        waiting = keeper.post(f"/api/v1/stocktake/{take['id']}/submit")
        assert waiting.status_code == 200, waiting.get_json()
        read = Api(started, "admin").get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
        assert (read["status"], read["total_amount"], len(read["lines"])) == ("pending", "-125.00", 2)
        assert balance(app, missing, code) == (D(6), D(120))
        approved = manager.post(f"/api/v1/stocktake/{take['id']}/approve")
        assert approved.status_code == 200, approved.get_json()
        done = approved.get_json()["result"]
        assert (done["total_amount"], len(done["lines"])) == ("-125.00", 3)
        assert balance(app, missing, code) == balance(app, listed, code) == (D(0), D(0))


def test_a_rejected_stocktake_shows_a_drafts_amount_and_stock_moved_meanwhile_posts_at_its_cost(
    app: Any, admin_api: Any, tmp_path: Path
) -> None:
    """Sent back, the stocktake is a draft again: its 差异金额合计 is what its lines make as they stand (empty until it
    posts, as any draft's), not the figure it waited with. Submitted again it is valued anew; stock that moved while
    it waited posts at the costs of the approval (10 at 7.50, a gain of 20 waits at 150.00; 10 more at 9.00 arrive;
    approved, the gain posts at the average then, 8.25: 165.00)."""
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "7.5")
    with another_instance(app, JXC_METADATA_DIR=str(with_stocktake_rule(tmp_path / "metadata"))) as started:
        keeper, manager = Api(started, "u_warehouse"), Api(started, "u_manager")
        boss = Api(started, "admin")  # a keeper sees no cost: the amounts are read as someone who does
        take = document(
            keeper, "stocktake", [{"item": sku, "counted_qty": "30", "reason": "miscount"}], warehouse="WH01"
        )
        draft_amount = boss.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]["total_amount"]
        assert keeper.post(f"/api/v1/stocktake/{take['id']}/submit").status_code == 200
        sent_back = manager.post(f"/api/v1/stocktake/{take['id']}/reject")
        assert sent_back.status_code == 200, sent_back.get_json()
        assert sent_back.get_json()["result"]["total_amount"] == draft_amount
        read = boss.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
        assert (read["status"], read["total_amount"]) == ("draft", draft_amount)
        again = keeper.post(f"/api/v1/stocktake/{take['id']}/submit")
        assert again.status_code == 200, again.get_json()
        read = boss.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
        assert (read["status"], read["total_amount"]) == ("pending", "150.00")
        receive(admin_api, sku, "10", "9")
        approved = manager.post(f"/api/v1/stocktake/{take['id']}/approve")
        assert approved.status_code == 200, approved.get_json()
        assert approved.get_json()["result"]["total_amount"] == "165.00"
        assert balance(app, sku) == (D(40), D("330.00"))


def test_an_amount_grown_past_another_level_meanwhile_waits_for_that_level(
    app: Any, admin_api: Any, tmp_path: Path
) -> None:
    """Approved at the size it was submitted with (a gain of 20 at 7.50: 150.00, a manager's level), a stocktake whose
    stock meanwhile came in at other costs (10 at 200.00: the average 103.75, the gain 2,075.00) does not post at a
    size nobody approved: the manager's approval counts, the amount is the new one, and it waits for the level above
    1,000.00 (admin's), which then posts it."""
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "7.5")
    root = with_stocktake_rule(tmp_path / "metadata")
    rules = root / "approvals.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "    - {above: 1000, role: admin}\n", encoding="utf-8")
    with another_instance(app, JXC_METADATA_DIR=str(root)) as started:
        keeper, manager, boss = Api(started, "u_warehouse"), Api(started, "u_manager"), Api(started, "admin")
        take = document(
            keeper, "stocktake", [{"item": sku, "counted_qty": "30", "reason": "miscount"}], warehouse="WH01"
        )
        assert keeper.post(f"/api/v1/stocktake/{take['id']}/submit").status_code == 200
        read = boss.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
        assert (read["status"], read["total_amount"]) == ("pending", "150.00")
        receive(admin_api, sku, "10", "200")
        approved = manager.post(f"/api/v1/stocktake/{take['id']}/approve")
        assert approved.status_code == 200, approved.get_json()
        assert "还需等待下一级" in approved.get_json()["message"], approved.get_json()
        read = boss.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
        assert (read["status"], read["total_amount"]) == ("pending", "2075.00")
        assert balance(app, sku) == (D(20), D("2075.00"))  # nothing posted yet
        assert manager.post(f"/api/v1/stocktake/{take['id']}/approve").status_code == 403  # not his level
        done = boss.post(f"/api/v1/stocktake/{take['id']}/approve")
        assert done.status_code == 200, done.get_json()
        assert done.get_json()["result"]["status"] == "submitted"
        assert balance(app, sku) == (D(40), D("4150.00"))
        assert ledger_problems(app) == []
