# The cluster drill (issue 16, bench/cluster): API nodes behind HAProxy configured
# like the Terraform's NLB, on DynamoDB (moto) and SQLite, driven by site.js's own
# client code run in node; kills, stops, blue/green deployments and alarm rollbacks.
#   cluster-drill       the short drill (Terraform times x 1/30, < 90 s; in CHECKS)
#   cluster-drill-full  the full drill at the Terraform's own times (~40 min)
# tests/cluster (run by the root pytest) tests the drill's parts.

SYSTEM_PACKAGES += haproxy nodejs
CHECKS += cluster-drill

.PHONY: cluster-drill cluster-drill-full

cluster-drill: system-deps $(STAMP)  ## Short cluster drill: every scenario on both stores; fails on any client-visible failure or broken invariant.
	$(BIN)/python -m bench.cluster.drill --profile short

cluster-drill-full: system-deps $(STAMP)  ## Full cluster drill at the Terraform's own times, both stores one after the other (prints the table).
	$(BIN)/python -m bench.cluster.drill --profile full
