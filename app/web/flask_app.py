"""The Flask class of the app: Flask's, with whether a view or hook is a coroutine function worked out once per
function (Flask asks it of the view and of every hook of every request, ~20 `inspect` checks a request)."""

from __future__ import annotations

from collections.abc import Callable
from inspect import iscoroutinefunction
from typing import Any

from flask import Flask


class JxcFlask(Flask):
    """Flask with `ensure_sync` kept per function: a plain function is handed back as it is, as Flask's does, and an
    `async def` one is wrapped by Flask's `async_to_sync` on every call, as Flask's does."""

    MAX_KEPT = 4096  # functions known to be plain: the views and hooks, a few hundred

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_functions: set[Any] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """`func` itself when it is a plain function, else Flask's wrapper that runs it to its end."""
        try:
            if func in self._plain_functions:
                return func
        except TypeError:  # not hashable: asked each time
            return super().ensure_sync(func)
        if iscoroutinefunction(func):
            return self.async_to_sync(func)
        if len(self._plain_functions) >= self.MAX_KEPT:
            self._plain_functions.clear()
        self._plain_functions.add(func)
        return func
