"""FAB's user pages with JXC's rules: the password policy on every form that sets a password, the current
password asked for on one's own reset, every change audited in its transaction, sessions ended by a new
password or a deactivation. The classes keep FAB's names: permissions and links name the views by them."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, session
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.forms import ResetPasswordForm
from flask_appbuilder.security.sqla.models import User
from flask_appbuilder.security.views import ResetMyPasswordView as FabResetMyPasswordView
from flask_appbuilder.security.views import ResetPasswordView as FabResetPasswordView
from flask_appbuilder.security.views import RoleModelView as FabRoleModelView
from flask_appbuilder.security.views import UserDBModelView as FabUserDBModelView
from flask_appbuilder.security.views import UserGroupModelView as FabUserGroupModelView
from flask_appbuilder.widgets import ListWidget, ShowWidget
from flask_babel import lazy_gettext
from sqlalchemy import inspect as inspect_state
from werkzeug.security import check_password_hash
from wtforms import Field, Form, PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, EqualTo

from app.api.users_api import AUDITED, actor, attribute_changes
from app.errors import ServiceError
from app.extensions import db, registry
from app.i18n import DEFAULT_LOCALE, label, t, use_locale
from app.meta.types import is_no_address
from app.services.access.locks import NOT_IN_FORCE, lock_text
from app.services.access.origins import copy_name, link_copy, origin_of, read_origins
from app.services.users.access import role_refusals, stored_role_locks
from app.services.users.accounts import email_problems, stored_email, user_changed
from app.services.users.passwords import password_problems
from app.services.users.sessions import SESSION_KEY, WEB, start_session
from app.views.labels import LazyLabel, role_label
from app.views.security_labels import ROLE_FORMATTERS, USER_FORMATTERS, names_text


def _username_for(form: Form) -> str:
    """Whose password a form sets: the name typed (new user), the user picked (admin reset), or oneself."""
    typed = getattr(form, "username", None)
    if typed is not None and typed.data:
        return str(typed.data)
    pk = request.args.get("pk")
    if pk:
        user = db.session.get(User, int(pk)) if pk.isdigit() else None
        return user.username if user is not None else ""
    user = getattr(g, "user", None)
    return getattr(user, "username", "") or ""


class PasswordPolicy:
    """WTForms validator: the password policy (app.services.users.passwords)."""

    def __call__(self, form: Form, field: Field) -> None:
        problems = password_problems(field.data or "", _username_for(form))
        if problems:
            raise ValidationError("；".join(problems))


class CurrentPassword:
    """WTForms validator: the signed-in user's current password."""

    def __call__(self, form: Form, field: Field) -> None:
        if not check_password_hash(g.user.password, field.data or ""):
            raise ValidationError(t("password_current_wrong"))


def lazy(key: str) -> LazyLabel:
    """A UI text that renders in the reader's language (form labels are built once, at import)."""
    return LazyLabel({locale: t(key, locale) for locale in ("zh", "en")}, key)


def _password_fields() -> dict[str, Any]:
    return {
        "password": PasswordField(
            lazy("field.password"), validators=[DataRequired(), PasswordPolicy()], widget=BS3PasswordFieldWidget()
        ),
        "conf_password": PasswordField(
            lazy("field.password_again"),
            validators=[DataRequired(), EqualTo("password", message=lazy_gettext("Passwords must match"))],
            widget=BS3PasswordFieldWidget(),
        ),
    }


class OneAddressOrNone:
    """WTForms validator: empty (a user without an address), or one address mail can go to that no other user
    has (`email_problems`, as the security API checks it; FAB's own check is on the field this replaces)."""

    def __call__(self, form: Form, field: Field) -> None:
        problems = email_problems(db.session, field.data, getattr(form, "_id", None))
        if problems:
            raise ValidationError("；".join(problems))


def _email_field() -> StringField:
    return StringField(
        lazy_gettext("Email"),
        description=lazy("user_email_optional"),
        validators=[OneAddressOrNone()],
        widget=BS3TextFieldWidget(),
    )


def keep_address_or_mark_none(item: Any) -> None:
    """An empty e-mail on the user forms or the security API is a user without an address: the marked
    non-address is stored (`stored_email`, as `jxc user add` does)."""
    item.email = stored_email(item.email, item.username)


class NewPasswordForm(ResetPasswordForm):
    """An administrator's reset of a user's password."""

    password = _password_fields()["password"]
    conf_password = _password_fields()["conf_password"]


class OwnPasswordForm(DynamicForm):
    """Changing one's own password: the current one first."""

    current_password = PasswordField(
        lazy("field.current_password"), validators=[DataRequired(), CurrentPassword()], widget=BS3PasswordFieldWidget()
    )
    password = _password_fields()["password"]
    conf_password = _password_fields()["conf_password"]


def keep_this_session() -> None:
    """After one's own password change ended every session: a fresh one for the browser that changed it."""
    session[SESSION_KEY] = start_session(db.session, g.user.id, WEB)
    db.session.commit()


class ResetMyPasswordView(FabResetMyPasswordView):
    """/resetmypassword/: the current password, then a new one that passes the policy."""

    form = OwnPasswordForm

    def form_post(self, form: DynamicForm) -> None:
        """Change the password (FAB's reset audits it and ends every session), then keep this one."""
        self.appbuilder.sm.reset_password(g.user.id, form.password.data)
        keep_this_session()
        flash(t("password_changed"), "info")


class ResetPasswordView(FabResetPasswordView):
    """/resetpassword/?pk=: an administrator sets a user's password (policy checked)."""

    form = NewPasswordForm


class UserDBModelView(FabUserDBModelView):
    """The user list and forms: policy on the new user's password; every change audited."""

    add_form_extra_fields = {**_password_fields(), "email": _email_field()}
    edit_form_extra_fields = {"email": _email_field()}
    formatters_columns = USER_FORMATTERS
    # FAB's date-time and relation search fields use deprecated WTForms APIs (they warn): search by name
    search_columns = ["username", "first_name", "last_name", "email"]

    def pre_add(self, item: Any) -> None:
        """Hash the password and audit the new user in the same transaction."""
        keep_address_or_mark_none(item)
        super().pre_add(item)
        db.session.add(item)
        db.session.flush()
        changes = {name: (None, getattr(item, name)) for name in AUDITED}
        user_changed(db.session, actor(), item.id, "create", changes)

    def pre_update(self, item: Any) -> None:
        """Audit what changed; a deactivation ends the user's sessions."""
        keep_address_or_mark_none(item)
        super().pre_update(item)
        user_changed(db.session, actor(), item.id, "update", attribute_changes(item))

    def prefill_form(self, form: DynamicForm, pk: Any) -> None:
        """A user without an address shows an empty field (not their marked non-address)."""
        super().prefill_form(form, pk)
        if is_no_address(form.email.data):
            form.email.data = ""

    def pre_delete(self, item: Any) -> None:
        """Audit the deletion and end the user's sessions."""
        user_changed(db.session, actor(), item.id, "delete", {"username": (item.username, None)})


ROLE_REFUSED = "jxc_role_refused"  # flask.g: a role page's save was refused (`refuse_locked_role`)


class RoleModelView(FabRoleModelView):
    """FAB's role pages: roles by their labels, permissions as 「model：action」 (roles.yaml sets them).

    FAB's own role widgets print the raw name and the permission list; the plain widgets apply formatters."""

    list_widget = ListWidget
    show_widget = ShowWidget
    list_columns = ["name"]
    search_columns = ["name"]
    formatters_columns = ROLE_FORMATTERS

    @expose("/list/")
    @has_access
    def list(self) -> Any:
        """FAB's list, saying first each role's write that is not in force (stored before the role pages were
        checked, it would let the role open forms it can never save: `stored_role_locks`)."""
        for why, lock in stored_role_locks():
            flash(lock_text(NOT_IN_FORCE[why], lock), "warning")
        return super().list()

    def pre_add(self, item: Any) -> None:
        """A new role must be able to fill what it may write (`refuse_locked_role`)."""
        refuse_locked_role(item.name, item.permissions, None)

    def pre_update(self, item: Any) -> None:
        """An edited role (its name, its permissions) too; a copy stays a copy of its origin whatever its name."""
        name = inspect_state(item).attrs["name"].history
        was = (name.deleted or name.unchanged or [item.name])[0]
        refuse_locked_role(item.name, item.permissions, was, stored_origin(was))

    def post_add_redirect(self) -> Any:
        """Back to the form refused (FAB goes to the page before it, or the home page)."""
        return redirect(request.url) if g.get(ROLE_REFUSED) else super().post_add_redirect()

    def post_edit_redirect(self) -> Any:
        """Back to the form refused, the role as it was."""
        return redirect(request.url) if g.get(ROLE_REFUSED) else super().post_edit_redirect()

    @action(
        "copyrole", lazy_gettext("Copy Role"), lazy_gettext("Copy the selected roles?"), icon="fa-copy", single=False
    )
    def copy_role(self, items: Any) -> Any:
        """FAB's copy (the same permissions) named in Chinese after the original's label whatever the admin's language
        (a role's name is data every user reads as stored, as the demo's names are), 「销售员（副本）」
        then 「销售员（副本2）」 (`copy_name`; FAB named it 「salesperson copy」), linked to the roles.yaml role
        the original is (its own, or the one it is a copy of: app/services/access/origins.py), so the copy's users
        see and write what the original's do. A copy of a role roles.yaml does not know is linked to nothing: it sees
        no field, and one that may write anything with a required field is refused (the check a new role gets). All
        in one transaction: one copy refused copies none."""
        self.update_redirect()
        origins = read_origins(db.session)
        known = registry().meta.roles
        taken = self.appbuilder.sm.find_role
        for item in items:
            origin = origin_of(item.name, origins)
            linked = origin if origin in known or item.name in origins else None
            with use_locale(DEFAULT_LOCALE):  # a name is data, read alike in every language: in Chinese
                base = label(known[linked].label, linked) if linked in known else role_label(item.name)
                name = copy_name(base, lambda name: taken(name) is not None or name in known)
            try:
                refuse_locked_role(name, item.permissions, None, linked)
            except ServiceError as refused:
                db.session.rollback()
                flash(str(refused), "danger")
                return redirect(self.get_redirect())
            copy = item.__class__(name=name, permissions=list(item.permissions))
            db.session.add(copy)
            db.session.flush()
            if linked is not None:
                link_copy(db.session, copy.id, linked)
        db.session.commit()
        return redirect(self.get_redirect())


def stored_origin(name: str) -> str | None:
    """The roles.yaml role the stored role `name` is a copy of (None: it is no copy)."""
    return read_origins(db.session).get(name)


def refuse_locked_role(name: str, permission_views: Any, was: str | None, origin: str | None = None) -> None:
    """Refuse (every reason at once, in the catalogue's words) a role that would write a model and could not fill
    one of its required fields: the check roles.yaml gets at load and 价格屏蔽 when switched on; the edit is undone.
    `origin`: the roles.yaml role it is a copy of (its masks and row scope are that role's)."""
    refusals = role_refusals(name, permission_views, was, origin)
    if refusals:
        db.session.rollback()
        g.setdefault(ROLE_REFUSED, True)
        raise ServiceError("；".join(refusals))


class UserGroupModelView(FabUserGroupModelView):
    """FAB's user groups with labelled columns (FAB leaves them to be made from the column names)."""

    label_columns = {
        "name": lazy_gettext("Name"),
        "label": lazy_gettext("Label"),
        "description": lazy_gettext("Description"),
        "users": lazy_gettext("Users"),
        "roles": lazy_gettext("Roles"),
    }
    search_columns = ["name", "label"]
    formatters_columns = {"roles": USER_FORMATTERS["roles"], "users": names_text}
