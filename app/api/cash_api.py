"""Cash API: what each cash and bank account (结算账户) holds."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.api.responses import service_errors
from app.services.money.cash import account_balances
from app.web.context import current_access, session


class CashApi(BaseApi):
    """/api/v1/cash/: each account's opening balance, money in and out, and balance."""

    resource_name = "cash"
    version = "v1"
    allow_browser_login = True
    csrf_exempt = True
    class_permission_name = "Account"
    method_permission_name = {"balances": "read"}
    openapi_spec_tag = "cash"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def balances(self) -> Any:
        """Every account the user may read with its balance.
        ---
        get:
          summary: Account balances
          responses:
            200:
              description: '{result: [{code, name, kind, opening, in, out, balance}]}'
        """
        return self.response(200, result=[a.as_json() for a in account_balances(session(), current_access())])
