"""The static site: a bucket that is never public and that only CloudFront (through
Origin Access Control) can read, served over modern TLS with security headers."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
import yaml
from storefront.publish.layout import LIVE_PREFIX, META_PREFIX, PREVIEWS_PREFIX
from support.paths import PROJECT
from terraform.tfestate import Config, one


@pytest.fixture(scope="module")
def site(modules) -> Config:
    return modules["static_site"]


@pytest.fixture(scope="module")
def distribution(site: Config) -> dict:
    return site.resource("aws_cloudfront_distribution")


def _behaviours(distribution: dict) -> list[dict]:
    return [
        *distribution["default_cache_behavior"],
        *distribution.get("ordered_cache_behavior", []),
    ]


@pytest.mark.parametrize("bucket", ["site", "logs"])
def test_buckets_block_every_kind_of_public_access(site: Config, bucket: str) -> None:
    block = site.resource("aws_s3_bucket_public_access_block", bucket)
    assert block["bucket"] == f"${{aws_s3_bucket.{bucket}.id}}"
    for setting in ("block_public_acls", "block_public_policy", "ignore_public_acls"):
        assert block[setting] is True, setting
    assert block["restrict_public_buckets"] is True


def test_site_bucket_disables_acls_and_is_encrypted_and_versioned(site: Config) -> None:
    ownership = one(site.resource("aws_s3_bucket_ownership_controls", "site")["rule"])
    assert ownership["object_ownership"] == "BucketOwnerEnforced"
    sse = site.resource("aws_s3_bucket_server_side_encryption_configuration", "site")
    algorithm = one(one(sse["rule"])["apply_server_side_encryption_by_default"])
    assert algorithm["sse_algorithm"] in ("AES256", "aws:kms")
    versioning = site.resource("aws_s3_bucket_versioning", "site")
    assert one(versioning["versioning_configuration"])["status"] == "Enabled"


def test_nothing_grants_public_access_to_a_bucket(site: Config) -> None:
    assert not site.resources("aws_s3_bucket_acl")
    assert not site.resources("aws_s3_bucket_website_configuration")
    assert not site.resources("aws_cloudfront_origin_access_identity")


def test_cloudfront_reads_exactly_the_prefixes_publish_serves_from(site: Config) -> None:
    document = site.data("aws_iam_policy_document")["site"]
    reads = [s for s in document["statement"] if s.get("effect", "Allow") == "Allow"]
    resources = {r for statement in reads for r in statement["resources"]}
    bucket = "${aws_s3_bucket.site.arn}/"
    assert resources == {bucket + LIVE_PREFIX + "*", bucket + PREVIEWS_PREFIX + "*"}
    assert not any(r.startswith(bucket + META_PREFIX) for r in resources)  # records stay private


def test_site_bucket_policy_admits_only_this_distribution(site: Config) -> None:
    policy = site.resource("aws_s3_bucket_policy", "site")
    assert policy["policy"] == "${data.aws_iam_policy_document.site.json}"
    document = site.data("aws_iam_policy_document")["site"]
    allows = [s for s in document["statement"] if s.get("effect", "Allow") == "Allow"]
    assert allows, "CloudFront must be allowed to read"
    for statement in allows:
        principal = one(statement["principals"])
        assert principal == {"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}
        assert statement["actions"] == ["s3:GetObject"]
        condition = one(statement["condition"])
        assert condition["test"] == "StringEquals"
        assert condition["variable"] == "AWS:SourceArn"
        assert condition["values"] == ["${aws_cloudfront_distribution.this.arn}"]
    denies = [s for s in document["statement"] if s.get("effect") == "Deny"]
    assert any(one(s["condition"])["variable"] == "aws:SecureTransport" for s in denies)


def test_s3_origins_are_signed_with_origin_access_control(site: Config, distribution) -> None:
    oac = site.resource("aws_cloudfront_origin_access_control", "site")
    assert oac["origin_access_control_origin_type"] == "s3"
    assert oac["signing_behavior"] == "always"
    assert oac["signing_protocol"] == "sigv4"
    s3_origins = [
        o for o in distribution["origin"] if "bucket_regional_domain_name" in o["domain_name"]
    ]
    assert len(s3_origins) == 2  # the live site and the previews
    for origin in s3_origins:
        assert origin["origin_access_control_id"] == (
            "${aws_cloudfront_origin_access_control.site.id}"
        )
        assert "s3_origin_config" not in origin and "custom_origin_config" not in origin


def test_api_is_reached_through_a_vpc_origin(site: Config, distribution) -> None:
    api = [o for o in distribution["origin"] if "vpc_origin_config" in o]
    assert len(api) == 1
    config = one(api[0]["vpc_origin_config"])
    assert config["vpc_origin_id"] == "${aws_cloudfront_vpc_origin.api.id}"
    endpoint = one(site.resource("aws_cloudfront_vpc_origin", "api")["vpc_origin_endpoint_config"])
    assert endpoint["arn"] == "${var.api_origin.load_balancer_arn}"
    behaviour = [b for b in _behaviours(distribution) if b.get("path_pattern") == "/api/*"]
    assert one(behaviour)["target_origin_id"] == api[0]["origin_id"]
    assert "POST" in one(behaviour)["allowed_methods"]


def test_api_caching_only_follows_the_apis_cache_control(site: Config, distribution) -> None:
    api = one([b for b in _behaviours(distribution) if b.get("path_pattern") == "/api/*"])
    assert api["cache_policy_id"] == "${aws_cloudfront_cache_policy.api.id}"
    policy = site.resource("aws_cloudfront_cache_policy", "api")
    assert policy["default_ttl"] == 0, "responses without Cache-Control must not be cached"
    assert policy["min_ttl"] == 0
    assert 0 < policy["max_ttl"] <= 300
    keys = one(policy["parameters_in_cache_key_and_forwarded_to_origin"])
    assert one(keys["query_strings_config"])["query_string_behavior"] == "all"


def test_every_behaviour_is_https_compressed_and_has_security_headers(distribution) -> None:
    for behaviour in _behaviours(distribution):
        assert behaviour["viewer_protocol_policy"] in ("redirect-to-https", "https-only")
        assert behaviour["compress"] is True
        assert behaviour["response_headers_policy_id"].startswith(
            "${aws_cloudfront_response_headers_policy.this["
        )


def test_viewers_get_tls_12_and_http_2_and_3(distribution) -> None:
    certificate = one(distribution["viewer_certificate"])
    assert certificate["minimum_protocol_version"] in ("TLSv1.2_2021", "TLSv1.2_2025")
    assert certificate["ssl_support_method"] == "sni-only"
    assert certificate.get("cloudfront_default_certificate") in (None, False)
    assert distribution["http_version"] == "http2and3"


def test_security_headers_policy(site: Config) -> None:
    for name, policy in site.resources("aws_cloudfront_response_headers_policy").items():
        headers = one(policy["security_headers_config"])
        hsts = one(headers["strict_transport_security"])
        assert hsts["access_control_max_age_sec"] >= 31536000, name
        assert hsts["override"] is True
        assert one(headers["content_type_options"])["override"] is True
        assert one(headers["frame_options"])["frame_option"] == "DENY"
        assert one(headers["referrer_policy"])["referrer_policy"] == (
            "strict-origin-when-cross-origin"
        )
        csp = one(headers["content_security_policy"])
        assert csp["content_security_policy"] == "${var.content_security_policy}"


def test_default_csp_fits_the_site(site: Config) -> None:
    csp = site.variables["content_security_policy"]["default"]
    directives = {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'wasm-unsafe-eval'" in directives["script-src"], "pagefind needs WebAssembly"
    assert directives["connect-src"] == ["'self'"], "fetch('/api/...') is same-origin"
    assert directives["object-src"] == ["'none'"]
    assert all("'unsafe-inline'" not in v and "'unsafe-eval'" not in v for v in directives.values())


def test_missing_pages_get_the_sites_404_page(site: Config, distribution) -> None:
    errors = distribution["custom_error_response"]
    assert {(e["error_code"], e["response_code"], e["response_page_path"]) for e in errors} == {
        (403, 404, "${var.site_path}404.html")
    }
    # The 404 page is where the catalog's base_url puts it.
    catalog = yaml.safe_load((PROJECT / "content" / "site.yaml").read_text(encoding="utf-8"))
    assert site.variables["site_path"]["default"] == urlsplit(catalog["base_url"]).path


def test_the_waf_status_is_not_replaced_by_the_site_error_page(site: Config, distribution) -> None:
    mapped = {e["error_code"] for e in distribution["custom_error_response"]}
    acl = site.resource("aws_wafv2_web_acl")
    waf = {
        one(one(one(rule["action"])["block"])["custom_response"])["response_code"]
        for rule in acl["rule"]
        if "action" in rule
    }
    assert waf == {429} and not waf & mapped


def test_no_status_the_api_documents_is_replaced_by_the_site_error_page(distribution) -> None:
    mapped = {e["error_code"] for e in distribution["custom_error_response"]}
    openapi = json.loads((PROJECT / "api" / "openapi.json").read_text(encoding="utf-8"))
    documented = {
        int(status)
        for path in openapi["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict)
        for status in operation.get("responses", {})
        if status.isdigit()
    }
    assert not documented & mapped, sorted(documented & mapped)


def test_directory_urls_are_served_from_index_html(site: Config, distribution) -> None:
    function = site.resource("aws_cloudfront_function", "directory_index")
    assert function["runtime"] == "cloudfront-js-2.0"
    assert function["publish"] is True
    for behaviour in _behaviours(distribution):
        if behaviour.get("path_pattern") == "/api/*":
            assert "function_association" not in behaviour
            continue
        association = one(behaviour["function_association"])
        assert association["event_type"] == "viewer-request"
        assert association["function_arn"] == "${aws_cloudfront_function.directory_index.arn}"


def test_the_live_site_is_served_from_where_publish_writes_it(distribution) -> None:
    origins = {o["origin_id"]: o for o in distribution["origin"]}
    live = origins["${local.site_origin_id}"]
    assert live["origin_path"] == "/" + LIVE_PREFIX.rstrip("/")
    previews = origins["${local.preview_origin_id}"]
    assert "origin_path" not in previews  # /previews/<name>/x is the key previews/<name>/x
    pattern = "/" + PREVIEWS_PREFIX + "*"
    behaviour = one([b for b in _behaviours(distribution) if b.get("path_pattern") == pattern])
    assert behaviour["target_origin_id"] == "${local.preview_origin_id}"
    assert "caching_disabled" in behaviour["cache_policy_id"]  # nothing to invalidate
    assert "lifecycle" not in distribution  # nothing is left for publish to change


def test_old_versions_outlive_the_releases_a_rollback_can_target(site: Config) -> None:
    rules = site.resource("aws_s3_bucket_lifecycle_configuration", "site")["rule"]
    live = one([r for r in rules if r["id"] == "expire-old-versions"])
    expiry = one(live["noncurrent_version_expiration"])
    assert expiry["newer_noncurrent_versions"] == "${var.kept_versions}"
    assert site.variables["kept_versions"]["default"] > 5  # publish keeps 5 releases by default
    previews = one([r for r in rules if r["id"] == "expire-previews"])
    assert one(previews["filter"])["prefix"] == PREVIEWS_PREFIX


def test_access_logs_are_written(site: Config, distribution) -> None:
    logging = one(distribution["logging_config"])
    assert logging["bucket"] == "${aws_s3_bucket.logs.bucket_domain_name}"
    s3_logging = site.resource("aws_s3_bucket_logging", "site")
    assert s3_logging["target_bucket"] == "${aws_s3_bucket.logs.id}"


def test_waf_limits_hold_creation_per_client(site: Config, distribution) -> None:
    assert site.variables["enable_waf"]["default"] is True
    assert distribution["web_acl_id"] == (
        "${var.enable_waf ? aws_wafv2_web_acl.this[0].arn : null}"
    )
    acl = site.resource("aws_wafv2_web_acl")
    assert acl["scope"] == "CLOUDFRONT" and acl["region"] == "us-east-1"
    rule = one([r for r in acl["rule"] if r["name"] == "hold-creation-rate"])
    assert "block" in one(rule["action"])
    rate = one(one(rule["statement"])["rate_based_statement"])
    assert rate["aggregate_key_type"] == "IP"
    scope = json.dumps(rate["scope_down_statement"])
    assert '"/api/v1/holds"' in scope and '"POST"' in scope
    assert re.fullmatch(r"\$\{var\.hold_rate_limit\}", str(rate["limit"]))
    # IPv6 clients hold 2^64 addresses each: per-address limits hold over IPv4 only.
    assert distribution["is_ipv6_enabled"] == "${var.enable_ipv6}"
    assert site.variables["enable_ipv6"]["default"] is False


def test_waf_counts_the_holds_route_however_its_path_is_spelled(site: Config) -> None:
    acl = site.resource("aws_wafv2_web_acl")
    rule = one([r for r in acl["rule"] if r["name"] == "hold-creation-rate"])
    rate = one(one(rule["statement"])["rate_based_statement"])
    statements = one(one(rate["scope_down_statement"])["and_statement"])["statement"]
    path = one([s for s in statements if "/api/v1/holds" in json.dumps(s)])
    transforms = one(path["byte_match_statement"])["text_transformation"]
    assert sorted((t["priority"], t["type"]) for t in transforms) == [
        (0, "URL_DECODE"),
        (1, "NORMALIZE_PATH"),
    ]


def test_waf_blocks_answer_429_with_a_problem_document(site: Config) -> None:
    acl = site.resource("aws_wafv2_web_acl")
    bodies = {b["key"]: b for b in acl["custom_response_body"]}
    for rule in acl["rule"]:
        if "action" not in rule:
            continue
        response = one(one(one(rule["action"])["block"])["custom_response"])
        assert response["response_code"] == 429
        assert one(response["response_header"])["name"] == "Retry-After"
        body = bodies[response["custom_response_body_key"]]
        assert body["content_type"] == "APPLICATION_JSON"
        assert all(f"{field} = " in body["content"] for field in ("type", "title", "status"))
