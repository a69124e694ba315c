"""Phone numbers as people type them become E.164; numbers that take no SMS do not."""

from __future__ import annotations

import pytest

from idp.mfa.sms import normalize_phone

MOBILE = "+819012345678"


@pytest.mark.parametrize(
    "typed",
    [
        "09012345678",
        "090-1234-5678",
        "090 1234 5678",
        "(090) 1234-5678",
        "090.1234.5678",
        "０９０－１２３４－５６７８",  # full-width digits and hyphen-minus
        "０９０ー１２３４ー５６７８",  # the long vowel mark typed as a dash
        "090−1234−5678",  # minus sign
        "090‐1234‐5678",  # Unicode hyphen
        "090ｰ1234ｰ5678",  # half-width long vowel mark
        "　090-1234-5678　",  # ideographic spaces around
        "+819012345678",
        "+81 90-1234-5678",
        "+81-90-1234-5678",
        "+81 (0)90 1234 5678",
        "＋８１９０１２３４５６７８",
    ],
)
def test_japanese_mobile_numbers(typed: str) -> None:
    assert normalize_phone(typed) == MOBILE


@pytest.mark.parametrize(
    ("typed", "e164"),
    [("070-1111-2222", "+817011112222"), ("080 3333 4444", "+818033334444"), ("060-5555-6666", "+816055556666")],
)
def test_every_mobile_prefix(typed: str, e164: str) -> None:
    assert normalize_phone(typed) == e164


def test_numbers_abroad_stay_as_given() -> None:
    assert normalize_phone("+1 415 555 2671") == "+14155552671"
    assert normalize_phone("+44 7700 900123") == "+447700900123"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "03-1234-5678",  # a fixed line takes no SMS
        "0120-123-456",  # toll free
        "090-1234-567",  # a digit short
        "090-1234-56789",  # a digit too many
        "+81 3-1234-5678",
        "9012345678",  # no trunk prefix and no country code
        "090-1234-567a",
        "+0 123 456 789",
        "+1234567890123456",  # longer than E.164 allows
        "090-١٢٣٤-٥٦٧٨",  # Arabic-Indic digits: \d matches them, an SMS gateway does not
        "+1 ٤١٥ 555 2671",
    ],
)
def test_refused(typed: str) -> None:
    assert normalize_phone(typed) is None
