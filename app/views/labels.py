"""Labels that render in the reader's language (for FAB menus built once at start-up)."""

from __future__ import annotations

from app.i18n import label


class LazyLabel:
    """A {zh, en} label that turns into text only when rendered."""

    def __init__(self, texts: dict[str, str], fallback: str = "") -> None:
        self.texts = dict(texts)
        self.fallback = fallback

    def __str__(self) -> str:
        return label(self.texts, self.fallback)

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.texts.items())), self.fallback))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LazyLabel) and self.texts == other.texts

    def __add__(self, other: str) -> str:
        return str(self) + other
