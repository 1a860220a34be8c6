variable "name" {
  description = "Name prefix of the buckets, the distribution's policies and the web ACL (for example `sculpture-store`)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "domain_names" {
  description = "Host names the site is served on (CloudFront aliases), for example [\"www.example-gallery.com\"]. DNS records pointing at the distribution are managed where the zone lives."
  type        = list(string)

  validation {
    condition     = length(var.domain_names) >= 1
    error_message = "Give at least one domain name: TLS 1.2+ is only enforceable with a custom certificate."
  }
}

variable "acm_certificate_arn" {
  description = "ARN of an issued ACM certificate covering every name in domain_names. CloudFront reads certificates from us-east-1 only."
  type        = string

  validation {
    condition     = can(regex("^arn:aws:acm:us-east-1:[0-9]{12}:certificate/", var.acm_certificate_arn))
    error_message = "acm_certificate_arn must be an ACM certificate in us-east-1."
  }
}

variable "site_path" {
  description = "URL path of the site's base_url in content/site.yaml (`/`, or `/loja/` for a site below a path): its 404 page is served from `<site_path>404.html`."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9._~-]+/)*$", var.site_path))
    error_message = "site_path must start and end with / (for example / or /loja/)."
  }
}

variable "price_class" {
  description = "CloudFront price class: which edge locations serve the site."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "api_origin" {
  description = "The internal NLB CloudFront forwards `/api/*` to through a VPC origin: its ARN, DNS name and production listener port."
  type = object({
    load_balancer_arn = string
    dns_name          = string
    port              = number
  })
}

variable "content_security_policy" {
  description = "Content-Security-Policy header of every response. The default fits the site: first-party JS and CSS, same-origin fetch('/api/...'), and pagefind's WebAssembly ('wasm-unsafe-eval'). JSON-LD blocks are data, not scripts, and need no 'unsafe-inline'."
  type        = string
  default     = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; manifest-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; upgrade-insecure-requests"

  validation {
    condition     = strcontains(var.content_security_policy, "frame-ancestors") && !strcontains(var.content_security_policy, "'unsafe-inline'")
    error_message = "The CSP must set frame-ancestors and must not allow 'unsafe-inline'."
  }
}

variable "enable_ipv6" {
  description = "Serve viewers over IPv6 too. Off by default: WAF rate-based rules count each source address, and one IPv6 client holds a /64 of them (2^64 addresses), so per-client limits (hold creation) only hold over IPv4. IPv6-only networks still reach the site through their NAT64 gateways."
  type        = bool
  default     = false
}

variable "kept_versions" {
  description = "Newer noncurrent versions S3 keeps of each object before a 30-day-old version may expire: what a rollback copies back. Keep it above the publish command's --keep-releases (default 5) plus the rollbacks expected between publishes."
  type        = number
  default     = 20

  validation {
    condition     = var.kept_versions >= 2 && var.kept_versions <= 100
    error_message = "kept_versions must be between 2 and 100 (S3's limit)."
  }
}

variable "enable_waf" {
  description = "Attach a WAF web ACL (known-bad-input rules, a per-IP rate limit on hold creation and an overall per-IP rate limit). About $8/month plus $0.60 per million requests."
  type        = bool
  default     = true
}

variable "hold_rate_limit" {
  description = "Most `POST /api/v1/holds` requests one IP address may make in 5 minutes before the WAF blocks it."
  type        = number
  default     = 20

  validation {
    condition     = var.hold_rate_limit >= 10
    error_message = "WAF rate-based rules need a limit of at least 10."
  }
}

variable "request_rate_limit" {
  description = "Most requests of any kind one IP address may make in 5 minutes before the WAF blocks it."
  type        = number
  default     = 3000

  validation {
    condition     = var.request_rate_limit >= 10
    error_message = "WAF rate-based rules need a limit of at least 10."
  }
}

variable "log_retention_days" {
  description = "Days to keep CloudFront and S3 access logs (and WAF logs) before they expire."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "preview_expiry_days" {
  description = "Days after which pull-request previews under `previews/` expire from the bucket."
  type        = number
  default     = 30

  validation {
    condition     = var.preview_expiry_days >= 1
    error_message = "preview_expiry_days must be at least 1."
  }
}
