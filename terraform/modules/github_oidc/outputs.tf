output "oidc_provider_arn" {
  description = "ARN of GitHub's OIDC identity provider in this account."
  value       = local.provider_arn
}

output "publish_role_arn" {
  description = "ARN of the role the site's publish workflow assumes."
  value       = aws_iam_role.publish.arn
}

output "preview_role_arn" {
  description = "ARN of the role the pull-request preview workflow assumes (previews only)."
  value       = aws_iam_role.preview.arn
}

output "deploy_role_arn" {
  description = "ARN of the role the API's deploy workflow assumes."
  value       = aws_iam_role.deploy.arn
}
