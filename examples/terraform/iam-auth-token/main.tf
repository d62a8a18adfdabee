# An IAM auth token for an ElastiCache user, handed to a client (Terraform 1.10 and later).
#
# The security groups let the client reach the cache's port; with IAM authentication (Valkey 7.2+,
# Redis OSS 7+, in-transit encryption on) the client must then present a token: a SigV4-signed
# request, valid 15 minutes, for an ElastiCache user whose authentication mode is iam. The
# ephemeral resource signs one with the provider's credentials (no AWS call is made); Terraform
# keeps it out of the plan and the state, and passes it on only where ephemeral values are allowed:
# here, the environment of a client run by a provisioner. The identity that signs needs
# elasticache:Connect on the replication group and on the user: the policy is in
# docs/ephemeral-resources/iam_auth_token.md.
#
# Credentials and Region come from the standard AWS chain (AWS_PROFILE, AWS_REGION, ...).

terraform {
  required_version = ">= 1.10"
  required_providers {
    elasticache = {
      source = "elasticache-access/elasticache"
    }
  }
}

provider "elasticache" {}

variable "replication_group_id" {
  description = "The replication group to connect to."
  type        = string
  default     = "demo-redis"
}

variable "user_id" {
  description = "An ElastiCache user with authentication mode iam, in the replication group's user group."
  type        = string
  default     = "app"
}

variable "cache_host" {
  description = "The replication group's primary (or configuration) endpoint address."
  type        = string
  default     = "master.demo-redis.abc123.use1.cache.amazonaws.com"
}

variable "client_command" {
  description = "The client to run: redis-cli and valkey-cli read the password from REDISCLI_AUTH."
  type        = string
  default     = "redis-cli --tls -h \"$CACHE_HOST\" -p 6379 --user \"$CACHE_USER\" PING"
}

ephemeral "elasticache_iam_auth_token" "app" {
  replication_group_id = var.replication_group_id
  user_id              = var.user_id
}

resource "terraform_data" "client" {
  triggers_replace = [var.replication_group_id, var.user_id]

  provisioner "local-exec" {
    command = var.client_command
    environment = {
      CACHE_HOST    = var.cache_host
      CACHE_USER    = var.user_id
      REDISCLI_AUTH = ephemeral.elasticache_iam_auth_token.app.token
    }
  }
}
