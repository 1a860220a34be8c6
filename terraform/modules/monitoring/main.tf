# Alarms, notifications and the dashboard of the estate. Every alarm notifies
# an SNS topic with an email subscription; CloudFront publishes its metrics in
# us-east-1 only, so its alarm and topic live there (`region` argument).
# Each alarm's description says what it means and what to do first.

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  cdn_region = "us-east-1"
  topic_arn  = aws_sns_topic.alarms.arn

  ecs_dimensions = {
    ClusterName = var.cluster_name
    ServiceName = var.service_name
  }
}

# ---------------------------------------------------------------------------
# Notification topics
# ---------------------------------------------------------------------------

resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:Alarm notifications carry alarm names and metric values only. CloudWatch and EventBridge cannot publish to a topic under the AWS-managed aws/sns key, and a customer-managed key ($1/month per region) would protect nothing confidential.
  name = "${var.name}-alarms"
}

resource "aws_sns_topic" "cdn_alarms" {
  #checkov:skip=CKV_AWS_26:Same as the main alarm topic: notifications only, no confidential data.
  region = local.cdn_region
  name   = "${var.name}-cdn-alarms"
}

data "aws_iam_policy_document" "topic" {
  for_each = {
    alarms     = aws_sns_topic.alarms.arn
    cdn_alarms = aws_sns_topic.cdn_alarms.arn
  }

  statement {
    sid       = "CloudWatchAlarmsAndEventBridgePublish"
    actions   = ["sns:Publish"]
    resources = [each.value]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.topic["alarms"].json
}

resource "aws_sns_topic_policy" "cdn_alarms" {
  region = local.cdn_region
  arn    = aws_sns_topic.cdn_alarms.arn
  policy = data.aws_iam_policy_document.topic["cdn_alarms"].json
}

resource "aws_sns_topic_subscription" "alarms_email" {
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_sns_topic_subscription" "cdn_alarms_email" {
  region    = local.cdn_region
  topic_arn = aws_sns_topic.cdn_alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# ---------------------------------------------------------------------------
# ECS service
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "task_cpu_high" {
  alarm_name          = "${var.name}-api-task-cpu-high"
  alarm_description   = "API tasks average over ${var.thresholds.cpu_percent}% CPU for 5 minutes. Autoscaling should already be adding tasks: check the service's desired count against max_count and the scaling activity. If it is at max_count, raise max_count or the task cpu; if a recent deployment caused it, roll back with CodeDeploy."
  namespace           = "AWS/ECS"
  metric_name         = "CPUUtilization"
  dimensions          = local.ecs_dimensions
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.thresholds.cpu_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = [local.topic_arn]
  ok_actions          = [local.topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "task_memory_high" {
  alarm_name          = "${var.name}-api-task-memory-high"
  alarm_description   = "API tasks average over ${var.thresholds.memory_percent}% of their memory for 5 minutes; at 100% a task is killed (OutOfMemory). Look for a leak introduced by the last deployment (roll back) or raise the task memory."
  namespace           = "AWS/ECS"
  metric_name         = "MemoryUtilization"
  dimensions          = local.ecs_dimensions
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.thresholds.memory_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = [local.topic_arn]
  ok_actions          = [local.topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "running_tasks_below_desired" {
  alarm_name          = "${var.name}-api-running-tasks-below-desired"
  alarm_description   = "Fewer API tasks run than the service wants, for 5 minutes (Container Insights). Tasks are failing to start or crashing: read the service events and the stopped tasks' stop reasons (the task-stopped notifications say which), then the container logs. Common causes: image missing in ECR, staff-token secret without a value, the table unreachable."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 5
  treat_missing_data  = "breaching"
  alarm_actions       = [local.topic_arn]
  ok_actions          = [local.topic_arn]

  metric_query {
    id = "running"

    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "RunningTaskCount"
      dimensions  = local.ecs_dimensions
      stat        = "Minimum"
      period      = 60
    }
  }

  metric_query {
    id = "desired"

    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "DesiredTaskCount"
      dimensions  = local.ecs_dimensions
      stat        = "Maximum"
      period      = 60
    }
  }

  metric_query {
    id          = "missing"
    label       = "Desired minus running tasks"
    expression  = "desired - running"
    return_data = true
  }
}

# ---------------------------------------------------------------------------
# Load balancer (both target groups of the blue/green pair)
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "unhealthy_targets" {
  alarm_name          = "${var.name}-api-unhealthy-targets"
  alarm_description   = "The NLB has marked API targets unhealthy for 3 minutes: /readyz fails on them, usually because the task cannot reach DynamoDB. Check the tasks' logs and the table's alarms; if it started with a deployment, CodeDeploy rolls back on this alarm."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.topic_arn]
  ok_actions          = [local.topic_arn]

  dynamic "metric_query" {
    for_each = var.target_group_arn_suffixes

    content {
      id = metric_query.key

      metric {
        namespace   = "AWS/NetworkELB"
        metric_name = "UnHealthyHostCount"
        stat        = "Maximum"
        period      = 60
        dimensions = {
          LoadBalancer = var.load_balancer_arn_suffix
          TargetGroup  = metric_query.value
        }
      }
    }
  }

  metric_query {
    id          = "unhealthy"
    label       = "Unhealthy targets (worst target group)"
    expression  = "MAX([${join(", ", [for k in keys(var.target_group_arn_suffixes) : "FILL(${k}, 0)"])}])"
    return_data = true
  }
}

resource "aws_cloudwatch_metric_alarm" "healthy_targets_low" {
  alarm_name          = "${var.name}-api-healthy-targets-low"
  alarm_description   = "Fewer than ${var.thresholds.min_healthy_targets} healthy API targets behind the NLB for 3 minutes: the API has lost its redundancy (at 0 it is down and pages show 'availability unknown'). Check running tasks, the unhealthy-targets alarm and the service events."
  comparison_operator = "LessThanThreshold"
  threshold           = var.thresholds.min_healthy_targets
  evaluation_periods  = 3
  treat_missing_data  = "breaching"
  alarm_actions       = [local.topic_arn]
  ok_actions          = [local.topic_arn]

  dynamic "metric_query" {
    for_each = var.target_group_arn_suffixes

    content {
      id = metric_query.key

      metric {
        namespace   = "AWS/NetworkELB"
        metric_name = "HealthyHostCount"
        stat        = "Minimum"
        period      = 60
        dimensions = {
          LoadBalancer = var.load_balancer_arn_suffix
          TargetGroup  = metric_query.value
        }
      }
    }
  }

  metric_query {
    id          = "healthy"
    label       = "Healthy targets (both target groups)"
    expression  = join(" + ", [for k in keys(var.target_group_arn_suffixes) : "FILL(${k}, 0)"])
    return_data = true
  }
}

# ---------------------------------------------------------------------------
# API (Embedded Metric Format metrics emitted by the API itself)
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  alarm_name          = "${var.name}-api-5xx-rate"
  alarm_description   = "More than ${var.thresholds.api_5xx_percent}% of API responses were 5xx in 3 of the last 5 minutes (ignored below 20 requests a minute). Holds may be failing. If a deployment is in progress CodeDeploy rolls back on this alarm; otherwise read the API logs for the failing route and check the DynamoDB alarms."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.api_5xx_percent
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.topic_arn]
  ok_actions          = [local.topic_arn]

  dynamic "metric_query" {
    for_each = { s2 = "Status2xx", s4 = "Status4xx", s5 = "Status5xx" }

    content {
      id = metric_query.key

      metric {
        namespace   = var.metrics_namespace
        metric_name = metric_query.value
        dimensions  = { Service = var.metrics_service_dimension }
        stat        = "Sum"
        period      = 60
      }
    }
  }

  metric_query {
    id          = "rate"
    label       = "5xx share of API responses (%)"
    expression  = "IF((FILL(s2, 0) + FILL(s4, 0) + FILL(s5, 0)) >= 20, 100 * FILL(s5, 0) / (FILL(s2, 0) + FILL(s4, 0) + FILL(s5, 0)), 0)"
    return_data = true
  }
}

resource "aws_cloudwatch_metric_alarm" "api_p99_latency" {
  alarm_name          = "${var.name}-api-p99-latency"
  alarm_description   = "The API's p99 latency was over ${var.thresholds.api_p99_latency_ms} ms in 3 of the last 5 minutes. Visitors wait for availability badges and holds. Check CPU (scale out), DynamoDB throttles and latency, and whether a deployment is in progress (CodeDeploy rolls back on this alarm)."
  namespace           = var.metrics_namespace
  metric_name         = "Latency"
  dimensions          = { Service = var.metrics_service_dimension }
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.thresholds.api_p99_latency_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.topic_arn]
  ok_actions          = [local.topic_arn]
}

# ---------------------------------------------------------------------------
# DynamoDB
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "table_throttles" {
  alarm_name          = "${var.name}-table-throttles"
  alarm_description   = "DynamoDB throttled reads or writes on the availability table in 2 of the last 5 minutes. On-demand tables throttle on hot partitions or sudden traffic beyond twice the previous peak. The API retries, but holds may fail: look for a hot key (one sculpture under heavy load) in Contributor Insights and at the request rate."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 5
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.topic_arn]
  ok_actions          = [local.topic_arn]

  dynamic "metric_query" {
    for_each = { reads = "ReadThrottleEvents", writes = "WriteThrottleEvents" }

    content {
      id = metric_query.key

      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = metric_query.value
        dimensions  = { TableName = var.table_name }
        stat        = "Sum"
        period      = 60
      }
    }
  }

  metric_query {
    id          = "throttles"
    label       = "Throttled reads and writes"
    expression  = "FILL(reads, 0) + FILL(writes, 0)"
    return_data = true
  }
}

resource "aws_cloudwatch_metric_alarm" "table_errors" {
  alarm_name          = "${var.name}-table-system-errors"
  alarm_description   = "DynamoDB answered the API with server-side errors (HTTP 500) in 2 of the last 5 minutes, on any operation. This is on AWS's side: check the AWS Health Dashboard for DynamoDB in this region; the API's retries absorb short bursts. Conditional-check failures (sold out) are normal and not counted here."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 5
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.topic_arn]
  ok_actions          = [local.topic_arn]

  metric_query {
    id          = "errors"
    label       = "DynamoDB system errors (all operations)"
    expression  = "SELECT SUM(SystemErrors) FROM SCHEMA(\"AWS/DynamoDB\", Operation, TableName) WHERE TableName = '${var.table_name}'"
    period      = 60
    return_data = true
  }
}

# ---------------------------------------------------------------------------
# CloudFront (metrics exist in us-east-1 only)
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "cdn_5xx_rate" {
  region              = local.cdn_region
  alarm_name          = "${var.name}-cdn-5xx-rate"
  alarm_description   = "More than ${var.thresholds.cdn_5xx_percent}% of CloudFront responses were 5xx for 10 minutes (ignored below 50 requests per 5 minutes). Visitors see errors. If the errors are on /api/*, check the API alarms and the NLB; if on pages, check the S3 origin and the last publish (origin_path pointing at a missing release)."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.cdn_5xx_percent
  evaluation_periods  = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.cdn_alarms.arn]
  ok_actions          = [aws_sns_topic.cdn_alarms.arn]

  metric_query {
    id = "rate"

    metric {
      namespace   = "AWS/CloudFront"
      metric_name = "5xxErrorRate"
      dimensions  = { DistributionId = var.distribution_id, Region = "Global" }
      stat        = "Average"
      period      = 300
    }
  }

  metric_query {
    id = "requests"

    metric {
      namespace   = "AWS/CloudFront"
      metric_name = "Requests"
      dimensions  = { DistributionId = var.distribution_id, Region = "Global" }
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id          = "guarded_rate"
    label       = "CloudFront 5xx error rate (%)"
    expression  = "IF(FILL(requests, 0) >= 50, FILL(rate, 0), 0)"
    return_data = true
  }
}

# ---------------------------------------------------------------------------
# Unexpected task stops: a task of the service stopped because its container
# exited, it failed to start, or it failed a health check -- not because a
# deployment or scale-in replaced it (those stop with ServiceSchedulerInitiated
# and another reason).
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "task_stopped" {
  name        = "${var.name}-api-task-stopped"
  description = "An API task stopped unexpectedly (crash, failed start, failed health check)"

  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Task State Change"]
    detail = {
      clusterArn = [var.cluster_arn]
      group      = ["service:${var.service_name}"]
      lastStatus = ["STOPPED"]
      "$or" = [
        { stopCode = ["EssentialContainerExited", "TaskFailedToStart"] },
        { stoppedReason = [{ prefix = "Task failed" }] },
      ]
    }
  })
}

resource "aws_cloudwatch_event_target" "task_stopped" {
  rule = aws_cloudwatch_event_rule.task_stopped.name
  arn  = aws_sns_topic.alarms.arn

  input_transformer {
    input_paths = {
      task   = "$.detail.taskArn"
      code   = "$.detail.stopCode"
      reason = "$.detail.stoppedReason"
    }
    input_template = "\"API task <task> stopped unexpectedly (<code>): <reason>. One stop is absorbed (ECS starts a replacement); repeated stops mean a crash loop: read the task's logs and the service events.\""
  }
}

# ---------------------------------------------------------------------------
# Dashboard: cluster, API, load balancer, table, CDN
# ---------------------------------------------------------------------------

locals {
  region = data.aws_region.current.region
  tg     = var.target_group_arn_suffixes

  widgets = [
    {
      title   = "Tasks: CPU and memory (%)"
      metrics = [["AWS/ECS", "CPUUtilization", "ClusterName", var.cluster_name, "ServiceName", var.service_name], [".", "MemoryUtilization", ".", ".", ".", "."]]
      stat    = "Average"
      region  = local.region
    },
    {
      title   = "Tasks: running and desired"
      metrics = [["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", var.cluster_name, "ServiceName", var.service_name], [".", "DesiredTaskCount", ".", ".", ".", "."]]
      stat    = "Average"
      region  = local.region
    },
    {
      title   = "API responses per minute"
      metrics = [for m in ["Status2xx", "Status4xx", "Status5xx"] : [var.metrics_namespace, m, "Service", var.metrics_service_dimension]]
      stat    = "Sum"
      region  = local.region
    },
    {
      title   = "API latency (ms): p50, p99"
      metrics = [[var.metrics_namespace, "Latency", "Service", var.metrics_service_dimension, { stat = "p50" }], ["...", { stat = "p99" }]]
      stat    = "p99"
      region  = local.region
    },
    {
      title   = "Holds created, conflicts (sold out) and refused by the hold policy (429)"
      metrics = [[var.metrics_namespace, "HoldsCreated", "Service", var.metrics_service_dimension], [".", "HoldConflicts", ".", "."], [".", "HoldsLimited", ".", "."]]
      stat    = "Sum"
      region  = local.region
    },
    {
      title   = "NLB healthy targets (blue, green)"
      metrics = [for k in keys(local.tg) : ["AWS/NetworkELB", "HealthyHostCount", "LoadBalancer", var.load_balancer_arn_suffix, "TargetGroup", local.tg[k], { label = k }]]
      stat    = "Minimum"
      region  = local.region
    },
    {
      title   = "DynamoDB: consumed capacity and throttles"
      metrics = [for m in ["ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "ReadThrottleEvents", "WriteThrottleEvents"] : ["AWS/DynamoDB", m, "TableName", var.table_name]]
      stat    = "Sum"
      region  = local.region
    },
    {
      title   = "CloudFront: requests and 5xx rate (%)"
      metrics = [["AWS/CloudFront", "Requests", "Region", "Global", "DistributionId", var.distribution_id, { stat = "Sum" }], [".", "5xxErrorRate", ".", ".", ".", ".", { stat = "Average", yAxis = "right" }]]
      stat    = "Sum"
      region  = local.cdn_region
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name

  dashboard_body = jsonencode({
    widgets = [
      for i, w in local.widgets : {
        type   = "metric"
        x      = (i % 2) * 12
        y      = floor(i / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = w.title
          metrics = w.metrics
          stat    = w.stat
          period  = 60
          view    = "timeSeries"
          stacked = false
          region  = w.region
        }
      }
    ]
  })
}
