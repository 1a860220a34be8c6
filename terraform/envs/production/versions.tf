terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # State lives in the bucket the bootstrap root creates; the bucket name and
  # region come from backend.hcl (see terraform/README.md). S3-native locking
  # (use_lockfile) replaces the DynamoDB lock table.
  backend "s3" {
    key          = "production/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = var.name
      Environment = "production"
      ManagedBy   = "terraform"
    }
  }
}
