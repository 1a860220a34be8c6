output "arn" {
  description = "ARN of the NLB (the CloudFront VPC origin points at it)."
  value       = aws_lb.this.arn
}

output "arn_suffix" {
  description = "ARN suffix of the NLB, the `LoadBalancer` dimension of its CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}

output "dns_name" {
  description = "Private DNS name of the NLB."
  value       = aws_lb.this.dns_name
}

output "security_group_id" {
  description = "ID of the NLB's security group; the API tasks admit traffic from it only."
  value       = aws_security_group.nlb.id
}

output "production_port" {
  description = "Port of the production listener."
  value       = var.production_port
}

output "test_port" {
  description = "Port of the test listener (the deployment hook probes the replacement tasks on it)."
  value       = var.test_port
}

output "production_listener_arn" {
  description = "ARN of the production listener (CodeDeploy's production traffic route)."
  value       = aws_lb_listener.production.arn
}

output "test_listener_arn" {
  description = "ARN of the test listener (CodeDeploy's test traffic route)."
  value       = aws_lb_listener.test.arn
}

output "target_group_names" {
  description = "Names of the blue and green target groups, keyed `blue` and `green`."
  value       = { for k, tg in aws_lb_target_group.this : k => tg.name }
}

output "target_group_arns" {
  description = "ARNs of the blue and green target groups, keyed `blue` and `green`. Known only once both listeners exist: ECS refuses a service whose target group belongs to no load balancer, so the service must wait for them."
  value       = { for k, tg in aws_lb_target_group.this : k => tg.arn }

  depends_on = [aws_lb_listener.production, aws_lb_listener.test]
}

output "target_group_arn_suffixes" {
  description = "ARN suffixes of the blue and green target groups (the `TargetGroup` dimension of their metrics), keyed `blue` and `green`."
  value       = { for k, tg in aws_lb_target_group.this : k => tg.arn_suffix }
}

output "unready_drain_seconds" {
  description = "How long a target that fails its health check may still get new connections: the check interval times (unhealthy threshold + 1), one interval for the NLB to act on its verdict. The API keeps serving this long after SIGTERM."
  value = (
    aws_lb_target_group.this["blue"].health_check[0].interval
    * (aws_lb_target_group.this["blue"].health_check[0].unhealthy_threshold + 1)
  )
}
