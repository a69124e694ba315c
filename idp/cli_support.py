"""What every `idp` command shares: one transaction, and a refusal told in one
line on stderr with a non-zero exit (CONTRACT.md)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from . import db
from .keys import KeyError_


def transactional(f: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command in one transaction; domain errors become one-line failures."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = f(*args, **kwargs)
            db.commit()
            return result
        except (KeyError_, ValueError, LookupError, OSError) as e:
            raise click.ClickException(str(e)) from None

    return wrapper


class OneLineGroup(click.Group):
    """A group whose usage mistakes (a missing option, a value not among the
    choices) are told like any other refusal: one line, not click's usage block."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as e:
            raise click.ClickException(e.format_message()) from None
