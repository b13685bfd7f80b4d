"""The zh-CN walk: each role of the demo signs in with a Chinese browser and opens every page of every
menu it has; no page shows a Latin word outside codes, numbers, brand names and product names, and none is
an unstyled error page. Screenshots go to test-artifacts/walk-<role>-<n>.png.

One Chromium, one context per role: the administrator's pages are rendered (and photographed), the other
roles' home pages too, and their menu pages (the same pages with fewer menus and columns) fetched with
their session and read as HTML, which keeps the walk within seconds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import prison
import pytest
from conftest import PASSWORD, ROLES
from in_browser import DESKTOP, Console, demo_server, headless_chromium
from servers import ARTIFACTS, HttpApi

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Latin words a Chinese clerk may see: product and brand names, file formats, the language switch
ALLOWED = {
    "JXC",
    "Excel",
    "WPS",
    "API",
    "CSV",
    "English",
    "Email",
    "ID",
    "jxc",
    "admin",  # the command line's name in the audit trail; the administrator's login name
    "RMB",
    "cron",  # the schedule syntax admins type (分 时 日 月 周), named as such beside its Chinese help
}
# a token with a digit, an @, a _, a dot inside or :// is a code, a number, an e-mail, a user name or an address
CODE = re.compile(r"[0-9@_]|\w\.\w|://")
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")
# where a page shows codes by design: field names on the field editor, request ids, JSON of platform rows
CODE_PLACES = "code, kbd, pre, small, script, style, select, option, input, textarea, .jxc-skip-words"

TEXT_OF_PAGE = """(places) => {
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll(places).forEach((n) => n.remove());
  clone.querySelectorAll('.modal, [style*="display: none"], .sr-only').forEach((n) => n.remove());
  return clone.innerText + ' ' + Array.from(document.querySelectorAll('[title], [placeholder]'))
    .map((n) => (n.getAttribute('title') || '') + ' ' + (n.getAttribute('placeholder') || '')).join(' ');
}"""


def latin_words(text: str, products: set[str]) -> set[str]:
    """Latin words of a page's text that are not codes (upper case, digits), allowed or product words."""
    found = set()
    for token in text.split():
        if CODE.search(token):
            continue
        for word in WORD.findall(token):
            if word in ALLOWED or word in products or word.isupper():  # upper case: unit, pinyin codes
                continue
            found.add(word)
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from demo_server(tmp_path_factory, "walk")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from headless_chromium()


@pytest.fixture(scope="module")
def users(server: Any) -> dict[str, str]:
    """One user per role (the administrator exists), made through FAB's security API."""
    api = HttpApi(server.url)
    made = {"admin": "admin"}
    for role in ROLES[1:]:
        query = prison.dumps({"filters": [{"col": "name", "opr": "eq", "value": role}]})
        status, roles = api.get("/api/v1/security/roles/?q=" + query)
        assert status == 200 and roles["count"] == 1, roles
        user = {
            "username": f"walk_{role}",
            "first_name": "巡查",
            "last_name": "一二三四五六七"[ROLES.index(role)] + "号",
            "email": f"walk_{role}@jxc.local",
            "password": PASSWORD,
            "active": True,
            "roles": [roles["ids"][0]],
        }
        status, body = api.post("/api/v1/security/users/", user)
        assert status == 201, body
        made[role] = user["username"]
    return made


@pytest.fixture(scope="module")
def products(server: Any) -> set[str]:
    """Latin words in the demo's item, partner and unit names (brands such as LED or Coca-Cola)."""
    api = HttpApi(server.url)
    words: set[str] = set()
    for model, columns in (("item", ("name", "spec", "pinyin")), ("partner", ("name", "contact")), ("unit", ("name",))):
        status, body = api.get(f"/api/v1/{model}/?q=" + prison.dumps({"page_size": 100}))
        assert status == 200, body
        for row in body["result"]:
            for column in columns:
                words.update(WORD.findall(str(row.get(column) or "")))
    return words


def menu_links(page: Any) -> list[str]:
    """Every page the navigation bar offers (menus and their entries), without signing out or switching
    language."""
    hrefs = page.eval_on_selector_all(
        ".navbar .dropdown-menu a[href]", "(links) => links.map((a) => a.getAttribute('href'))"
    )
    skip = ("/logout", "/lang/", "#", "javascript:")
    return list(dict.fromkeys(h for h in hrefs if h.startswith("/") and not h.startswith(skip)))


def html_text(html: str) -> str:
    """The words of an HTML answer outside code places (what a page shows before its scripts run)."""
    html = re.sub(r"<(script|style|code|kbd|pre|small|select|textarea)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def check_page(page: Any, url: str, shot: str, products: set[str], problems: list[str]) -> None:
    """Open a page in the browser: a styled page with the menu, no Latin words; a screenshot of it."""
    response = page.goto(url, wait_until="domcontentloaded")
    status = response.status if response else 0
    page.screenshot(path=str(ARTIFACTS / f"walk-{shot}.png"))
    styled = page.evaluate("() => document.styleSheets.length > 0 && !!document.querySelector('.navbar')")
    if status >= 400 or not styled:
        problems.append(f"{shot} {url}: status {status}, styled {styled}")
    words = latin_words(page.evaluate(TEXT_OF_PAGE, CODE_PLACES), products)
    if words:
        problems.append(f"{shot} {url}: {sorted(words)}")


def check_answer(context: Any, url: str, role: str, products: set[str], problems: list[str]) -> None:
    """Fetch a page with the role's cookies (no rendering): it opens, and its HTML has no Latin words."""
    answer = context.request.get(url)
    words = latin_words(html_text(answer.text()), products)
    if answer.status >= 400 or words:
        problems.append(f"{role} {url}: status {answer.status} {sorted(words)}")


def test_every_menu_page_speaks_chinese_to_every_role(
    server: Any, chromium: Any, users: dict[str, str], products: set[str]
) -> None:
    """The administrator's every menu page in Chromium (screenshots); every other role's home page in
    Chromium and its menu pages fetched with its session."""
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    opened = fetched = 0
    for role, username in users.items():
        context = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
        console = Console()
        page = context.new_page()
        console.attach(page)
        page.goto(server.url + "/login/")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(server.url + "/")
        links = menu_links(page)
        assert len(links) > 3, f"{role} has no menus"
        shown = ["/", *links] if role == "admin" else ["/"]
        for n, link in enumerate(shown):
            check_page(page, server.url + link, f"{role}-{n:02d}", products, problems)
        for link in links if role != "admin" else []:
            check_answer(context, server.url + link, role, products, problems)
        opened, fetched = opened + len(shown), fetched + (len(links) if role != "admin" else 0)
        context.close()
    assert opened > 30 and fetched > 60, (opened, fetched)
    assert not problems, "\n".join(problems)
