"""Checks the CLI round-trip tests share: a failure through ``main(argv)`` is one clear line."""

from __future__ import annotations


def one_error(err: str, rc: int, *needles: str) -> str:
    """Assert a clean failure: exit status 1, no traceback, one ``seqvision: error:`` line holding ``needles``."""
    errors = [line for line in err.splitlines() if line.startswith("seqvision: error:")]
    assert rc == 1 and "Traceback" not in err and len(errors) == 1, err
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]
