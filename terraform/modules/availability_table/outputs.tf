output "name" {
  description = "Name of the table (the API's `API_STORE_URL` is `dynamodb://<name>`)."
  value       = aws_dynamodb_table.this.name
}

output "arn" {
  description = "ARN of the table."
  value       = aws_dynamodb_table.this.arn
}
