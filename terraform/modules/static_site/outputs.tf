output "bucket_name" {
  description = "Name of the site bucket (the publish command writes the live site under site/ and previews under previews/<name>/)."
  value       = aws_s3_bucket.site.id
}

output "bucket_arn" {
  description = "ARN of the site bucket."
  value       = aws_s3_bucket.site.arn
}

output "log_bucket_name" {
  description = "Name of the bucket receiving CloudFront and S3 access logs."
  value       = aws_s3_bucket.logs.id
}

output "distribution_id" {
  description = "ID of the CloudFront distribution (the publish command invalidates changed paths in it)."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "ARN of the CloudFront distribution."
  value       = aws_cloudfront_distribution.this.arn
}

output "distribution_domain_name" {
  description = "CloudFront domain name (`dxxxx.cloudfront.net`): the target of the DNS records for domain_names."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "distribution_hosted_zone_id" {
  description = "Route 53 hosted zone ID of CloudFront, for alias records."
  value       = aws_cloudfront_distribution.this.hosted_zone_id
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL, or null when enable_waf is false."
  value       = var.enable_waf ? aws_wafv2_web_acl.this[0].arn : null
}
