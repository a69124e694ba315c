"""The contract details' rules: every field required, names of a sensible
length without control characters, phone numbers of ASCII digits with the
usual separators (full-width input folded first)."""

from __future__ import annotations

import pytest

from idp.tenants.details import Details, Field, Problem, problems

GOOD = {"company_name": "株式会社デモ", "contact_name": "山田 太郎", "contact_phone": "03-1234-5678"}


def _entered(**changes: str) -> Details:
    return Details.entered(**{**GOOD, **changes})


def test_good_details_have_no_problem():
    assert problems(_entered()) == {}
    assert problems(_entered(contact_phone="+81 (3) 1234-5678")) == {}
    assert problems(_entered(contact_phone="090 1234 5678")) == {}


def test_input_is_folded_before_it_is_checked():
    entered = _entered(company_name="  株式会社　 デモ ", contact_phone=" ０３－１２３４－５６７８ ")
    assert entered.company_name == "株式会社 デモ"
    assert entered.contact_phone == "03-1234-5678"
    assert _entered(contact_phone="03\u22121234\u22125678").contact_phone == "03-1234-5678"


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"company_name": ""}, Field.COMPANY, Problem.EMPTY),
        ({"contact_name": "   "}, Field.CONTACT, Problem.EMPTY),
        ({"company_name": "x" * 101}, Field.COMPANY, Problem.TOO_LONG),
        ({"contact_name": "Taro\u200bYamada"}, Field.CONTACT, Problem.CONTROL),
        ({"company_name": "Demo\x07"}, Field.COMPANY, Problem.CONTROL),
        ({"contact_phone": ""}, Field.PHONE, Problem.EMPTY),
        ({"contact_phone": "03-1234-567a"}, Field.PHONE, Problem.PHONE_CHARACTERS),
        ({"contact_phone": "٠٣١٢٣٤٥٦٧٨"}, Field.PHONE, Problem.PHONE_CHARACTERS),  # other scripts' digits
        ({"contact_phone": "03--"}, Field.PHONE, Problem.PHONE_CHARACTERS),
        ({"contact_phone": "++81312345678"}, Field.PHONE, Problem.PHONE_CHARACTERS),
        ({"contact_phone": "03-1234-567"}, Field.PHONE, Problem.PHONE_LENGTH),
        ({"contact_phone": "1234567890123456"}, Field.PHONE, Problem.PHONE_LENGTH),
        ({"contact_phone": "0" * 21}, Field.PHONE, Problem.TOO_LONG),
    ],
)
def test_problems_are_named_per_field(changes: dict[str, str], field: Field, problem: Problem):
    assert problems(_entered(**changes)) == {field: problem}
