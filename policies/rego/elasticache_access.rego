# Rego policy for `elasticache_access` over the JSON of a Terraform plan (`terraform show -json plan`).
#
#   opa eval -i plan.json -d policies/rego 'data.elasticache.access.deny'
#   conftest test --policy policies/rego --namespace elasticache.access plan.json
#
# `deny` holds one message per blocking finding of an access the plan creates or updates, naming
# the resource address, the finding id, its subject and its message. The blocking ids are the
# provider's table (policies/findings.json, written by `generate`; tests/policies keeps `blocking`
# equal to its entries whose `blocking` is true). An access whose reachability is unknown at plan
# time has nothing to judge yet and yields no message.
package elasticache.access

import rego.v1

blocking := {"open-to-world", "public-source", "no-transit-encryption", "no-authentication"}

# The accesses the plan keeps: created, updated, replaced or left as they are (not those it
# destroys or forgets, whose `after` is null).
accesses contains rc if {
	some rc in input.resource_changes
	rc.type == "elasticache_access"
	rc.mode == "managed"
	not rc.change.actions in [["delete"], ["forget"]]
}

# Every blocking finding of those accesses, as {address, id, subject, message}.
violations contains v if {
	some rc in accesses
	some f in rc.change.after.reachability.findings
	f.id in blocking
	v := {"address": rc.address, "id": f.id, "subject": f.subject, "message": f.message}
}

deny contains msg if {
	some v in violations
	msg := sprintf("%s: %s on %s: %s", [v.address, v.id, v.subject, v.message])
}
