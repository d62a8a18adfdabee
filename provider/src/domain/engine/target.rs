//! What an apply works towards: the planned inputs with the values the plan left to the apply
//! (`vpc_id`, `port`, `name`) decided, and the cluster's facts read.

use crate::domain::cloud::{CloudError, ClusterInfo, ClusterRef};
use crate::domain::declaration::desired::Desired;
use crate::domain::declaration::model::DEFAULT_PORT;
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::engine::bookkeeping::unique_name;
use crate::domain::engine::{cloud_diag, Engine};
use crate::domain::planning::plan::ClusterFacts;
use crate::domain::types::{known, Known, Port, VpcId};

/// The inputs of an apply, every one known.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub inputs: Desired,
    pub vpc: String,
    pub port: u16,
    pub name: String,
    pub cluster: Option<ClusterRef>,
    pub info: Option<ClusterInfo>,
}

fn unknown_input(attr: &str) -> Diagnostic {
    Diagnostic::error(AttrPath::attr(attr), "Input not known at apply", format!("{attr} is still unknown when the access is applied; this is a provider bug, please report it."))
}

impl Engine {
    /// The facts of the cluster named by `d.cluster` for planning.
    pub async fn cluster_facts(&self, d: &Desired) -> Result<ClusterFacts, Diagnostic> {
        let c = match &d.cluster {
            None => return Ok(ClusterFacts::None),
            Some(Known::Unknown) => return Ok(ClusterFacts::NotRead),
            Some(Known::Known(c)) => c,
        };
        match self.describe_cluster(c).await {
            Ok(i) => Ok(ClusterFacts::Known(i)),
            Err(CloudError::NotFound { .. }) => Ok(ClusterFacts::NotFound(c.clone())),
            Err(e) => Err(cloud_diag(&format!("read the {c}"), &e)),
        }
    }

    /// Decides the planned inputs the plan left open. `prior_vpc` is the access's VPC when it exists.
    pub(crate) async fn target(
        &self,
        d: &Desired,
        prior_vpc: Option<&str>,
        prior_name: Option<&str>,
    ) -> Result<Target, Diagnostic> {
        for (attr, unknown) in [
            ("cluster", crate::domain::types::unknown(&d.cluster)),
            ("tags", crate::domain::types::unknown(&d.tags)),
            ("description", crate::domain::types::unknown(&d.description)),
        ] {
            if unknown {
                return Err(unknown_input(attr));
            }
        }
        let cluster = known(&d.cluster).cloned();
        let info = match &cluster {
            Some(c) => Some(self.describe_cluster(c).await.map_err(|e| match e {
                CloudError::NotFound { .. } => Diagnostic::error(AttrPath::attr("cluster").then_attr(c.attr()), "Cluster not found", format!("There is no {c} in this account and Region. Check the identifier and the provider's region.")),
                e => cloud_diag(&format!("read the {c}"), &e),
            })?),
            None => None,
        };
        if let Some(refused) = info
            .as_ref()
            .and_then(|i| crate::domain::planning::plan::member_refused(i, d.attach()))
        {
            return Err(refused);
        }
        let vpc = decide_vpc(d, info.as_ref(), prior_vpc)?;
        let port = known(&d.port)
            .map(|p| p.get())
            .or(info.as_ref().and_then(|i| i.port))
            .unwrap_or(DEFAULT_PORT);
        let name = match (known(&d.name), prior_name, known(&d.name_prefix)) {
            (Some(n), _, _) => n.clone(),
            (None, Some(n), _) => n.to_string(),
            (None, None, Some(p)) => unique_name(p),
            (None, None, None) => unique_name("elasticache-access-"),
        };
        let mut inputs = d.clone();
        inputs.vpc_id = Some(Known::Known(VpcId::reported(&vpc)));
        inputs.port = Port::new(port).map(Known::Known);
        inputs.name = Some(Known::Known(name.clone()));
        if !inputs.is_wholly_known() {
            return Err(unknown_input("configuration"));
        }
        Ok(Target {
            inputs,
            vpc,
            port,
            name,
            cluster,
            info,
        })
    }
}

fn decide_vpc(
    d: &Desired,
    info: Option<&ClusterInfo>,
    prior_vpc: Option<&str>,
) -> Result<String, Diagnostic> {
    let cluster_vpc = info.and_then(|i| i.vpc_id.clone());
    let declared = known(&d.vpc_id).map(|v| v.as_str().to_string());
    match (declared, cluster_vpc, prior_vpc) {
        (Some(v), Some(cv), _) if v != cv => Err(Diagnostic::error(AttrPath::attr("vpc_id"), "vpc_id does not match the cluster's VPC", format!("The cluster is in {cv}, but vpc_id is {v}. Remove vpc_id to use the cluster's VPC, or fix it."))),
        (None, Some(cv), Some(pv)) if cv != pv => Err(Diagnostic::error(AttrPath::attr("cluster"), "The cluster is in another VPC", format!("The cluster is in {cv}, but this access's security groups are in {pv}, and a security group cannot move to another VPC. Set vpc_id = \"{cv}\" to replace the access in the cluster's VPC."))),
        (Some(v), _, _) => Ok(v),
        (None, Some(cv), _) => Ok(cv),
        (None, None, Some(pv)) => Ok(pv.to_string()),
        (None, None, None) => Err(Diagnostic::error(AttrPath::attr("vpc_id"), "No VPC", "The cluster's VPC could not be read; set vpc_id.")),
    }
}
