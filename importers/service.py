"""One call for every channel (command line, API job, page): the same file twice refused while its
earlier import stands, a corrected mapping remembered for its layout, the applied import recorded for
undo. Nothing is committed here."""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from app.services.records.bulk import collector_paused
from app.services.records.snapshot import checked_apart
from importers.matcher import normalise_header
from importers.pipeline import Outcome, Progress, importable_model, run_import
from importers.runs import already_imported, content_hash, load_layout, record_import, save_layout

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.services.access.rights import Access


def import_file(
    session: Session,
    access: Access,
    model_key: str,
    data: bytes,
    filename: str = "",
    *,
    mode: str = "all",
    action: str = "create",
    dry_run: bool = False,
    force: bool = False,
    mapping: dict[str, Any] | None = None,
    job_id: int | None = None,
    progress: Progress | None = None,
    post: bool = False,
) -> Outcome:
    """Import `data` into `model_key` (see importers.pipeline.run_import) and record it when applied.

    `mapping` is {header as in the file: field name, or "" to skip the column}: the user's correction,
    used for this file and remembered for its layout. `force` applies content already imported. `post`
    posts imported documents (drafts otherwise).

    A dry run (the check) runs where it stops nobody's writes (`checked_apart`: on SQLite a copy of the database,
    deleted when it ends), its writes left to the caller to roll back."""
    with checked_apart(session) if dry_run else nullcontext(session) as work:
        return _import_file(
            work,
            access,
            model_key,
            data,
            filename,
            mode=mode,
            action=action,
            dry_run=dry_run,
            force=force,
            mapping=mapping,
            job_id=job_id,
            progress=progress,
            post=post,
        )


def _import_file(
    session: Session,
    access: Access,
    model_key: str,
    data: bytes,
    filename: str,
    *,
    mode: str,
    action: str,
    dry_run: bool,
    force: bool,
    mapping: dict[str, Any] | None,
    job_id: int | None,
    progress: Progress | None,
    post: bool,
) -> Outcome:
    model = importable_model(access, model_key)
    digest = content_hash(data)
    earlier = already_imported(session, model.key, digest) if not force else None
    if earlier and not dry_run:
        outcome = Outcome(model.key, action, mode, dry_run, refused=earlier)
        outcome.problems.append(earlier)
        return outcome
    remembered = None
    if mapping:
        remembered = {normalise_header(h): str(f or "") for h, f in mapping.items() if normalise_header(h)}
    with collector_paused():
        outcome = run_import(
            session,
            access,
            model.key,
            data,
            filename,
            mode=mode,
            action=action,
            dry_run=dry_run,
            remembered=remembered,
            layouts=lambda signature: load_layout(session, model.key, signature),
            progress=progress,
            post=post,
        )
        if (
            outcome.applied and outcome.wrote_rows
        ):  # an import that wrote nothing has nothing to undo, nor holds the file
            outcome.import_id = record_import(session, access, outcome, digest, filename, job_id)
    if earlier:  # a dry run checks the rows too, and says what the import would refuse first
        outcome.problems.insert(0, earlier)
        outcome.refused = earlier
    if mapping and outcome.signature and not dry_run and (outcome.applied or not outcome.issues):
        save_layout(session, access, model.key, outcome.signature, {h: str(f or "") for h, f in mapping.items()})
    return outcome
