"""What the browser test modules share: Debian chromium through Playwright, the viewports, a console that
fails a test on errors, and a demo server per module."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import prison
import pytest
from servers import ADMIN_PASSWORD, ARTIFACTS, HttpApi, jxc_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def demo_server(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Any]:
    """A gunicorn server on a fresh SQLite database with the demo data (a module fixture yields from it)."""
    instance = tmp_path_factory.mktemp(name) / "instance"
    with jxc_server(f"sqlite:///{instance / 'jxc.db'}", instance, name=name, demo=True) as running:
        yield running


def headless_chromium() -> Iterator[Any]:
    """Debian's chromium, headless (a module fixture yields from it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Console:
    """Console errors (CSP violations among them), uncaught page errors and failed loads of one context."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.warnings: list[str] = []  # "script url: text"

    def attach(self, page: Any) -> None:
        page.on("console", lambda msg: self.errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: uncaught {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.warnings.append(f"{msg.location.get('url', '')}: {msg.text}") if msg.type == "warning" else None
            ),
        )
        page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    def csp(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e or "Content-Security-Policy" in e]

    def check(self, expected_failures: tuple[str, ...] = ()) -> None:
        assert not self.csp(), f"CSP violations: {self.csp()}"
        # a failed load shows as "Failed to load resource"; those are judged by their URL below
        others = [e for e in self.errors if "Failed to load resource" not in e]
        assert not others, f"console errors: {others}"
        # browsers ask for /favicon.ico on their own (a 404 there is reported, not failed on)
        failed = [f for f in self.failed if not f.endswith("/favicon.ico") and f not in expected_failures]
        assert not failed, f"failed loads: {failed}"


def signed_in(
    chromium: Any, url: str, username: str = "admin", password: str = ADMIN_PASSWORD, **options: Any
) -> tuple[Any, Any, Console]:
    """(context, page, console): a new zh-CN context (desktop unless `options` say otherwise) whose page signed
    in through /login/ like a person and waits on the home page, its console watched."""
    context = chromium.new_context(**{"viewport": DESKTOP, "locale": "zh-CN", **options})
    page = context.new_page()
    console = Console()
    console.attach(page)
    page.goto(url + "/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("input[type=submit]")
    page.wait_for_url(url + "/")
    return context, page, console


def make_user(api: HttpApi, username: str, role: str, password: str, **fields: Any) -> None:
    """A user with one role, made through FAB's security API as an administrator's script would (`fields`: first
    and last name, e-mail; none given: a user without an address)."""
    query = prison.dumps({"filters": [{"col": "name", "opr": "eq", "value": role}]})
    status, roles = api.get("/api/v1/security/roles/?q=" + quote(query, safe=""))
    assert status == 200 and roles["count"] == 1, roles
    user = {"username": username, "first_name": username, "last_name": "", "password": password, "active": True}
    status, body = api.post("/api/v1/security/users/", user | {"roles": [roles["ids"][0]]} | fields)
    assert status == 201, body


@contextmanager
def on_phone(url: str, username: str, password: str) -> Iterator[Any]:
    """A phone (390 x 844, touch) signed in as `username`: its page; its console checked at the end."""
    for browser in headless_chromium():
        context, page, console = signed_in(
            browser, url, username, password, viewport=PHONE, is_mobile=True, has_touch=True
        )
        yield page
        console.check()
        context.close()


def fits_the_phone(page: Any, *parts: str) -> None:
    """The page scrolls no way but down on the phone, and each of `parts` (selectors) is within its width."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for part in parts:
        box = page.locator(part).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (part, box)


def made_document(api: HttpApi, model: str, body: dict[str, Any], submit: bool = True) -> dict[str, Any]:
    """A document made through the API (201), then submitted (200) unless `submit` is False: the record as the last
    answer gives it."""
    status, made = api.post(f"/api/v1/{model}/", body)
    assert status == 201, made
    if submit:
        status, posted = api.post(f"/api/v1/{model}/{made['id']}/submit", {})
        assert status == 200, posted
        return posted["result"]
    return made["result"]


def shot(page: Any, name: str) -> None:
    """The whole page as a screenshot, test-artifacts/<name>.png, for a person to look at after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
