"""The live registry: specs + mapped classes for one metadata version, swapped atomically."""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, insert, inspect, or_, select, update
from sqlalchemy.engine import Connection

from app.meta.build import build_classes
from app.meta.loader import load_metadata
from app.meta.plain_reads import plain_rows
from app.meta.spec import Metadata, MetadataInvalid, ModelSpec
from app.meta.tables import METADATA_ROW, SECURITY_ROW, SETTINGS_ROW, meta_field, meta_state

_MISSING = object()


@dataclass(frozen=True)
class Registry:
    """Models, roles and mapped classes for one metadata version."""

    version: int
    meta: Metadata
    classes: dict[str, type]
    tables: MetaData
    # what is computed from this version only (field masks per set of roles ...): a new version starts empty
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    _recent_lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def kept(self, key: Any, build: Callable[[], Any]) -> Any:
        """What `build()` makes from this version only (a statement with its values as parameters, ...), made
        once and kept in `cache` under `key` (two threads may both build it: either result is the same)."""
        found = self.cache.get(key, _MISSING)
        if found is _MISSING:
            found = self.cache[key] = build()
        return found

    def kept_recent(self, kind: str, key: Any, build: Callable[[], Any], limit: int) -> Any:
        """Like `kept`, for what this version's answers are per reader too (their rights, their language):
        the `limit` most recently used of `kind` are kept, so many kinds of reader cannot grow it without
        bound."""
        with self._recent_lock:
            recent = self.cache.setdefault(("recent", kind), OrderedDict())
            found = recent.get(key, _MISSING)
            if found is not _MISSING:
                recent.move_to_end(key)
                return found
        found = build()  # outside the lock: two threads may both build it, either result is the same
        with self._recent_lock:
            recent[key] = found
            if len(recent) > limit:
                recent.popitem(last=False)
        return found

    def model(self, key: str) -> ModelSpec:
        """The spec of model `key` (KeyError if unknown)."""
        return self.meta.models[key]

    def cls(self, key: str) -> type:
        """The mapped class of model `key`."""
        return self.classes[key]

    def behaviour(self, key: str, ctx: Any = None) -> Any:
        """The behaviour of document `key` (app/documents/<key>.py, resolved at load) for one posting context."""
        return self.meta.handlers.behaviours[key](ctx)

    def compute(self, key: str, field_name: str) -> Callable[[dict[str, Any]], Any]:
        """The function that computes field `field_name` of model `key`."""
        return self.meta.handlers.computes[key, field_name]

    def rule(self, key: str, name: str) -> Callable[..., Any] | None:
        """Model `key`'s rule `name` (check_change / check_delete) from app/rules/<key>.py, or None."""
        return self.meta.handlers.rules.get(key, {}).get(name)


def read_version(conn: Connection, initialised: bool = False) -> int:
    """The metadata version stored in the database (0 before init; `initialised` skips that check)."""
    if not initialised and not inspect(conn).has_table("jxc_meta_state"):
        return 0
    return conn.execute(select(meta_state.c.version).where(meta_state.c.id == METADATA_ROW)).scalar() or 0


@dataclass(frozen=True)
class Stamps:
    """What a request or job found at its start: whether the registry was rebuilt, the settings stamp and the
    security stamp (None when the database has none yet: settings and permissions are then read each time)."""

    reloaded: bool
    settings: int | None
    security: int | None = None


def read_runtime_fields(conn: Connection) -> list[dict[str, Any]]:
    """Fields added from the admin page, in the order they were added."""
    if not inspect(conn).has_table("jxc_meta_field"):
        return []
    rows = conn.execute(select(meta_field).order_by(meta_field.c.id)).mappings()
    return [{"model": r["model"], "name": r["name"], "spec": json.loads(r["spec"])} for r in rows]


def build_registry(
    root: Path, conn: Connection, user_table: Table, extra_fields: list[dict[str, Any]] | None = None
) -> Registry:
    """Load YAML plus database fields and build classes; raise MetadataInvalid with every error."""
    version = read_version(conn)
    fields = read_runtime_fields(conn) + list(extra_fields or [])
    meta, errors = load_metadata(root, fields)
    if errors or meta is None:
        raise MetadataInvalid(errors)
    classes, tables = build_classes(meta, user_table)
    return Registry(version=version, meta=meta, classes=classes, tables=tables)


def move_stamp(conn: Any, row: int, missing_only: bool = False) -> None:
    """A new stamp in row `row` of jxc_meta_state, in the caller's transaction (`conn`: a Connection or a
    Session; `missing_only`: at init, only when the database has none). Random: a restored database never
    brings back a stamp that stood for other values."""
    stamp = secrets.randbelow(2**31 - 1) + 1
    found = read_stamp(conn, row)
    if found is None:
        conn.execute(insert(meta_state).values(id=row, version=stamp))
    elif not missing_only:
        conn.execute(update(meta_state).where(meta_state.c.id == row).values(version=stamp))


def read_stamp(conn: Any, row: int) -> int | None:
    """The stamp in row `row` of jxc_meta_state (None: there is none yet)."""
    return conn.execute(select(meta_state.c.version).where(meta_state.c.id == row)).scalar()


# the stamps every request reads, one statement built once (not again per request); three comparisons, not an
# IN list, which SQLAlchemy expands into its parameters again at every execution
_STAMPS = select(meta_state.c.id, meta_state.c.version).where(
    or_(*(meta_state.c.id == row for row in (METADATA_ROW, SETTINGS_ROW, SECURITY_ROW)))
)


class RegistryHolder:
    """Holds the current registry; every request and job checks the version before it starts."""

    def __init__(self, root: Path, user_table: Table) -> None:
        self.root = root
        self.user_table = user_table
        self._current: Registry | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> Registry:
        """The registry in force."""
        if self._current is None:  # pragma: no cover - set at start-up
            raise RuntimeError("registry not loaded")
        return self._current

    def load(self, conn: Connection) -> Registry:
        """Build the registry from the files and the database and put it in force."""
        registry = build_registry(self.root, conn, self.user_table)
        with self._lock:
            self._current = registry
        return registry

    def refresh_if_stale(self, conn: Connection) -> Stamps:
        """Rebuild when another process changed metadata; the settings stamp read in the same query."""
        if self._current is None or self._current.version <= 0:
            version, settings, security = read_version(conn), None, None
        else:  # once a version was read the table exists: one query per request, no catalogue look-up
            rows = dict(plain_rows(conn, _STAMPS))
            version, settings, security = rows.get(METADATA_ROW) or 0, rows.get(SETTINGS_ROW), rows.get(SECURITY_ROW)
        if self._current is not None and version == self._current.version:
            return Stamps(False, settings, security)
        with self._lock:
            if self._current is not None and version == self._current.version:
                return Stamps(False, settings, security)
            self._current = build_registry(self.root, conn, self.user_table)
        return Stamps(True, settings, security)
