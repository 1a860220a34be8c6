# GitHub Actions reaches AWS only through OIDC: no long-lived keys. Each role
# trusts one repository's tokens, checked with StringEquals on both the audience
# and the subject: the publish and deploy roles, jobs that run in one protected
# environment; the preview role, pull-request runs (fork runs get no token).
#
# The permissions the site's commands need live in policies/*.json.tftpl, one
# template per role, rendered here with templatefile(); the tests render the
# same templates with the same values and run publish, rollback and a preview
# under them against an IAM-enforcing emulator (tests/publish/test_iam.py).

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : var.existing_oidc_provider_arn
  account_id   = data.aws_caller_identity.current.account_id
  region       = data.aws_region.current.region

  codedeploy_prefix = "arn:aws:codedeploy:${local.region}:${local.account_id}"
  environments = {
    publish = var.publish_environment
    deploy  = var.deploy_environment
  }
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_policy_document" "trust" {
  for_each = local.environments

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:${each.value}"]
    }
  }
}

data "aws_iam_policy_document" "preview_trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:pull_request"]
    }
  }
}

# ---------------------------------------------------------------------------
# Publish the site: change the live site under site/ in place, keep its
# release records under _publish/site/, invalidate changed paths. Nothing
# else: not the previews, not the distribution's configuration.
# ---------------------------------------------------------------------------

resource "aws_iam_role" "publish" {
  name                 = "${var.name}-publish-site"
  description          = "GitHub Actions (${var.github_repository}, environment ${var.publish_environment}) publishes the catalog site"
  assume_role_policy   = data.aws_iam_policy_document.trust["publish"].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "publish" {
  name = "publish-site"
  role = aws_iam_role.publish.id
  policy = templatefile("${path.module}/policies/publish-site.json.tftpl", {
    bucket_arn       = var.site_bucket_arn
    distribution_arn = var.distribution_arn
  })
}

# ---------------------------------------------------------------------------
# Publish and remove pull-request previews: objects under previews/ and their
# records under _publish/previews/ only. No CloudFront permission at all:
# previews are served uncached.
# ---------------------------------------------------------------------------

resource "aws_iam_role" "preview" {
  name                 = "${var.name}-preview-site"
  description          = "GitHub Actions (${var.github_repository}, pull-request runs) publishes and removes site previews"
  assume_role_policy   = data.aws_iam_policy_document.preview_trust.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "preview" {
  name = "preview-site"
  role = aws_iam_role.preview.id
  policy = templatefile("${path.module}/policies/preview-site.json.tftpl", {
    bucket_arn = var.site_bucket_arn
  })
}

# ---------------------------------------------------------------------------
# Deploy the API: push the image, register a task definition revision, create
# a CodeDeploy deployment and follow it.
# ---------------------------------------------------------------------------

resource "aws_iam_role" "deploy" {
  name                 = "${var.name}-deploy-api"
  description          = "GitHub Actions (${var.github_repository}, environment ${var.deploy_environment}) deploys the availability API"
  assume_role_policy   = data.aws_iam_policy_document.trust["deploy"].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "deploy" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # No resource-level permissions for this action.
  }

  statement {
    sid = "PushApiImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid       = "RegisterTaskDefinitions"
    actions   = ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"]
    resources = ["*"] # These actions take no resource ARN.
  }

  statement {
    sid       = "ReadService"
    actions   = ["ecs:DescribeServices"]
    resources = ["arn:aws:ecs:${local.region}:${local.account_id}:service/${var.ecs_cluster_name}/${var.ecs_service_name}"]
  }

  statement {
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = var.task_role_arns

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid = "CreateDeployments"
    actions = [
      "codedeploy:CreateDeployment",
      "codedeploy:GetDeployment",
      "codedeploy:GetDeploymentGroup",
    ]
    resources = ["${local.codedeploy_prefix}:deploymentgroup:${var.codedeploy_application_name}/${var.codedeploy_deployment_group_name}"]
  }

  statement {
    sid       = "RegisterRevisions"
    actions   = ["codedeploy:GetApplicationRevision", "codedeploy:RegisterApplicationRevision"]
    resources = ["${local.codedeploy_prefix}:application:${var.codedeploy_application_name}"]
  }

  statement {
    sid       = "ReadDeploymentConfig"
    actions   = ["codedeploy:GetDeploymentConfig"]
    resources = ["${local.codedeploy_prefix}:deploymentconfig:*"]
  }

  # After a deploy, `flask --app api sync-inventory` adds new pieces and resizes
  # editions in the availability table (one transaction of conditional writes).
  statement {
    sid = "SyncInventory"
    actions = [
      "dynamodb:ConditionCheckItem",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:UpdateItem",
    ]
    resources = [var.availability_table_arn]
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "deploy-api"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}
