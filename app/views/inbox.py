"""/inbox/: 待审批, the documents waiting for the signed-in user's approval step (the same `waiting_for()` as
the API, the menu's count and the dashboard), each approved or sent back with a comment from the page."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy.exc import SQLAlchemyError

from app.errors import NotFound, ServiceError, ValidationFailed
from app.extensions import registry
from app.i18n import t
from app.services.posting.inbox import waiting_count, waiting_for, with_parties
from app.services.posting.service import PostingService
from app.views.labels import role_label
from app.web.context import current_access, session

STEP_ACTIONS = ("submit", "approve", "reject")  # the audit rows that make a document's approval steps


class InboxView(BaseView):
    """The inbox page and its approve / send back buttons."""

    route_base = "/inbox"
    class_permission_name = "Meta"  # every signed-in user reads their own inbox
    method_permission_name = {"index": "read", "decide": "read"}  # the posting checks the approve right

    @expose("/")
    @has_access
    def index(self) -> Any:
        """What waits for my step, oldest first."""
        access = current_access()
        waiting = g.jxc_waiting = waiting_for(session(), access)  # the menu's count too
        shown = with_parties(session(), access, waiting)
        return self.render_template("jxc/inbox.html", title=t("page.inbox"), waiting=shown)

    @expose("/<model_key>/<int:pk>/<decision>", methods=["POST"])
    @has_access
    def decide(self, model_key: str, pk: int, decision: str) -> Any:
        """Approve (`approve`) or send back (`reject`) one document with the comment typed beside it."""
        if decision not in ("approve", "reject") or model_key not in registry().meta.models:
            abort(404)
        action = PostingService.approve if decision == "approve" else PostingService.reject
        run_posting_action(model_key, pk, action, with_number=True)
        return redirect("/inbox/")


def request_waiting() -> list[dict[str, Any]] | None:
    """The documents waiting for the signed-in user, read once per request (the menu's badge and the home
    page's tile); None when they cannot be read (no user, the database out of reach: the menu is drawn
    without its count)."""
    if "jxc_waiting" not in g:
        try:
            g.jxc_waiting = waiting_for(session(), current_access())
        except SQLAlchemyError:
            session().rollback()
            g.jxc_waiting = None
    return g.jxc_waiting


def inbox_count() -> int | None:
    """How many documents wait for the signed-in user (the menu's badge): the request's list when a page read it
    (the home page's tile), else `waiting_count` (kept per user and data stamp); None when it cannot be read."""
    if "jxc_waiting" in g:
        return None if g.jxc_waiting is None else len(g.jxc_waiting)
    try:
        return waiting_count(session(), current_access())
    except SQLAlchemyError:
        session().rollback()
        return None


def approval_steps(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A document's approval steps from its audit rows, oldest first: who (with the role they approved as), when,
    what (sent for approval, approved level k, sent back) and the comment."""
    steps = []
    for entry in reversed(history):
        after = entry.get("after") or {}
        if entry["action"] not in STEP_ACTIONS or entry["action"] == "submit" and after.get("status") != "pending":
            continue
        # the approver's own role (a copy's name: 华东经理 approving a 经理 level), when the row keeps it
        role = after.get("approved_as")
        steps.append(
            {
                "at": entry["at"],
                "user": f"{entry['user']}（{role_label(role)}）" if role else entry["user"],
                "action": entry["action"],
                "action_text": t(f"page.step_{entry['action']}"),
                "level": after.get("level"),
                "comment": after.get("comment") or "",
            }
        )
    return steps


def run_posting_action(model_key: str, pk: int, action: Any, with_number: bool = False) -> None:
    """Run one posting action (`PostingService.submit`, `.approve` ...) with the comment and version a page's
    form sent, and flash what it did (the document's number first when `with_number`) or why it was refused."""
    service = PostingService(session(), current_access())
    service.comment = (request.form.get("comment") or "").strip()[:500]
    try:
        doc = action(service, model_key, pk, request.form.get("version", type=int))
        flash(f"{doc.number}：{service.message}" if with_number else service.message, "success")
        for warning in service.warnings:
            flash(warning, "warning")
    except NotFound:
        abort(404)
    except ValidationFailed as exc:
        session().rollback()
        flash("；".join(e.message for e in exc.errors), "danger")
    except ServiceError as exc:
        session().rollback()
        flash(exc.message, "danger")
