"""GitHub's filter patterns (``on.push.paths`` and friends), as regular expressions.

The rules of GitHub's "Filter pattern cheat sheet": ``*`` matches any characters
except ``/``; ``**`` matches any characters (and ``**/`` no folder at all); ``?``
makes the preceding character optional and ``+`` repeats it; ``[…]`` is a
character class; a leading ``!`` excludes what earlier patterns included.
Patterns match the whole path.
"""

from __future__ import annotations

import re
from functools import cache


@cache
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression equivalent to one (non-negated) filter pattern."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")  # any folders, or none: `**/README.md` matches README.md
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char in "?+" and out:
            out.append(char)  # applies to the preceding character, as in GitHub's patterns
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                raise ValueError(f"unclosed '[' in filter pattern {pattern!r}")
            out.append(pattern[index : end + 1])
            index = end + 1
            continue
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out))


def matches(path: str, patterns: list[str]) -> bool:
    """Whether a repository path passes a list of filter patterns (later ones win)."""
    included = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if pattern_regex(pattern[1:] if negated else pattern).fullmatch(path):
            included = not negated
    return included
