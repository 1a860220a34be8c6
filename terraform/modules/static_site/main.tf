# The catalog site: a private S3 bucket that only this CloudFront distribution
# can read (Origin Access Control), and `/api/*` forwarded to the internal NLB
# through a CloudFront VPC origin.
#
# Publishing: the publish command keeps the live site under `site/` (the S3
# origin's fixed origin path) and changes it in place, in proportion to the
# change (assets first, pages next, deletions last), then invalidates what
# changed; earlier versions stay in the versioned bucket for rollback. Its
# manifests live under `_publish/`, which CloudFront may not read. Pull-request
# previews live under `previews/<name>/` and are served, uncached, at
# `/previews/<name>/` through a second origin on the same bucket.

data "aws_caller_identity" "current" {}

data "aws_cloudfront_cache_policy" "caching_optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_cache_policy" "caching_disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_origin_request_policy" "all_viewer_except_host" {
  name = "Managed-AllViewerExceptHostHeader"
}

locals {
  site_origin_id    = "site"
  preview_origin_id = "site-previews"
  api_origin_id     = "api"
}

# ---------------------------------------------------------------------------
# Log bucket: CloudFront standard logs and the site bucket's access logs.
# ---------------------------------------------------------------------------

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_144:Access logs are kept for a bounded time for troubleshooting; a second-region copy doubles cost for data we can afford to lose.
  #checkov:skip=CKV_AWS_145:CloudFront standard logging cannot write to a bucket encrypted with a customer-managed KMS key; SSE-S3 encrypts at rest.
  #checkov:skip=CKV2_AWS_62:No process consumes log delivery events: logs are read on demand when troubleshooting, so event notifications would have no consumer.
  bucket = "${var.name}-logs-${data.aws_caller_identity.current.account_id}"
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# CloudFront standard logging delivers through an ACL grant to the awslogsdelivery
# account, so this bucket (unlike the site bucket) must keep ACLs enabled.
resource "aws_s3_bucket_ownership_controls" "logs" {
  #checkov:skip=CKV2_AWS_65:CloudFront standard logging requires ACLs on the target bucket; public ACLs stay blocked by the public access block.
  bucket = aws_s3_bucket.logs.id

  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.log_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.site.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# ---------------------------------------------------------------------------
# Site bucket: private, owner-enforced, encrypted, versioned.
# ---------------------------------------------------------------------------

resource "aws_s3_bucket" "site" {
  #checkov:skip=CKV_AWS_144:The site is rebuilt from git by the publish workflow at any time; a replica in a second region would double storage cost for nothing we cannot regenerate.
  #checkov:skip=CKV_AWS_145:Every object is served publicly through CloudFront; SSE-S3 encrypts at rest, and a customer-managed key would add KMS charges on every cache miss without protecting anything secret.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to object events; the publish command invalidates CloudFront itself.
  bucket = "${var.name}-site-${data.aws_caller_identity.current.account_id}"
}

resource "aws_s3_bucket_public_access_block" "site" {
  bucket                  = aws_s3_bucket.site.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "site" {
  bucket = aws_s3_bucket.site.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    # A rollback copies back the versions a retained release recorded: an old
    # version goes only when it is both 30 days old and has more newer versions
    # than any retained release can need.
    noncurrent_version_expiration {
      noncurrent_days           = 30
      newer_noncurrent_versions = var.kept_versions
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "expire-previews"
    status = "Enabled"

    filter {
      prefix = "previews/"
    }

    expiration {
      days = var.preview_expiry_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }
}

resource "aws_s3_bucket_logging" "site" {
  bucket        = aws_s3_bucket.site.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/"
}

# Only this distribution may read, and only the served prefixes (the live site
# and the previews; never the publish records under _publish/). CloudFront is
# not allowed to list the bucket, so a missing key answers 403, which the
# distribution turns into the site's 404 page.
data "aws_iam_policy_document" "site" {
  statement {
    sid     = "CloudFrontReadsPublishedPrefixes"
    actions = ["s3:GetObject"]
    resources = [
      "${aws_s3_bucket.site.arn}/site/*",
      "${aws_s3_bucket.site.arn}/previews/*",
    ]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.this.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.site.arn, "${aws_s3_bucket.site.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "site" {
  bucket = aws_s3_bucket.site.id
  policy = data.aws_iam_policy_document.site.json

  depends_on = [aws_s3_bucket_public_access_block.site]
}

# ---------------------------------------------------------------------------
# CloudFront
# ---------------------------------------------------------------------------

resource "aws_cloudfront_origin_access_control" "site" {
  name                              = "${var.name}-site"
  description                       = "CloudFront signs every request to the site bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_vpc_origin" "api" {
  vpc_origin_endpoint_config {
    name                   = "${var.name}-api"
    arn                    = var.api_origin.load_balancer_arn
    http_port              = var.api_origin.port
    https_port             = 443
    origin_protocol_policy = "http-only"

    origin_ssl_protocols {
      items    = ["TLSv1.2"]
      quantity = 1
    }
  }
}

resource "aws_cloudfront_function" "directory_index" {
  name    = "${var.name}-directory-index"
  runtime = "cloudfront-js-2.0"
  comment = "Serve /x/ from /x/index.html and redirect /x to /x/"
  publish = true
  code    = file("${path.module}/directory-index.js")
}

# The API answers with short Cache-Control max-ages (availability changes
# within seconds): honour them, cache nothing the API did not mark cacheable
# (default TTL 0), and cap everything at a minute.
resource "aws_cloudfront_cache_policy" "api" {
  name        = "${var.name}-api"
  comment     = "Honour the API's Cache-Control, at most 60 s"
  min_ttl     = 0
  default_ttl = 0
  max_ttl     = 60

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_gzip   = true
    enable_accept_encoding_brotli = true

    cookies_config {
      cookie_behavior = "none"
    }

    # Authorization can only reach the origin as part of the cache key; keying
    # on it also keeps staff responses apart from visitors'.
    headers_config {
      header_behavior = "whitelist"

      headers {
        items = ["Authorization"]
      }
    }

    query_strings_config {
      query_string_behavior = "all"
    }
  }
}

locals {
  # Previews get the same headers and are kept out of search engines.
  response_header_sets = {
    site     = {}
    previews = { "X-Robots-Tag" = "noindex, nofollow" }
  }
}

resource "aws_cloudfront_response_headers_policy" "this" {
  for_each = local.response_header_sets

  name    = "${var.name}-${each.key}-security-headers"
  comment = "HSTS, CSP, nosniff, frame-ancestors, referrer policy (${each.key})"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_security_policy {
      content_security_policy = var.content_security_policy
      override                = true
    }

    content_type_options {
      override = true
    }

    frame_options {
      frame_option = "DENY"
      override     = true
    }

    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
  }

  custom_headers_config {
    items {
      header   = "Permissions-Policy"
      value    = "camera=(), microphone=(), geolocation=(), payment=()"
      override = true
    }

    dynamic "items" {
      for_each = each.value

      content {
        header   = items.key
        value    = items.value
        override = true
      }
    }
  }
}

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV_AWS_310:Origin failover needs a second copy of the site in another bucket and region; S3 and the release switch are the availability story, and a failing API degrades to 'availability unknown' by design.
  #checkov:skip=CKV2_AWS_47:The web ACL has the KnownBadInputs rule group (the Log4j rules); the check also wants AnonymousIpList, which would block collectors browsing through VPNs and corporate proxies.
  #checkov:skip=CKV_AWS_374:The gallery sells worldwide; there is no country to block.
  enabled             = true
  comment             = "${var.name} catalog site and availability API"
  aliases             = var.domain_names
  default_root_object = "index.html"
  http_version        = "http2and3"
  is_ipv6_enabled     = var.enable_ipv6
  price_class         = var.price_class
  web_acl_id          = var.enable_waf ? aws_wafv2_web_acl.this[0].arn : null

  # The live site: the publish command writes it under site/ in the bucket.
  origin {
    origin_id                = local.site_origin_id
    domain_name              = aws_s3_bucket.site.bucket_regional_domain_name
    origin_path              = "/site"
    origin_access_control_id = aws_cloudfront_origin_access_control.site.id
  }

  # Previews: /previews/<name>/x is the key previews/<name>/x.
  origin {
    origin_id                = local.preview_origin_id
    domain_name              = aws_s3_bucket.site.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.site.id
  }

  origin {
    origin_id   = local.api_origin_id
    domain_name = var.api_origin.dns_name

    vpc_origin_config {
      vpc_origin_id            = aws_cloudfront_vpc_origin.api.id
      origin_read_timeout      = 30
      origin_keepalive_timeout = 5
    }
  }

  default_cache_behavior {
    target_origin_id           = local.site_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_optimized.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.this["site"].id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.directory_index.arn
    }
  }

  ordered_cache_behavior {
    path_pattern               = "/api/*"
    target_origin_id           = local.api_origin_id
    viewer_protocol_policy     = "https-only"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = aws_cloudfront_cache_policy.api.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.this["site"].id
  }

  ordered_cache_behavior {
    path_pattern           = "/previews/*"
    target_origin_id       = local.preview_origin_id
    viewer_protocol_policy = "redirect-to-https"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    compress               = true
    # Uncached: a preview is republished on every push and its role may not
    # invalidate the distribution, so every request reads the bucket.
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_disabled.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.this["previews"].id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.directory_index.arn
    }
  }

  # Error pages apply to every behaviour (CloudFront has no per-behaviour
  # error pages), so only 403 is mapped, the one status that only the site
  # origin produces: S3 answers 403 for a missing key (CloudFront may not list
  # the bucket). The API never answers 403 (401 for bad credentials, 404 for
  # unknown holds), and the WAF answers 429, so their statuses and problem
  # documents pass through unchanged.
  custom_error_response {
    error_code            = 403
    response_code         = 404
    response_page_path    = "${var.site_path}404.html"
    error_caching_min_ttl = 60
  }

  logging_config {
    bucket          = aws_s3_bucket.logs.bucket_domain_name
    prefix          = "cloudfront/"
    include_cookies = false
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = var.acm_certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  depends_on = [aws_s3_bucket_ownership_controls.logs]
}

# ---------------------------------------------------------------------------
# WAF (optional, on by default). CloudFront web ACLs live in us-east-1.
# ---------------------------------------------------------------------------

resource "aws_wafv2_web_acl" "this" {
  count = var.enable_waf ? 1 : 0

  region      = "us-east-1"
  name        = var.name
  description = "Bad inputs, per-IP rate limits, and a tight limit on hold creation"
  scope       = "CLOUDFRONT"

  default_action {
    allow {}
  }

  # What a rate-limited client gets: 429 with an RFC 9457 problem document (WAF
  # can only label it application/json) and Retry-After, not the site's 404 page
  # (CloudFront maps only 403).
  custom_response_body {
    key          = "rate-limited"
    content_type = "APPLICATION_JSON"
    content = jsonencode({
      type   = "https://www.rfc-editor.org/rfc/rfc6585#section-4"
      title  = "Too many requests"
      status = 429
      detail = "Too many requests from this address; try again in a few minutes."
    })
  }

  rule {
    name     = "known-bad-inputs"
    priority = 0

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-known-bad-inputs"
      sampled_requests_enabled   = true
    }
  }

  # Holds reserve scarce editions: one client must not be able to hold them all.
  rule {
    name     = "hold-creation-rate"
    priority = 1

    action {
      block {
        custom_response {
          response_code            = 429
          custom_response_body_key = "rate-limited"

          response_header {
            name  = "Retry-After"
            value = "300"
          }
        }
      }
    }

    statement {
      rate_based_statement {
        limit                 = var.hold_rate_limit
        evaluation_window_sec = 300
        aggregate_key_type    = "IP"

        scope_down_statement {
          and_statement {
            statement {
              byte_match_statement {
                search_string         = "POST"
                positional_constraint = "EXACTLY"

                field_to_match {
                  method {}
                }

                text_transformation {
                  priority = 0
                  type     = "NONE"
                }
              }
            }

            statement {
              byte_match_statement {
                search_string         = "/api/v1/holds"
                positional_constraint = "STARTS_WITH"

                field_to_match {
                  uri_path {}
                }

                # Match the path the API routes, not the bytes sent:
                # /api/v1/h%6flds and /api//v1/./holds are the same route.
                text_transformation {
                  priority = 0
                  type     = "URL_DECODE"
                }

                text_transformation {
                  priority = 1
                  type     = "NORMALIZE_PATH"
                }
              }
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-hold-creation-rate"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "request-rate"
    priority = 2

    action {
      block {
        custom_response {
          response_code            = 429
          custom_response_body_key = "rate-limited"

          response_header {
            name  = "Retry-After"
            value = "300"
          }
        }
      }
    }

    statement {
      rate_based_statement {
        limit                 = var.request_rate_limit
        evaluation_window_sec = 300
        aggregate_key_type    = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-request-rate"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = var.name
    sampled_requests_enabled   = true
  }
}

resource "aws_cloudwatch_log_group" "waf" {
  #checkov:skip=CKV_AWS_158:Encrypted at rest by CloudWatch Logs with its service key; the Authorization header is redacted before logging, so no secret reaches these logs.
  #checkov:skip=CKV_AWS_338:Request logs for troubleshooting blocks, kept as long as the access logs (log_retention_days).
  count = var.enable_waf ? 1 : 0

  region            = "us-east-1"
  name              = "aws-waf-logs-${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  count = var.enable_waf ? 1 : 0

  region                  = "us-east-1"
  resource_arn            = aws_wafv2_web_acl.this[0].arn
  log_destination_configs = [aws_cloudwatch_log_group.waf[0].arn]

  redacted_fields {
    single_header {
      name = "authorization"
    }
  }
}
