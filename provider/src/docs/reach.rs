//! `reachability` in the docs: the section of the resource page (what is known when, the table of
//! findings) and the data source page `docs/data-sources/reachability.md`.

use std::fmt::Write as _;

use super::{finish, front_matter, prose, Page, GENERATED_NOTE};
use crate::domain::declaration::reach::FINDINGS;
use crate::domain::service::reach_query::{query_schema, PULUMI_INVOKE_TOKEN, TF_DATA_SOURCE_TYPE};

/// The data source example embedded in its page.
pub const CHECK_EXAMPLE: &str =
    include_str!("../../../examples/terraform/reachability-check/main.tf");

/// The table of findings (Markdown).
pub fn findings_table(out: &mut String) {
    out.push_str("| id | severity | blocking | fires when |\n|---|---|---|---|\n");
    for f in FINDINGS {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            f.id,
            f.severity,
            if f.blocking() { "yes" } else { "no" },
            f.title
        );
    }
    out.push('\n');
}

/// The resource page's section on `reachability`.
pub fn reachability_section(out: &mut String) {
    out.push_str(
        "## Reachability\n\n\
         `reachability` answers the reviewer's question: after this change, who can reach the cache, \
         from where, and is that safe? It is one object, versioned by `schema_version` and described \
         by the JSON Schema `sdk-schemas/jsonschema/reachability.schema.json`, and it appears as a \
         JSON object in `terraform show -json` of a plan (`resource_changes[].change.after.reachability`) \
         and of the state. In Pulumi it is the output `reachability`, with camelCase keys like every \
         other output (`schemaVersion`, `sources[].onGroup`, `ruleId`, `fromPort`, `networkInterfaces`, \
         `cluster.transitEncryption`); its values are the same strings.\n\n\
         **What a plan knows.** The port; one source per source the configuration declares, with its \
         kind, reference, port range and whether a CIDR is public; the cluster's engine, transit \
         encryption and authentication (read at plan time, as its port and VPC are); rules added \
         outside the access that the last refresh found; and the findings all these imply. Unknown \
         until the apply (Terraform shows `(known after apply)`, and `null` in `show -json`): the rule \
         ids of new rules, the id of a client group the apply creates (its `reference`) and of the \
         cluster group (`on_group`), network interface counts of existing groups, and prefix-list \
         entries. Whatever a plan showed, the apply keeps; the first refresh after it adds what only \
         AWS reveals: public entries of a prefix list, rules on the cluster's other security groups, \
         stale referenced groups and network ACLs that deny the port. While none of the inputs it \
         follows changes, a plan keeps the refreshed object, so a refresh never makes a diff.\n\n\
         **Sources** are sorted by the group they are on, then the access's own client group, then \
         kind, reference and rule id. `path` is `same_vpc` when the source is in the access's VPC; \
         otherwise the route tables of the cluster's subnets decide it (each subnet's own table, \
         else the VPC's main table; every table of the VPC when no cluster is named), as AWS \
         routes: the longest-prefix route to the source's addresses (a group's: its VPC's CIDRs) \
         in every one of those tables must lead the same way. `peering` is a route through an \
         active VPC peering connection whose other side holds them (another account's group: the \
         peering with that account, whose VPC is then its `vpc`); `transit_gateway` is a route to a \
         transit gateway the VPC has an `available` attachment to \
         (DescribeTransitGatewayVpcAttachments); `unknown` is anything else: no such route, tables \
         that disagree, a public address. When the attachments or route tables cannot be read \
         (`ec2:DescribeTransitGatewayVpcAttachments` or `ec2:DescribeRouteTables` denied), the \
         refresh goes on: the provider logs a warning naming the action, no source is \
         `transit_gateway`, and without route tables an active peering connection alone makes \
         `peering`. Network interface counts are read once per provider run and VPC \
         (DescribeNetworkInterfaces), like the VPC's CIDRs, peerings, transit gateway attachments \
         and route tables (asked together), prefix-list entries and network ACLs, so a refresh of \
         many accesses makes a handful of extra calls in all.\n\n\
         **Findings** (sorted by id, then subject; `blocking` is what the shipped policies fail on):\n\n",
    );
    findings_table(out);
    out.push_str(
        "A source of `0.0.0.0/0` or `::/0` gives `open-to-world` only. `no-authentication` means the \
         cluster has no AUTH token and no RBAC user group (`authentication = \"none\"`); a user group \
         is reported as `iam` when any of its users authenticates with IAM (its authentication type \
         is `iam`: DescribeUserGroups, then DescribeUsers, read once per provider run per group), \
         `rbac` otherwise, and `rbac` also when those calls are denied. A serverless \
         cache always encrypts in transit. The object never holds an AUTH token or any credential: \
         only whether one is required.\n\n",
    );
}

/// `docs/data-sources/reachability.md`.
pub fn reachability_md() -> String {
    let s = query_schema();
    let mut out = front_matter(
        &format!("{TF_DATA_SOURCE_TYPE} Data Source - elasticache"),
        &s.description,
    );
    out.push_str(GENERATED_NOTE);
    let _ = writeln!(out, "# {TF_DATA_SOURCE_TYPE} (Data Source)\n");
    let _ = writeln!(out, "{}\n", prose(&s.description));
    let _ = writeln!(
        out,
        "Pulumi: the function `{PULUMI_INVOKE_TOKEN}`, with the same arguments in camelCase. Every \
         rule covering the cluster's port on every security group any of its members uses is a \
         source (`managed` is false: no access owns it); the findings are those of the resource's \
         table:\n"
    );
    findings_table(&mut out);
    out.push_str(
        "The read costs the cluster's describe (one call per member of a replication group), one \
         DescribeSecurityGroups and one DescribeSecurityGroupRules of its groups, and the network \
         facts of `reachability` (network interfaces, CIDRs and peerings of the VPC, prefix-list \
         entries, network ACLs of the cluster's subnets).\n\n",
    );
    out.push_str("## Example Usage\n\n");
    out.push_str(
        "An audit with a `check` block (Terraform 1.5 and later) that warns in every plan and apply \
         while a blocking finding stands (`examples/terraform/reachability-check/main.tf`):\n\n",
    );
    out.push_str("```terraform\n");
    out.push_str(CHECK_EXAMPLE);
    out.push_str("```\n\n## Schema\n\n");
    let mut page = Page {
        out,
        pending: Vec::new(),
    };
    page.attributes(&s.attributes, "", false, "###");
    page.nested_schemas();
    finish(page.out)
}
