# ECS cluster, Fargate task definition and service of the availability API.
# The service uses the CODE_DEPLOY controller: Terraform creates it once, and
# from then on the deploy workflow registers task definitions and CodeDeploy
# swaps task sets, so the service's task definition, load balancer and desired
# count are ignored here.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  container_name = "api"
  region         = data.aws_region.current.region
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
    base              = 0
  }
}

resource "aws_cloudwatch_log_group" "api" {
  #checkov:skip=CKV_AWS_158:Encrypted at rest by CloudWatch Logs with its service key. The API logs request lines and EMF metrics, no secrets or personal data; a customer-managed key would add cost and a key policy without adding a control we use.
  #checkov:skip=CKV_AWS_338:Operational logs with no audit requirement: retention is a variable (30 days by default) so cost stays bounded.
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
}

# The staff bearer token. Terraform creates the secret but never its value
# (which would land in the state): an operator sets it once, see the README.
resource "aws_secretsmanager_secret" "staff_token" {
  #checkov:skip=CKV2_AWS_57:A static bearer token shared with staff tooling: rotating it means updating those clients too, so rotation is a documented manual step (put-secret-value, then a deployment), not a rotation Lambda.
  #checkov:skip=CKV_AWS_149:Encrypted with the AWS-managed key aws/secretsmanager; who may read it is decided by IAM (only this task's execution role), which a customer-managed key would not change.
  name                    = "${var.name}/staff-token"
  description             = "Bearer token for the API's staff endpoints (env API_STAFF_TOKEN)"
  recovery_window_in_days = 7
}

# ---------------------------------------------------------------------------
# IAM: the execution role starts the task (pull image, write logs, read the
# secret); the task role is what the API's code may do (use the table).
# ---------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrAuth"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource-level permissions.
  }

  statement {
    sid = "PullApiImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [var.image_repository_arn]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.api.arn}:*"]
  }

  statement {
    sid       = "ReadStaffToken"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.staff_token.arn]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "start-api-task"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "task" {
  statement {
    sid = "UseAvailabilityTable"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:DeleteItem",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:UpdateItem",
    ]
    resources = [var.table_arn, "${var.table_arn}/index/*"]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "use-availability-table"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# ---------------------------------------------------------------------------
# Task definition
# ---------------------------------------------------------------------------

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # The only writable place in the container: the root filesystem is read-only.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = local.container_name
      image                  = "${var.image_repository_url}:${var.image_tag}"
      essential              = true
      user                   = "10001"
      readonlyRootFilesystem = true
      stopTimeout            = var.stop_timeout_seconds

      portMappings = [
        {
          containerPort = var.container_port
          protocol      = "tcp"
        },
      ]

      # The image runs with API_ENV=production, so the app refuses to start
      # unless every setting of api/config.py's PRODUCTION_REQUIRED is here or
      # in `secrets` (a test holds the two lists equal).
      environment = [
        { name = "API_STORE_URL", value = "dynamodb://${var.table_name}" },
        # The dimension the alarms, the scaling policy and CodeDeploy's rollback watch.
        { name = "API_SERVICE_NAME", value = var.metrics_service_dimension },
        # CloudFront appends the viewer's address to X-Forwarded-For: one trusted hop.
        { name = "API_TRUSTED_PROXY_HOPS", value = tostring(var.trusted_proxy_hops) },
        # After SIGTERM: readiness fails, the task serves until the NLB stops sending.
        { name = "GUNICORN_DRAIN_SECONDS", value = tostring(var.drain_seconds) },
        { name = "AWS_REGION", value = local.region },
        { name = "AWS_DEFAULT_REGION", value = local.region },
      ]

      secrets = [
        { name = "API_STAFF_TOKEN", valueFrom = aws_secretsmanager_secret.staff_token.arn },
      ]

      mountPoints = [
        { sourceVolume = "tmp", containerPath = "/tmp", readOnly = false },
      ]

      # The image has python but no curl: the same command as the Dockerfile's
      # HEALTHCHECK (GET /healthz on the container port). /healthz is liveness
      # only: a task whose store is down stays alive and fails /readyz at the NLB.
      healthCheck = {
        command     = ["CMD", "python", "-m", "api.healthcheck"]
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = 20
      }

      linuxParameters = {
        initProcessEnabled = true
      }

      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.api.name
          awslogs-region        = local.region
          awslogs-stream-prefix = "api"
          mode                  = "non-blocking"
          max-buffer-size       = "25m"
        }
      }
    },
  ])
}

# ---------------------------------------------------------------------------
# Service
# ---------------------------------------------------------------------------

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "API tasks: the container port from the NLB only; HTTPS out to AWS endpoints only"
  vpc_id      = var.vpc_id

  tags = {
    Name = "${var.name}-tasks"
  }
}

resource "aws_vpc_security_group_ingress_rule" "from_nlb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "API traffic and health checks from the NLB"
  referenced_security_group_id = var.load_balancer_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
}

resource "aws_vpc_security_group_egress_rule" "to_interface_endpoints" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to the interface endpoints (ECR, Logs, Secrets Manager)"
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "to_gateway_endpoints" {
  for_each = var.gateway_endpoint_prefix_list_ids

  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to ${each.key} through its gateway endpoint"
  prefix_list_id    = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_ecs_service" "this" {
  name                              = var.name
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.this.arn
  desired_count                     = var.desired_count
  launch_type                       = "FARGATE"
  platform_version                  = "LATEST"
  health_check_grace_period_seconds = 30
  enable_ecs_managed_tags           = true
  propagate_tags                    = "SERVICE"

  deployment_controller {
    type = "CODE_DEPLOY"
  }

  # Tasks go to the private subnets of every zone given; ECS spreads a Fargate
  # service's tasks evenly across the zones of its subnets.
  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = local.container_name
    container_port   = var.container_port
  }

  lifecycle {
    ignore_changes = [task_definition, load_balancer, desired_count]
  }
}

# ---------------------------------------------------------------------------
# Autoscaling: on CPU, and on load (requests per task from the API's own
# EMF counters; an NLB has no request-count metric).
# ---------------------------------------------------------------------------

resource "aws_appautoscaling_target" "this" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.this.name}"
  min_capacity       = var.min_count
  max_capacity       = var.max_count
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  name               = "${var.name}-requests-per-task"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.requests_per_task_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    customized_metric_specification {
      dynamic "metrics" {
        for_each = { s2 = "Status2xx", s4 = "Status4xx", s5 = "Status5xx" }

        content {
          id          = metrics.key
          label       = "${metrics.value} responses"
          return_data = false

          metric_stat {
            stat = "Sum"

            metric {
              namespace   = var.metrics_namespace
              metric_name = metrics.value

              dimensions {
                name  = "Service"
                value = var.metrics_service_dimension
              }
            }
          }
        }
      }

      metrics {
        id          = "tasks"
        label       = "Running tasks"
        return_data = false

        metric_stat {
          stat = "Average"

          metric {
            namespace   = "ECS/ContainerInsights"
            metric_name = "RunningTaskCount"

            dimensions {
              name  = "ClusterName"
              value = aws_ecs_cluster.this.name
            }

            dimensions {
              name  = "ServiceName"
              value = aws_ecs_service.this.name
            }
          }
        }
      }

      metrics {
        id          = "per_task"
        label       = "Requests per task"
        expression  = "(FILL(s2, 0) + FILL(s4, 0) + FILL(s5, 0)) / tasks"
        return_data = true
      }
    }
  }
}
