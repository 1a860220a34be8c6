"""The drill's table: one row per scenario, then what happened in each."""

from __future__ import annotations

from collections.abc import Sequence

from bench.cluster.scenarios import Result

HEADER = (
    "| scenario | operations (tries) | failed tries (network, 5xx) | 5xx in node logs"
    " | client-visible failures | invariant | target |"
)
RULE = "|---|---:|---:|---:|---:|---|---|"


def row(result: Result) -> str:
    records = result.records
    errors = records.try_errors()
    network = sum(n for kind, n in errors.items() if not kind.isdigit())
    server = sum(n for kind, n in errors.items() if kind.isdigit())
    invariant = "holds" if not result.violations else f"BROKEN ({len(result.violations)})"
    target = "met" if not result.problems else "MISSED"
    return (
        f"| {result.number}. {result.title} | {len(records.operations)} ({len(records.attempts)})"
        f" | {network + server} ({network}, {server}) | {result.logged_5xx}"
        f" | {len(records.client_failures())} | {invariant} | {target} |"
    )


def table(store: str, results: Sequence[Result]) -> str:
    lines = [f"store: {store}", "", HEADER, RULE, *map(row, results), ""]
    for result in results:
        lines.append(f"{result.number}. {result.title} ({result.seconds:.0f} s under load)")
        lines += [f"    {note}" for note in result.notes]
        errors = result.records.try_errors()
        if errors:
            lines.append(f"    failed tries: {dict(errors.most_common())}")
        outcomes = result.records.outcomes()
        lines.append(
            "    outcomes: "
            + ", ".join(f"{op} {outcome} {n}" for (op, outcome), n in sorted(outcomes.items()))
        )
        lines += [f"    INVARIANT: {text}" for text in result.violations]
        lines += [f"    TARGET MISSED: {text}" for text in result.problems]
    return "\n".join(lines)
