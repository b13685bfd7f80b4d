"""Sign-ins: throttled logins (no lockout, unknown users answered alike), the password policy on every way a
password is set, sessions and tokens that end, CSRF only skipped for a token that signs someone in, user
changes through FAB's API audited without echoing passwords, Secure cookies behind TLS."""

from __future__ import annotations

import json
import statistics
import time
import warnings

import pytest
from sqlalchemy import select

from app.extensions import db
from app.services.records.tables import audit_log
from app.services.users.accounts import create_user, set_password
from app.services.users.tables import rate_limit
from tests.conftest import csrf_from, unique

STRONG = "Kite-Harbour-73"


@pytest.fixture
def person(app):
    """A user of their own (signing them out must not sign out the shared test users)."""
    name = unique("x_").lower()
    with app.app_context():
        create_user(name, "clerk", STRONG)
    return name


def api_login(app, username, password, address="10.0.0.1"):
    return app.test_client().post(
        "/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db"},
        environ_base={"REMOTE_ADDR": address},
    )


def web_login(app, username, password=STRONG):
    client = app.test_client()
    token = csrf_from(client.get("/login/").get_data(as_text=True))
    client.post("/login/", data={"username": username, "password": password, "csrf_token": token})
    return client


def bearer(app, username, password=STRONG):
    response = api_login(app, username, password, address=f"10.1.{len(username)}.{int(time.time()) % 250}")
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def test_failed_logins_slow_down_per_name_and_address_without_locking_the_owner_out(app, person):
    address = f"10.2.{int(time.time()) % 250}.1"
    for _ in range(5):
        assert api_login(app, person, "wrong-password-1", address).status_code == 401
    throttled = api_login(app, person, STRONG, address)  # even the right password waits its turn here
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert "秒后再试" in throttled.get_json()["message"]
    assert api_login(app, person, STRONG, "10.3.0.1").status_code == 200  # the owner elsewhere is not locked out
    ghost = unique("ghost").lower()  # a name nobody has is counted and answered the same way
    answers = [api_login(app, ghost, "wrong-password-1", address.replace(".1", ".2")) for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]


def test_attempts_are_counted_where_every_process_sees_them(app):
    from app.web.login_limits import DatabaseStorage

    with app.app_context():
        storage = DatabaseStorage()
        key = unique("k")
        assert storage.incr(key, 60) == 1 and storage.incr(key, 60) == 2
        with db.engine.connect() as other:  # another connection, as another worker process has
            assert other.execute(select(rate_limit.c.count).where(rate_limit.c.key == key)).scalar() == 2
        storage.clear(key)
        assert storage.get(key) == 0


def test_unknown_users_get_the_same_answer_in_the_same_time(app, person):
    unknown, known = [], []
    for n in range(4):
        for found, name in ((unknown, unique("nobody").lower()), (known, person)):
            started = time.perf_counter()
            response = api_login(app, name, "wrong-password-1", f"10.4.{n}.{len(found)}")
            found.append(time.perf_counter() - started)
            assert response.status_code == 401
            body = response.get_json()
    assert body == api_login(app, unique("nobody"), "x-wrong-pass", "10.4.9.9").get_json()
    a, b = statistics.median(unknown), statistics.median(known)
    assert abs(a - b) < 0.5 * max(a, b), (unknown, known)  # both check a password hash of the same cost


def test_passwords_are_hashed_at_werkzeugs_scrypt_cost_unless_told_otherwise(app, monkeypatch):
    """This suite runs with a cheaper hash (tests/conftest.py); a business gets scrypt at n=32768, and a cheaper
    setting checks an unknown user's password against a stand-in of that same cost."""
    from werkzeug.security import check_password_hash, generate_password_hash

    from app.config import password_hashing

    monkeypatch.delenv("JXC_PASSWORD_HASH")
    assert password_hashing() == {"FAB_PASSWORD_HASH_METHOD": "scrypt"}
    assert generate_password_hash("x", method="scrypt").startswith("scrypt:32768:8:1$")
    assert app.config["FAB_PASSWORD_HASH_METHOD"] == "scrypt:4096:8:1"  # this suite's own
    monkeypatch.setenv("JXC_PASSWORD_HASH", "scrypt:4096:8:1")
    cheap = password_hashing()
    assert cheap["FAB_PASSWORD_HASH_METHOD"] == "scrypt:4096:8:1"
    assert cheap["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"].startswith("scrypt:4096:8:1$")
    assert not check_password_hash(cheap["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"], "password")
    with app.app_context():
        stored = db.session.scalar(
            select(app.appbuilder.sm.user_model.password).where(app.appbuilder.sm.user_model.username == "u_clerk")
        )
        db.session.rollback()
    assert stored.startswith("scrypt:4096:8:1$")


def test_the_password_policy_holds_on_the_api_and_answers_never_echo_a_password(app, admin_api):
    role = next(r["id"] for r in admin_api.get("/api/v1/security/roles/").get_json()["result"] if r["name"] == "clerk")
    name = unique("x_api").lower()
    body = {
        "username": name,
        "first_name": "A",
        "last_name": "B",
        "email": f"{name}@x.cn",
        "roles": [role],
        "active": True,
    }
    weak = admin_api.post("/api/v1/security/users/", json=body | {"password": "password1"})
    assert weak.status_code == 422 and "太常见" in json.dumps(weak.get_json(), ensure_ascii=False)
    made = admin_api.post("/api/v1/security/users/", json=body | {"password": STRONG})
    assert made.status_code == 201, made.get_json()
    pk = made.get_json()["id"]
    assert admin_api.put(f"/api/v1/security/users/{pk}", json={"password": name + "1"}).status_code == 422
    changed = admin_api.put(f"/api/v1/security/users/{pk}", json={"password": "New-Harbour-74"})
    assert changed.status_code == 200 and "New-Harbour-74" not in changed.get_data(as_text=True)
    with app.app_context():
        rows = db.session.execute(
            select(audit_log)
            .where(audit_log.c.model == "ab_user", audit_log.c.record_id == pk)
            .order_by(audit_log.c.id)
        ).all()
        db.session.rollback()
    assert [r.action for r in rows] == ["create", "update"]
    assert all("scrypt" not in (r.after or "") and "Harbour" not in (r.after or "") for r in rows)
    assert '"password": "(changed)"' in rows[1].after


def test_the_password_policy_holds_on_fab_pages_and_the_own_reset_asks_for_the_current_one(app, login_as, person):
    admin = login_as("admin")
    token = csrf_from(admin.get("/m/item/new").get_data(as_text=True))  # FAB's own add page warns (WTForms 3)
    name = unique("x_page").lower()
    fields = {
        "first_name": "A",
        "last_name": "B",
        "username": name,
        "email": f"{name}@x.cn",
        "active": "y",
        "csrf_token": token,
    }
    with warnings.catch_warnings():  # FAB's user form renders its role list in a way WTForms 3 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        page = admin.post("/users/add", data=fields | {"password": "12345678", "conf_password": "12345678"})
    assert "太常见" in page.get_data(as_text=True)
    with app.app_context():
        from flask_appbuilder.security.sqla.models import User

        assert db.session.execute(select(User.id).where(User.username == name)).first() is None
        db.session.rollback()
    mine = web_login(app, person)
    token = csrf_from(mine.get("/resetmypassword/form").get_data(as_text=True))
    new = {"password": "Brand-New-Kite-9", "conf_password": "Brand-New-Kite-9", "csrf_token": token}
    refused = mine.post("/resetmypassword/form", data=new | {"current_password": "not-my-password"})
    assert "当前密码不正确" in refused.get_data(as_text=True)
    assert api_login(app, person, "Brand-New-Kite-9", "10.5.0.1").status_code == 401
    elsewhere = bearer(app, person)
    mine.post("/resetmypassword/form", data=new | {"current_password": STRONG})
    assert api_login(app, person, "Brand-New-Kite-9", "10.5.0.2").status_code == 200
    assert app.test_client().get("/api/v1/item/", headers=elsewhere).status_code == 401  # other sign-ins ended
    assert mine.get("/api/v1/item/").status_code == 200  # the browser that changed it stays signed in


def test_sessions_and_tokens_end_on_logout_password_change_and_deactivation(app, admin_api, person):
    browser = web_login(app, person)
    copy = app.test_client()
    copy.set_cookie("session", browser.get_cookie("session").value)
    assert copy.get("/api/v1/item/").status_code == 200
    browser.get("/logout/")
    assert copy.get("/api/v1/item/").status_code == 401  # the copied cookie died with the logout
    token = bearer(app, person)
    assert app.test_client().post("/api/v1/security/logout", headers=token).status_code == 200
    assert app.test_client().get("/api/v1/item/", headers=token).status_code == 401
    token = bearer(app, person)
    with app.app_context():
        set_password(person, "Other-Harbour-75")  # what `jxc user passwd` does
    assert app.test_client().get("/api/v1/item/", headers=token).status_code == 401
    token = bearer(app, person, "Other-Harbour-75")
    with app.app_context():
        from flask_appbuilder.security.sqla.models import User

        pk = db.session.execute(select(User.id).where(User.username == person)).scalar_one()
        db.session.rollback()
    assert admin_api.put(f"/api/v1/security/users/{pk}", json={"active": False}).status_code == 200
    assert admin_api.put(f"/api/v1/security/users/{pk}", json={"active": True}).status_code == 200
    assert app.test_client().get("/api/v1/item/", headers=token).status_code == 401  # reactivation revives nothing


@pytest.mark.parametrize("signs_out", ["first", "refreshed"])
def test_every_token_of_one_api_sign_in_ends_with_its_logout(app, person, signs_out):
    """The refresh token a sign-in gets, and each access token refreshed from it, are that sign-in: a logout with
    any of its access tokens ends them all, and refreshing starts no sign-in of its own. (The refresh token had a
    session of its own and each refresh started one more, so a refresh token outlived the logout and kept minting
    access tokens for its 30 days.)"""
    from flask_appbuilder.security.sqla.models import User

    from app.services.users.tables import login_session

    client = app.test_client()
    signed = client.post(
        "/api/v1/security/login",
        json={"username": person, "password": STRONG, "provider": "db", "refresh": True},
        environ_base={"REMOTE_ADDR": "10.3.0.1"},
    ).get_json()
    refresh = {"Authorization": f"Bearer {signed['refresh_token']}"}
    first = {"Authorization": f"Bearer {signed['access_token']}"}
    renewed = client.post("/api/v1/security/refresh", headers=refresh)
    assert renewed.status_code == 200, renewed.get_json()
    refreshed = {"Authorization": f"Bearer {renewed.get_json()['access_token']}"}
    assert client.get("/api/v1/item/", headers=refreshed).status_code == 200
    with app.app_context():
        pk = db.session.execute(select(User.id).where(User.username == person)).scalar_one()
        rows = db.session.execute(select(login_session.c.sid).where(login_session.c.user_id == pk)).scalars().all()
        db.session.rollback()
    assert len(rows) == 1  # one sign-in, one session, however often it is refreshed

    out = first if signs_out == "first" else refreshed
    assert client.post("/api/v1/security/logout", headers=out).status_code == 200
    for headers in (first, refreshed):
        assert client.get("/api/v1/item/", headers=headers).status_code == 401
    assert client.post("/api/v1/security/refresh", headers=refresh).status_code == 401


def test_no_answer_but_a_static_file_is_kept_by_the_browser(app, person):
    """Every page and API answer (each GET route without parameters, as a signed-in clerk gets it) says
    `Cache-Control: no-store`, so after a logout the back button and the disk cache show nothing that was read;
    static files are the ones kept. (Nothing was said: a shared PC's browser showed the last user's pages.)"""
    from app.web.static_cache import serves_static

    browser = web_login(app, person)
    answers = {}
    with app.test_request_context():
        rules = [
            r
            for r in app.url_map.iter_rules()
            if "GET" in r.methods and not r.arguments and not serves_static(r.endpoint) and r.rule != "/logout/"
        ]
    for rule in rules:
        response = browser.get(rule.rule)
        answers[rule.rule] = response.headers.get("Cache-Control", "")
    assert len(answers) > 40
    assert {url: said for url, said in answers.items() if "no-store" not in said} == {}
    static = browser.get("/static/jxc/jxc.js")
    static.close()
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


def test_csrf_is_skipped_only_for_a_bearer_token_that_signs_in(app, person):
    browser = web_login(app, person)
    item = {"sku": unique("CS"), "name": "x", "unit": "PCS"}
    forged = browser.post("/api/v1/item/", json=item, headers={"Authorization": "Bearer x"})
    assert forged.status_code == 400
    assert browser.post("/api/v1/item/", json=item, headers=bearer(app, person)).status_code == 201


def test_cookies_are_secure_and_hsts_sent_behind_tls(app, monkeypatch):
    from app import create_app

    monkeypatch.setenv("JXC_HTTPS", "1")
    behind = create_app(
        {
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "INSTANCE_PATH": app.config["INSTANCE_PATH"],
            "SECRET_KEY": app.config["SECRET_KEY"],
        }
    )
    client = behind.test_client()
    page = client.get("/login/", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in page.headers.get("Set-Cookie", "") and "max-age" in page.headers["Strict-Transport-Security"]
    with behind.app_context():
        db.session.remove()


def test_a_token_used_before_is_still_refused_once_it_ends_or_expires(app, person):
    """Tokens are verified once per process and remembered (app.views.security_manager.VerifiedTokens): a
    remembered token still ends with its sign-in and at its expiry."""
    from datetime import timedelta

    from flask_appbuilder.security.sqla.models import User
    from flask_jwt_extended import create_access_token

    client = app.test_client()
    token = bearer(app, person)
    assert client.get("/api/v1/grid/item/rows?size=1", headers=token).status_code == 200
    assert client.get("/api/v1/grid/item/rows?size=1", headers=token).status_code == 200  # the remembered token
    assert client.post("/api/v1/security/logout", headers=token).status_code == 200
    assert client.get("/api/v1/grid/item/rows?size=1", headers=token).status_code == 401
    with app.app_context():
        pk = db.session.execute(select(User.id).where(User.username == person)).scalar_one()
        short = create_access_token(str(pk), expires_delta=timedelta(seconds=2))
    headers = {"Authorization": f"Bearer {short}"}
    assert client.get("/api/v1/grid/item/rows?size=1", headers=headers).status_code == 200
    time.sleep(2.2)
    assert client.get("/api/v1/grid/item/rows?size=1", headers=headers).status_code == 401
    assert client.get("/api/v1/item/", headers=headers).status_code == 401


def test_a_token_header_is_read_once_and_handed_out_as_a_copy(app, person):
    """flask_jwt_extended's header parse is kept per token text (app.views.security_manager.TokenHeaders):
    a caller changing what it got does not change what the next request gets; a malformed token still fails."""
    from flask_jwt_extended import view_decorators

    from app.views.security_manager import TokenHeaders

    headers_of = view_decorators.get_unverified_jwt_headers
    assert isinstance(headers_of, TokenHeaders)
    token = bearer(app, person)["Authorization"].split(" ", 1)[1]
    assert (
        app.test_client().get("/api/v1/grid/item/rows?size=1", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    first = headers_of(token)
    assert first["alg"] == "HS256" and token in headers_of.headers
    first["alg"] = "none"
    assert headers_of(token)["alg"] == "HS256"
    with pytest.raises(Exception):  # noqa: B017 - PyJWT's DecodeError
        headers_of("not.a-token")
    assert "not.a-token" not in headers_of.headers
