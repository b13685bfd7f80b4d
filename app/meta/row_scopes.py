"""Row scopes that leave a writing role nothing to write: the row-scope half of the one check
(app/services/access/locks.py). roles.yaml is checked at load (`scope_fillable`, beside `required_fillable`); the roles
in force (their stored actions, a role page's edit) through `out_of_scope` too."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from app.meta.spec import FieldSpec, MetaError, ModelSpec, RoleSpec


def admits_none(
    models: Mapping[str, ModelSpec], role: RoleSpec, model_key: str, _seen: frozenset[str] = frozenset()
) -> bool:
    """Does the role's row scope on the model admit no row whatever the data (`Access.scope` of a user holding only
    the role)? Its sides take none of the model's, or every field of its rule is `visible` through a link to a model
    the role may not read, or whose own scope admits none (or leads back), or `me` on a field the write path fills
    with the writer (`created_by`) of a model the role does not write. Any other `me` and `my_warehouses` admit the
    user's own rows: how many there are is the data's (an owner given, a warehouse assigned), not the role's."""
    model = models.get(model_key)
    if model is None:
        return False
    if model.is_line:
        return admits_none(models, role, model.parent or "", _seen)
    if model.sides is not None and not model.sides.options_on(role.sides):
        return True
    rule = role.row_scope.get(model.key)
    if not rule:
        return False
    for name, token in rule.items():
        spec = model.field(name)
        if token == "me" and spec is not None and spec.system and "write" not in role.grants(model.permission_model):
            continue  # rows its users made (created_by: me), and it makes none
        if token != "visible" or spec is None:
            return False
        target = models.get(spec.to or "")
        if target is None or target.key in _seen | {model.key}:
            continue
        if "read" in role.grants(target.permission_model) and not admits_none(
            models, role, target.key, _seen | {model.key}
        ):
            return False
    return True


def out_of_scope(
    models: Mapping[str, ModelSpec], roles: Mapping[str, RoleSpec]
) -> Iterator[tuple[ModelSpec, FieldSpec, RoleSpec]]:
    """(model, field, role) for each field of a model a role writes that its row scope leaves it nothing to fill with:
    the model's own scope admitting no row at all (the rule's fields, or the sides' field), or a required link to a
    model whose scope admits none (`admits_none`). A save of such a row is always refused (超出您的数据范围, or the
    link as unknown). Each once."""
    seen: set[tuple[str, str, str]] = set()
    for role in roles.values():
        for model in models.values():  # a document's lines are written with it, and scoped by it
            if "write" not in role.grants(model.permission_model):
                continue
            found: list[FieldSpec] = []
            if not model.is_line and admits_none(models, role, model.key):
                rule = role.row_scope.get(model.key) or {}
                names = list(rule) if rule else [model.sides.field] if model.sides is not None else []
                found += [spec for n in names if (spec := model.field(n)) is not None]
            found += [
                spec
                for spec in model.fields
                if spec.type == "link" and spec.required and spec.default is None and not spec.readonly
                if not spec.system and admits_none(models, role, spec.to or "")
            ]
            for spec in found:
                if (model.key, spec.name, role.key) not in seen:
                    seen.add((model.key, spec.name, role.key))
                    yield model, spec, role


def scope_fillable(models: Mapping[str, ModelSpec], roles: Mapping[str, RoleSpec]) -> list[MetaError]:
    """roles.yaml at load: no role writes a model its row scope leaves it nothing to write (`out_of_scope`), the check
    the role pages make of an edit and start-up of the roles as stored."""
    return [
        MetaError(
            "metadata/roles.yaml",
            f"role '{role.key}' writes {model.key}, but its row scope admits no value of its field '{spec.name}'"
            " (the scope goes through records it may not read, or sides it does not take), so it could save none",
            f"let role '{role.key}' read what its row scope links to, or do not let it write {model.key}",
            code="meta_scope_unfillable",
            params=(("field", spec.name), ("role", role.key), ("model", model.key)),
        )
        for model, spec, role in out_of_scope(models, roles)
    ]
