output "state_bucket_name" {
  description = "Name of the state bucket: the `bucket` of every backend.hcl."
  value       = aws_s3_bucket.state.id
}

output "state_bucket_region" {
  description = "Region of the state bucket: the `region` of every backend.hcl."
  value       = var.region
}

output "state_kms_key_arn" {
  description = "ARN of the KMS key encrypting the state (whoever runs Terraform needs kms:Decrypt and kms:GenerateDataKey on it)."
  value       = aws_kms_key.state.arn
}
