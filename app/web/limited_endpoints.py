"""Flask-Limiter's before-request hook, run only where a limit can apply.

Flask-Limiter looks at every request for the limits that apply to it (resolving the endpoint's decorated,
blueprint, default and application limits, its exemptions and its request context), though JXC limits only
the sign-ins. `carries_limit` answers from the limiter's own registry, read afresh on every request (a limit
added later counts at once), and answers yes whenever a limit could apply: every endpoint when the limiter
has any application, default, meta or in-memory fallback limit; else an endpoint whose view function is
decorated (or has been seen to call a decorated function), or whose blueprint or an ancestor of it carries
a limit. Only a request that answers no skips the hook: what the hook would have found for it is nothing.
No list of routes is kept: tests/test_limited_endpoints.py checks every route of the app against the
limiter's own resolution.

Its after-request hook (the rate-limit headers, the conditional deductions) and its teardown (the request's limiter
state reset) read only that state, which lives on the request context and is made by the first thing that touches
the limiter in the request (its before-request hook, a decorated view, `limiter.limit` as a context manager): they
run when the request has it, and are skipped when nothing touched the limiter, where they would have made an
empty state, added nothing and reset it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask.globals import _cv_request
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name


def limits_everywhere(limiter: Limiter) -> bool:
    """Does some limit of the limiter apply to every endpoint (application, default, meta or fallback)?"""
    manager = limiter.limit_manager
    return bool(
        manager._application_limits  # noqa: SLF001 - the limiter's registry: no public view of it
        or manager._default_limits  # noqa: SLF001
        or limiter._meta_limits  # noqa: SLF001
        or limiter._in_memory_fallback  # noqa: SLF001
    )


def carries_limit(limiter: Limiter, app: Flask, endpoint: str | None, blueprint: str | None) -> bool:
    """Could any limit of the limiter apply to a request of this endpoint and blueprint?"""
    if not endpoint or limits_everywhere(limiter):
        return True
    manager = limiter.limit_manager
    if manager.has_hints(endpoint):
        return True
    view = app.view_functions.get(endpoint)
    if view is not None:
        name = get_qualified_name(view)
        if name in limiter._marked_for_limiting or name in manager._decorated_limits:  # noqa: SLF001
            return True
    if blueprint:
        parts = blueprint.split(".")
        names = {".".join(parts[: index + 1]) for index in range(len(parts))} | set(parts)
        found = app.blueprints.get(blueprint)
        if found is not None:
            names.add(found.name)
        if names & manager._blueprint_limits.keys():  # noqa: SLF001
            return True
    return False


def install_limited_endpoints(app: Flask, limiter: Limiter) -> None:
    """Run the limiter's before-request hook only for requests `carries_limit` says a limit may apply to."""
    check = limiter._check_request_limit  # noqa: SLF001 - the hook Flask-Limiter registered on the app
    # every private field carries_limit reads, read once now: a Flask-Limiter that renamed one fails the start,
    # not every request
    limits_everywhere(limiter)
    manager = limiter.limit_manager
    _read_now = (limiter._marked_for_limiting, manager._decorated_limits, manager._blueprint_limits)  # noqa: SLF001

    def check_where_limited() -> Any:
        if carries_limit(limiter, current_app, limiter.identify_request(), request.blueprint):
            return check()
        return None

    hooks = app.before_request_funcs.setdefault(None, [])
    for index, hook in enumerate(hooks):  # none when the limiter is off (RATELIMIT_ENABLED false)
        if hook == check:
            hooks[index] = check_where_limited
    for funcs in (app.after_request_funcs.setdefault(None, []), app.teardown_request_funcs.setdefault(None, [])):
        for index, hook in enumerate(funcs):
            if getattr(hook, "__self__", None) is limiter or getattr(hook, "args", None) == (limiter,):
                funcs[index] = _where_touched(hook)


# where Flask-Limiter keeps a request's state (flask_limiter.Limiter.context: an attribute of the request context)
_LIMITER_STATE = "_limiter_request_context"


def _where_touched(hook: Any) -> Any:
    """The limiter's after-request or teardown hook, run when the request has limiter state (see the module's doc)."""

    def where_touched(arg: Any) -> Any:
        ctx = _cv_request.get(None)
        if ctx is not None and not hasattr(ctx, _LIMITER_STATE):
            return arg  # an after-request hook hands the response on; a teardown's answer is not read
        return hook(arg)

    where_touched.__name__ = f"where_touched_{getattr(hook, '__name__', None) or hook.func.__name__}"
    return where_touched
