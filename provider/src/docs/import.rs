//! The access page's Import section beyond the import id: `moved` from terraform-provider-aws, and
//! resource identity with `terraform query`.

use std::fmt::Write as _;

use crate::domain::declaration::model;

/// The Import section's part on `moved` from terraform-provider-aws.
pub(super) fn moved_section(out: &mut String) {
    let _ = writeln!(
        out,
        "\n### Moved from terraform-provider-aws (Terraform 1.8 and later)\n\n\
         The cache's `aws_security_group` can be moved into an access: the access is built from \
         its state alone, and the next refresh adopts the rules on the cache's port and the group \
         they allow (an existing client group), as an import does; no group or rule is re-created. \
         The rule resources leave the state with `removed` blocks (`lifecycle {{ destroy = false }}`). \
         [docs/guides/migrate.md](../guides/migrate.md) shows it for terraform-provider-aws's \
         resources, terraform-aws-modules/security-group and cloudposse/security-group.\n\n\
         ```terraform\nmoved {{\n  from = aws_security_group.cache\n  to   = {t}.cache\n}}\n```",
        t = model::TF_RESOURCE_TYPE
    );
}

/// The Import section's part on resource identity and `terraform query`.
pub(super) fn identity_and_query(out: &mut String) {
    let attrs: Vec<String> = crate::domain::planning::identity::attributes()
        .iter()
        .map(|a| format!("- `{}`: {}", a.name, a.description))
        .collect();
    let _ = writeln!(
        out,
        "\n### Resource identity (Terraform 1.12 and later)\n\nEvery access has an identity (version {v}), shown by `terraform show -json` and \
         `terraform state identities -json`; all three attributes are needed to import by identity:\n\n{list}\n\n\
         ```terraform\nimport {{\n  to = {t}.this\n  identity = {{\n    account_id = \"123456789012\"\n    region     = \"us-east-1\"\n    id         = \"sg-0123456789abcdef0\"\n  }}\n}}\n```\n\n\
         The Region must be the provider's. A state written by a release without identities gets its identity at the next refresh \
         (or the next apply that changes the access), with no diff and no error, `-refresh=false` included.\n\n\
         ### Finding accesses with `terraform query` (Terraform 1.14 and later)\n\n\
         The list resource `{t}` finds the accesses this provider made in the provider's Region. Its optional filters \
         (`vpc_id`, a `cluster` block, `tags`) must all match. In a `*.tfquery.hcl` file:\n\n\
         ```terraform\nlist \"{t}\" \"all\" {{\n  provider         = elasticache\n  include_resource = true\n  config {{\n    cluster {{\n      replication_group_id = \"demo\"\n    }}\n  }}\n}}\n```\n\n\
         `terraform query -generate-config-out=generated.tf` writes an `import` block and a resource block for each access found \
         (this needs `include_resource = true`); a plan with it imports them and changes nothing.",
        v = crate::domain::planning::identity::IDENTITY_VERSION,
        list = attrs.join("\n"),
        t = model::TF_RESOURCE_TYPE,
    );
}
