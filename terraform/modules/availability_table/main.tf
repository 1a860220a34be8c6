# Single-table design of the availability API: partition key `pk`, sort key
# `sk` (both strings). Holds and idempotency records carry `expires_at` (epoch
# seconds) and DynamoDB deletes them after it passes. The API never relies on
# that deletion for correctness (TTL deletion can lag by hours): it compares
# `expires_at` with the clock itself.

resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-managed key aws/dynamodb. The table holds edition counts, sales and anonymous holds, no personal data; access is decided by IAM (the task role only). A customer-managed key would add a key policy to maintain without a control we need.
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  # KMS with the AWS-managed key aws/dynamodb.
  server_side_encryption {
    enabled = true
  }
}
