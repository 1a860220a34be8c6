# Internal NLB in the private subnets. CloudFront reaches it through a VPC
# origin; nothing on the internet can. Two IP target groups (blue and green)
# take turns behind the production and test listeners: CodeDeploy swaps them.

data "aws_ec2_managed_prefix_list" "cloudfront" {
  name = "com.amazonaws.global.cloudfront.origin-facing"
}

resource "aws_security_group" "nlb" {
  name        = "${var.name}-nlb"
  description = "Internal NLB of the API: CloudFront on the production port, the VPC on the test port"
  vpc_id      = var.vpc_id

  tags = {
    Name = "${var.name}-nlb"
  }
}

# CloudFront VPC origins connect from the CloudFront origin-facing address
# range; the managed prefix list counts as 55 rules against the security group
# quota of 60, so it is used once, for the production port only.
resource "aws_vpc_security_group_ingress_rule" "production_from_cloudfront" {
  #checkov:skip=CKV_AWS_260:The source is CloudFront's origin-facing managed prefix list, not 0.0.0.0/0; checkov does not resolve prefix lists.
  security_group_id = aws_security_group.nlb.id
  description       = "Production listener, from CloudFront only"
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id
  ip_protocol       = "tcp"
  from_port         = var.production_port
  to_port           = var.production_port
}

resource "aws_vpc_security_group_ingress_rule" "test_from_vpc" {
  security_group_id = aws_security_group.nlb.id
  description       = "Test listener, from inside the VPC (deployment validation)"
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = var.test_port
  to_port           = var.test_port
}

resource "aws_vpc_security_group_egress_rule" "to_targets" {
  security_group_id = aws_security_group.nlb.id
  description       = "Traffic and health checks to the API tasks"
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = var.container_port
  to_port           = var.container_port
}

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_91:NLB access logs record TLS listeners only and these listeners are TCP; requests are logged by CloudFront (standard logs) and by the API itself.
  #checkov:skip=CKV2_AWS_20:This is a Network Load Balancer with TCP listeners: there is no HTTP to redirect (viewers are redirected to HTTPS by CloudFront).
  name                             = var.name
  load_balancer_type               = "network"
  internal                         = true
  subnets                          = var.subnet_ids
  security_groups                  = [aws_security_group.nlb.id]
  enable_cross_zone_load_balancing = true
  enable_deletion_protection       = true

  tags = {
    Name = var.name
  }
}

resource "aws_lb_target_group" "this" {
  for_each = toset(["blue", "green"])

  name                   = "${var.name}-${each.key}"
  target_type            = "ip"
  protocol               = "TCP"
  port                   = var.container_port
  vpc_id                 = var.vpc_id
  deregistration_delay   = var.deregistration_delay_seconds
  connection_termination = true

  health_check {
    enabled             = true
    protocol            = "HTTP"
    path                = var.health_check_path
    port                = "traffic-port"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = {
    Name = "${var.name}-${each.key}"
  }
}

# CodeDeploy owns which target group each listener forwards to after the first
# deployment; Terraform sets the starting point and leaves it alone afterwards.
resource "aws_lb_listener" "production" {
  load_balancer_arn = aws_lb.this.arn
  port              = var.production_port
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["blue"].arn
  }

  lifecycle {
    ignore_changes = [default_action]
  }
}

resource "aws_lb_listener" "test" {
  load_balancer_arn = aws_lb.this.arn
  port              = var.test_port
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["green"].arn
  }

  lifecycle {
    ignore_changes = [default_action]
  }
}
