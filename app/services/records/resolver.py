"""Resolve what a user typed for a link (id or business key) into a row id, within their scope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.meta.types import MAX_INTEGER, ValueProblem, normalise_text, parse_integer
from app.services.records.bulk import among

if TYPE_CHECKING:
    from app.services.access.rights import Access


class Resolver:
    """A LinkResolver bound to one session and one user's scope, with a small cache."""

    def __init__(self, session: Session, access: Access) -> None:
        self.session = session
        self.access = access
        self._cache: dict[tuple[str, Any], int | None] = {}

    def resolve(self, model_key: str, raw: Any) -> int | None:
        """Row id of `model_key` for an id (int) or business key (text); None if not visible."""
        cache_key = (model_key, raw)
        if cache_key in self._cache:
            return self._cache[cache_key]
        registry = self.access.registry
        model = registry.model(model_key)
        cls = registry.cls(model_key)
        stmt = select(cls.id)
        if isinstance(raw, bool):
            found = None
        else:
            if isinstance(raw, int) or model.business_key == "id":
                try:
                    stmt = stmt.where(cls.id == parse_integer(raw))
                except ValueProblem:
                    stmt = None  # type: ignore[assignment]
            else:
                key_column = getattr(cls, model.field(model.business_key).column)  # type: ignore[union-attr]
                stmt = stmt.where(key_column == normalise_text(raw))
            found = self._first(model, stmt) if stmt is not None else None
            if found is None and model.display and not isinstance(raw, int):
                # what people paste from a spreadsheet is often the name ("个", "华东仓"): accept it if unique
                by_name = select(cls.id).where(getattr(cls, model.field(model.display).column) == normalise_text(raw))
                found = self._first(model, by_name, unique=True)
        self._cache[cache_key] = found
        return found

    def preload(self, model_key: str, raws: set[Any], chunk: int = 5000) -> None:
        """Resolve many typed values of one link at once (imports, a stocktake's counted lines): one query
        for the ids among them, one by business key, one by name for the rest (a name shared by two rows stays
        unresolved); `resolve` then answers from the cache exactly as it would have one by one."""
        registry = self.access.registry
        model = registry.model(model_key)
        cls = registry.cls(model_key)
        self._preload_ids(model, cls, raws, chunk)
        texts = {
            raw: normalise_text(raw) for raw in raws if isinstance(raw, str) and (model_key, raw) not in self._cache
        }
        if not texts or model.business_key == "id":
            return
        scope = self.access.scope(model)
        found: dict[str, int] = {}
        columns = [getattr(cls, model.field(model.business_key).column)]  # type: ignore[union-attr]
        if model.display:
            columns.append(getattr(cls, model.field(model.display).column))  # type: ignore[union-attr]
        wanted = sorted(set(texts.values()))
        for position, column in enumerate(columns):
            missing = [text for text in wanted if text not in found]
            matches: dict[str, list[int]] = {}
            for start in range(0, len(missing), chunk):
                stmt = select(column, cls.id).where(column.in_(missing[start : start + chunk]))
                if scope is not None:
                    stmt = stmt.where(scope)
                for value, row_id in self.session.execute(stmt):
                    matches.setdefault(value, []).append(row_id)
            for value, ids in matches.items():
                if position == 0 or len(ids) == 1:
                    found[value] = ids[0]
        for raw, text in texts.items():
            self._cache[model_key, raw] = found.get(text)

    def _preload_ids(self, model: Any, cls: Any, raws: set[Any], chunk: int) -> None:
        """The ids among `raws` (a link given by id, as services write lines) checked at once, within scope."""
        ids = sorted(
            raw for raw in raws if type(raw) is int and abs(raw) <= MAX_INTEGER and (model.key, raw) not in self._cache
        )
        scope = self.access.scope(model)
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            stmt = select(cls.id).where(among(self.session, cls.id, list(part)))
            seen = set(self.session.execute(stmt if scope is None else stmt.where(scope)).scalars())
            for row_id in part:
                self._cache[model.key, row_id] = row_id if row_id in seen else None

    def _first(self, model: Any, stmt: Any, unique: bool = False) -> int | None:
        scope = self.access.scope(model)
        if scope is not None:
            stmt = stmt.where(scope)
        ids = self.session.execute(stmt.limit(2 if unique else 1)).scalars().all()
        return ids[0] if len(ids) == 1 or (ids and not unique) else None

    def resolve_user(self, raw: Any) -> int | None:
        """User id for an id (int) or a username."""

        if isinstance(raw, bool):
            return None
        if isinstance(raw, int) and abs(raw) > MAX_INTEGER:
            return None
        column = User.id if isinstance(raw, int) else User.username
        value = raw if isinstance(raw, int) else normalise_text(raw)
        return self.session.execute(select(User.id).where(column == value)).scalar_one_or_none()
