"""Resolve what a user typed for a link (id or business key) into a row id, within their scope."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import and_, case, func, null, select, tuple_
from sqlalchemy.orm import Session

from app.meta.sqltypes import NormalisedText
from app.meta.types import MAX_INTEGER, ValueProblem, normalise_text, parse_integer
from app.services.records.bulk import among
from app.services.records.serialize import person_name

if TYPE_CHECKING:
    from app.meta.spec import ModelSpec
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
        if cache_key not in self._cache:
            self._cache[cache_key] = self.session.execute(select(typed_link(self.access, model_key, raw))).scalar()
        return self._cache[cache_key]

    def preload(self, model_key: str, raws: set[Any], chunk: int = 5000) -> None:
        """Resolve many typed values of one link at once (imports, a stocktake's counted lines): one query
        for the ids among them, one by business key, one by name for the rest (a name shared by two rows stays
        unresolved), one by key and name for what is left written as the exports write a link (「C01 饮料」);
        `resolve` then answers from the cache exactly as it would have one by one: by the fields the reader sees
        (`matched_by`), the key and name compared as `typed_link` compares them (`key_and_name_match`)."""
        registry = self.access.registry
        model = registry.model(model_key)
        cls: Any = registry.cls(model_key)
        self._preload_ids(model, cls, raws, chunk)
        texts = {
            raw: normalise_text(raw) for raw in raws if isinstance(raw, str) and (model_key, raw) not in self._cache
        }
        if not texts or model.business_key == "id":  # a text may be an id: `resolve` reads it one by one
            return
        scope = self.access.scope(model)
        found: dict[str, int] = {}
        key_col, name_col = matched_by(self.access, model, cls)
        wanted = sorted(set(texts.values()))
        for unique, column in ((False, key_col), (True, name_col)):
            if column is None:
                continue
            missing = [text for text in wanted if text not in found]
            matches: dict[str, list[int]] = {}
            for start in range(0, len(missing), chunk):
                stmt = select(column, cls.id).where(column.in_(missing[start : start + chunk]))
                if scope is not None:
                    stmt = stmt.where(scope)
                for value, row_id in self.session.execute(stmt):
                    matches.setdefault(value, []).append(row_id)
            for value, ids in matches.items():
                if not unique or len(ids) == 1:
                    found[value] = ids[0]
        if key_col is not None and name_col is not None:
            left = [text for text in wanted if text not in found]
            found.update(self._by_key_and_name(cls, key_col, name_col, scope, left, chunk))
        for raw, text in texts.items():
            self._cache[model_key, raw] = found.get(text)

    def _by_key_and_name(
        self, cls: Any, key_col: Any, name_col: Any, scope: Any, texts: list[str], chunk: int
    ) -> dict[str, int]:
        """{text: id} of the texts written as the exports write a link, 「C01 饮料」: the row with that key and name."""
        pairs = {text: pair for text in texts if (pair := key_and_name(text)) is not None}
        wanted = sorted(set(pairs.values()))
        rows: dict[tuple[str, str], int] = {}
        for start in range(0, len(wanted), chunk):
            part = wanted[start : start + chunk]
            stmt = select(key_col, NormalisedText(name_col), cls.id).where(key_and_name_match(key_col, name_col, part))
            if scope is not None:
                stmt = stmt.where(scope)
            for key, name, row_id in self.session.execute(stmt):
                rows[key, name] = row_id
        return {text: rows[pair] for text, pair in pairs.items() if pair in rows}

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

    def resolve_user(self, raw: Any) -> int | None:
        """User id for an id (int) or a username, or a username and the user's name as the exports write a user
        (「zhang3 张三」)."""
        found = self.session.execute(select(typed_user(raw))).scalar()
        pair = key_and_name(normalise_text(raw)) if found is None and isinstance(raw, str) else None
        if pair is None:
            return found
        row = self.session.execute(
            select(User.id, User.first_name, User.last_name).where(User.username == pair[0])
        ).first()
        return row.id if row is not None and person_name(row.first_name, row.last_name) == pair[1] else None


class LinkSql:
    """A LinkResolver for the conditions of a query: what a typed link value names as SQL the statement reads
    (`typed_link`, -1 when it names no row: it matches nothing), not an id read now. A view's statement built
    with it does not depend on the rows of the day, so it can be kept and run again."""

    def __init__(self, access: Access) -> None:
        self.access = access

    def resolve(self, model_key: str, raw: Any) -> Any:
        return func.coalesce(typed_link(self.access, model_key, raw), -1)

    def resolve_user(self, raw: Any) -> Any:
        return func.coalesce(typed_user(raw), -1)


def typed_link(access: Access, model_key: str, raw: Any) -> Any:
    """SQL of the id of the `model_key` row the reader may see that a typed value names: an id (an int, or any
    value when the business key is the id), else the row with that business key, else the one row with that
    name (what people paste from a spreadsheet is often the name: "个", "华东仓"; a name two rows share names
    none), else the row with that key and name as the exports write a link (「C01 饮料」); a key or name only
    by a reader who sees it (`matched_by`). NULL when it names none."""
    registry = access.registry
    model = registry.model(model_key)
    cls: Any = registry.cls(model_key)
    scope = access.scope(model)

    def one(condition: Any, unique: bool = False) -> Any:
        stmt = select(cls.id).where(condition)
        if scope is not None:
            stmt = stmt.where(scope)
        if not unique:
            return stmt.limit(1).scalar_subquery()
        few = stmt.limit(2).subquery()
        return select(case((func.count() == 1, func.min(few.c.id)))).scalar_subquery()

    if isinstance(raw, dict):
        raw = raw.get("id", raw.get("key"))
    if isinstance(raw, (bool, list, dict)) or raw is None:
        return null()
    ways = []
    if isinstance(raw, int) or model.business_key == "id":
        with contextlib.suppress(ValueProblem):  # not an id: names no row by id
            ways.append(one(cls.id == parse_integer(raw)))
    key_col, name_col = matched_by(access, model, cls)
    if not isinstance(raw, int):
        text = normalise_text(raw)
        if key_col is not None:
            ways.append(one(key_col == text))
        if name_col is not None:
            ways.append(one(name_col == text, unique=True))
        pair = key_and_name(text) if key_col is not None and name_col is not None else None
        if pair is not None:  # 「C01 饮料」 as an export writes the link: the row with that key and that name
            ways.append(one(key_and_name_match(key_col, name_col, [pair])))
    if not ways:
        return null()
    return ways[0] if len(ways) == 1 else func.coalesce(*ways)


def matched_by(access: Access, model: ModelSpec, cls: Any) -> tuple[Any, Any]:
    """(key column, name column) a typed link to `model` is matched by for this reader, each None when the model
    has none or the reader's field masks hide it: a value the reader may not see is never matched, or a clerk
    would learn a masked name by importing guesses (a match, or 找不到). Read from the masks, for every field."""
    key = model.field(model.business_key) if model.business_key != "id" else None
    name = model.field(model.display) if model.display else None
    return tuple(  # type: ignore[return-value]
        getattr(cls, spec.column) if spec is not None and access.can_see(model, spec) else None for spec in (key, name)
    )


def key_and_name_match(key_col: Any, name_col: Any, pairs: list[tuple[str, str]]) -> Any:
    """SQL: the row's key and name are one of `pairs` (each as `key_and_name` reads a normalised text), the
    stored name normalised as the typed one was (`NormalisedText`: full-width letters, digits and spaces), so
    a preload and a single lookup agree; the key's index finds the rows."""
    heads = sorted({key for key, _ in pairs})
    return and_(key_col.in_(heads), tuple_(key_col, NormalisedText(name_col)).in_(pairs))


def key_and_name(text: str) -> tuple[str, str] | None:
    """(key, name) of a link's text as the exports and pages write it, its key, a space and its name
    (`LinkType.cell_text`: 「C01 饮料」, 「SP0001 农夫山泉 饮用天然水 550ml」); None for a text without a space."""
    parts = text.split(None, 1)
    return (parts[0], parts[1].strip()) if len(parts) == 2 else None


def typed_user(raw: Any) -> Any:
    """SQL of the id of the user a typed value names (an id, or a username); NULL when it names none."""
    if isinstance(raw, bool) or (isinstance(raw, int) and abs(raw) > MAX_INTEGER):
        return null()
    column = User.id if isinstance(raw, int) else User.username
    value = raw if isinstance(raw, int) else normalise_text(raw)
    return select(User.id).where(column == value).scalar_subquery()
