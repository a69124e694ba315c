"""Numbers in requests are ASCII digits: str.isdigit() also admits "²" (which
int() refuses: a 500) and "٣" (which int() reads as 3)."""

from __future__ import annotations

import pytest

from ..journeys import set_tenant_mfa
from ..mfa_steps import align_to_step, enrol_totp, path_of, post_form, sign_in, totp_code
from ..rp import callback_params
from .helpers import authorize_url, signed_in_code

WRONG = "認証コードが正しくありません"
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize("max_age", ["²", "٣", "³⁶⁰⁰", "１２０", "12345678901", "-1", "+5", " 5", ""])
def test_max_age_that_is_not_ascii_digits_is_invalid_request(live, max_age):
    _, browser = signed_in_code(live)  # with a session, max_age is compared with its auth_time
    response = browser.get(authorize_url(live, max_age=max_age))
    assert response.status_code == 302, response.status_code
    answer = callback_params(response)
    assert answer["error"] == "invalid_request" and answer["state"] == "st-123"
    assert answer["iss"] == live.url


def test_max_age_in_ascii_digits_is_honoured(live):
    _, browser = signed_in_code(live)
    assert "code" in callback_params(browser.get(authorize_url(live, max_age="3600")))


@pytest.fixture
def challenged(live):
    set_tenant_mfa(live, True)
    secret, _recovery = enrol_totp(live)
    align_to_step()
    browser = live.browser()
    assert path_of(sign_in(browser)) == "/mfa/challenge"
    return secret, browser


def test_an_authenticator_code_in_other_digits_is_a_wrong_code(challenged):
    secret, browser = challenged
    answer = post_form(browser, {"code": totp_code(secret).translate(ARABIC_INDIC)})
    assert answer.status_code == 200 and WRONG in answer.text


def test_an_authenticator_code_typed_full_width_with_a_space_is_accepted(challenged):
    """What a Japanese input method gives: full-width digits, an ideographic space."""
    secret, browser = challenged
    code = totp_code(secret).translate(FULL_WIDTH)
    answer = post_form(browser, {"code": code[:3] + "\u3000" + code[3:]})
    assert answer.is_redirect
