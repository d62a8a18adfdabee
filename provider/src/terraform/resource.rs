//! ReadResource, PlanResourceChange, ApplyResourceChange, ImportResourceState and MoveResourceState:
//! convert in, call the [`Service`], convert out, with the resource's identity alongside its state on every path
//! (a state written before identities gets one at its next refresh, update plan or apply).

use elasticache_proto::tfplugin6 as tf;

use crate::domain::declaration::model::TF_RESOURCE_TYPE;
use crate::domain::declaration::value::Value;
use crate::domain::diag::Diagnostic;
use crate::domain::service::moved::MoveSource;
use crate::domain::service::private::Private;
use crate::domain::service::{Apply, Service};

use super::wire::{config_inputs, decode, diags, encode_state, resource_attrs};
use super::{convert, identity};

/// The identity to answer for `state` (None: the object is gone), given the one Terraform sent.
fn identity_for(
    svc: &Service,
    state: Option<&Value>,
    prior: Option<&Value>,
) -> Result<Option<tf::ResourceIdentityData>, Diagnostic> {
    match state {
        None => Ok(None),
        Some(s) => svc.identity(s, prior).map(|i| Some(identity::encode(&i))),
    }
}

/// The private state Terraform kept (bytes this adapter wrote: JSON of [`Private`]); anything else
/// is no hint at all.
fn private_in(bytes: &[u8]) -> Option<Private> {
    serde_json::from_slice(bytes).ok()
}

/// The private state to keep: what this process saw, else what Terraform gave.
fn private_out(p: Option<Private>, given: &[u8]) -> Vec<u8> {
    match p.filter(|p| !p.is_empty()) {
        Some(p) => serde_json::to_vec(&p).unwrap_or_else(|_| given.to_vec()),
        None => given.to_vec(),
    }
}

pub async fn read(svc: &Service, req: tf::read_resource::Request) -> tf::read_resource::Response {
    svc.learn(private_in(&req.private).as_ref());
    let keep = |diagnostics| tf::read_resource::Response {
        new_state: req.current_state.clone(),
        diagnostics,
        private: req.private.clone(),
        new_identity: req.current_identity.clone(),
        ..Default::default()
    };
    let decoded = decode(req.current_state.as_ref(), "state")
        .and_then(|s| Ok((s, identity::decode(req.current_identity.as_ref())?)));
    let (current, prior_identity) = match decoded {
        Ok((Some(v), i)) => (v, i),
        Ok((None, _)) => return keep(vec![]),
        Err(d) => return keep(vec![d]),
    };
    let read = match svc.read(&current).await {
        Ok(v) => v,
        Err(d) => return keep(diags(&d)),
    };
    match identity_for(svc, read.as_ref(), prior_identity.as_ref()) {
        Ok(new_identity) => tf::read_resource::Response {
            new_state: Some(encode_state(read.as_ref())),
            private: private_out(svc.private_of(read.as_ref()), &req.private),
            new_identity,
            ..Default::default()
        },
        Err(d) => keep(diags(&[d])),
    }
}

fn plan_failed(d: Vec<tf::Diagnostic>) -> tf::plan_resource_change::Response {
    tf::plan_resource_change::Response {
        diagnostics: d,
        ..Default::default()
    }
}

pub async fn plan(
    svc: &Service,
    req: tf::plan_resource_change::Request,
) -> tf::plan_resource_change::Response {
    let decoded = (|| {
        Ok::<_, tf::Diagnostic>((
            decode(req.prior_state.as_ref(), "prior state")?,
            decode(req.proposed_new_state.as_ref(), "proposed state")?,
            decode(req.config.as_ref(), "configuration")?,
            identity::decode(req.prior_identity.as_ref())?,
        ))
    })();
    let (prior, proposed, config, prior_identity) = match decoded {
        Ok(x) => x,
        Err(d) => return plan_failed(vec![d]),
    };
    svc.learn(private_in(&req.prior_private).as_ref());
    let (Some(_), Some(config)) = (proposed, config) else {
        // Destroy (plan_destroy): the planned state is null, and so is the identity; the private
        // state goes on to the destroy's apply.
        return tf::plan_resource_change::Response {
            planned_state: Some(encode_state(None)),
            planned_private: req.prior_private.clone(),
            ..Default::default()
        };
    };
    let mut p = svc.plan(prior.as_ref(), &config_inputs(config)).await;
    tracing::debug!(
        rpc = "PlanResourceChange",
        create = prior.is_none(),
        replace = p.replaces(),
        diagnostics = p.diagnostics.len(),
        "planned"
    );
    // Complete already: the plan starts from the completed inputs and sets only whole values.
    let planned = std::mem::take(&mut p.planned);
    // An update keeps the recorded identity, or fills it in from the prior state. A create (or a
    // replace) plans none: its id is not known yet, and Terraform 1.15's `show -json` of a plan
    // fails on an identity with unknown parts; the apply returns it.
    let recorded = prior.as_ref().and(prior_identity.as_ref());
    let planned_identity = if Service::refused(&p) {
        None
    } else {
        match svc.identity(&planned, recorded) {
            Ok(i) => i.is_wholly_known().then(|| identity::encode(&i)),
            Err(d) => return plan_failed(diags(&[d])),
        }
    };
    tf::plan_resource_change::Response {
        planned_state: Some(encode_state(Some(&planned))),
        requires_replace: p
            .requires_replace
            .iter()
            .map(|r| convert::path(r, resource_attrs()))
            .collect(),
        diagnostics: diags(&p.diagnostics),
        legacy_type_system: false,
        planned_identity,
        planned_private: req.prior_private.clone(),
        ..Default::default()
    }
}

pub async fn apply(
    svc: &Service,
    req: tf::apply_resource_change::Request,
) -> tf::apply_resource_change::Response {
    let decoded = (|| {
        Ok::<_, tf::Diagnostic>((
            decode(req.prior_state.as_ref(), "prior state")?,
            decode(req.planned_state.as_ref(), "planned state")?,
            identity::decode(req.planned_identity.as_ref())?,
        ))
    })();
    let (prior, planned, planned_identity) = match decoded {
        Ok(x) => x,
        Err(d) => {
            return tf::apply_resource_change::Response {
                new_state: req.prior_state.clone(),
                diagnostics: vec![d],
                private: req.planned_private.clone(),
                ..Default::default()
            }
        }
    };
    svc.learn(private_in(&req.planned_private).as_ref());
    let applied = svc
        .apply(Apply {
            prior,
            planned,
            timeout: None,
        })
        .await;
    let mut diagnostics = diags(&applied.diagnostics);
    let new_identity = identity_for(svc, applied.state.as_ref(), planned_identity.as_ref())
        .unwrap_or_else(|d| {
            diagnostics.extend(diags(&[d]));
            None
        });
    tf::apply_resource_change::Response {
        new_state: Some(encode_state(applied.state.as_ref())),
        diagnostics,
        new_identity,
        private: private_out(svc.private_of(applied.state.as_ref()), &req.planned_private),
        ..Default::default()
    }
}

pub async fn import(
    svc: &Service,
    req: tf::import_resource_state::Request,
) -> tf::import_resource_state::Response {
    let failed = |diagnostics| tf::import_resource_state::Response {
        diagnostics,
        ..Default::default()
    };
    let by_identity = match identity::decode(req.identity.as_ref()) {
        Ok(i) => i.filter(|_| req.id.trim().is_empty()),
        Err(d) => return failed(vec![d]),
    };
    let imported = match &by_identity {
        Some(i) => svc.import_by_identity(i).await,
        None => match svc.import_noting(&req.id).await {
            Ok((s, notes)) => svc
                .identity(&s, None)
                .map(|i| (s, i, notes))
                .map_err(|d| vec![d]),
            Err(d) => Err(d),
        },
    };
    match imported {
        Ok((s, i, notes)) => tf::import_resource_state::Response {
            diagnostics: diags(&notes),
            imported_resources: vec![tf::import_resource_state::ImportedResource {
                type_name: TF_RESOURCE_TYPE.into(),
                state: Some(encode_state(Some(&s))),
                identity: Some(identity::encode(&i)),
                ..Default::default()
            }],
            ..Default::default()
        },
        Err(d) => failed(diags(&d)),
    }
}

/// The JSON of a raw state Terraform sent (MoveResourceState fills in only its json member).
fn raw_json(
    raw: Option<&tf::RawState>,
    what: &str,
) -> Result<Option<serde_json::Value>, tf::Diagnostic> {
    match raw.map(|r| r.json.as_slice()).filter(|j| !j.is_empty()) {
        None => Ok(None),
        Some(j) => serde_json::from_slice(j).map(Some).map_err(|e| {
            convert::error(
                "Invalid source state",
                format!("The {what} is not valid JSON: {e}"),
            )
        }),
    }
}

/// MoveResourceState (Terraform 1.8+, a `moved` block across resource types). The provider is not
/// configured here: the access is built from the source state alone.
pub fn move_state(
    svc: &Service,
    req: tf::move_resource_state::Request,
) -> tf::move_resource_state::Response {
    let failed = |diagnostics| tf::move_resource_state::Response {
        diagnostics,
        ..Default::default()
    };
    let (state, identity) = match (
        raw_json(req.source_state.as_ref(), "source state"),
        raw_json(req.source_identity.as_ref(), "source identity"),
    ) {
        (Ok(Some(s)), Ok(i)) => (s, i),
        (Ok(None), _) => {
            return failed(vec![convert::error(
                "Invalid source state",
                "Terraform sent no JSON state for the resource being moved.",
            )])
        }
        (Err(d), _) | (_, Err(d)) => return failed(vec![d]),
    };
    let src = MoveSource {
        provider: req.source_provider_address,
        type_name: req.source_type_name,
        schema_version: req.source_schema_version,
        state,
        identity,
    };
    match svc.move_state(&src) {
        Ok((s, i)) => tf::move_resource_state::Response {
            target_state: Some(encode_state(Some(&s))),
            target_identity: i.map(|i| identity::encode(&i)),
            ..Default::default()
        },
        Err(d) => failed(diags(&d)),
    }
}
