//! An access moved in from terraform-provider-aws's `aws_security_group` (MoveResourceState), through
//! the service against the fake cloud: built without AWS, adopted at its first refresh as an import
//! adopts a hand-made setup, planned without a change, and owning only the moved group.

use serde_json::json;

use super::bookkeeping as bk;
use super::fake::ACCOUNT;
use super::rig::{map, Rig, VPC};
use crate::domain::cloud::Source;
use crate::domain::declaration::value::Value;
use crate::domain::service::moved::MoveSource;

const WRITES: [&str; 5] = [
    "CreateSecurityGroup",
    "DeleteSecurityGroup",
    "AuthorizeSecurityGroupIngress",
    "RevokeSecurityGroupIngress",
    "ModifyCluster",
];

/// What terraform-provider-aws recorded of group `id` (named `name`).
fn aws_state(id: &str, name: &str, client: &str) -> serde_json::Value {
    json!({
        "arn": format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{id}"),
        "description": "cache", "egress": [], "id": id, "name": name, "name_prefix": "",
        "ingress": [{"cidr_blocks": [], "description": "", "from_port": 6379, "ipv6_cidr_blocks": [],
                     "prefix_list_ids": [], "protocol": "tcp", "security_groups": [client],
                     "self": false, "to_port": 6379}],
        "owner_id": ACCOUNT, "region": "us-east-1", "revoke_rules_on_delete": false,
        "tags": {}, "tags_all": {}, "timeouts": null, "vpc_id": VPC
    })
}

fn moved(rig: &Rig, id: &str, name: &str, client: &str) -> Value {
    let src = MoveSource {
        provider: "registry.terraform.io/hashicorp/aws".into(),
        type_name: "aws_security_group".into(),
        schema_version: 1,
        state: aws_state(id, name, client),
        identity: None,
    };
    let (state, identity) = rig.svc.move_state(&src).expect("moved");
    assert!(identity.is_some_and(|i| i.is_wholly_known()));
    state
}

fn writes(rig: &Rig) -> Vec<String> {
    rig.fake
        .take_log()
        .into_iter()
        .filter(|op| WRITES.contains(&op.as_str()))
        .collect()
}

/// A hand-made setup (AWS's guide): the cache's group, the web servers' group, the rule between
/// them on 6379, a CIDR rule on 6379 and an SSH rule on the cache's group.
fn setup(rig: &Rig) -> (String, String, Vec<String>) {
    let cg = rig.fake.add_group(VPC, "cache-sg", &[("Name", "cache-sg")]);
    let web = rig.fake.add_group(VPC, "web-servers", &[]);
    let none = Default::default();
    let r1 = rig
        .fake
        .add_rule(&cg, Source::group(&web, None), 6379, &none);
    let net = "10.20.0.0/16".parse().map(Source::Cidr).expect("cidr");
    let r2 = rig.fake.add_rule(&cg, net, 6379, &none);
    let ssh = "10.0.0.0/8".parse().map(Source::Cidr).expect("cidr");
    rig.fake.add_rule(&cg, ssh, 22, &none);
    (cg, web, vec![r1.id, r2.id])
}

fn config(web: &str) -> serde_json::Value {
    json!({"vpc_id": VPC, "name": "cache-sg", "create_client_security_group": false,
           "client_security_group_ids": [web], "allowed_cidr_blocks": ["10.20.0.0/16"],
           "tags": {"Name": "cache-sg"}})
}

#[tokio::test]
async fn a_moved_group_is_adopted_at_its_first_refresh_and_plans_nothing() {
    let rig = Rig::new().await;
    let (cg, web, rules) = setup(&rig);
    rig.fake.take_log();
    let st = moved(&rig, &cg, "cache-sg", &web);
    assert!(rig.fake.take_log().is_empty(), "a move calls no AWS API");
    let fresh = rig.refresh(&st).await.expect("the group exists");
    let ids = map(&fresh, "ingress_rule_ids");
    assert_eq!(
        ids,
        [
            (web.clone(), rules[0].clone()),
            ("10.20.0.0/16".into(), rules[1].clone())
        ]
        .into()
    );
    assert_eq!(
        fresh.get("client_security_group_ids"),
        &Value::string_list([web.as_str()])
    );
    assert_eq!(
        fresh.get("unmanaged_ingress").as_list().map(<[Value]>::len),
        Some(1)
    );
    let p = rig.plan(Some(&fresh), &config(&web)).await;
    assert!(p.changes.is_empty() && !p.replaces(), "{:?}", p.changes);
    assert!(writes(&rig).is_empty());
    // A change later tags the group as this provider's, and writes nothing else but the change.
    let mut cfg = config(&web);
    cfg["description"] = json!("orders to the cache");
    let st = rig.up(Some(&fresh), &cfg).await;
    assert_eq!(writes(&rig), Vec::<String>::new());
    let tags = rig.fake.group(&cg).expect("kept").tags;
    assert_eq!(
        tags.get(bk::ROLE).map(String::as_str),
        Some(bk::ROLE_CLUSTER)
    );
    assert_eq!(tags.get(bk::NAME).map(String::as_str), Some("cache-sg"));
    assert_eq!(
        map(&st, "ingress_rule_ids")
            .values()
            .cloned()
            .collect::<Vec<_>>()
            .len(),
        2
    );
    assert_eq!(rig.pending(&st, &cfg).await, Vec::<String>::new());
    // Ownership: destroy deletes the moved group, never the group its rule allowed.
    let gone = rig.destroy(&st).await;
    assert!(gone.diagnostics.is_empty(), "{:?}", gone.diagnostics);
    assert!(rig.fake.group(&cg).is_none() && rig.fake.group(&web).is_some());
}

#[tokio::test]
async fn once_recorded_a_moved_access_adopts_no_later_rule() {
    let rig = Rig::new().await;
    let (cg, web, _) = setup(&rig);
    let st = moved(&rig, &cg, "cache-sg", &web);
    let fresh = rig.refresh(&st).await.expect("exists");
    let later = "10.30.0.0/16".parse().map(Source::Cidr).expect("cidr");
    let hand = rig.fake.add_rule(&cg, later, 6379, &Default::default());
    let again = rig.refresh(&fresh).await.expect("exists");
    assert!(!map(&again, "ingress_rule_ids")
        .values()
        .any(|r| *r == hand.id));
    let unmanaged = again
        .get("unmanaged_ingress")
        .as_list()
        .unwrap_or_default()
        .to_vec();
    assert!(unmanaged
        .iter()
        .any(|r| r.get("rule_id").as_str() == Some(hand.id.as_str())));
}

#[tokio::test]
async fn a_moved_group_keeps_its_name_and_a_replacement_follows_the_convention() {
    let rig = Rig::new().await;
    let (cg, web, _) = setup(&rig);
    let fresh = rig
        .refresh(&moved(&rig, &cg, "cache-sg", &web))
        .await
        .expect("exists");
    // Leaving name out keeps the recorded one: no replacement either way.
    let mut cfg = config(&web);
    cfg.as_object_mut().map(|o| o.remove("name"));
    let p = rig.plan(Some(&fresh), &cfg).await;
    assert!(!p.replaces(), "{:?}", p.requires_replace);
    // A replacement (another VPC) makes this provider's groups, named by its convention.
    let other = "vpc-0fedcba9876543210";
    let mut cfg = config(&web);
    cfg["vpc_id"] = json!(other);
    cfg["client_security_group_ids"] = json!([]);
    let p = rig.plan(Some(&fresh), &cfg).await;
    assert!(p.replaces());
    let st = rig.up(Some(&fresh), &cfg).await;
    let g = rig
        .fake
        .group(st.get("id").as_str().unwrap_or_default())
        .expect("made");
    assert_eq!(
        (g.name.as_str(), g.vpc_id.as_str()),
        ("cache-sg-cluster", other)
    );
    assert!(
        rig.fake.group(&cg).is_none(),
        "the moved group was the access's own"
    );
}

#[tokio::test]
async fn an_apply_planned_without_a_refresh_adopts_the_rules_too() {
    let rig = Rig::new().await;
    let (cg, web, rules) = setup(&rig);
    let st = moved(&rig, &cg, "cache-sg", &web);
    // terraform apply -refresh=false: the plan starts from the moved state itself.
    let st = rig.up(Some(&st), &config(&web)).await;
    assert_eq!(writes(&rig), Vec::<String>::new(), "no rule is made twice");
    let ids: Vec<String> = map(&st, "ingress_rule_ids").into_values().collect();
    assert_eq!(ids.len(), 2);
    assert!(rules.iter().all(|r| ids.contains(r)), "{ids:?}");
}
