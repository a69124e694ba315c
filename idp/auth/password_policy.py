"""The password rule, wherever a password is set (manual §3, §6.2):

at least 8 characters with three or more of upper case, lower case, digits
and symbols; not the account's own email; not a common password; at most
128 characters, so that argon2id cannot be fed megabytes.

"Common" is zxcvbn's judgement: a password on its list of the 30,000 most
common, or one that meets the other rules but that zxcvbn scores below 3 (it
would fall to fewer than about 10^8 guesses) because it is built from what
guessers try first: words, names, the email, years and dates, keyboard walks,
repeats and sequences (``Summer2026!``, ``Password1!``). A password in which
zxcvbn finds none of these is judged by length and kinds alone: zxcvbn counts
ten guesses per random character, so any 8 random characters would score 2.
"""

from __future__ import annotations

import string
from enum import StrEnum
from functools import cache

MIN_LENGTH = 8
MAX_LENGTH = 128


class Rule(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    TOO_FEW_KINDS = "too_few_kinds"
    IS_EMAIL = "is_email"
    TOO_COMMON = "too_common"
    MISMATCH = "mismatch"


STRONG_SCORE = 3  # zxcvbn: about 10^8 guesses or more


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _guessable(password: str, email: str | None) -> bool:
    """True if zxcvbn scores ``password`` weak for a pattern it recognised."""
    from zxcvbn import zxcvbn

    result = zxcvbn(password, user_inputs=[email] if email else [], max_length=MAX_LENGTH)
    patterns = {match["pattern"] for match in result["sequence"]}
    return result["score"] < STRONG_SCORE and patterns != {"bruteforce"}


def _kinds(password: str) -> int:
    classes = [
        any(c.isupper() for c in password),
        any(c.islower() for c in password),
        any(c.isdigit() for c in password),
        any(c in string.punctuation or not c.isalnum() for c in password),
    ]
    return sum(classes)


def broken_rules(password: str, email: str | None = None, confirm: str | None = None) -> list[Rule]:
    """The rules ``password`` breaks, in the order a person should fix them."""
    broken: list[Rule] = []
    if len(password) < MIN_LENGTH:
        broken.append(Rule.TOO_SHORT)
    if len(password) > MAX_LENGTH:
        broken.append(Rule.TOO_LONG)
    if _kinds(password) < 3:
        broken.append(Rule.TOO_FEW_KINDS)
    if email and password.strip().lower() in (email.lower(), email.lower().partition("@")[0]):
        broken.append(Rule.IS_EMAIL)
    # The estimate is asked only of a password that meets the simple rules:
    # those are the first to fix, and each reason is given once.
    if password.lower() in _common() or (not broken and _guessable(password, email)):
        broken.append(Rule.TOO_COMMON)
    if confirm is not None and confirm != password:
        broken.append(Rule.MISMATCH)
    return broken
