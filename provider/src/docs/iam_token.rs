//! The page of the IAM auth token (`docs/ephemeral-resources/iam_auth_token.md`: the Terraform
//! ephemeral resource and the Pulumi function), and the `elasticache:Connect` policy that page and
//! the provider's IAM section show.

use std::fmt::Write as _;

use serde_json::{json, Value as Json};

use super::pretty;
use super::{finish, front_matter, prose, Page, GENERATED_NOTE};
use crate::domain::service::auth_token::{
    self, CacheKind, CONNECT_ACTION, PULUMI_FUNCTION_TOKEN, TF_EPHEMERAL_TYPE,
};

/// The Terraform example embedded in the page.
pub const TOKEN_EXAMPLE: &str = include_str!("../../../examples/terraform/iam-auth-token/main.tf");

/// The same in a Pulumi YAML program.
pub const PULUMI_TOKEN_EXAMPLE: &str = "\
variables:
  cacheToken:
    fn::invoke:
      function: elasticache:index:getIamAuthToken
      arguments:
        replicationGroupId: demo-redis
        userId: app
      return: token

resources:
  ping:
    type: command:local:Command
    properties:
      create: redis-cli --tls -h master.demo-redis.abc123.use1.cache.amazonaws.com -p 6379 --user app PING
      environment:
        REDISCLI_AUTH: ${cacheToken}
";

/// The policy that lets an identity connect with its tokens: `elasticache:Connect` on the caches
/// and on the user (example account, Region and names).
pub fn connect_policy() -> Json {
    let arn =
        |ty: &str, name: &str| format!("arn:aws:elasticache:us-east-1:123456789012:{ty}:{name}");
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ElastiCacheIamAuth",
            "Effect": "Allow",
            "Action": [CONNECT_ACTION],
            "Resource": [
                arn(CacheKind::ReplicationGroup.arn_type(), "demo-redis"),
                arn(CacheKind::Serverless.arn_type(), "sessions"),
                arn("user", "app"),
            ],
        }],
    })
}

/// The IAM section's part on tokens (docs/index.md).
pub fn connect_section(out: &mut String) {
    let _ = write!(
        out,
        "### Connecting with IAM auth tokens\n\n\
         [`{TF_EPHEMERAL_TYPE}`](ephemeral-resources/iam_auth_token.md) (Pulumi: \
         `{PULUMI_FUNCTION_TOKEN}`) calls no AWS action: it signs a token with the provider's \
         credentials, and ElastiCache checks `{CONNECT_ACTION}` when a client authenticates with \
         it, on the cache (`replicationgroup:` or `serverlesscache:`) and on the user. The identity \
         the provider signs as (the role of `assume_role`, when set) needs:\n\n```json\n{}```\n\n",
        pretty(&connect_policy())
    );
}

fn lifetime_section(out: &mut String) {
    out.push_str(
        "## Lifetime\n\n\
         A token authenticates new connections for 15 minutes after it is signed (less when the \
         provider's temporary credentials expire sooner: `expires_at` says when); connections made \
         with it stay open (ElastiCache closes IAM-authenticated connections after 12 hours). \
         Terraform opens the ephemeral resource, and so signs a new token, in every plan and \
         every apply, and keeps the token in memory only: never in a plan file or a state. It can be \
         used where ephemeral values are accepted: provider blocks, provisioner and connection \
         blocks, ephemeral variables and outputs of modules, write-only arguments, locals.\n\n\
         Terraform asks for a renewal a minute before the token expires, when the run still holds \
         it. A signed token cannot be extended, and Terraform keeps the value it opened, so the \
         renewal only warns that the token expires: a client that connects later in the same run \
         needs a token of its own.\n\n",
    );
}

/// `docs/ephemeral-resources/iam_auth_token.md`.
pub fn iam_auth_token_md() -> String {
    let s = auth_token::token_schema();
    let mut out = front_matter(
        &format!("{TF_EPHEMERAL_TYPE} Ephemeral Resource - elasticache"),
        &s.description,
    );
    out.push_str(GENERATED_NOTE);
    let _ = writeln!(out, "# {TF_EPHEMERAL_TYPE} (Ephemeral Resource)\n");
    let _ = writeln!(out, "{}\n", prose(&s.description));
    let _ = writeln!(
        out,
        "Terraform 1.10 and later. Pulumi: the function `{PULUMI_FUNCTION_TOKEN}`, with the same \
         arguments in camelCase; its `token` is a secret.\n"
    );
    out.push_str(
        "The token is the SigV4 query-signed request `GET http://<cache>/?Action=connect&User=<user>` \
         (plus `&ResourceType=ServerlessCache` for a serverless cache) for service `elasticache` in \
         the provider's Region, valid 900 seconds, written without its scheme, as AWS's \
         \"Authenticating with IAM\" guide describes it; the session token of temporary credentials \
         is signed in. Before anything is signed, the provider reports ids that are not known yet \
         or malformed, a missing or second cache, and missing credentials.\n\n",
    );
    out.push_str("## Example Usage\n\n");
    let _ = writeln!(
        out,
        "The token handed to a client's configuration (`examples/terraform/iam-auth-token/main.tf`):\n"
    );
    out.push_str("```terraform\n");
    out.push_str(TOKEN_EXAMPLE);
    out.push_str(
        "```\n\n### Pulumi YAML\n\nThe same with Pulumi's `command` package:\n\n```yaml\n",
    );
    out.push_str(PULUMI_TOKEN_EXAMPLE);
    out.push_str("```\n\n");
    out.push_str("## IAM policy\n\n");
    let _ = write!(
        out,
        "ElastiCache checks `{CONNECT_ACTION}` when a client authenticates with the token, on the \
         cache and on the user, for the identity the provider signs as:\n\n```json\n{}```\n\n",
        pretty(&connect_policy())
    );
    lifetime_section(&mut out);
    out.push_str("## Schema\n\n");
    let mut page = Page {
        out,
        pending: Vec::new(),
    };
    page.attributes(&s.attributes, "", false, "###");
    finish(page.out)
}
