"""Stage 4, freeze: the whole site written to build/site, re-rendering only what changed.

The command (command), the build (build), the plan of every file with its key
(plan), the forked render workers (workers) and the lean test client
Frozen-Flask renders through (client).

May import: storefront.search, storefront.pages, storefront.content, storefront.common.
"""
