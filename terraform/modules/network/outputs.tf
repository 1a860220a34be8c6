output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "Availability zones the subnets are spread over, in subnet order."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "IDs of the public subnets, one per availability zone."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, one per availability zone: where the NLB and the API tasks live."
  value       = aws_subnet.private[*].id
}

output "private_route_table_ids" {
  description = "IDs of the private route tables (the S3 and DynamoDB gateway endpoints are attached to them)."
  value       = aws_route_table.private[*].id
}

output "gateway_endpoint_prefix_list_ids" {
  description = "Prefix list IDs of the S3 and DynamoDB gateway endpoints, keyed `s3` and `dynamodb`, for security group egress rules."
  value       = { for k, e in aws_vpc_endpoint.gateway : k => e.prefix_list_id }
}
