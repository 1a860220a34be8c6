# tflint settings for CI (`tflint --recursive --config <this file>`, job `terraform`
# of ci.yml). Kept beside the workflows: terraform/ holds only the estate.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "aws" {
  enabled = true
  version = "0.48.0"
  source  = "github.com/terraform-linters/tflint-ruleset-aws"
}
