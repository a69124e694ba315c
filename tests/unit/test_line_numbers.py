"""Line numbers (回線番号, manual §4.2): CAF + 10 or COP + 8 letters or digits, as
people type them (lower case, spaces, hyphens, full width); every refusal says why."""

from __future__ import annotations

import pytest

from idp.tenants.lines import MAX_INPUT, LineRefused, Refusal, validate


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("CAF0123456789", "CAF0123456789"),
        ("COP01234567", "COP01234567"),
        ("caf0123456789", "CAF0123456789"),
        ("cafab12cd34ef", "CAFAB12CD34EF"),
        ("CAF-0123-456-789", "CAF0123456789"),
        ("CAF 0123 456 789", "CAF0123456789"),
        ("  COP0123 4567\t", "COP01234567"),
        ("ＣＡＦ０１２３４５６７８９", "CAF0123456789"),  # full width
        ("CAF－0123－456789", "CAF0123456789"),  # full-width hyphen-minus
        ("CAFー0123ー456789", "CAF0123456789"),  # the long vowel mark typed as a dash
        ("CAF−0123‐456–789", "CAF0123456789"),  # minus sign, hyphen, en dash
        ("cop　0123　4567", "COP01234567"),  # ideographic spaces
    ],
)
def test_accepted_and_made_canonical(typed: str, number: str) -> None:
    assert validate(typed) == number


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", Refusal.EMPTY),
        ("   ", Refusal.EMPTY),
        (" - - ", Refusal.EMPTY),
        ("0123456789012", Refusal.PREFIX),
        ("CAT0123456789", Refusal.PREFIX),
        ("CA0123456789", Refusal.PREFIX),
        ("XCAF0123456789", Refusal.PREFIX),
        ("CAF012345678", Refusal.SHAPE),  # 9 after CAF
        ("CAF01234567890", Refusal.SHAPE),  # 11 after CAF
        ("COP0123456", Refusal.SHAPE),  # 7 after COP
        ("COP012345678", Refusal.SHAPE),  # 9 after COP
        ("COP0123456789", Refusal.SHAPE),  # a CAF length behind COP
        ("CAF01234567_9", Refusal.SHAPE),
        ("CAF0123456.89", Refusal.SHAPE),
        ("CAFıııııııııı", Refusal.SHAPE),  # dotless i would upper-case to ASCII I
        ("CAFé123456789", Refusal.SHAPE),
        ("CAF" + "0" * 200, Refusal.SHAPE),
        # Too long as typed: refused, not cut down to something valid.
        ("CAF0123456789" + " " * MAX_INPUT + "X", Refusal.SHAPE),
    ],
)
def test_refused_with_the_reason(typed: str, reason: Refusal) -> None:
    with pytest.raises(LineRefused) as refused:
        validate(typed)
    assert refused.value.reason == reason
    assert str(refused.value) == str(reason)  # the one line the command prints


def test_each_reason_reads_differently() -> None:
    messages = {str(r) for r in Refusal}
    assert len(messages) == len(Refusal) and all(messages)
