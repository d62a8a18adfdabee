# Reachability audit: who can reach an existing replication group, whoever made its security groups,
# and a check that fails (a warning in every plan and apply) while a blocking finding stands: a public
# source, no transit encryption, no authentication.

terraform {
  required_providers {
    elasticache = {
      source = "elasticache-access/elasticache"
    }
  }
}

provider "elasticache" {}

variable "replication_group_id" {
  description = "Id of the replication group to audit."
  type        = string
}

data "elasticache_reachability" "cache" {
  replication_group_id = var.replication_group_id
}

locals {
  blocking = [
    for f in data.elasticache_reachability.cache.reachability.findings : f
    if contains(["critical", "high"], f.severity)
  ]
}

check "cache_is_private_and_encrypted" {
  assert {
    condition     = length(local.blocking) == 0
    error_message = join("\n", [for f in local.blocking : "${f.id} (${f.severity}) ${f.subject}: ${f.message}"])
  }
}

output "sources" {
  description = "Every way in: kind, reference, the group it is on, public or not."
  value = [
    for s in data.elasticache_reachability.cache.reachability.sources :
    "${s.kind} ${s.reference} on ${s.on_group}${s.public ? " (public)" : ""}"
  ]
}

output "findings" {
  description = "Every finding id with its subject."
  value       = [for f in data.elasticache_reachability.cache.reachability.findings : "${f.id} ${f.subject}"]
}
