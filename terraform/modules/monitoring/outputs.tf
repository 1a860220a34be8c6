output "topic_arn" {
  description = "ARN of the SNS topic every alarm in the home region (and the task-stop rule) notifies."
  value       = aws_sns_topic.alarms.arn
}

output "cdn_topic_arn" {
  description = "ARN of the SNS topic in us-east-1 the CloudFront alarm notifies."
  value       = aws_sns_topic.cdn_alarms.arn
}

output "alarm_names" {
  description = "Names of all alarms, keyed by what they watch."
  value = {
    task_cpu_high               = aws_cloudwatch_metric_alarm.task_cpu_high.alarm_name
    task_memory_high            = aws_cloudwatch_metric_alarm.task_memory_high.alarm_name
    running_tasks_below_desired = aws_cloudwatch_metric_alarm.running_tasks_below_desired.alarm_name
    unhealthy_targets           = aws_cloudwatch_metric_alarm.unhealthy_targets.alarm_name
    healthy_targets_low         = aws_cloudwatch_metric_alarm.healthy_targets_low.alarm_name
    api_5xx_rate                = aws_cloudwatch_metric_alarm.api_5xx_rate.alarm_name
    api_p99_latency             = aws_cloudwatch_metric_alarm.api_p99_latency.alarm_name
    table_throttles             = aws_cloudwatch_metric_alarm.table_throttles.alarm_name
    table_errors                = aws_cloudwatch_metric_alarm.table_errors.alarm_name
    cdn_5xx_rate                = aws_cloudwatch_metric_alarm.cdn_5xx_rate.alarm_name
  }
}

output "deployment_alarm_names" {
  description = "Alarms that make CodeDeploy stop and roll back a deployment: the API's 5xx rate, its p99 latency and unhealthy targets."
  value = [
    aws_cloudwatch_metric_alarm.api_5xx_rate.alarm_name,
    aws_cloudwatch_metric_alarm.api_p99_latency.alarm_name,
    aws_cloudwatch_metric_alarm.unhealthy_targets.alarm_name,
  ]
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
