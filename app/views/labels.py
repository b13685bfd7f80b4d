"""Labels that render in the reader's language (for FAB menus built once at start-up)."""

from __future__ import annotations

from app.extensions import registry
from app.i18n import MESSAGES, label, t
from app.services.access.origins import spec_of
from app.services.users.access import stored_roles


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


def role_label(name: str) -> str:
    """A role key (roles.yaml) in the reader's language, a copy with what it was copied from (`spec_of`); FAB's own
    roles from the catalogue."""
    spec = spec_of(registry().meta.roles, name, stored_roles().origins)
    if spec is not None:
        return label(spec.label, name)
    return t(f"role.{name}") if f"role.{name}" in MESSAGES else name  # FAB's Public role


def role_origin_note(name: str) -> str | None:
    """「复制自 销售员」 for a copy of a role (its stored origin: app/services/access/origins.py), whatever the copy is
    called now; None for a role that is no copy."""
    origin = stored_roles().origins.get(name)
    if origin is None:
        return None
    spec = registry().meta.roles.get(origin)
    return t("role_copied_from", origin=label(spec.label, origin) if spec is not None else origin)


def type_label(name: str) -> str:
    """A field type's name (text, decimal, link ...) in the reader's language."""
    return t(f"fieldtype.{name}") if f"fieldtype.{name}" in MESSAGES else name
