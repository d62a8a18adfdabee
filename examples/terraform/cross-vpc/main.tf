# Cross-VPC: clients in a peered VPC. A security group of another account is referenced as
# "<account id>/<sg-id>" (the VPCs must be peered); CIDR blocks of the peered network, IPv4 and
# IPv6, are allowed too. No client group is created, and no cluster is named: the VPC and the port
# are given directly.

terraform {
  required_providers {
    elasticache = {
      source = "elasticache-access/elasticache"
    }
  }
}

provider "elasticache" {}

variable "vpc_id" {
  description = "VPC of the cache (vpc-...)."
  type        = string
}

variable "port" {
  description = "Port the cache listens on."
  type        = number
  default     = 6379
}

variable "peer_client_security_group" {
  description = "Client security group in the peered account: <12-digit account id>/<sg-id>."
  type        = string
  default     = "111122223333/sg-0123456789abcdef0"
}

variable "peer_cidr_blocks" {
  description = "Private CIDR blocks of the peered VPC."
  type        = set(string)
  default     = ["10.20.0.0/16", "fd00:20::/56"]
}

resource "elasticache_access" "peered" {
  name        = "peered-clients"
  description = "Peered VPC clients to the cache"

  vpc_id = var.vpc_id
  port   = var.port

  create_client_security_group = false
  client_security_group_ids    = [var.peer_client_security_group]
  allowed_cidr_blocks          = var.peer_cidr_blocks
}

output "cluster_security_group_id" {
  value = elasticache_access.peered.cluster_security_group_id
}

output "ingress_rule_ids" {
  description = "One rule per source: the peered group and each CIDR block."
  value       = elasticache_access.peered.ingress_rule_ids
}
