"""The password rule (manual §6.2): 8 to 128 characters, three kinds of four, not the
account's own email, not a common password; rules reported in the order to fix them."""

from __future__ import annotations

import pytest

from idp.auth.password_policy import MAX_LENGTH, MIN_LENGTH, Rule, broken_rules

EMAIL = "taro.yamada@example.co.jp"
GOOD = "Kx7-mQ2v"
# Letters in no order a guesser would try: a run of one letter is a pattern.
RANDOM_FILL = "qvzkmwhtrbnxjcpgfdlsy" * 6


def test_a_good_password_breaks_nothing() -> None:
    assert broken_rules(GOOD, EMAIL, GOOD) == []


@pytest.mark.parametrize("password", [GOOD[: MIN_LENGTH - 1], "Kx7-", ""])
def test_too_short(password: str) -> None:
    assert broken_rules(password)[0] == Rule.TOO_SHORT


def test_length_bounds_are_inclusive() -> None:
    assert broken_rules("Ab1" + RANDOM_FILL[: MIN_LENGTH - 3]) == []
    assert broken_rules("Ab1" + RANDOM_FILL[: MAX_LENGTH - 3]) == []
    assert broken_rules("Ab1" + RANDOM_FILL[: MAX_LENGTH - 2]) == [Rule.TOO_LONG]


@pytest.mark.parametrize(
    "password",
    ["kx7mq2vwz", "KX7MQ2VWZ", "kxmqvwz-!", "KXMQVWZ-!", "12345678-", "kxMQvwZRt"],
)
def test_two_kinds_are_too_few(password: str) -> None:
    assert broken_rules(password) == [Rule.TOO_FEW_KINDS]


@pytest.mark.parametrize("password", ["kxMQ7vwz", "kxmq7-wz", "KXMQ7-WZ", "kxMQ-vwz", "Kx mQ vw"])
def test_any_three_kinds_will_do(password: str) -> None:
    assert broken_rules(password) == []


@pytest.mark.parametrize("password", [EMAIL, "Taro.Yamada@Example.co.jp", "TARO.YAMADA", " taro.yamada "])
def test_own_email_or_its_local_part_in_any_case(password: str) -> None:
    assert Rule.IS_EMAIL in broken_rules(password, EMAIL)


def test_more_than_the_email_is_allowed() -> None:
    assert broken_rules("Taro.Yamada!2", EMAIL) == []
    assert Rule.IS_EMAIL not in broken_rules(EMAIL)  # no email known: nothing to compare


@pytest.mark.parametrize("password", ["Password1", "P@ssw0rd", "Qwerty123"])
def test_common_passwords_are_refused_even_with_three_kinds(password: str) -> None:
    assert broken_rules(password) == [Rule.TOO_COMMON]


@pytest.mark.parametrize(
    "password", ["Password1!", "Summer2026!", "Welcome1!", "Winter2025?", "P@ssw0rd2026", "Ab1" + "x" * 20]
)
def test_variants_of_common_passwords_are_refused(password: str) -> None:
    """Not on the list as typed, but made of what guessers try first (zxcvbn score below 3)."""
    assert broken_rules(password, EMAIL) == [Rule.TOO_COMMON]


def test_the_email_counts_as_something_guessers_know() -> None:
    assert broken_rules("Taro.Yamada@Example.co.jp!2") == []
    assert broken_rules("Taro.Yamada@Example.co.jp!2", EMAIL) == [Rule.TOO_COMMON]


@pytest.mark.parametrize("password", ["Demo-pass-2026", "Fresh-pass-2027", "Tokyo-Tower-1958", "Kx7-mQ2vWz"])
def test_passwords_zxcvbn_finds_strong_are_accepted(password: str) -> None:
    assert broken_rules(password, EMAIL, password) == []


def test_confirmation_must_match() -> None:
    assert broken_rules(GOOD, confirm=GOOD + "x") == [Rule.MISMATCH]
    assert broken_rules(GOOD, confirm=None) == []


def test_every_broken_rule_is_reported_in_order() -> None:
    assert broken_rules("abc", confirm="abd") == [Rule.TOO_SHORT, Rule.TOO_FEW_KINDS, Rule.MISMATCH]
    assert broken_rules("password", EMAIL, "") == [Rule.TOO_FEW_KINDS, Rule.TOO_COMMON, Rule.MISMATCH]
