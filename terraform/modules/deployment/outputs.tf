output "application_name" {
  description = "Name of the CodeDeploy application (the deploy workflow's `codedeploy-appspec` target)."
  value       = aws_codedeploy_app.this.name
}

output "deployment_group_name" {
  description = "Name of the CodeDeploy deployment group."
  value       = aws_codedeploy_deployment_group.this.deployment_group_name
}

output "deployment_group_arn" {
  description = "ARN of the CodeDeploy deployment group."
  value       = aws_codedeploy_deployment_group.this.arn
}

output "service_role_arn" {
  description = "ARN of the role CodeDeploy assumes to shift traffic."
  value       = aws_iam_role.codedeploy.arn
}

output "test_traffic_hook_function_name" {
  description = "Lambda the deploy workflow's AppSpec names under `Hooks: - AfterAllowTestTraffic:`; it probes the replacement tasks and fails the deployment if they do not serve."
  value       = aws_lambda_function.hook.function_name
}
