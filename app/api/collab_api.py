"""Collaboration API: comments, attachments, owner and followers, the activity timeline of any record
(/api/v1/collab/<model>/<id>/...), and the complaint flow (/api/v1/complaints/...).

Every role may call /api/v1/collab/ (`can_read` on Collab); what decides is the record: only those who may
read it reach its comments, attachments and timeline (app/collab/records.py)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import request, send_file
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.api.responses import attachment_named, service_errors
from app.collab import attachments, comments, complaints, timeline, watchers
from app.errors import CellError, ValidationFailed
from app.extensions import registry
from app.i18n import t
from app.services.records.serialize import rows_to_json
from app.views.changes import describe
from app.views.templating import local_time
from app.web.context import current_access, session
from app.web.inputs import json_object


def _after() -> int:
    raw = request.args.get("after", "0")
    if not raw.isdigit():
        raise ValidationFailed([CellError("after", t("not_integer"))])
    return int(raw)


class CollabApi(BaseApi):
    """/api/v1/collab/: what people say, attach and who watches, on any record they may read."""

    resource_name = "collab"
    version = "v1"
    allow_browser_login = True
    class_permission_name = "Collab"
    method_permission_name = {
        "get_timeline": "read",
        "get_cursor": "read",
        "list_comments": "read",
        "post_comment": "read",
        "list_attachments": "read",
        "post_attachment": "read",
        "download": "read",
        "get_watchers": "read",
        "put_owner": "read",
        "follow": "read",
        "unfollow": "read",
        "mine": "read",
    }
    openapi_spec_tag = "collab"

    @expose("/<model>/<int:pk>/timeline", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def get_timeline(self, model: str, pk: int) -> Any:
        """Comments, attachments, approval steps and the (masked) audit history, newest first.
        ---
        get:
          summary: A record's activity timeline
          responses:
            200:
              description: '{cursor, result: [entry]}'
        """
        access = current_access()
        entries = timeline.timeline(session(), access, model, pk)
        for entry in entries:
            entry["at_text"] = local_time(entry["at"])
            if entry["kind"] in ("change", "approval"):
                entry["describe"] = describe(entry)
        return self.response(200, cursor=timeline.cursor(session(), access, model, pk), result=entries)

    @expose("/<model>/<int:pk>/cursor", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def get_cursor(self, model: str, pk: int) -> Any:
        """The record's activity fingerprint: poll it, fetch the timeline when it moves.
        ---
        get:
          summary: Activity fingerprint
          responses:
            200:
              description: '{cursor}'
        """
        return self.response(200, cursor=timeline.cursor(session(), current_access(), model, pk))

    @expose("/<model>/<int:pk>/comments", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def list_comments(self, model: str, pk: int) -> Any:
        """The record's comments, oldest first (`?after=<id>`: only newer ones).
        ---
        get:
          summary: Comments
          responses:
            200:
              description: '{result: [comment]}'
        """
        return self.response(200, result=comments.comments_of(session(), current_access(), model, pk, _after()))

    @expose("/<model>/<int:pk>/comments", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def post_comment(self, model: str, pk: int) -> Any:
        """Comment on the record: `{"body": "... @username ..."}`; mentioned readers are notified.
        ---
        post:
          summary: Post a comment
          responses:
            201:
              description: '{result: comment}'
        """
        body = json_object(required=True).get("body")
        made = comments.add_comment(session(), current_access(), model, pk, body)
        session().commit()
        made.pop("created_at", None)
        return self.response(201, result=made)

    @expose("/<model>/<int:pk>/attachments", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def list_attachments(self, model: str, pk: int) -> Any:
        """The record's attachments, newest first.
        ---
        get:
          summary: Attachments
          responses:
            200:
              description: '{result: [attachment]}'
        """
        return self.response(200, result=attachments.attachments_of(session(), current_access(), model, pk))

    @expose("/<model>/<int:pk>/attachments", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def post_attachment(self, model: str, pk: int) -> Any:
        """Upload an image or PDF (multipart field `file`); refused unless its content is one.
        ---
        post:
          summary: Attach a file
          responses:
            201:
              description: '{result: attachment}'
            422:
              description: Not an image or PDF, too big, or empty
        """
        upload = request.files.get("file")
        if upload is None:
            raise ValidationFailed([CellError("file", t("collab.file_empty"))])
        try:
            data = upload.read()
        finally:
            upload.close()  # a large upload is spooled to a temporary file: let it go now
        made = attachments.add_attachment(session(), current_access(), model, pk, upload.filename or "", data)
        session().commit()
        return self.response(201, result=made)

    @expose("/attachment/<int:attachment_id>", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def download(self, attachment_id: int) -> Any:
        """An attachment's file, as a download, to readers of its record.
        ---
        get:
          summary: Download an attachment
          responses:
            200:
              description: The file (Content-Disposition attachment)
        """
        found = attachments.open_attachment(session(), current_access(), attachment_id)
        data = BytesIO(found.path.read_bytes())  # at most the size limit; no file handle left open
        response = send_file(data, mimetype=found.content_type, as_attachment=True, download_name="attachment")
        ascii_name = found.filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
        response.headers["Content-Disposition"] = attachment_named(ascii_name, found.filename)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @expose("/<model>/<int:pk>/watchers", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def get_watchers(self, model: str, pk: int) -> Any:
        """The record's owner (负责人) and followers.
        ---
        get:
          summary: Owner and followers
          responses:
            200:
              description: '{result: {owner, followers, following, can_assign}}'
        """
        return self.response(200, result=watchers.watchers_of(session(), current_access(), model, pk))

    @expose("/<model>/<int:pk>/owner", methods=["PUT"])
    @protect()
    @safe
    @service_errors
    def put_owner(self, model: str, pk: int) -> Any:
        """Assign the record: `{"owner": "username"}` (or null); the new owner is notified.
        ---
        put:
          summary: Assign an owner
          responses:
            200:
              description: '{result: {owner, followers, following}}'
        """
        owner = json_object(required=True).get("owner")
        if owner is not None and not isinstance(owner, str):
            raise ValidationFailed([CellError("owner", t("not_scalar"))])
        result = watchers.assign(session(), current_access(), model, pk, owner)
        session().commit()
        return self.response(200, result=result)

    @expose("/<model>/<int:pk>/follow", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def follow(self, model: str, pk: int) -> Any:
        """Follow the record (its comments notify you).
        ---
        post:
          summary: Follow
          responses:
            200:
              description: '{result: {owner, followers, following}}'
        """
        result = watchers.follow(session(), current_access(), model, pk, True)
        session().commit()
        return self.response(200, result=result)

    @expose("/<model>/<int:pk>/follow", methods=["DELETE"])
    @protect()
    @safe
    @service_errors
    def unfollow(self, model: str, pk: int) -> Any:
        """Stop following the record.
        ---
        delete:
          summary: Unfollow
          responses:
            200:
              description: '{result: {owner, followers, following}}'
        """
        result = watchers.follow(session(), current_access(), model, pk, False)
        session().commit()
        return self.response(200, result=result)

    @expose("/mine/<which>", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def mine(self, which: str) -> Any:
        """`assigned` (records I own) or `following`, that I may still read.
        ---
        get:
          summary: Assigned to me / following
          responses:
            200:
              description: '{result: [{model, id, title, link}]}'
        """
        roles = {"assigned": watchers.OWNER, "following": watchers.FOLLOWER}
        if which not in roles:
            raise ValidationFailed([CellError("which", t("not_option", options="assigned, following"))])
        return self.response(200, result=watchers.my_records(session(), current_access(), roles[which]))


class ComplaintsApi(BaseApi):
    """/api/v1/complaints/: the complaint (客诉) flow beside the generated /api/v1/complaint/ CRUD."""

    resource_name = "complaints"
    version = "v1"
    allow_browser_login = True
    class_permission_name = "Complaint"
    method_permission_name = {
        "delivery_defaults": "read",
        "open_from_delivery": "write",
        "steps": "read",
        "start": "start",
        "resolve": "resolve",
        "close": "close",
        "reopen": "start",
        "of_partner": "read",
    }
    openapi_spec_tag = "complaints"

    def _answer(self, row: Any, status: int = 200) -> Any:
        access = current_access()
        model = registry().model(complaints.MODEL)
        result = rows_to_json(session(), access, model, [row])[0]
        return self.response(status, id=row.id, result=result, steps=complaints.next_steps(access, row.status))

    @expose("/from_delivery/<int:delivery_id>", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def delivery_defaults(self, delivery_id: int) -> Any:
        """What a complaint about this delivery starts with (customer, delivery, item), as business keys.
        ---
        get:
          summary: Complaint defaults from a delivery
          responses:
            200:
              description: '{result: {partner, delivery, item}}'
        """
        return self.response(200, result=complaints.from_delivery(session(), current_access(), delivery_id))

    @expose("/from_delivery/<int:delivery_id>", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def open_from_delivery(self, delivery_id: int) -> Any:
        """Open a complaint about a delivery: its customer and item, then the body's fields.
        ---
        post:
          summary: Open a complaint from a delivery
          responses:
            201:
              description: '{id, result, steps}'
        """
        row = complaints.open_from_delivery(session(), current_access(), delivery_id, json_object())
        session().commit()
        return self._answer(row, 201)

    @expose("/<int:pk>/steps", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def steps(self, pk: int) -> Any:
        """The steps the user may take now.
        ---
        get:
          summary: Next steps
          responses:
            200:
              description: '{id, result, steps}'
        """
        _model, row = complaints.readable(session(), current_access(), complaints.MODEL, pk)
        return self._answer(row)

    def _move(self, pk: int, step: str) -> Any:
        row = complaints.move(session(), current_access(), pk, step, json_object())
        session().commit()
        return self._answer(row)

    @expose("/<int:pk>/start", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def start(self, pk: int) -> Any:
        """开始处理: open -> in progress.
        ---
        post:
          summary: Start working on a complaint
          responses:
            200:
              description: '{id, result, steps}'
            409:
              description: Not open
        """
        return self._move(pk, "start")

    @expose("/<int:pk>/resolve", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def resolve(self, pk: int) -> Any:
        """已解决: `{"resolution": "...", "sales_return": "XSTH...", "credit_amount": "50"}` (a resolution is
        required, in the body or already on the complaint).
        ---
        post:
          summary: Resolve a complaint
          responses:
            200:
              description: '{id, result, steps}'
            409:
              description: Not open or in progress
            422:
              description: No resolution
        """
        return self._move(pk, "resolve")

    @expose("/<int:pk>/close", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def close(self, pk: int) -> Any:
        """关闭: resolved -> closed (nothing changes on it afterwards).
        ---
        post:
          summary: Close a complaint
          responses:
            200:
              description: '{id, result, steps}'
            409:
              description: Not resolved
        """
        return self._move(pk, "close")

    @expose("/<int:pk>/reopen", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def reopen(self, pk: int) -> Any:
        """重新处理: resolved -> in progress.
        ---
        post:
          summary: Reopen a resolved complaint
          responses:
            200:
              description: '{id, result, steps}'
            409:
              description: Not resolved
        """
        return self._move(pk, "reopen")

    @expose("/of_partner/<int:partner_id>", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def of_partner(self, partner_id: int) -> Any:
        """A customer's complaints the reader may read, newest first.
        ---
        get:
          summary: A customer's complaints
          responses:
            200:
              description: '{result: [complaint]}'
        """
        return self.response(200, result=complaints.complaints_of_partner(session(), current_access(), partner_id))
