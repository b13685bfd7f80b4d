"""The app's Flask class (app.web.flask_app): whether a view or hook is an `async def` function is worked out once per
function, and answered as Flask answers it."""

from __future__ import annotations

import pytest
from flask import Flask


def test_ensure_sync_answers_as_flasks_own_and_keeps_the_plain_functions(app):
    from app.web.flask_app import JxcFlask

    assert isinstance(app, JxcFlask)

    def plain() -> str:
        return "plain"

    async def coroutine() -> str:
        return "async"

    for _ in range(2):  # the first answer worked out, the second kept
        assert app.ensure_sync(plain) is plain is Flask.ensure_sync(app, plain)
        assert plain in app._plain_functions
        with pytest.raises(RuntimeError):  # Flask's own answer without asgiref: never kept as plain
            app.ensure_sync(coroutine)
        assert coroutine not in app._plain_functions
    hook = app.before_request_funcs[None][0]
    assert app.ensure_sync(hook) is hook
