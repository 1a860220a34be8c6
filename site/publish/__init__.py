"""Stage 5, publish: the frozen site to S3 + CloudFront, releases and rollback.

The commands (commands), response headers by path (headers), the pure plan
(plan), the AWS edge (remote) and the release operations (releases).

May import: storefront.content, storefront.common (and read build/site, the
freeze's output, as files). Never pages, search or freeze.
"""
