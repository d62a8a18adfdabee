//! What still holds a security group that cannot be deleted (explains a failed delete).

use std::fmt;

/// What still holds a security group that cannot be deleted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Holders {
    pub network_interfaces: Vec<String>,
    pub clusters: Vec<String>,
    pub referencing_groups: Vec<String>,
}

impl Holders {
    pub fn is_empty(&self) -> bool {
        self.network_interfaces.is_empty()
            && self.clusters.is_empty()
            && self.referencing_groups.is_empty()
    }
}

impl fmt::Display for Holders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.network_interfaces.is_empty() {
            parts.push(format!(
                "network interfaces {}",
                self.network_interfaces.join(", ")
            ));
        }
        if !self.clusters.is_empty() {
            parts.push(format!("ElastiCache clusters {}", self.clusters.join(", ")));
        }
        if !self.referencing_groups.is_empty() {
            parts.push(format!(
                "rules in security groups {}",
                self.referencing_groups.join(", ")
            ));
        }
        if parts.is_empty() {
            write!(f, "nothing this provider can see")
        } else {
            write!(f, "{}", parts.join("; "))
        }
    }
}
