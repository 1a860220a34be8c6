output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.this.name
}

output "task_definition_family" {
  description = "Family of the API task definition; the deploy workflow registers new revisions in it."
  value       = aws_ecs_task_definition.this.family
}

output "task_definition_arn" {
  description = "ARN of the task definition revision Terraform registered (the service's starting point)."
  value       = aws_ecs_task_definition.this.arn
}

output "container_name" {
  description = "Name of the API container in the task definition (the AppSpec's ContainerName)."
  value       = local.container_name
}

output "container_port" {
  description = "Port of the API container (the AppSpec's ContainerPort)."
  value       = var.container_port
}

output "task_role_arn" {
  description = "ARN of the task role (what the API's code may do)."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "ARN of the execution role (what ECS may do to start the task)."
  value       = aws_iam_role.execution.arn
}

output "log_group_name" {
  description = "Name of the CloudWatch log group of the API containers."
  value       = aws_cloudwatch_log_group.api.name
}

output "security_group_id" {
  description = "ID of the tasks' security group."
  value       = aws_security_group.tasks.id
}

output "staff_token_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the staff token (its value is set by an operator)."
  value       = aws_secretsmanager_secret.staff_token.arn
}
