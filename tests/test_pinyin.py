"""Item initials (`pinyin_initials`): spelled run by run of Chinese characters, with a cache per run, they are
what pypinyin spells for the whole name: polyphonic characters read as in their phrase, other text kept."""

from __future__ import annotations

import random

import pytest
from pypinyin import Style, lazy_pinyin

from app.ledger.compute import pinyin_initials


def whole_name(name: str) -> str:
    """pypinyin over the whole name at once, as the initials were spelled before the cache."""
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors=list)).upper()[:64]


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("农夫山泉", "NFSQ"),
        ("重庆小面 500ml", "CQXM 500ML"),  # 重 as chóng in 重庆
        ("银行行长", "YHHZ"),  # 行 as háng, 长 as zhǎng
        ("长春 长大", "CC ZD"),  # the same 长, two readings in two runs
        ("农夫 0", "NF 0"),
        ("ＡＢＣ可乐１２", "ＡＢＣKL１２"),  # full-width letters and digits kept
    ],
)
def test_initials_read_polyphonic_characters_in_their_phrase(name: str, initials: str) -> None:
    assert pinyin_initials({"name": name}) == initials


def test_initials_are_what_pypinyin_spells_for_the_whole_name() -> None:
    pool = "农夫山泉重庆行长银春乐音快还单于据的地得朝阳代〇㐀豈ab 1２ｘ-/（）"
    rng = random.Random(13)
    names = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 14))) for _ in range(3000)]
    names += ["基准商品 " + str(n) for n in range(50)] + ["x" * 70, "长" * 70]
    assert [pinyin_initials({"name": n}) for n in names] == [whole_name(n) for n in names]
    assert pinyin_initials({"name": ""}) is None and pinyin_initials({}) is None


def test_initials_alike_when_pypinyin_writes_its_characters_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runs are split by one regular expression made of RE_HANS's characters; a pypinyin whose RE_HANS is
    written another way is asked a character at a time, and spells the same."""
    import re

    import pypinyin.constants

    from app.ledger.compute import _hans_runs

    pool = "农夫山泉重庆行长〇㐀豈ab 1２-（）"
    rng = random.Random(7)
    names = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 12))) for _ in range(500)]
    fast = [pinyin_initials({"name": n}) for n in names]
    other = pypinyin.constants.RE_HANS.pattern.replace("^(?:[", "^(?:(?:[").replace("])+$", "]))+$")
    monkeypatch.setattr(pypinyin.constants, "RE_HANS", re.compile(other, pypinyin.constants.RE_HANS.flags))
    _hans_runs.cache_clear()
    try:
        assert [pinyin_initials({"name": n}) for n in names] == fast == [whole_name(n) for n in names]
    finally:
        monkeypatch.undo()
        _hans_runs.cache_clear()
