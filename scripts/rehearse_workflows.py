"""Rehearse the deploy workflows: run their steps, read from the YAML, on local stand-ins.

    python scripts/rehearse_workflows.py                    # every scenario that can run
    python scripts/rehearse_workflows.py "deploy-api push"  # some of them

Prints each step as it runs, and a table: each step ran, was skipped (with what
it needs that only GitHub or AWS has), or did not run because of its `if:`.
Exit status 1 when a step fails. Stand-ins: moto_server (S3, CloudFront, ECR,
ECS, CodeDeploy, DynamoDB), podman for Docker, an HTTPS CDN stand-in on
127.0.0.1 (tests/workflows/standins.py); nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve() and PYTHON.exists():
    os.execv(PYTHON, [str(PYTHON), __file__, *sys.argv[1:]])  # run inside the project venv
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from workflows.pending import PENDING  # noqa: E402
from workflows.rehearsal import Rehearsal, RehearsalError, StandIns  # noqa: E402
from workflows.scenarios import scenarios  # noqa: E402
from workflows.standins import stage  # noqa: E402
from workflows.workflow_files import WORKFLOWS, load  # noqa: E402

REPOSITORY = "loja-de-esculturas/sculpture-store"


def _ready(workflow: str) -> bool:
    """False while commands the workflow calls are still being added (see pending.py)."""
    reason = PENDING.get(f"rehearsal:{workflow}")
    if reason:
        print(f"not rehearsed by default: {workflow} ({reason}); name its scenarios to try")
    return reason is None


def main() -> int:
    known = scenarios(REPOSITORY)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="*", help=f"default: all of {', '.join(known)}")
    chosen = parser.parse_args().scenario
    unknown = [name for name in chosen if name not in known]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; choose from {', '.join(known)}")
    if not chosen:
        chosen = [name for name, (workflow, _) in known.items() if _ready(workflow)]
    failed = False
    with tempfile.TemporaryDirectory(prefix="rehearsal-") as folder, stage(Path(folder)) as s:
        stand_ins = StandIns(s.variables, s.runner_env, s.aws_credentials, Path(folder) / "store")
        for name in chosen:
            workflow, event = known[name]
            print(f"\n######## {name}: {workflow} on {event.name}")
            rehearsal = Rehearsal(
                load(WORKFLOWS / workflow), event, stand_ins, Path(folder) / "work", sys.stdout
            )
            try:
                rehearsal.run()
            except RehearsalError as error:
                print(f"FAILED: {error}")
                failed = True
            print(f"\n{'outcome':<20} step")
            for report in rehearsal.reports:
                print(f"{report.outcome:<20} {report.where}  ({report.seconds:.1f} s)")
                if report.outcome == "skipped":
                    print(f"{'':<20}   {report.detail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
