# CodeDeploy blue/green for the API's ECS service. A deployment starts the
# replacement task set behind the test listener, switches the production
# listener to it all at once (the only traffic-shifting config ECS supports
# behind an NLB), and keeps the original tasks for `termination_wait_minutes`.
# A failed deployment, or any of `alarm_names` going into ALARM until the
# original tasks are gone, rolls traffic back to them.

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["codedeploy.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "codedeploy" {
  name               = "${var.name}-codedeploy"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

# AWS's managed policy for ECS blue/green: manage task sets of services, modify
# listeners and target groups, read alarms, pass the task roles.
resource "aws_iam_role_policy_attachment" "codedeploy" {
  role       = aws_iam_role.codedeploy.name
  policy_arn = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS"
}

resource "aws_codedeploy_app" "this" {
  name             = var.name
  compute_platform = "ECS"
}

resource "aws_codedeploy_deployment_group" "this" {
  app_name               = aws_codedeploy_app.this.name
  deployment_group_name  = var.name
  service_role_arn       = aws_iam_role.codedeploy.arn
  deployment_config_name = "CodeDeployDefault.ECSAllAtOnce"

  deployment_style {
    deployment_type   = "BLUE_GREEN"
    deployment_option = "WITH_TRAFFIC_CONTROL"
  }

  blue_green_deployment_config {
    deployment_ready_option {
      action_on_timeout = "CONTINUE_DEPLOYMENT"
    }

    terminate_blue_instances_on_deployment_success {
      action                           = "TERMINATE"
      termination_wait_time_in_minutes = var.termination_wait_minutes
    }
  }

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
  }

  alarm_configuration {
    enabled = true
    alarms  = var.alarm_names
  }

  ecs_service {
    cluster_name = var.cluster_name
    service_name = var.service_name
  }

  load_balancer_info {
    target_group_pair_info {
      prod_traffic_route {
        listener_arns = [var.production_listener_arn]
      }

      test_traffic_route {
        listener_arns = [var.test_listener_arn]
      }

      target_group {
        name = var.target_group_names["blue"]
      }

      target_group {
        name = var.target_group_names["green"]
      }
    }
  }

  depends_on = [aws_iam_role_policy_attachment.codedeploy]
}

# ---------------------------------------------------------------------------
# AfterAllowTestTraffic hook. Once the test listener forwards to the new task
# set, CodeDeploy invokes this Lambda; it probes /readyz and an availability
# read through the test listener and reports Succeeded or Failed (which stops
# the deployment and rolls back). The deploy workflow's AppSpec names it under
# `Hooks` (output `test_traffic_hook_function_name`). It runs in the private
# subnets to reach the internal NLB and calls CodeDeploy through its VPC
# endpoint (the network module's interface endpoints).
# ---------------------------------------------------------------------------

locals {
  # The CodeDeployHook_ prefix is what AWS's narrower CodeDeploy policies allow to invoke.
  hook_name = "CodeDeployHook_${var.name}-test-traffic"
}

data "archive_file" "hook" {
  type        = "zip"
  source_file = "${path.module}/hook/after_allow_test_traffic.py"
  output_path = "${path.root}/.terraform/${local.hook_name}.zip"
}

data "aws_iam_policy_document" "hook_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "hook" {
  name               = "${var.name}-test-traffic-hook"
  assume_role_policy = data.aws_iam_policy_document.hook_assume.json
}

# Network interfaces in the VPC (AWS's managed policy for VPC Lambdas).
resource "aws_iam_role_policy_attachment" "hook_vpc" {
  role       = aws_iam_role.hook.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

data "aws_iam_policy_document" "hook" {
  statement {
    sid       = "ReportHookStatus"
    actions   = ["codedeploy:PutLifecycleEventHookExecutionStatus"]
    resources = [aws_codedeploy_deployment_group.this.arn]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.hook.arn}:*"]
  }
}

resource "aws_iam_role_policy" "hook" {
  name   = "report-test-traffic-probe"
  role   = aws_iam_role.hook.id
  policy = data.aws_iam_policy_document.hook.json
}

resource "aws_cloudwatch_log_group" "hook" {
  #checkov:skip=CKV_AWS_158:Encrypted at rest by CloudWatch Logs with its service key. The hook logs probe results (status codes, short bodies), no secrets or personal data.
  #checkov:skip=CKV_AWS_338:Operational logs of deployment checks with no audit requirement: retention is a variable (30 days by default) so cost stays bounded.
  name              = "/aws/lambda/${local.hook_name}"
  retention_in_days = var.hook_log_retention_days
}

resource "aws_security_group" "hook" {
  name        = "${var.name}-test-traffic-hook"
  description = "Test-traffic hook: the NLB test listener and HTTPS to the VPC endpoints, nothing else"
  vpc_id      = var.vpc_id

  tags = {
    Name = "${var.name}-test-traffic-hook"
  }
}

resource "aws_vpc_security_group_egress_rule" "hook_to_test_listener" {
  security_group_id = aws_security_group.hook.id
  description       = "Probes to the NLB test listener"
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = var.test_listener_port
  to_port           = var.test_listener_port
}

resource "aws_vpc_security_group_egress_rule" "hook_to_endpoints" {
  security_group_id = aws_security_group.hook.id
  description       = "HTTPS to the CodeDeploy interface endpoint"
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_lambda_function" "hook" {
  #checkov:skip=CKV_AWS_50:X-Ray tracing would need the X-Ray daemon's permissions and endpoint for a function that runs a few seconds per deployment; its JSON log line says what it probed and why it failed.
  #checkov:skip=CKV_AWS_116:CodeDeploy waits for the hook's report and fails the deployment on a timeout (rolling back), so a dead-letter queue would hold nothing anyone acts on.
  #checkov:skip=CKV_AWS_173:The environment holds only the test listener's private URL and probe counts, nothing secret; the Lambda service key encrypts it at rest.
  #checkov:skip=CKV_AWS_272:The code is one reviewed file zipped by Terraform from this repository; code signing would add a signing profile and bucket without adding a control over that path.
  function_name                  = local.hook_name
  description                    = "AfterAllowTestTraffic: probe /readyz and an availability read through the NLB test listener"
  role                           = aws_iam_role.hook.arn
  runtime                        = "python3.12"
  handler                        = "after_allow_test_traffic.handler"
  filename                       = data.archive_file.hook.output_path
  source_code_hash               = data.archive_file.hook.output_base64sha256
  timeout                        = 60
  memory_size                    = 128
  reserved_concurrent_executions = 2

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.hook.id]
  }

  environment {
    variables = {
      TEST_TRAFFIC_URL      = "http://${var.test_listener_dns_name}:${var.test_listener_port}"
      PROBE_ATTEMPTS        = "10"
      PROBE_TIMEOUT_SECONDS = "3"
    }
  }

  depends_on = [
    aws_iam_role_policy_attachment.hook_vpc,
    aws_iam_role_policy.hook,
  ]
}
