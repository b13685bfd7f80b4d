"""Flask-Limiter's hook runs wherever a limit can apply (app.web.limited_endpoints): every route of the app is
held against the limiter's own resolution of its limits, and a limit added while the app runs holds at once."""

from __future__ import annotations

import uuid

from flask_limiter.util import get_qualified_name

from app.web.limited_endpoints import carries_limit


def _limits_the_hook_would_check(limiter, app, endpoint, blueprint):
    """What Flask-Limiter's before-request hook resolves for the endpoint, and the limits decorating its view."""
    manager = limiter.limit_manager
    name = get_qualified_name(app.view_functions[endpoint])
    marked = name in limiter._marked_for_limiting or manager.has_hints(endpoint)
    defaults, decorated = manager.resolve_limits(app, endpoint, blueprint, name, True, marked)
    return [*defaults, *decorated, *manager.decorated_limits(name)]


def test_every_route_the_limiter_would_limit_runs_its_hook(app):
    limiter = app.appbuilder.sm.limiter
    limited, skipped = set(), set()
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            blueprint = rule.endpoint.rpartition(".")[0] or None
            carries = carries_limit(limiter, app, rule.endpoint, blueprint)
            if _limits_the_hook_would_check(limiter, app, rule.endpoint, blueprint):
                assert carries, rule.rule
            (limited if carries else skipped).add(rule.endpoint)
    # the sign-ins are limited (page and API), and the hook is skipped for the rest, the grid among them
    assert {"AuthDBView.login", "JxcSecurityApi.login"} <= limited
    assert "GridApi.rows" in skipped and len(skipped) > 10 * len(limited)
    hooks = app.before_request_funcs[None]  # the limiter's own hook is replaced by the one that asks first
    assert limiter._check_request_limit not in hooks
    assert any(hook.__name__ == "check_where_limited" for hook in hooks)


def test_a_limit_added_while_the_app_runs_holds_at_once(app, admin_api):
    limiter = app.appbuilder.sm.limiter
    blueprint = app.blueprints["GridApi"]
    key = uuid.uuid4().hex
    limiter.limit("2 per minute", key_func=lambda: key)(blueprint)
    try:
        answers = [admin_api.get("/api/v1/grid/item/rows", query_string={"size": 1}).status_code for _ in range(3)]
        assert answers == [200, 200, 429]
    finally:
        limiter.limit_manager._blueprint_limits.pop(blueprint.name)
    assert admin_api.get("/api/v1/grid/item/rows", query_string={"size": 1}).status_code == 200


def test_the_limiters_after_request_and_teardown_run_where_the_request_touched_the_limiter(app, admin_api):
    """Flask-Limiter's after-request hook and teardown read only the request's limiter state: a grid page, whose
    before-request hook is skipped, makes none and they are skipped; the sign-in, which carries a limit, has it."""
    from flask import request_finished

    assert [h.__name__ for h in app.after_request_funcs[None] if "where_touched" in h.__name__] == [
        "where_touched___inject_headers"
    ]
    assert any(h.__name__ == "where_touched___release_context" for h in app.teardown_request_funcs[None])
    touched = []

    def seen(sender, response, **_):
        from flask.globals import request_ctx

        touched.append(hasattr(request_ctx._get_current_object(), "_limiter_request_context"))

    request_finished.connect(seen, app)
    try:
        assert admin_api.get("/api/v1/grid/item/rows", query_string={"size": 1}).status_code == 200
        with app.test_client() as client:
            client.post("/api/v1/security/login", json={"username": "nobody", "password": "x", "provider": "db"})
    finally:
        request_finished.disconnect(seen, app)
    assert touched[0] is False and touched[-1] is True
