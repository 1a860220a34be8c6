"""The cluster drill: the API's nodes, a load balancer, deployments and alarms on loopback.

``python -m bench.cluster.drill`` (or ``make cluster-drill`` for the short
version) starts several gunicorn nodes sharing one store (DynamoDB through
moto, and SQLite) behind HAProxy configured like the Terraform's NLB, drives
them with the site's own client code (``site.js`` run in node by
``loadgen.mjs``) and runs the scenarios of ``scenarios``: a node killed, a
node stopped, a blue/green deployment, a deployment that fails its checks and
one that the alarms roll back.

Modules, each with one job:

* ``terraform`` -- what the drill copies from the Terraform (read with python-hcl2);
* ``alarms`` -- CloudWatch alarm evaluation (metric math included), pure;
* ``emf`` -- the metrics the nodes write in their log lines;
* ``balancer`` -- HAProxy as the NLB: its configuration and runtime commands;
* ``nodes`` -- gunicorn nodes, the store and its emulator; ``releases`` -- the builds deployed;
* ``controller`` -- what ECS and CodeDeploy do: replace, register, probe, shift, roll back;
* ``load`` -- the load generator's process and its records;
* ``invariants`` -- the store read directly and checked against what clients were told;
* ``scenarios`` and ``drill`` -- the scenarios and the command; ``report`` -- the table.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The test support package (moto server, subprocess helpers) is shared with the drill.
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))
