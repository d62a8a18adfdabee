# Existing cluster: let an application's existing security group (and a new client group) reach an
# existing replication group, and add the cluster group to the replication group's security groups.
#
# The VPC and the port are not written here: the provider reads them from the replication group
# (its cache subnet group's VPC, its primary endpoint's port). The replication group keeps the
# security groups it already has; the cluster group is removed from it again on destroy.

terraform {
  required_providers {
    elasticache = {
      source = "elasticache-access/elasticache"
    }
  }
}

provider "elasticache" {}

variable "replication_group_id" {
  description = "Id of the existing replication group."
  type        = string
}

variable "app_security_group_id" {
  description = "Existing security group of the application servers (sg-...)."
  type        = string
}

resource "elasticache_access" "orders" {
  name_prefix = "orders-cache-"
  description = "orders service to its Redis"

  cluster {
    replication_group_id = var.replication_group_id
  }
  attach_to_cluster = true

  client_security_group_ids = [var.app_security_group_id]

  tags = {
    Service = "orders"
  }

  timeouts {
    delete = "20m"
  }
}

output "vpc_id" {
  description = "The VPC read from the replication group."
  value       = elasticache_access.orders.vpc_id
}

output "port" {
  description = "The port read from the replication group."
  value       = elasticache_access.orders.port
}

output "cluster_endpoint" {
  value = elasticache_access.orders.cluster_endpoint
}

output "cluster_security_group_id" {
  value = elasticache_access.orders.cluster_security_group_id
}

output "client_security_group_id" {
  value = elasticache_access.orders.client_security_group_id
}

output "ingress_rule_ids" {
  value = elasticache_access.orders.ingress_rule_ids
}
