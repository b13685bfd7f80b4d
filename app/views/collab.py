"""The collaboration panel of a record's page: what its script (static/jxc/collab.js) needs to show the
activity timeline, comments, attachments, owner and followers, and, by model, the complaint steps, the
complaint form of a delivery and a customer's complaints. Everything it shows comes from /api/v1/collab/
and /api/v1/complaints/, which check the record again."""

from __future__ import annotations

from typing import Any

from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_wtf.csrf import generate_csrf

from app.collab.complaints import MODEL as COMPLAINT
from app.collab.complaints import next_steps
from app.collab.watchers import FOLLOWER, OWNER, my_records, watchable
from app.i18n import label, texts_under
from app.meta.spec import ModelSpec
from app.services.access.rights import Access
from app.web.context import current_access, session

POLL_MS = 5000  # how often an open page asks whether the record's activity moved


def _options(model: ModelSpec, name: str) -> list[dict[str, str]]:
    spec = model.field(name)
    return [{"value": o.value, "label": label(o.label, o.value)} for o in (spec.options if spec else ())]


def panel_config(access: Access, model: ModelSpec, pk: int, data: dict[str, Any]) -> dict[str, Any]:
    """The panel's settings for one record the reader is looking at."""
    config: dict[str, Any] = {
        "model": model.key,
        "pk": pk,
        "api": f"/api/v1/collab/{model.key}/{pk}",
        "csrf_token": generate_csrf(),
        "me": access.username,
        "poll_ms": POLL_MS,
        "can_write": access.can(model.key, "write"),
        "watchable": watchable(model),
        "texts": texts_under("collab.page."),
        "actions": texts_under("action."),
    }
    registry = access.registry
    if model.key == COMPLAINT:
        config["complaint"] = {
            "steps": next_steps(access, data.get("status")),
            "step_labels": texts_under("collab.step."),
            "status": data.get("status"),
        }
    if COMPLAINT in registry.meta.models and access.can(COMPLAINT, "write") and model.key == "sales_delivery":
        complaint = registry.model(COMPLAINT)
        config["new_complaint"] = {
            "api": f"/api/v1/complaints/from_delivery/{pk}",
            "types": _options(complaint, "type"),
            "severities": _options(complaint, "severity"),
            "labels": {
                name: label(complaint.field(name).label, name)  # type: ignore[union-attr]
                for name in ("summary", "type", "severity", "description")
            },
        }
    if COMPLAINT in registry.meta.models and access.can(COMPLAINT, "read") and model.key == "partner":
        config["partner_complaints"] = f"/api/v1/complaints/of_partner/{pk}"
    return config


class MineView(BaseView):
    """/collab/mine: the records assigned to me (负责人) and those I follow, that I may still read."""

    route_base = "/collab"
    class_permission_name = "Collab"
    method_permission_name = {"mine": "read"}

    @expose("/mine")
    @has_access
    def mine(self) -> Any:
        """Two lists, newest first."""
        access = current_access()
        return self.render_template(
            "jxc/collab_mine.html",
            assigned=my_records(session(), access, OWNER),
            following=my_records(session(), access, FOLLOWER),
        )
