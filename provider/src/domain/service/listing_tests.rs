//! Identity and listing through the service, over the fake cloud.

use serde_json::json;

use super::*;
use crate::domain::cloud::Source;
use crate::domain::engine::fake::{ACCOUNT, REGION};
use crate::domain::engine::rig::{s, Rig, CLUSTER, CLUSTER_B, VPC};

fn v(j: serde_json::Value) -> Value {
    Value::from_json(&j)
}

#[tokio::test]
async fn the_identity_of_a_state_is_account_region_and_id() {
    let rig = Rig::new().await;
    let st = rig.up(None, &rig.cfg(json!({}))).await;
    let i = rig.svc.identity(&st, None);
    assert_eq!(
        i,
        Ok(v(
            json!({"account_id": ACCOUNT, "region": REGION, "id": s(&st, "id")})
        ))
    );
    // before Configure the Region is not known: a create plan's identity is unknown there
    let un = Rig::unconfigured();
    let i = un.svc.identity(&st, None).unwrap_or_default();
    assert!(i.get("region").is_unknown());
}

#[tokio::test]
async fn import_by_identity_imports_and_refuses_another_account_or_region() {
    let rig = Rig::new().await;
    let st = rig.up(None, &rig.cfg(json!({}))).await;
    let id = s(&st, "id").to_string();
    let ident = v(json!({"account_id": ACCOUNT, "region": REGION, "id": id}));
    let got = rig.svc.import_by_identity(&ident).await;
    assert_eq!(
        got.as_ref().map(|(s, _, _)| s.get("id").clone()),
        Ok(Value::from(id.as_str()))
    );
    assert_eq!(got.map(|(_, i, _)| i), Ok(ident.clone()));
    let mut other = ident.clone();
    other.set("account_id", Value::from("210987654321"));
    assert!(rig.svc.import_by_identity(&other).await.is_err());
    let mut other = ident;
    other.set("region", Value::from("eu-west-1"));
    let e = rig
        .svc
        .import_by_identity(&other)
        .await
        .err()
        .unwrap_or_default();
    assert!(e.iter().any(|d| d.detail.contains("eu-west-1")), "{e:?}");
}

/// Issue 23: an import by identity of a hand-built access, while serverless caches cannot be
/// listed, imports the access and warns which kind of cluster it did not search, as an import by
/// id does (it used to drop the warning).
#[tokio::test]
async fn import_by_identity_warns_of_the_clusters_it_could_not_search() {
    let rig = Rig::new().await;
    let cg = rig.fake.add_group(VPC, "app-cluster", &[]);
    let client = rig.fake.add_group(VPC, "web-servers", &[]);
    rig.fake
        .add_rule(&cg, Source::group(&client, None), 6379, &Default::default());
    {
        let mut st = rig.fake.st();
        for m in st.clusters.get_mut(CLUSTER).unwrap().members.iter_mut() {
            m.1.push(cg.clone());
        }
        st.unlisted = vec!["serverless caches (AccessDenied: not authorized)".into()];
    }
    let ident = v(json!({"account_id": ACCOUNT, "region": REGION, "id": cg}));
    let (state, _, notes) = rig.svc.import_by_identity(&ident).await.expect("import");
    assert_eq!(state.get("id"), &Value::from(cg.as_str()));
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(!notes[0].is_error(), "{notes:?}");
    assert_eq!(notes[0].summary, "Some clusters were not searched");
    assert!(
        notes[0].detail.contains("serverless caches (AccessDenied"),
        "{notes:?}"
    );
}

#[tokio::test]
async fn list_finds_every_access_and_filters_by_cluster_vpc_and_tags() {
    let rig = Rig::new().await;
    let a = rig.up(None, &rig.cfg(json!({"tags": {"team": "a"}}))).await;
    let b = rig
        .up(
            None,
            &rig.cfg(json!({"name": "other", "cluster": {"replication_group_id": CLUSTER_B}})),
        )
        .await;
    let ids =
        |l: &[Listed]| -> Vec<String> { l.iter().map(|x| s(&x.state, "id").to_string()).collect() };
    let mut both = vec![s(&a, "id").to_string(), s(&b, "id").to_string()];
    both.sort();
    let all = rig.svc.list(&Value::Null).await.unwrap_or_default();
    assert_eq!(ids(&all), both);
    assert!(all
        .iter()
        .all(|x| x.identity.get("region") == &Value::from(REGION)));
    assert!(all
        .iter()
        .any(|x| x.display_name == format!("app ({})", s(&a, "id"))));
    let by_cluster = rig
        .svc
        .list(&v(json!({"cluster": {"replication_group_id": CLUSTER}})))
        .await
        .unwrap_or_default();
    assert_eq!(ids(&by_cluster), vec![s(&a, "id").to_string()]);
    let by_tag = rig.svc.list(&v(json!({"tags": {"team": "a"}}))).await;
    assert_eq!(by_tag.map(|l| ids(&l)), Ok(vec![s(&a, "id").to_string()]));
    let none = rig
        .svc
        .list(&v(json!({"vpc_id": "vpc-0000000000000000f"})))
        .await;
    assert_eq!(none.map(|l| l.len()), Ok(0));
    // what a list finds is what an import finds
    let imported = rig.svc.import(s(&a, "id")).await;
    assert_eq!(
        Ok(all
            .iter()
            .find(|x| x.state.get("id") == a.get("id"))
            .map(|x| x.state.clone())
            .unwrap_or_default()),
        imported
    );
}

#[tokio::test]
async fn list_filters_are_checked() {
    let rig = Rig::new().await;
    let two = v(json!({"cluster": {"replication_group_id": CLUSTER, "cache_cluster_id": "x"}}));
    assert_eq!(rig.svc.validate_list(&two).len(), 1);
    assert!(rig.svc.list(&two).await.is_err());
    let mut unknown = v(json!({}));
    unknown.set("vpc_id", Value::Unknown);
    assert!(rig.svc.validate_list(&unknown).is_empty());
    assert!(rig.svc.list(&unknown).await.is_err());
}

#[tokio::test]
async fn generated_configuration_plans_no_change() {
    let rig = Rig::new().await;
    for extra in [
        json!({}),
        json!({"name": null, "name_prefix": "gen-", "tags": {"k": "v"}}),
    ] {
        let st = rig.up(None, &rig.cfg(extra)).await;
        let imported = rig.svc.import(s(&st, "id")).await.unwrap_or_default();
        let config = generated_config(&imported);
        assert!(config.get("name").is_null() || config.get("name_prefix").is_null());
        let p = rig
            .svc
            .plan(Some(&imported), &state::inputs_of(&config))
            .await;
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(state::complete(p.planned.clone()), imported, "{config:?}");
    }
}
