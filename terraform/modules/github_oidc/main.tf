# GitHub Actions reaches AWS only through OIDC: no long-lived keys. Each role
# trusts one repository's jobs that run in one protected environment, checked
# with StringEquals on both the audience and the subject.

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

# ---------------------------------------------------------------------------
# Publish the site: upload and delete release and preview objects, switch the
# live release (UpdateDistribution) and invalidate changed paths.
# ---------------------------------------------------------------------------

resource "aws_iam_role" "publish" {
  name                 = "${var.name}-publish-site"
  description          = "GitHub Actions (${var.github_repository}, environment ${var.publish_environment}) publishes the catalog site"
  assume_role_policy   = data.aws_iam_policy_document.trust["publish"].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "publish" {
  statement {
    sid       = "ListSiteBucket"
    actions   = ["s3:ListBucket"]
    resources = [var.site_bucket_arn]
  }

  statement {
    sid     = "WriteReleasesAndPreviews"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${var.site_bucket_arn}/releases/*",
      "${var.site_bucket_arn}/previews/*",
    ]
  }

  statement {
    sid = "SwitchReleaseAndInvalidate"
    actions = [
      "cloudfront:CreateInvalidation",
      "cloudfront:GetDistribution",
      "cloudfront:GetDistributionConfig",
      "cloudfront:GetInvalidation",
      "cloudfront:UpdateDistribution",
    ]
    resources = [var.distribution_arn]
  }
}

resource "aws_iam_role_policy" "publish" {
  name   = "publish-site"
  role   = aws_iam_role.publish.id
  policy = data.aws_iam_policy_document.publish.json
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
}

resource "aws_iam_role_policy" "deploy" {
  name   = "deploy-api"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}
