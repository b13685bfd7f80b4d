"""The phone's API: a batch of counts is applied once however often it is sent (also twice at the same
moment), stock lookup answers within the reader's warehouses and masks, labels hide the prices a reader may
not see."""

from __future__ import annotations

import random
import re
import threading
import uuid
from decimal import Decimal
from typing import Any

from tests.conftest import Api, unique, writing
from tests.ledger_helpers import balance, document, new_item, new_partner, post, receive


def ean13() -> str:
    """A random EAN-13 with a valid check digit (in the 20-29 in-store range)."""
    body = "2" + "".join(random.choice("0123456789") for _ in range(11))
    odd = sum(int(d) for d in body[0::2])
    even = sum(int(d) for d in body[1::2])
    return body + str((10 - (odd + 3 * even) % 10) % 10)


def stocktake(api: Any, warehouse: str = "WH01", lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A draft stocktake."""
    return document(api, "stocktake", lines or [], warehouse=warehouse)


def lines_of(api: Any, take: dict[str, Any]) -> dict[str, Decimal | None]:
    """The stocktake's counted quantity by item SKU."""
    body = api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
    return {
        line["item"]["key"]: None if line["counted_qty"] is None else Decimal(line["counted_qty"])
        for line in body["lines"]
    }


def send(api: Any, take: dict[str, Any], key: str, counts: list[dict[str, Any]]) -> Any:
    """POST a batch of counts."""
    return api.post(f"/api/v1/phone/stocktake/{take['id']}/counts", json={"key": key, "counts": counts})


def test_a_batch_of_counts_sent_twice_is_counted_once(app, admin_api, api_as):
    keeper = api_as("warehouse")
    code = ean13()
    scanned = new_item(admin_api, barcode=code)
    typed = new_item(admin_api)
    counted_before = new_item(admin_api)
    take = stocktake(admin_api, lines=[{"item": counted_before, "counted_qty": "2"}])
    key = str(uuid.uuid4())
    counts = [{"code": code, "qty": "3"}, {"code": typed.lower(), "qty": 1}, {"code": "NO-SUCH-CODE", "qty": 1}]
    counts.append({"code": counted_before, "qty": "1.5"})

    first = send(keeper, take, key, counts)
    assert first.status_code == 200, first.get_json()
    answer = first.get_json()
    assert answer["replayed"] is False and answer["unknown"] == ["NO-SUCH-CODE"]
    assert {c["item"]["key"]: c["counted"] for c in answer["counted"]} == {
        scanned: "3",
        typed: "1",
        counted_before: "3.5",
    }
    expected = {counted_before: Decimal("3.5"), scanned: Decimal(3), typed: Decimal(1)}
    assert lines_of(admin_api, take) == expected

    again = send(keeper, take, key, counts)  # the answer was lost: the phone sends the same batch again
    assert again.status_code == 200
    assert again.get_json() == answer | {"replayed": True}
    assert lines_of(admin_api, take) == expected

    more = send(keeper, take, str(uuid.uuid4()), [{"code": code, "qty": 2}])  # a new batch adds to the count
    assert more.get_json()["counted"][0]["counted"] == "5"
    assert lines_of(admin_api, take)[scanned] == Decimal(5)

    # the key belongs to that batch: used for another stocktake it is refused, nothing counted there
    other = stocktake(admin_api)
    assert send(keeper, other, key, counts).status_code == 409
    assert lines_of(admin_api, other) == {}


def test_the_same_batch_sent_twice_at_the_same_moment_is_counted_once(app, admin_api):
    code = ean13()
    sku = new_item(admin_api, barcode=code)
    take = stocktake(admin_api)
    key = str(uuid.uuid4())
    clients = [Api(app, "u_warehouse"), Api(app, "u_warehouse")]
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = send(clients[index], take, key, [{"code": code, "qty": "4"}])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [a.status_code for a in answers] == [200, 200], [a.get_json() for a in answers]
    assert sorted(a.get_json()["replayed"] for a in answers) == [False, True]
    assert {a.get_json()["counted"][0]["counted"] for a in answers} == {"4"}
    assert lines_of(admin_api, take) == {sku: Decimal(4)}


def test_a_count_is_typed_in_any_unit_of_the_item_and_corrected(app, admin_api, api_as):
    """A scan adds one; a counter holding boxes of 24 types 2 箱 (48 base units) or a part (0.1, 0.2: exact, not
    0.30000000000000004), corrects the count to 40 (then a scan: 41) or to 0; a unit the item lacks is refused by
    name, and a negative, a word, too many decimals or a float is answered in words (400)."""
    code = ean13()
    sku = new_item(admin_api, barcode=code)
    assert admin_api.post("/api/v1/item_unit/", json={"item": sku, "unit": "BOX", "ratio": "24"}).status_code == 201
    take = stocktake(admin_api)
    keeper = api_as("warehouse")
    counts = [{"code": code}, {"code": code, "qty": "2", "unit": "箱"}, {"code": sku, "qty": "0.1"}]
    answer = send(keeper, take, unique("K"), [*counts, {"code": code, "qty": "0.2", "unit": "pcs"}])
    assert answer.status_code == 200, answer.get_json()
    assert lines_of(admin_api, take) == {sku: Decimal("49.3")}
    assert (
        send(keeper, take, unique("K"), [{"code": code, "qty": "40", "set": True}, {"code": code}]).status_code == 200
    )
    assert lines_of(admin_api, take) == {sku: Decimal(41)}
    assert send(keeper, take, unique("K"), [{"code": code, "qty": "0", "set": True}]).status_code == 200
    assert lines_of(admin_api, take) == {sku: Decimal(0)}
    # by its name, also when sent by its code as the page's unit list does
    for unit in ("千克", "KG"):
        refused = send(keeper, take, unique("K"), [{"code": code, "qty": "1", "unit": unit}]).get_json()
        assert refused["refused"] == [{"code": code, "reason": "该商品没有单位「千克」"}], unit
    for qty in ("-1", "abc", "1.23456", 1.5, "0"):
        bad = send(keeper, take, unique("K"), [{"code": code, "qty": qty}])
        assert bad.status_code == 400 and "不是有效的数量" in bad.get_json()["message"], (qty, bad.get_json())
    assert lines_of(admin_api, take) == {sku: Decimal(0)}


def test_counts_follow_the_stocktake_and_the_reader(app, admin_api, api_as, login_as):
    code = ean13()
    sku = new_item(admin_api, barcode=code)
    batches = new_item(admin_api, track_batch=True)
    elsewhere = stocktake(admin_api, warehouse="WH02")
    keeper = api_as("warehouse")  # WH01 only
    assert send(keeper, elsewhere, unique("K"), [{"code": code, "qty": 1}]).status_code == 404
    assert send(api_as("salesperson"), stocktake(admin_api), unique("K"), [{"code": code}]).status_code == 403
    take = stocktake(admin_api)
    for body in (
        {"key": "", "counts": [{"code": code}]},
        {"key": "k", "counts": []},
        {"key": "k", "counts": [{"code": code, "qty": "-1"}]},
        {"key": "k", "counts": [{"code": code, "qty": "NaN"}]},
        [1],
    ):
        assert keeper.post(f"/api/v1/phone/stocktake/{take['id']}/counts", json=body).status_code == 400, body
    refused = send(keeper, take, unique("K"), [{"code": batches, "qty": 1}, {"code": code, "qty": 1}]).get_json()
    assert [r["code"] for r in refused["refused"]] == [batches]
    assert lines_of(admin_api, take) == {sku: Decimal(1)}
    # a scan carries no reason: the gain it counted is explained on the line before it posts
    assert admin_api.post(f"/api/v1/stocktake/{take['id']}/submit").get_json()["errors"] == [
        {
            "field": "lines.0.reason",
            "message": "第 1 行盘盈 1，没有填写差异原因，不能审核："
            "请在该行「差异原因」中选择原因后再提交（草稿可照常保存）",
        }
    ]
    line = admin_api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]["lines"][0]
    explained = {"lines": [{"id": line["id"], "item": sku, "reason": "miscount"}]}
    assert admin_api.put(f"/api/v1/stocktake/{take['id']}", json=explained).status_code == 200
    assert admin_api.post(f"/api/v1/stocktake/{take['id']}/submit").status_code == 200
    posted = send(keeper, take, unique("K"), [{"code": code, "qty": 1}])
    assert posted.status_code == 409
    # a posted stocktake is told as 已审核 (the words were 已审核或作废 whatever the status)
    assert posted.get_json()["message"] == "单据已审核，不能修改（只有草稿可以修改）"
    page = login_as("warehouse").get(f"/phone/count/{take['id']}").get_data(as_text=True)
    assert f"盘点单 {take['number']} 已审核，不能再录入盘点数量。" in page and 'id="ph-scan"' not in page
    assert lines_of(admin_api, take) == {sku: Decimal(1)}


def test_stock_lookup_keeps_to_the_readers_warehouses_and_figures(app, admin_api, api_as):
    code = ean13()
    sku = new_item(admin_api, barcode=code, sale_price="9.90", purchase_price="5.00", name=f"扫码查询 {unique()}")
    receive(admin_api, sku, "10", "5", warehouse="WH01")
    receive(admin_api, sku, "4", "5", warehouse="WH02")

    def look(api: Any, q: str, **args: str) -> dict[str, Any]:
        response = api.get("/api/v1/phone/stock", query_string={"q": q, **args})
        assert response.status_code == 200, response.get_json()
        found = [i for i in response.get_json()["items"] if i["sku"] == sku]
        assert len(found) == 1, response.get_json()
        return found[0]

    admin = look(admin_api, code)
    assert {s["warehouse"]["key"]: s["qty"] for s in admin["stock"]} == {"WH01": "10", "WH02": "4"}
    assert admin["total"] == "14" and admin["sale_price"] == "9.90" and admin["stock"][0]["avg_cost"] is not None
    assert {s["warehouse"]["key"] for s in look(admin_api, sku, warehouse="WH02")["stock"]} == {"WH02"}

    keeper = look(api_as("warehouse"), code)  # WH01 only, no figure of any kind
    assert [(s["warehouse"]["key"], s["qty"]) for s in keeper["stock"]] == [("WH01", "10")]
    assert not {"sale_price", "purchase_price"} & set(keeper) and "avg_cost" not in keeper["stock"][0]
    assert "value" not in keeper["stock"][0]

    seller = look(api_as("salesperson"), sku.lower())
    assert seller["sale_price"] == "9.90" and "purchase_price" not in seller
    assert "avg_cost" not in seller["stock"][0] and seller["stock"][0]["available"] == "10"
    assert look(admin_api, admin["name"].split(" ")[1])["sku"] == sku  # by name
    assert api_as("warehouse").get("/api/v1/phone/stock?q=x&warehouse=NOPE").status_code == 404


def test_stock_lookup_totals_what_is_available_too(app, admin_api, login_as):
    """The total row of a stock lookup left 可用 empty under its 结存 total: both are totalled (3 of WH01's 10
    reserved by an order: 11 of 14 available)."""
    sku = new_item(admin_api, name=f"可用合计 {unique()}")
    receive(admin_api, sku, "10", "5", warehouse="WH01")
    receive(admin_api, sku, "4", "5", warehouse="WH02")
    customer, _ = new_partner(admin_api, "customer")
    post(admin_api, "sales_order", [{"item": sku, "qty": "3", "price": "9"}], partner=customer, warehouse="WH01")
    found = admin_api.get("/api/v1/phone/stock", query_string={"q": sku}).get_json()["items"]
    assert [(i["total"], i["available_total"]) for i in found if i["sku"] == sku] == [("14", "11")]
    html = login_as("admin").get(f"/phone/stock?q={sku}").get_data(as_text=True)
    totals = html.split(f'data-sku="{sku}"')[1].split("<tfoot>")[1].split("</tfoot>")[0]
    assert re.findall(r'class="ph-num">([^<]*)<', totals) == ["14", "11"]


def test_labels_print_the_price_only_for_who_may_see_it(app, admin_api, login_as):
    code = ean13()
    with_code = new_item(admin_api, barcode=code, sale_price="12.30")
    without = new_item(admin_api, sale_price="4.50")
    query = f"/phone/labels?items={with_code},{without},NO-SUCH&size=50x30&copies=2"

    seller = login_as("salesperson").get(query)
    assert seller.status_code == 200
    page = seller.get_data(as_text=True)
    assert page.count("¥12.30") == 2 and page.count("¥4.50") == 2
    assert page.count('data-kind="ean13"') == 2 and page.count('data-kind="code128"') == 2
    assert "size: 50mm 30mm" in page and "NO-SUCH" in page

    assert re.findall(r'<option value="(\w+)"', page.split('id="ph-price"')[1].split("</select>")[0]) == [
        "sale_price",
        "wholesale_price",
    ]

    keeper = login_as("warehouse").get(query).get_data(as_text=True)  # hides every figure
    assert "12.30" not in keeper and "4.50" not in keeper and "¥" not in keeper
    assert keeper.count('data-kind="ean13"') == 2 and code in keeper
    # no choice of a price they cannot see (it offered 零售价 / 批发价 and printed neither): said once, plainly
    assert 'id="ph-price"' not in keeper and "标签价格" not in keeper and "您看不到商品价格，标签上不印价格" in keeper

    sheet = login_as("salesperson").get(f"/phone/labels?items={with_code}&size=a4&price=purchase_price")
    assert "size: A4" in sheet.get_data(as_text=True) and "¥" not in sheet.get_data(as_text=True)  # not a label price


def test_the_phone_pages_answer(app, admin_api, login_as):
    take = stocktake(admin_api)
    client = login_as("admin")
    customer = admin_api.get("/api/v1/partner/?q=(filters:!((col:code,opr:eq,value:K001)))").get_json()["ids"][0]
    for path in (
        "/phone/",
        "/phone/inbox",
        "/phone/stock?q=SP0001",
        "/phone/customers?q=K00",
        f"/phone/customer/{customer}",
        "/phone/sales_order/new",
        "/phone/count/",
        "/phone/count/new",
        f"/phone/count/{take['id']}",
        "/phone/labels",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'rel="manifest"' in response.get_data(as_text=True), path
    assert "SP0001" in client.get("/phone/stock?q=SP0001").get_data(as_text=True)
    manifest = client.get("/phone/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json" and manifest.get_json()["scope"] == "/phone/"
    worker = client.get("/phone/sw.js")
    assert worker.mimetype == "text/javascript" and "request.method !== 'GET'" in worker.get_data(as_text=True)
    assert app.test_client().get("/phone/count/").status_code == 302  # signed out: to the sign-in page
    others = admin_api.post("/api/v1/partner/", json={"code": unique("C"), "name": "别人的客户", "kind": "customer"})
    seller = login_as("salesperson")
    assert seller.get(f"/phone/customer/{customer}").status_code == 200  # K001 is theirs
    missing = seller.get(f"/phone/customer/{others.get_json()['id']}")
    assert missing.status_code == 404  # another's: not there
    assert 'href="/phone/">返回首页' in missing.get_data(as_text=True)  # back to the phone's home, not the desk's


def test_a_customers_page_offers_the_statement_only_to_who_may_run_it(admin_api, login_as):
    """A warehouse keeper reads a customer's address but may not run 对账单: the page offered the statement and
    answered 没有权限 under it; now it has no statement. A salesperson still gets theirs."""
    customer = admin_api.get("/api/v1/partner/?q=(filters:!((col:code,opr:eq,value:K001)))").get_json()["ids"][0]
    keeper = login_as("warehouse").get(f"/phone/customer/{customer}").get_data(as_text=True)
    assert "K001" in keeper and "对账单" not in keeper and "没有权限" not in keeper
    seller = login_as("salesperson").get(f"/phone/customer/{customer}").get_data(as_text=True)
    assert "对账单" in seller and "没有权限" not in seller


def test_the_customers_page_of_a_salesperson_without_customers_says_so(app, login_as):
    """A salesperson who owns no customer yet opened 客户 and read 没有找到 before searching anything: the page says
    there is no customer they may see; a search that finds nothing still says 没有找到."""
    from app.extensions import db
    from app.services.users.accounts import create_user
    from tests.conftest import PASSWORD

    seller = unique("x_seller").lower()
    with app.app_context(), writing():
        create_user(seller, "salesperson", PASSWORD)
        db.session.remove()
    client = login_as(seller)
    listed = client.get("/phone/customers").get_data(as_text=True)
    assert "没有您可以查看的客户" in listed and "没有找到" not in listed
    assert "没有找到" in client.get("/phone/customers?q=K001").get_data(as_text=True)


def test_a_customers_page_recommends_what_others_buy_with_theirs(app, admin_api, login_as):
    bought, together = new_item(admin_api), new_item(admin_api)
    for sku in (bought, together):
        receive(admin_api, sku, "10", "1")
    me, me_id = new_partner(admin_api, "customer")
    other, _ = new_partner(admin_api, "customer")
    post(admin_api, "sales_delivery", [{"item": bought, "qty": "1", "price": "2"}], warehouse="WH01", partner=me)
    lines = [{"item": bought, "qty": "1", "price": "2"}, {"item": together, "qty": "1", "price": "2"}]
    post(admin_api, "sales_delivery", lines, warehouse="WH01", partner=other)
    page = login_as("admin").get(f"/phone/customer/{me_id}").get_data(as_text=True)
    recommended = page.split('id="ph-recommended"')[1].split("</ul>")[0]
    assert together in recommended and bought not in recommended


def test_stock_lookup_offers_only_the_warehouses_whose_stock_the_reader_sees(app, admin_api, api_as, login_as):
    """A keeper of WH01 was offered WH02 and told 没有库存 there: the page lists their warehouses only, and a
    warehouse outside them is said to be so (403), not answered as empty."""
    sku = new_item(admin_api, name=f"仓库范围 {unique()}")
    receive(admin_api, sku, "3", "5", warehouse="WH02")
    outside = api_as("warehouse").get("/api/v1/phone/stock", query_string={"q": sku, "warehouse": "WH02"})
    assert outside.status_code == 403 and "WH02 不在您负责的仓库内" in outside.get_json()["message"]
    page = login_as("warehouse").get(f"/phone/stock?q={sku}&warehouse=WH02").get_data(as_text=True)
    assert "WH02 不在您负责的仓库内" in page and "没有库存" not in page
    assert 'value="WH02"' not in login_as("warehouse").get(f"/phone/stock?q={sku}").get_data(as_text=True)
    assert 'value="WH02"' in login_as("admin").get(f"/phone/stock?q={sku}").get_data(as_text=True)
    assert look_stock(admin_api, sku, "WH02") == ["WH02"]


def test_the_count_and_order_pages_offer_only_the_warehouses_the_reader_works_in(app, admin_api, login_as):
    """The counting and order pages offered every warehouse the reader could read: a keeper now gets the
    warehouses their row scope on stocktakes gives them (WH01 and a new one, not WH02), and asking for another
    is said to be so (403, the stock lookup's words), not a list of nothing; a salesperson's orders say nothing
    of warehouses, so the order page offers every one (and preselects the one asked for)."""
    keeper, code = keeper_of_a_new_warehouse(app, admin_api)
    mine, theirs = stocktake(admin_api, code), stocktake(admin_api, "WH02")
    client = login_as(keeper)
    offered = client.get("/phone/count/").get_data(as_text=True)
    assert f'value="{code}"' in offered and 'value="WH01"' in offered and 'value="WH02"' not in offered
    refused = client.get("/phone/count/?warehouse=WH02")
    assert refused.status_code == 403 and "WH02 不在您负责的仓库内" in refused.get_data(as_text=True)
    assert theirs["number"] not in refused.get_data(as_text=True)
    listed = client.get(f"/phone/count/?warehouse={code}").get_data(as_text=True)
    assert mine["number"] in listed and theirs["number"] not in listed
    admin = login_as("admin").get("/phone/count/?warehouse=WH02").get_data(as_text=True)
    assert theirs["number"] in admin and mine["number"] not in admin
    order = login_as("salesperson").get("/phone/sales_order/new?warehouse=WH02").get_data(as_text=True)
    assert re.search(r'<option value="\d+" selected>WH02 ', order) and "WH01 " in order


def keeper_of_a_new_warehouse(app: Any, admin_api: Any) -> tuple[str, str]:
    """(username, warehouse code): a new warehouse keeper of WH01 and of a new warehouse."""
    from app.extensions import db
    from app.services.users.accounts import create_user
    from tests.conftest import PASSWORD

    code = unique("W")
    assert admin_api.post("/api/v1/warehouse/", json={"code": code, "name": f"新仓 {code}"}).status_code == 201
    keeper = unique("x_keeper").lower()
    with app.app_context(), writing():
        create_user(keeper, "warehouse", PASSWORD, warehouses=["WH01", code])
        db.session.remove()
    return keeper, code


def look_stock(api: Any, sku: str, warehouse: str) -> list[str]:
    response = api.get("/api/v1/phone/stock", query_string={"q": sku, "warehouse": warehouse})
    assert response.status_code == 200, response.get_json()
    return [s["warehouse"]["key"] for i in response.get_json()["items"] if i["sku"] == sku for s in i["stock"]]


def test_the_home_page_offers_approvals_only_to_who_can_approve(app, admin_api, login_as):
    """A keeper was shown 待审批 though no level of approvals.yaml names their role (nothing can ever wait for
    them): now the tile is shown to the roles a level names (a manager, finance) and to an administrator only."""
    tiles = {
        role: re.findall(r'id="ph-tile-(\w+)"', login_as(role).get("/phone/").get_data(as_text=True))
        for role in ("warehouse", "salesperson", "manager", "finance", "admin")
    }
    assert "inbox" not in tiles["warehouse"] and "count" in tiles["warehouse"]
    assert "inbox" not in tiles["salesperson"] and "order" in tiles["salesperson"]
    assert all("inbox" in tiles[role] for role in ("manager", "finance", "admin"))


def test_a_keeper_starts_a_stocktake_on_the_phone_in_their_own_warehouses(app, admin_api, api_as, login_as):
    """新建盘点单 on the phone opened the desk's form: now a phone page asks the warehouse (the keeper's own only),
    the category and the scope, and the stocktake's API makes it as the desk's form does, its book snapshot as
    it is saved; a warehouse outside theirs is refused there and on the page."""
    keeper, code = keeper_of_a_new_warehouse(app, admin_api)
    client = login_as(keeper)
    listed = client.get(f"/phone/count/?warehouse={code}").get_data(as_text=True)
    assert f'href="/phone/count/new?warehouse={code}"' in listed and "/m/stocktake/new" not in listed
    page = client.get(f"/phone/count/new?warehouse={code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    form = html.split('id="ph-new-count"')[1].split("</form>")[0]
    warehouses = re.findall(
        r'<option value="(\d+)"( selected)?>(\S+) ', form.split('data-field="warehouse"')[1].split("</select>")[0]
    )
    assert sorted(w[2] for w in warehouses) == sorted(["WH01", code])  # not WH02
    assert [w[2] for w in warehouses if w[1]] == [code]  # the one asked for
    assert 'data-field="category"' in form and 'data-field="scope"' in form and "全仓盘点" in form
    # the category is looked up as typed (no list of every category); the scope offers its two options, the
    # default chosen, not a 全部 that means nothing for a scope
    assert 'data-lookup="category"' in form and "C01 饮料" not in form
    scope = form.split('data-field="scope"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\w*)"', scope) == ["cycle", "whole"] and 'value="cycle" selected' in scope
    assert "<table" not in html and "count_new.js" in html
    refused = client.get("/phone/count/new?warehouse=WH02")
    assert refused.status_code == 403 and "WH02 不在您负责的仓库内" in refused.get_data(as_text=True)

    # what the page sends, to the stocktake's own API as the keeper: WH02 is refused by name of its field
    api = Api(app, keeper)
    outside = api.post("/api/v1/stocktake/", json={"warehouse": "WH02", "category": None, "lines": []})
    assert outside.status_code == 422 and [e["field"] for e in outside.get_json()["errors"]] == ["warehouse"]
    chosen = next(int(w[0]) for w in warehouses if w[2] == code)
    made = api.post("/api/v1/stocktake/", json={"warehouse": chosen, "category": None, "scope": "whole", "lines": []})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()["result"]
    assert body["warehouse"]["key"] == code and body["scope"] == "whole" and body["status"] == "draft"
    assert body["snapshot_at"] and body["created_by"]["key"] == keeper  # counting starts now: the book is kept
    counting = client.get(f"/phone/count/{made.get_json()['id']}")
    assert counting.status_code == 200 and body["number"] in counting.get_data(as_text=True)
    # the counting page says what is counted: where, when, which category and what an item not counted means
    cycle = api.post("/api/v1/stocktake/", json={"warehouse": code, "category": "C01", "lines": []}).get_json()
    about = client.get(f"/phone/count/{cycle['id']}").get_data(as_text=True).split('id="ph-count-about">')[1]
    assert (
        re.sub(r"<[^>]+>", "", about.split("</p>")[0])
        == f"新仓 {code} · {cycle['result']['date']} · 饮料 · 循环盘点（只盘列出的商品）"
    )

    # a keeper with no warehouse yet is told why nothing can start, not offered an empty choice
    from app.extensions import db
    from app.services.users.accounts import create_user
    from tests.conftest import PASSWORD

    idle = unique("x_keeper").lower()
    with app.app_context(), writing():
        create_user(idle, "warehouse", PASSWORD, warehouses=[])
        db.session.remove()
    html = login_as(idle).get("/phone/count/new").get_data(as_text=True)
    assert "没有可选的盘点仓库，请联系管理员" in html and re.search(r'id="ph-start" disabled', html)


def units_of(api: Any, take: dict[str, Any], code: str) -> dict[str, Any]:
    """What the counting page offers to type a count of `code` in."""
    answer = api.get(f"/api/v1/phone/stocktake/{take['id']}/units?code={code}")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_the_counting_page_offers_only_the_units_of_the_item_counted(app, admin_api, api_as, login_as):
    """The unit list offered every unit of the system (千克 for a bottle of water) and the server refused the wrong
    ones; it offers the units of the item the code names, its base unit and its conversions, the line's unit (or a
    case barcode's case) first."""
    code, case = ean13(), ean13()
    sku = new_item(admin_api, barcode=code)
    box = {"item": sku, "unit": "BOX", "ratio": "24", "barcode": case}
    assert admin_api.post("/api/v1/item_unit/", json=box).status_code == 201
    plain = new_item(admin_api)
    take = stocktake(admin_api, lines=[{"item": plain, "counted_qty": "1"}])
    keeper = api_as("warehouse")
    html = login_as("warehouse").get(f"/phone/count/{take['id']}").get_data(as_text=True)
    offered = html.split('id="ph-count-unit"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\w*)"', offered) == [""]  # no list of every unit: 千克 is not a bottle's
    found = units_of(keeper, take, code)
    assert found["item"]["key"] == sku
    assert [(u["code"], u["name"], u["ratio"], u["base"]) for u in found["units"]] == [
        ("", "个", "1", True),
        ("BOX", "箱", "24", False),
    ]
    assert found["default"] == ""  # not counted yet: its base unit
    assert units_of(keeper, take, case)["default"] == "BOX"  # a case's barcode: the case
    assert units_of(keeper, take, plain)["units"] == [{"code": "", "name": "个", "ratio": "1", "base": True}]
    assert units_of(keeper, take, "NO-SUCH-CODE") == {"item": None, "units": [], "default": ""}
    # the unit of the item's line on the stocktake is offered first
    line = admin_api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]["lines"][0]
    lines = [{"id": line["id"], "item": plain, "counted_qty": "1"}, {"item": sku, "unit": "BOX", "counted_qty": "1"}]
    assert admin_api.put(f"/api/v1/stocktake/{take['id']}", json={"lines": lines}).status_code == 200
    assert units_of(keeper, take, code)["default"] == "BOX"
    # counted on the phone in base units, a line in 箱 is refused by the item's SKU and the line's unit (was its id)
    refused = send(keeper, take, unique("K"), [{"code": code, "qty": "1", "unit": "BOX"}]).get_json()["refused"]
    assert refused == [
        {
            "code": sku,
            "reason": "盘点单上该商品的单位是「箱」，手机按基本单位计数，没有计入："
            "请在电脑上把盘点单这一行的单位改为基本单位",
        }
    ]
    elsewhere = stocktake(admin_api, warehouse="WH02")  # not the keeper's
    assert keeper.get(f"/api/v1/phone/stocktake/{elsewhere['id']}/units?code={code}").status_code == 404


def review_page(client: Any, take: dict[str, Any]) -> str:
    page = client.get(f"/phone/count/{take['id']}/review")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def reviewed(html: str) -> list[tuple[str, str, str]]:
    """The review's lines in the order shown: (item, kind, difference)."""
    return re.findall(
        r'<li class="ph-line ph-entry ph-(\w+)" data-item="(\w+)".*?class="ph-fig ph-diff">([^<]*)<', html, re.S
    )


def test_a_keeper_reviews_and_submits_a_stocktake_from_the_phone(app, admin_api, api_as, login_as):
    """A stocktake could only be submitted at a desk. The phone's review shows what was counted against the book,
    the lines that differ first, how many are not counted and what submitting does with them (a cycle count
    leaves them); costs only to who may see them. The reasons a difference needs are saved on their lines and
    the stocktake is submitted through its own API, both with the version reviewed: changed meanwhile, 409 and
    nothing is submitted."""
    same, short, extra, left = (new_item(admin_api) for _ in range(4))
    for sku in (same, short, extra, left):
        receive(admin_api, sku, "10", "2.00")
    keeper = api_as("warehouse")
    take = stocktake(admin_api, lines=[{"item": sku} for sku in (same, short, extra, left)])
    assert (
        send(keeper, take, unique("K"), [{"code": same, "qty": "10"}, {"code": short, "qty": "7"}]).status_code == 200
    )
    assert send(keeper, take, unique("K"), [{"code": extra, "qty": "12"}]).status_code == 200

    client = login_as("warehouse")
    html = review_page(client, take)
    kinds = [(item, kind, diff) for kind, item, diff in reviewed(html)]
    assert kinds == [(short, "loss", "-3"), (extra, "gain", "2"), (left, "uncounted", "—"), (same, "same", "0")]
    assert re.search(r'id="ph-sum-uncounted">1<', html) and re.search(r'id="ph-sum-differ">2<', html)
    assert "循环盘点：只调整已盘的商品，未盘的 1 行不调整库存" in html
    assert "ph-sum-value" not in html and "差异金额" not in html  # a keeper sees no cost
    assert 'id="ph-submit"' in html and "review.js" in html
    manager = review_page(login_as("manager"), take)
    assert re.search(r'id="ph-sum-value">-2.00<', manager)  # (-3 + 2) x 2.00, through the desk's variance sheet
    reader = review_page(login_as("finance"), take)  # reads stocktakes, may not submit one: told so, no button
    assert 'id="ph-submit"' not in reader and 'id="ph-may-not-submit"' in reader

    # a difference without a reason is refused by the submit, on its line
    body = keeper.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
    refused = keeper.post(f"/api/v1/stocktake/{take['id']}/submit", json={"version": body["version"]})
    assert refused.status_code == 422 and {e["field"] for e in refused.get_json()["errors"]} == {
        "lines.1.reason",
        "lines.2.reason",
    }
    ids = {line["item"]["key"]: line["id"] for line in body["lines"]}
    reasons = [{"line": ids[short], "reason": "damage"}, {"line": ids[extra], "reason": "miscount"}]
    url = f"/api/v1/phone/stocktake/{take['id']}/reasons"
    # someone sends counts meanwhile: the reasons and the submit of the version reviewed are refused
    assert send(keeper, take, unique("K"), [{"code": same, "qty": "0", "set": True}, {"code": same, "qty": "10"}])
    stale = keeper.post(url, json={"version": body["version"], "reasons": reasons})
    assert stale.status_code == 409 and "已被他人修改" in stale.get_json()["message"]
    stale = keeper.post(f"/api/v1/stocktake/{take['id']}/submit", json={"version": body["version"]})
    assert stale.status_code == 409
    other = stocktake(admin_api, lines=[{"item": same}])
    other_line = admin_api.get(f"/api/v1/stocktake/{other['id']}").get_json()["result"]["lines"][0]["id"]
    version = keeper.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]["version"]
    foreign = keeper.post(url, json={"version": version, "reasons": [{"line": other_line, "reason": "damage"}]})
    assert foreign.status_code == 404
    for bad in ({"version": version}, {"version": version, "reasons": [{"line": "x"}]}):
        assert keeper.post(url, json=bad).status_code == 400
    saved = keeper.post(url, json={"version": version, "reasons": reasons})
    assert saved.status_code == 200, saved.get_json()
    version = saved.get_json()["version"]
    submitted = keeper.post(f"/api/v1/stocktake/{take['id']}/submit", json={"version": version})
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["result"]["status"] == "submitted" and submitted.get_json()["message"]
    after = {line["item"]["key"]: line for line in submitted.get_json()["result"]["lines"]}
    assert (after[short]["reason"], after[extra]["reason"], after[left]["counted_qty"]) == ("damage", "miscount", None)
    assert balance(app, short)[0] == Decimal(7) and balance(app, left)[0] == Decimal(10)  # a cycle count left it
    posted = review_page(client, take)
    assert "单据已审核" in posted and 'id="ph-submit"' not in posted
    # submitted: its review leads back to the list, never to counting it; its counting page opened anyway says it
    # is counted no more and leads to its differences and to the list, with nothing to count on it
    assert (
        'id="ph-status">已审核<' in posted and "返回盘点<" not in posted and f'/phone/count/{take["id"]}"' not in posted
    )
    assert 'href="/phone/count/"' in posted
    closed = client.get(f"/phone/count/{take['id']}")
    page = closed.get_data(as_text=True)
    assert closed.status_code == 200
    number = body["number"]
    words = f"盘点单 {number} 已审核，不能再录入盘点数量。可以查看它的盘点差异，或返回盘点单列表选择一张草稿盘点单。"
    assert f'id="ph-count-closed" role="alert">{words}<' in page
    assert 'id="ph-scan"' not in page and "count.js" not in page
    assert 'id="ph-back-list" href="/phone/count/"' in page and f'href="/phone/count/{take["id"]}/review"' in page


def test_a_whole_count_reviewed_on_the_phone_says_what_is_counted_0_and_may_wait_for_approval(
    app, admin_api, api_as, login_as
):
    """A whole-warehouse count's review counts the stock no line counts as the posting does (0, a loss, 丢失): the
    lines listed and not counted and the stock of the category not listed; with an approval level on stocktakes the
    same submit sends it to 待审批 and says so."""
    from tests.test_posting import approvals_reading

    category = unique("C")
    assert admin_api.post("/api/v1/category/", json={"code": category, "name": f"盘点{category}"}).status_code == 201
    counted, listed, unlisted = (new_item(admin_api, category=category) for _ in range(3))
    for sku in (counted, listed, unlisted):
        receive(admin_api, sku, "5", "1.00")
    take = document(
        admin_api,
        "stocktake",
        [{"item": counted}, {"item": listed}],
        warehouse="WH01",
        category=category,
        scope="whole",
    )
    keeper = api_as("warehouse")
    assert send(keeper, take, unique("K"), [{"code": counted, "qty": "5"}]).status_code == 200
    html = review_page(login_as("warehouse"), take)
    assert [(item, kind) for kind, item, _ in reviewed(html)] == [
        (listed, "loss"),
        (unlisted, "loss"),
        (counted, "same"),
    ]
    assert re.search(r'id="ph-sum-uncounted">1<', html) and re.search(r'id="ph-sum-unlisted">1<', html)
    assert f"全仓盘点（盘点{category}）：未盘的 1 行和有库存但未列入本单的 1 个商品都按实盘 0 计" in html
    assert "ph-reason-select" not in html  # what posting counts 0 is explained as 丢失 by posting itself
    version = keeper.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]["version"]
    shipped = (app.extensions["jxc_registry"].root / "approvals.yaml").read_text(encoding="utf-8")
    chain = "\nstocktake:\n  amount_field: total_amount\n  levels:\n    - {above: -1000000, role: manager}\n"
    with approvals_reading(app, shipped + chain):
        answer = keeper.post(f"/api/v1/stocktake/{take['id']}/submit", json={"version": version})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["result"]["status"] == "pending" and "已提交审批" in answer.get_json()["message"]
    assert balance(app, listed)[0] == Decimal(5)  # nothing posts before it is approved
