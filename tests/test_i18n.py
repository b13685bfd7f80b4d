"""Chinese first, English second: the locale comes from the browser on the first visit, sticks to the
session, can be switched with FAB's /lang/<code>, and drives page text, API labels and API messages.

FAB ignores Accept-Language by itself, its zh catalog misses strings, and an empty
gettext msgid renders the catalog header ("Project-Id-Version") into pages.
"""

from __future__ import annotations

import ast
import html as htmllib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, csrf_from, unique

EN = "en-US,en;q=0.9"
ZH = "zh-CN,zh;q=0.9"
CJK = re.compile(r"[\u3400-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def browser(app: Any, accept_language: str | None) -> Any:
    """A cookie-keeping test client that sends Accept-Language on every request (like a browser)."""
    client = app.test_client()
    if accept_language:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return client


def new_user(app: Any, role: str = "manager") -> str:
    """A user of its own: the language a user picks is remembered per user, so tests must not share one."""
    from app.services.users.accounts import create_user

    username = f"x_{unique('i').lower()}"
    with app.app_context():
        create_user(username, role, PASSWORD)
    return username


def signed_in(app: Any, accept_language: str | None, username: str | None = None) -> Any:
    """A browser-like client signed in as a fresh user (or `username`) after a first visit to /login/."""
    username = username or new_user(app)
    client = browser(app, accept_language)
    token = csrf_from(client.get("/login/").get_data(as_text=True))
    response = client.post("/login/", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    return client


def page(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def texts(html: str, tags: str) -> list[str]:
    """Text inside the given tags (e.g. 'th|label|button'), tags inside them stripped."""
    found = re.findall(rf"<({tags})\b[^>]*>(.*?)</\1>", html, flags=re.S)
    out = []
    for _, inner in found:
        text = htmllib.unescape(re.sub(r"<[^>]+>", " ", inner))
        text = " ".join(text.split())
        if text:
            out.append(text)
    return out


def content(html: str, css_class: str) -> str:
    """The part of the page inside <div class="<css_class>"> (the JXC content, not FAB's chrome)."""
    start = html.index(f'class="{css_class}"')
    return html[start:]


def visible_text(html: str) -> list[str]:
    """Visible text and user-facing attribute values of a whole page."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    attrs = re.findall(r'\b(?:placeholder|title|alt|aria-label)="([^"]*)"', body)
    attrs += re.findall(r'<input[^>]*type="(?:submit|button)"[^>]*value="([^"]*)"', body)
    text = re.sub(r"<[^>]+>", "\n", body)
    lines = [htmllib.unescape(t).replace("\xa0", " ").strip() for t in text.splitlines()]
    return [t for t in lines + attrs if t]


def item_id(app: Any) -> int:
    from app.extensions import db, registry

    with app.app_context():
        cls = registry().cls("item")
        return int(db.session.query(cls.id).filter(cls.sku == "SP0001").scalar())


# --- pages -------------------------------------------------------------------------------------


def test_first_visit_in_english_shows_english_pages(app):
    client = signed_in(app, EN)
    html = page(client, "/m/item/")
    body = content(html, "jxc-list")
    assert re.search(r"<h3>\s*Item\b", body), body[:300]
    headers = texts(body, "th")
    assert headers[:3] == ["SKU", "Name", "Specification"], headers
    assert not any(CJK.search(h) for h in headers), headers
    assert "商品" not in texts(body, "h3")[0]

    form = content(page(client, "/m/item/new"), "jxc-form")
    labels = texts(form, "label|h3|button|option")
    assert "New Item" in labels and "Save" in labels and any(t.startswith("SKU") for t in labels), labels
    assert not [t for t in labels if CJK.search(t)], labels

    detail = content(page(client, f"/m/item/{item_id(app)}"), "jxc-show")
    chrome = texts(detail, "dt|th|h4|a")
    assert "SKU" in chrome and "History" in chrome and "Back to list" in chrome, chrome
    assert not [t for t in chrome if CJK.search(t)], chrome


@pytest.mark.parametrize("accept_language", [ZH, "zh", None])
def test_chinese_by_header_or_by_default(app, accept_language):
    client = signed_in(app, accept_language)
    body = content(page(client, "/m/item/"), "jxc-list")
    assert re.search(r"<h3>\s*商品\s", body), body[:300]
    headers = texts(body, "th")
    assert headers[:2] == ["商品编码", "商品名称"], headers
    assert not [h for h in headers if LATIN_WORD.search(h)], headers

    form = content(page(client, "/m/item/new"), "jxc-form")
    labels = texts(form, "label|h3|button|option")
    assert "新建 商品" in labels and "保存" in labels, labels
    assert not [t for t in labels if LATIN_WORD.search(t)], labels


def test_lang_switch_sticks_for_the_session(app):
    client = signed_in(app, ZH)
    assert "商品编码" in texts(content(page(client, "/m/item/"), "jxc-list"), "th")

    switched = client.get("/lang/en")
    assert switched.status_code in (302, 303)
    for url in ("/m/item/", "/m/item/", "/m/partner/"):  # the browser still says zh-CN
        headers = texts(content(page(client, url), "jxc-list"), "th")
        assert headers and not [h for h in headers if CJK.search(h)], (url, headers)
    assert "Save" in texts(content(page(client, "/m/item/new"), "jxc-form"), "button")
    # API calls made with this session speak the session's language too
    info = client.get("/api/v1/item/_info").get_json()
    assert {f["name"]: f["label"] for f in info["fields"]}["sku"] == "SKU"

    assert client.get("/lang/zh").status_code in (302, 303)
    assert "商品编码" in texts(content(page(client, "/m/item/"), "jxc-list"), "th")


def test_chosen_language_is_remembered_for_the_user(app):
    username = new_user(app)
    first = signed_in(app, ZH, username)
    assert first.get("/lang/en").status_code in (302, 303)
    # a new session, on a browser that prefers Chinese: the user's choice wins after login
    later = signed_in(app, ZH, username)
    assert texts(content(page(later, "/m/item/"), "jxc-list"), "th")[0] == "SKU"
    # other users keep their own language
    other = signed_in(app, ZH)
    assert texts(content(page(other, "/m/item/"), "jxc-list"), "th")[0] == "商品编码"


@pytest.mark.parametrize("accept_language,lang", [(ZH, "zh"), (EN, "en")])
def test_pages_declare_their_language(app, accept_language, lang):
    """<html lang> lets the browser pick Chinese (not Japanese) glyphs for Han characters and tells screen
    readers which language to speak."""
    client = signed_in(app, accept_language)
    for url in ("/login/", "/m/item/", "/m/item/new"):
        html = page(client if url != "/login/" else browser(app, accept_language), url)
        match = re.search(r"<html\b[^>]*\blang=\"([^\"]+)\"", html)
        assert match and match.group(1).lower().startswith(lang), (url, html[:120])


def test_login_page_in_chinese_has_no_english_leftovers(app):
    html = page(browser(app, ZH), "/login/")
    assert "登录" in html
    allowed = {"JXC", "English"}  # the product name; the language switch names the language in itself
    leftovers = [t for t in visible_text(html) if [w for w in LATIN_WORD.findall(t) if w not in allowed]]
    assert not leftovers, f"untranslated text on the zh login page: {leftovers}"


def test_login_page_in_english(app):
    html = page(browser(app, EN), "/login/")
    text = " ".join(visible_text(html))
    assert "Username" in text and "Password" in text
    assert "用户名" not in text and "密码" not in text


def test_history_on_detail_pages_is_translated(app, admin_api):
    created = admin_api.post("/api/v1/item/", json={"sku": unique("HIS"), "name": "历史记录测试", "unit": "PCS"})
    assert created.status_code == 201
    pk = created.get_json()["id"]
    assert admin_api.put(f"/api/v1/item/{pk}", json={"name": "历史记录测试二"}).status_code == 200
    for accept_language, script in ((ZH, CJK), (EN, LATIN_WORD)):
        history = content(page(signed_in(app, accept_language), f"/m/item/{pk}"), "table table-condensed jxc-history")
        rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", history)
        assert len(rows) == 2, rows
        actions = [action for _, _, action in rows]
        assert all(script.search(a) for a in actions), f"history actions not in {accept_language}: {actions}"


PAGES = [
    "/",
    "/m/item/",
    "/m/item/{item}",
    "/m/item/new",
    "/m/item/{item}/edit",
    "/m/purchase_order/",
    "/m/purchase_order/new",
    "/m/partner/new",
    "/admin/fields/?model=item",
    "/admin/audit/",
    "/users/userinfo/",
    "/resetmypassword/form",
]


@pytest.mark.parametrize("accept_language", [ZH, EN])
def test_no_page_shows_the_gettext_catalog_header(app, accept_language):
    def shows_header(text: str) -> bool:
        return "Project-Id-Version" in text or "Content-Transfer-Encoding" in text

    bad = []
    if shows_header(page(browser(app, accept_language), "/login/")):
        bad.append("/login/")
    client = signed_in(app, accept_language, new_user(app, "admin"))
    pk = item_id(app)
    for url in PAGES:
        if shows_header(page(client, url.format(item=pk))):
            bad.append(url)
    # a form with errors renders help texts and messages too
    token = csrf_from(page(client, "/m/item/new"))
    errors = client.post("/m/item/new", data={"csrf_token": token, "sku": "", "sale_price": "abc"})
    assert errors.status_code == 200
    assert "jxc-error" in errors.get_data(as_text=True)
    if shows_header(errors.get_data(as_text=True)):
        bad.append("/m/item/new (with errors)")
    assert not bad, f"catalog header shown on {bad}"


def test_form_errors_follow_the_locale(app):
    for accept_language, required, number in (
        (ZH, "必填", "应为数字"),
        (EN, "This field is required", "Must be a number"),
    ):
        client = signed_in(app, accept_language)
        token = csrf_from(page(client, "/m/item/new"))
        response = client.post(
            "/m/item/new", data={"csrf_token": token, "sku": unique("I18N"), "name": "", "sale_price": "abc"}
        )
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        errors = dict(re.findall(r'data-field="([^"]+)">([^<]*)<', html))
        assert errors.get("name") == required, errors
        assert errors.get("sale_price") == number, errors


# --- API ----------------------------------------------------------------------------------------


def token_client(app: Any) -> tuple[Any, dict[str, str]]:
    """A client that keeps no cookies (like curl) with a bearer token."""
    client = app.test_client(use_cookies=False)
    response = client.post("/api/v1/security/login", json={"username": "admin", "password": PASSWORD, "provider": "db"})
    assert response.status_code == 200
    return client, {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def test_api_labels_follow_accept_language(app):
    client, auth = token_client(app)
    english = client.get("/api/v1/item/_info", headers=dict(auth, **{"Accept-Language": EN})).get_json()
    labels = {f["name"]: f["label"] for f in english["fields"]}
    assert labels["sku"] == "SKU" and labels["name"] == "Name"
    assert not [v for v in labels.values() if CJK.search(v)], labels

    for headers in (dict(auth, **{"Accept-Language": ZH}), auth):
        chinese = client.get("/api/v1/item/_info", headers=headers).get_json()
        labels = {f["name"]: f["label"] for f in chinese["fields"]}
        assert labels["sku"] == "商品编码"
    listed = client.get("/api/v1/item/?q=(page_size:1)", headers=dict(auth, **{"Accept-Language": EN})).get_json()
    assert listed["list_title"] == "Item" and listed["label_columns"]["sku"] == "SKU"


def test_api_validation_messages_follow_the_locale(app, admin_api):
    bad = {"sku": unique("I18N"), "sale_price": "abc"}
    default = admin_api.post("/api/v1/item/", json=bad)  # no Accept-Language: Chinese
    assert default.status_code == 422
    assert default.get_json()["message"]["name"] == ["必填"]
    assert default.get_json()["message"]["sale_price"] == ["应为数字"]

    client, auth = token_client(app)
    english = client.post("/api/v1/item/", json=bad, headers=dict(auth, **{"Accept-Language": EN}))
    assert english.status_code == 422
    assert english.get_json()["message"]["name"] == ["This field is required"]
    assert english.get_json()["message"]["sale_price"] == ["Must be a number"]
    chinese = client.post("/api/v1/item/", json=bad, headers=dict(auth, **{"Accept-Language": ZH}))
    assert chinese.get_json()["message"]["sale_price"] == ["应为数字"]
    # a filter the user may not use is explained in the caller's language too
    refused = client.get(
        "/api/v1/item/?q=(filters:!((col:nope,opr:eq,value:x)))", headers=dict(auth, **{"Accept-Language": EN})
    )
    assert refused.status_code == 400 and "nope" in refused.get_json()["message"]
    assert not CJK.search(refused.get_json()["message"])


@pytest.mark.parametrize(
    "spec_change,field", [({"type": "colour"}, "type"), ({"type": "link", "to": "no_such_model"}, "to")]
)
def test_field_spec_errors_follow_the_locale(app, spec_change, field):
    """The field editor shows these messages to a Chinese admin: they must be Chinese by default."""
    client, auth = token_client(app)
    spec = dict(
        {
            "name": unique("i").lower(),
            "type": "text",
            "label": {"zh": "产地", "en": "Origin"},
            "help": {"zh": "产地", "en": "Origin"},
        },
        **spec_change,
    )
    english = client.post("/api/v1/meta/item/fields", json=spec, headers=dict(auth, **{"Accept-Language": EN}))
    assert english.status_code == 422
    assert english.get_json()["message"][field]
    chinese = client.post("/api/v1/meta/item/fields", json=spec, headers=auth)
    assert chinese.status_code == 422
    message = chinese.get_json()["message"][field][0]
    assert CJK.search(message), f"zh admin gets an English-only message: {message!r}"


def test_catalogues_hold_the_same_keys_and_parameters() -> None:
    """zh.yaml and en.yaml: every key in both, with the same {parameters}, and no empty text."""
    from string import Formatter

    from app.i18n import CATALOGUES

    zh, en = CATALOGUES["zh"], CATALOGUES["en"]
    assert set(zh) == set(en), sorted(set(zh) ^ set(en))

    def params(text: str) -> set[str]:
        return {name for _, name, _, _ in Formatter().parse(text) if name}

    assert {k: params(zh[k]) for k in zh} == {k: params(en[k]) for k in zh}
    # a brace meant as text ({"type": ...}) is written {{ }}: a parameter is always a plain name
    odd = sorted(k for k in zh if not all(name.isidentifier() for name in params(zh[k]) | params(en[k])))
    assert not odd, odd
    assert all(text.strip() for text in [*zh.values(), *en.values()])
    # a Chinese text has Chinese words; only punctuation around parameters ("{message}：{rows}", "/") has none
    words = {k: "".join(literal for literal, _, _, _ in Formatter().parse(v)) for k, v in zh.items()}
    untranslated = [k for k, v in zh.items() if not CJK.search(v) and re.search("[A-Za-z]", words[k])]
    assert not untranslated, untranslated


# --- one place per language: the catalogues ---------------------------------------------------------

APP = Path(__file__).resolve().parent.parent / "app"
CJK_TEXT = re.compile(r"[\u3400-\u9fff]")


def test_templates_name_catalogue_keys() -> None:
    """L('key', param=...) only: a page's words live in app/i18n, not in the template."""
    from app.i18n import CATALOGUES

    calls = [
        (path.name, call)
        for path in (APP / "templates").rglob("*.html")
        for call in re.findall(r"\bL\(([^)]*)\)", path.read_text(encoding="utf-8"))
    ]
    assert len(calls) > 100
    for name, call in calls:
        found = re.fullmatch(r"'([\w.]+)'(?:\s*,\s*\w+=\w+)*", call.strip())
        assert found and found.group(1) in CATALOGUES["zh"], (name, call)


def test_scripts_and_code_carry_no_texts_of_their_own() -> None:
    """The browser's scripts get their words from the page (catalogue keys); Python names keys too."""
    from app.i18n import CATALOGUES

    for path in (APP / "static" / "jxc").rglob("*.js"):
        code = re.sub(r"/\*.*?\*/|(^|\s)//[^\n]*", " ", path.read_text(encoding="utf-8"), flags=re.S)
        assert not CJK_TEXT.search(code), f"{path.name} has text of its own: {CJK_TEXT.search(code)}"
        prefix = {"fields.js": "fields.", "imports.js": "imports.page."}.get(path.name, "grid.")
        for key in re.findall(r"\bt\('(\w+)'", code):
            assert prefix + key in CATALOGUES["zh"], (path.name, key)
    inline = [
        f"{path.relative_to(APP)}:{node.lineno}"
        for path in APP.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Dict)
        and any(isinstance(k, ast.Constant) and k.value == "zh" for k in node.keys)
        and any(isinstance(v, ast.Constant) and CJK_TEXT.search(str(v.value)) for v in node.values)
    ]
    assert not inline, f"{{zh: ...}} texts in code: {inline}"


@pytest.mark.parametrize(("accept_language", "save", "rows"), [(ZH, "保存", "共 {n} 条"), (EN, "Save", "{n} rows")])
def test_the_grid_gets_its_words_in_the_readers_language(app, accept_language, save, rows):
    html = page(signed_in(app, accept_language), "/grid/item/")
    found = re.search(r'<script type="application/json" id="jxc-texts">(.*?)</script>', html, flags=re.S)
    assert found, "the grid page carries no texts"
    texts = json.loads(found.group(1))
    assert texts["save"] == save and texts["total"] == rows and "page.save" not in texts


def test_the_locale_follows_babel_within_a_request(app):
    """`current_locale` reads Flask-Babel's choice once made, and a forced or refreshed locale at once."""
    from flask import session
    from flask_babel import force_locale, get_locale

    from app.i18n import current_locale, label, use_locale

    texts = {"zh": "商品", "en": "Item"}
    with app.test_request_context("/"):
        session["locale"] = "en"  # what the first request of a browser asking for English keeps
        assert current_locale() == "en" and label(texts) == "Item"  # chosen now
        assert get_locale() is not None and current_locale() == "en"  # kept by Flask-Babel
        with force_locale("zh"):
            assert current_locale() == "zh" and label(texts) == "商品"
        assert current_locale() == "en"
        with use_locale("zh"):
            assert label(texts) == "商品"
    with app.test_request_context("/"):
        session["locale"] = "zh"
        assert label(texts) == "商品"
    with app.app_context():
        assert current_locale() == "zh"  # no request: the default


def test_the_robots_address_is_named_in_chinese():
    """企业微信 / 钉钉's robot address is 机器人回调地址 to a Chinese reader, never the English "Webhook" (a URL that
    holds the word, as an example of what to paste, is an address, not a word)."""
    from app.i18n import CATALOGUES

    words = {key: re.sub(r"https?://\S+", "", text) for key, text in CATALOGUES["zh"].items()}
    assert [key for key, text in words.items() if "webhook" in text.lower()] == []
    assert CATALOGUES["zh"]["alerts.robot_url"] == "机器人回调地址"
