"""Bad input is answered 400 / 404 / 422 with a Chinese JSON message, never a 500 (docs/inputs.md).

Each test covers a class over every route or every model it applies to: ids beyond what a column holds,
bodies that are not JSON the app accepts (non-finite numbers, deep nesting), bodies of the wrong shape,
field values of the wrong shape or size, filters and paging out of range.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.extensions import db, registry
from app.meta.loader import load_metadata
from app.meta.types import FIELD_TYPES
from tests.conftest import Api
from tests.factories import make_payload, writable_models

META, _ = load_metadata(Path(__file__).resolve().parent.parent / "metadata")
HUGE = "5270050903007409431642112000"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Routes a test with a made-up body must not call: they end the caller's sign-in
SIGN_OUT = ("/api/v1/security/logout",)
# No body asks for every suggestion: it would draft orders that later tests count
DRAFTS_FROM_NOTHING = ("/api/v1/reorder/orders",)
ONE_OF_EACH = ("item", "purchase_order", "stock_move")  # a master, a document, the ledger


def sqlite_only(app) -> None:
    """Routing, JSON parsing and body sizes do not depend on the database: checked once, on SQLite."""
    if app.config["JXC_BACKEND"] != "sqlite":
        pytest.skip("does not depend on the database: checked on SQLite")


def _chinese_json(response) -> str:
    body = response.get_json(silent=True)
    assert isinstance(body, dict), (response.status_code, response.get_data(as_text=True)[:300])
    text = str(body.get("message") or body)
    assert CJK.search(text), text
    return text


def _api_rules(app, methods: set[str]) -> list[tuple[str, str, str]]:
    """(method, url, rule) for every API route answering one of `methods`, path arguments filled with an id
    no row has (so a route that ignores its body still changes nothing)."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in SIGN_OUT:
            continue
        model = rule.rule.split("/")[3]
        if META.models.get(model) is not None and model not in ONE_OF_EACH:
            continue  # every model's routes are the same code (app/api/model_api.py): one of each kind
        url = re.sub(r"<int:[^>]+>", "2147483000", rule.rule)
        url = re.sub(r"<[^>]+>", "zz-none", url)
        out.extend((method, url, rule.rule) for method in sorted(rule.methods & methods))
    return out


@pytest.fixture(scope="module")
def own_api(app):
    """An admin client of this module's own (a refused body must not end the shared clients' sign-ins)."""
    return Api(app, "admin")


def test_path_ids_beyond_what_a_column_holds_are_not_found(app, own_api):
    sqlite_only(app)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule or rule.rule in SIGN_OUT:
            continue
        model = rule.rule.split("/")[3 if rule.rule.startswith("/api/") else 2]
        if META.models.get(model) is not None and model not in ONE_OF_EACH:
            continue
        url = re.sub(r"<int:[^>]+>", HUGE, rule.rule)
        url = re.sub(r"<[^>]+>", "x", url)
        for method in sorted(rule.methods & {"GET", "POST", "PUT", "DELETE"}):
            response = own_api.client.open(url, method=method, headers=own_api.headers, json={})
            assert response.status_code in (404, 405), (method, url, response.status_code)
            if url.startswith("/api/"):
                _chinese_json(response)
            checked += 1
    assert checked > 30  # a document's get / put / delete / history / submit / approve, pages, grid, jobs ...


REFUSED_BODIES = {
    "NaN": '{"remark": NaN}',
    "Infinity": '{"qty": Infinity}',
    "-Infinity": '{"qty": -Infinity}',
    "beyond a double": '{"qty": 1e1000000}',
    "nested 5,000 deep": "[" * 5000 + "]" * 5000,
    "nested 100 deep": '{"a": ' * 100 + "1" + "}" * 100,
    "cut short": '{"a": ',
}


def test_bodies_the_app_does_not_accept_are_refused_before_any_view(app, own_api):
    """Every refused body on a few routes, and the deepest one on every write route (the check runs before
    routing reaches a view, so it is the same for all)."""
    sqlite_only(app)
    rules = _api_rules(app, {"POST", "PUT"})
    json_headers = dict(own_api.headers, **{"Content-Type": "application/json"})
    cases = [(what, body, rules[:: max(len(rules) // 3, 1)]) for what, body in REFUSED_BODIES.items()]
    cases.append(("nested 5,000 deep", REFUSED_BODIES["nested 5,000 deep"], rules))
    for what, body, some in cases:
        for method, url, _rule in some:
            response = own_api.client.open(url, method=method, headers=json_headers, data=body)
            assert response.status_code == 400, (what, method, url, response.status_code)
            _chinese_json(response)


def test_bodies_of_the_wrong_shape_never_reach_a_server_error(app, own_api):
    sqlite_only(app)
    rules = _api_rules(app, {"POST", "PUT", "DELETE"})
    for body in ([None, None], None):  # a list; no body at all (FAB's own APIs read request.json)
        for method, url, rule in rules:
            if body is None and rule in DRAFTS_FROM_NOTHING:
                continue
            sent = {"json": body} if body is not None else {"data": b"", "content_type": "text/plain"}
            response = own_api.client.open(url, method=method, headers=own_api.headers, **sent)
            assert response.status_code < 500, (body, method, url, response.get_data(as_text=True)[:300])
            if body is not None:  # no body can be a request of its own (notifications/read: all of them)
                assert response.status_code >= 400, (body, method, url)


def test_a_list_where_an_object_is_expected(own_api):
    response = own_api.post("/api/v1/reorder/orders", json=[1, 2])
    assert response.status_code == 422
    _chinese_json(response)


WRITABLE = writable_models(type("R", (), {"meta": META})())  # type: ignore[arg-type]


def test_every_field_refuses_values_of_the_wrong_shape_or_size(app, own_api):
    """Every writable field gets a list, an object, a number beyond 64 bits or -1e1000000: 422 naming each."""
    for model_key in WRITABLE if app.config["JXC_BACKEND"] == "sqlite" else ONE_OF_EACH[:2]:
        model = META.model(model_key)
        with app.app_context():
            payload = make_payload(db.session, registry(), model_key)
        fields = [s for s in model.data_fields if not s.readonly and s.type != "lines"]
        for index, spec in enumerate(fields):  # each field one of the bad values in turn: one request a model
            numeric = FIELD_TYPES[spec.type].numeric or spec.is_link
            payload[spec.name] = ([None, None], {"id": [1]}, int(HUGE), "-1e1000000")[index % (4 if numeric else 2)]
        response = own_api.post(f"/api/v1/{model_key}/", json=payload)
        assert response.status_code == 422, (model_key, response.get_data(as_text=True)[:300])
        named = {e["field"] for e in response.get_json()["errors"]}
        assert {s.name for s in fields} <= named, (model_key, {s.name for s in fields} - named)
        assert all(CJK.search(e["message"]) for e in response.get_json()["errors"])


@pytest.mark.parametrize("model_key", ["item", "purchase_receipt"])
def test_filters_and_paging_beyond_range_are_refused(own_api, model_key):
    model = META.model(model_key)
    numeric = next(s for s in model.fields if FIELD_TYPES[s.type].numeric)
    for name in (numeric.name, "id"):
        for value in (HUGE, "1e1000000"):
            q = f"(filters:!((col:{name},opr:eq,value:'{value}')))"
            response = own_api.get(f"/api/v1/{model_key}/?q={q}")
            assert response.status_code in (200, 400), (name, value, response.get_data(as_text=True)[:300])
            grid = own_api.get(
                f"/api/v1/grid/{model_key}/rows?filter[0][field]={name}&filter[0][type]=%3D&filter[0][value]={value}"
            )
            assert grid.status_code in (200, 400), (name, value, grid.get_data(as_text=True)[:300])
    for q in (f"(page:{HUGE})", "(page_size:-1)", f"(page_size:{HUGE})"):
        response = own_api.get(f"/api/v1/{model_key}/?q={q}")
        assert response.status_code == 422, (q, response.status_code)
    for args in (f"page={HUGE}", f"size={HUGE}", "size=-1"):
        response = own_api.get(f"/api/v1/grid/{model_key}/rows?{args}")
        assert response.status_code == 422, (args, response.get_data(as_text=True)[:300])
    response = own_api.get(f"/api/v1/grid/{model_key}/rows?ids={HUGE}")
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]


def test_audit_paging_is_bounded(own_api):
    assert len(own_api.get("/api/v1/audit/?page_size=2").get_json()["result"]) == 2
    for args in ("page_size=-1", "page_size=0", "page_size=501", f"page={HUGE}", "page=-1"):
        response = own_api.get(f"/api/v1/audit/?{args}")
        assert response.status_code == 422, (args, response.status_code)
        _chinese_json(response)


def test_json_bodies_beyond_the_limit_are_refused_with_413(app, own_api):
    sqlite_only(app)
    limit = app.config["JXC_MAX_JSON_BYTES"]
    big = {"sku": "X", "name": "大", "remark": "长" * (limit // 3 + 10)}  # 3 bytes a character in UTF-8
    response = own_api.post("/api/v1/item/", json=big)
    assert response.status_code == 413
    assert "过大" in _chinese_json(response)


def test_a_page_refuses_too_large_a_form_with_a_chinese_page(app):
    sqlite_only(app)
    client = app.test_client()
    response = client.post("/login/", data={"username": "x" * (app.config["JXC_MAX_JSON_BYTES"] + 10)})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert 'id="jxc-error"' in html and "请求内容过大" in html


def test_file_uploads_have_their_own_larger_limit(app, own_api):
    """A multipart upload above the JSON limit passes the size check (the API then judges it: not an object);
    above the upload limit it is refused with 413 before it is read."""
    sqlite_only(app)
    json_limit, upload_limit = app.config["JXC_MAX_JSON_BYTES"], app.config["MAX_CONTENT_LENGTH"]
    assert upload_limit > json_limit
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(b"0" * (json_limit + 1024)), "big.xlsx")})
    multipart = {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}
    response = own_api.post("/api/v1/item/", **multipart)
    assert response.status_code == 422, response.status_code
    app.config["MAX_CONTENT_LENGTH"] = json_limit + 512  # the mechanism, without sending 50 MB
    try:
        response = own_api.post("/api/v1/item/", **multipart)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = upload_limit
    assert response.status_code == 413
    _chinese_json(response)


def _leaves(message) -> list:
    """The texts of a 422 message: a text, or lists and mappings of them per field."""
    if isinstance(message, dict):
        return [leaf for value in message.values() for leaf in _leaves(value)]
    if isinstance(message, list):
        return [leaf for value in message for leaf in _leaves(value)]
    return [message]


def test_fabs_security_apis_refuse_in_chinese_and_refuse_blank_names(app, own_api):
    """The admin's user, role, group and permission APIs are FAB's: their 422s (marshmallow's texts) read in
    Chinese like every other, and a blank name is refused rather than saved."""
    sqlite_only(app)
    creates = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if re.fullmatch(r"/api/v1/security/[a-z-]+/", rule.rule) and "POST" in rule.methods
    )
    assert "/api/v1/security/users/" in creates and "/api/v1/security/roles/" in creates
    for url in creates:
        refused = own_api.post(url, json={"no_such_field": 1})
        assert refused.status_code in (400, 422), (url, refused.get_data(as_text=True)[:300])
        texts = _leaves(refused.get_json()["message"])
        assert texts and all(CJK.search(str(text)) for text in texts), (url, texts)
    missing = own_api.post("/api/v1/security/users/", json={}).get_json()["message"]
    assert missing["username"] == ["必填"] and missing["password"] == ["必填"]
    blank = own_api.post("/api/v1/security/roles/", json={"name": "  "})
    assert blank.status_code == 422 and blank.get_json()["message"] == {"name": ["必填"]}
    role = next(r for r in own_api.get("/api/v1/security/roles/").get_json()["result"] if r["name"] == "clerk")
    renamed = own_api.put(f"/api/v1/security/roles/{role['id']}", json={"name": ""})
    assert renamed.status_code == 422 and renamed.get_json()["message"] == {"name": ["必填"]}
    assert any(r["name"] == "clerk" for r in own_api.get("/api/v1/security/roles/").get_json()["result"])


def test_every_refusal_of_the_api_reads_in_chinese(app):
    """Whatever refuses a GET (FAB's @protect with its {"message": "Forbidden"}, a missing serial, our own
    checks), a warehouse keeper reads the reason in Chinese: over every API route, ids that do not exist."""
    sqlite_only(app)
    keeper = Api(app, "u_warehouse")
    refused = []
    for _method, url, _rule in _api_rules(app, {"GET"}):
        response = keeper.get(url)
        if 400 <= response.status_code < 500 and response.is_json:
            refused.append(url)
            _chinese_json(response)
    assert "/api/v1/cash/" in refused and any(url.startswith("/api/v1/serials/") for url in refused)


PAGE_SIZES = [  # (where, the page size argument, its most): every API that takes a page size
    ("/api/v1/grid/item/rows", "size", 1000),
    ("/api/v1/grid/item/ids", "count", 5000),
    ("/api/v1/reports/sales_analysis", "page_size", 1000),
    ("/api/v1/reorder/suggestions", "page_size", 1000),
    ("/api/v1/audit/", "page_size", 500),
    ("/api/v1/jobs/", "limit", 500),
]


@pytest.mark.parametrize(("path", "name", "most"), PAGE_SIZES)
def test_a_page_size_out_of_bounds_is_a_422_as_a_bad_page_is(own_api, path, name, most):
    """A page size of 0, a negative, past the most or not a whole number is refused as a page number is: 422, the
    message saying what a page size is, on the argument (it was a 400 saying only 每页最多 1000 行)."""
    for value in ("0", "-1", str(most + 1), "x", "1.5"):
        answer = own_api.get(path, query_string={name: value})
        said = f"每页行数应为 1 到 {most} 的整数：{value}"
        assert answer.status_code == 422, (path, value, answer.get_data(as_text=True)[:300])
        assert answer.get_json() == {"message": said, "errors": [{"field": name, "message": said}]}, value
    assert own_api.get(path, query_string={name: str(most)}).status_code == 200


def test_the_generic_list_and_the_grid_refuse_a_page_size_and_a_page_alike(own_api):
    said = "每页行数应为 1 到 1000 的整数：0"
    answer = own_api.get("/api/v1/item/?q=(page_size:0)")
    assert answer.status_code == 422 and answer.get_json() == {
        "message": said,
        "errors": [{"field": "page_size", "message": said}],
    }
    page = own_api.get("/api/v1/grid/item/rows", query_string={"page": "0"})
    assert page.status_code == 422 and page.get_json()["errors"] == [
        {"field": "page", "message": "页码应为从 1 起的整数（第一页为 1）：0"}
    ]


BAD_QS = {  # q as written -> what the answer says of it (FAB answered a bare 400 in English; `(((` was a 500)
    "(page_size:'x')": "查询参数 q 的「page_size」无效：x",
    "(order_direction:up)": "查询参数 q 的「order_direction」无效：up",
    "!(1)": "查询参数 q 应为对象，如 (page:0,page_size:20)：!(1)",
    "(page_size:": "查询参数 q 不是有效的 rison 或 JSON：(page_size:",
    "(((": "查询参数 q 不是有效的 rison 或 JSON：(((",
}
BAD_QS_OF_A_ROW = ["!(1)", "(page_size:", "((("]  # a row's q takes no paging: what is wrong with any q


@pytest.mark.parametrize(
    ("path", "q"),
    [(path, q) for path in ("/api/v1/item/", "/api/v1/purchase_order/") for q in BAD_QS]
    + [("/api/v1/item/1", q) for q in BAD_QS_OF_A_ROW],
)
def test_a_q_that_is_not_the_rison_asked_for_is_a_422_on_q(own_api, path, q):
    """A REST list's (or row's) `q` that does not parse, or does not fit what the list takes, is refused as every
    argument is: 422 on `q`, in Chinese, saying which part is wrong and how it was written."""
    answer = own_api.get(path, query_string={"q": q})
    said = BAD_QS[q]
    assert answer.status_code == 422, (path, q, answer.get_data(as_text=True)[:300])
    assert answer.get_json() == {"message": said, "errors": [{"field": "q", "message": said}]}


@pytest.mark.parametrize(
    "path", ["/api/v1/security/roles/", "/api/v1/security/users/", "/api/v1/security/permissions/"]
)
def test_fabs_own_lists_refuse_a_q_as_ours_do(own_api, path):
    """FAB's security APIs (its own `@rison`): a `q` that does not parse was a 500 (prison's TypeError on
    `(page_size:`, RecursionError on `(((`), one that does not fit a 400 saying only 这个值无效; both are a 422
    on `q`."""
    for q in ("(((", "(page_size:"):
        answer = own_api.get(path, query_string={"q": q})
        said = f"查询参数 q 不是有效的 rison 或 JSON：{q}"
        assert answer.status_code == 422, (path, q, answer.get_data(as_text=True)[:300])
        assert answer.get_json() == {"message": said, "errors": [{"field": "q", "message": said}]}
    answer = own_api.get(path, query_string={"q": "(page_size:'x')"})
    said = "查询参数 q 不符合该列表可用的条件（分页、排序、筛选）：(page_size:'x')"
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    assert answer.get_json() == {"message": said, "errors": [{"field": "q", "message": said}]}
    assert own_api.get(path, query_string={"q": "(page_size:5)"}).status_code == 200
