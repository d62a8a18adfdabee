# Quickstart: authorize access to an existing Redis OSS / Valkey replication group.
#
# Creates, in the replication group's VPC (read from its cache subnet group):
#   - "<name>-cluster": a security group for the cluster;
#   - "<name>-clients": a security group for the cluster's clients (give it to your EC2 instances);
#   - an ingress rule on "<name>-cluster" that allows TCP on the cluster's port from "<name>-clients";
# and adds "<name>-cluster" to the replication group's security groups (attach_to_cluster), keeping
# the ones it has, so the rule reaches the cluster. Destroy removes it from them again.
#
# Leave attach_to_cluster out when another tool manages the cluster's security groups, for example
# an aws_elasticache_replication_group whose security_group_ids lists them: each apply of that tool
# would remove the group this one adds, and this one would add it back. List cluster_security_group_id
# in that tool's security_group_ids instead.
#
# Credentials, Region and endpoints come from the standard AWS chain (AWS_PROFILE, AWS_REGION,
# AWS_ENDPOINT_URL, ...). `scripts/quickstart` applies this against a local AWS emulator.

terraform {
  required_providers {
    elasticache = {
      source = "elasticache-access/elasticache"
    }
  }
}

provider "elasticache" {}

variable "replication_group_id" {
  description = "Id of the replication group to authorize access to."
  type        = string
  default     = "demo-redis"
}

variable "name" {
  description = "Base name of the security groups: <name>-cluster and <name>-clients."
  type        = string
  default     = "quickstart"
}

resource "elasticache_access" "this" {
  name        = var.name
  description = "Application servers to ${var.replication_group_id}"

  cluster {
    replication_group_id = var.replication_group_id
  }
  attach_to_cluster = true
}

output "cluster_security_group_id" {
  description = "The cluster's security group, now one of the replication group's security groups."
  value       = elasticache_access.this.cluster_security_group_id
}

output "client_security_group_id" {
  description = "The clients' security group: give it to the instances that use the cache."
  value       = elasticache_access.this.client_security_group_id
}

output "port" {
  description = "The port the ingress rule opens (the cluster's port)."
  value       = elasticache_access.this.port
}

output "vpc_id" {
  description = "The VPC of both groups (the cluster's VPC)."
  value       = elasticache_access.this.vpc_id
}

output "cluster_endpoint" {
  description = "Where clients connect."
  value       = elasticache_access.this.cluster_endpoint
}

output "ingress_rule_ids" {
  description = "The sgr- id of each ingress rule on the cluster group, by source."
  value       = elasticache_access.this.ingress_rule_ids
}
