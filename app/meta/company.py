"""The company as printed papers head it (a 单据's print, the 对账单): its name and, when settings.yaml's `company`
holds them, its address, phone and tax id (统一社会信用代码 / 税号)."""

from __future__ import annotations

from typing import Any

from app.i18n import current_locale, t

# settings.yaml's company keys printed under the name, in this order (each left out when blank)
DETAILS = ("address", "phone", "tax_id")


def letterhead(settings: dict[str, Any]) -> dict[str, Any]:
    """{"name": the company's name in the reader's language, "lines": ["地址：…", "电话：…", "税号：…"]}."""
    company = settings.get("company") or {}
    english = current_locale() != "zh"

    def given(key: str) -> str:
        value = (english and company.get(f"{key}_en")) or company.get(key)
        return "" if value is None else str(value).strip()

    lines = [t(f"company.{key}", value=given(key)) for key in DETAILS if given(key)]
    return {"name": given("name"), "lines": lines}
