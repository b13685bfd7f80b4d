"""The navigation menu is drawn once per set of rights, language and metadata version (app/views/menu.py):
each user still sees exactly the entries their roles grant, in their language."""

from __future__ import annotations

import re

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
