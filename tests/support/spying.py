"""Watch a function of the code under test without changing what it does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def record_calls(
    monkeypatch: pytest.MonkeyPatch,
    owner: object,
    name: str,
    what: Callable[..., Any] = lambda first, *_: first,
) -> list[Any]:
    """Wrap `owner.name`; each call is made as before and `what(*args)` is recorded.

    By default the first argument is recorded (the file read, the text rendered).
    """
    calls: list[Any] = []
    original = getattr(owner, name)

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append(what(*args, **kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, recording)
    return calls
