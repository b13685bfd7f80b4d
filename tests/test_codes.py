"""Codes are normalised before the unique check, in one function (app/services/records/codes.py)."""

from __future__ import annotations

import time
import zlib

import pytest
from sqlalchemy import insert

from app.extensions import db, registry
from app.meta.types import ValueProblem
from app.services.records.codes import code_collisions, normalise_code
from tests.conftest import unique
from tests.factories import make_payload


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("ＫＳ１Ａ", "KS1A"), ("  KS1A\t", "KS1A"), ("ks1a", "ks1a"), ("Ｋ－０１", "K-01")],
)
def test_codes_are_stored_as_people_read_them(raw, stored):
    assert normalise_code(raw) == stored


@pytest.mark.parametrize("raw", ["KS\u200b1A", "KS1A\x00", "\ufeffKS1A", "KS\u202e1A", "KS1A\n2"])
def test_codes_with_control_or_invisible_characters_are_refused(raw):
    with pytest.raises(ValueProblem):
        normalise_code(raw)


def test_codes_that_only_look_unique_are_refused_on_every_model_with_a_code(app, admin_api):
    """Full-width, other case, a zero-width space, a NUL: the same code (or no code) on item, partner, warehouse."""
    for model_key, key, extra in (
        ("item", "sku", {"name": "编码测试", "unit": "个"}),
        ("partner", "code", {"name": "编码测试", "kind": "customer"}),
        ("warehouse", "code", {"name": "编码测试"}),
    ):
        code = unique("KS")
        created = admin_api.post(f"/api/v1/{model_key}/", json={key: code, **extra})
        assert created.status_code == 201, created.get_json()
        wide = code.translate({ord(c): ord(c) + 0xFEE0 for c in code})  # ＫＳ...
        for lookalike in (wide, code.lower(), f" {code} "):
            response = admin_api.post(f"/api/v1/{model_key}/", json={key: lookalike, **extra})
            assert response.status_code == 422, (model_key, lookalike, response.get_json())
            assert response.get_json()["errors"][0]["field"] == key
        for hidden in (code[:2] + "\u200b" + code[2:], code + "\x00"):
            response = admin_api.post(f"/api/v1/{model_key}/", json={key: hidden, **extra})
            assert response.status_code == 422, (model_key, repr(hidden))
            assert response.get_json()["errors"][0]["field"] == key
        got = admin_api.get(f"/api/v1/{model_key}/{created.get_json()['id']}").get_json()["result"]
        assert got[key] == code


def test_a_code_typed_full_width_is_stored_normalised(admin_api):
    code = unique("W")
    wide = code.translate({ord(c): ord(c) + 0xFEE0 for c in code})
    response = admin_api.post("/api/v1/warehouse/", json={"code": wide, "name": "全角"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["result"]["code"] == code


def test_rows_that_would_collide_are_listed_and_nothing_is_merged(app):
    """What `jxc init` prints (app/setup.py): codes stored before normalisation that are now one code."""
    code = unique("C")
    with app.app_context():
        cls = registry().cls("warehouse")
        db.session.execute(insert(cls.__table__), [{"code": code, "name": "一"}, {"code": code.lower(), "name": "二"}])
        db.session.commit()
        found = [c for c in code_collisions(db.session, registry()) if code in c.codes]
        assert len(found) == 1 and found[0].model == "warehouse" and set(found[0].codes) == {code, code.lower()}
        rows = db.session.query(cls).filter(cls.code.in_([code, code.lower()])).count()
        assert rows == 2


def test_codes_stored_wide_spaced_or_invisible_are_compared_in_their_normal_form(app):
    """Plain ASCII codes are grouped in SQL, the others normalised in Python: both kinds meet in one group."""
    code, other, alone = unique("D"), unique("E"), unique("F")
    wide = code.translate({ord(c): ord(c) + 0xFEE0 for c in code})
    with app.app_context():
        cls = registry().cls("warehouse")
        stored = [wide, code.lower(), f"{other} ", f"\u200b{other.lower()}", other, alone, f"{alone}x"]
        db.session.execute(insert(cls.__table__), [{"code": c, "name": "码"} for c in stored])
        db.session.commit()
        found = {frozenset(c.codes) for c in code_collisions(db.session, registry()) if c.model == "warehouse"}
        assert frozenset({wide, code.lower()}) in found
        assert frozenset({f"{other} ", f"\u200b{other.lower()}", other}) in found
        assert not [codes for codes in found if alone in codes or f"{alone}x" in codes]


def test_automatic_numbering_skips_a_number_chosen_by_hand(app, admin_api):
    with app.app_context():
        payload = make_payload(db.session, registry(), "purchase_order")
    payload.pop("number", None)
    first = admin_api.post("/api/v1/purchase_order/", json=payload)
    assert first.status_code == 201, first.get_json()
    number = first.get_json()["result"]["number"]
    head, seq = number.rsplit("-", 1)
    taken = f"{head}-{int(seq) + 1:0{len(seq)}d}"
    by_hand = admin_api.post("/api/v1/purchase_order/", json={**payload, "number": taken})
    assert by_hand.status_code == 201, by_hand.get_json()
    automatic = admin_api.post("/api/v1/purchase_order/", json=payload)
    assert automatic.status_code == 201, automatic.get_json()
    assert automatic.get_json()["result"]["number"] == f"{head}-{int(seq) + 2:0{len(seq)}d}"
    again = admin_api.post("/api/v1/purchase_order/", json=payload)  # and the day goes on
    assert again.status_code == 201, again.get_json()


def _add_pattern_field(admin_api, pattern: str) -> tuple[str, object]:
    name = unique("p").lower()
    number = zlib.crc32(name.encode())  # a label of its own: a repeated one is refused (imports match by header)
    label = {"zh": f"格式{number}", "en": f"Pattern {number}"}
    spec = {"name": name, "type": "text", "label": label, "help": label, "pattern": pattern}
    return name, admin_api.post("/api/v1/meta/warehouse/fields", json=spec)


def test_admin_patterns_run_in_linear_time_and_what_re2_cannot_run_is_refused(admin_api):
    """`(a+)+$` backtracks exponentially in Python's re; RE2 answers at once. A back-reference is refused
    when the admin saves the field, with the reason, in Chinese."""
    _name, refused = _add_pattern_field(admin_api, r"(a)\1")
    assert refused.status_code == 422, refused.get_json()
    assert "线性时间" in str(refused.get_json()), refused.get_json()
    name, added = _add_pattern_field(admin_api, "(a+)+$")
    assert added.status_code in (200, 201), added.get_json()
    started = time.perf_counter()
    response = admin_api.post("/api/v1/warehouse/", json={"code": unique("W"), "name": "格式", name: "a" * 200 + "b"})
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == name
    assert time.perf_counter() - started < 5  # Python's re would take longer than the universe has
    assert (
        admin_api.post("/api/v1/warehouse/", json={"code": unique("W"), "name": "格式", name: "aaa"}).status_code == 201
    )
