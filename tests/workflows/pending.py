"""Names the workflows use that open issues are adding right now.

The workflows are written against the interface those issues will land (the
preview commands and role of issue 13, the test-traffic hook of issue 14, and
what sync-inventory needs in production). Each name here is checked exactly
like the others, and its check is marked as an expected failure *with strict
xfail*: the day the name appears in the code or the Terraform, the check passes,
pytest reports it as XPASS(strict) and fails, and the entry must be removed here.
A name the other branch lands under a different spelling keeps failing (xfail)
and is listed in the issue-15 report for the lead to reconcile.
"""

from __future__ import annotations

import pytest

PENDING: dict[str, str] = {}


def param(key: str, *values: object, id: str | None = None) -> object:
    """A pytest parameter for ``key``, expected to fail (strictly) while it is pending."""
    marks = [pytest.mark.xfail(strict=True, reason=PENDING[key])] if key in PENDING else []
    return pytest.param(*values, id=id or key, marks=marks)
