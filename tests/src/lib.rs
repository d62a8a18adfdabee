//! Shared helpers for process-level tests: the local AWS emulator (moto, patched by
//! `tests/emulator/launcher.py`), its seed data, and its call log.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{anyhow, Context, Result};

/// The repository's root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Python interpreter for the emulator (`PYTHON`, else `python3`).
pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// A running emulator on a free loopback port; stopped when dropped.
pub struct Emulator {
    child: Child,
    pub url: String,
}

/// One AWS call the emulator received.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Call {
    pub service: String,
    pub action: String,
    /// The access key id the request was signed with.
    #[serde(default)]
    pub access_key: Option<String>,
    /// For STS calls: RoleArn, RoleSessionName and ExternalId, when sent; for a call filtered by
    /// `group-id`, its values (sorted, joined by commas) under that name.
    #[serde(default)]
    pub params: std::collections::BTreeMap<String, String>,
}

impl Emulator {
    pub fn start() -> Result<Emulator> {
        let launcher = repo_root().join("tests/emulator/launcher.py");
        let mut child = Command::new(python())
            .arg(&launcher)
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", launcher.display()))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let url = line
            .trim()
            .strip_prefix("EMULATOR_URL=")
            .ok_or_else(|| anyhow!("unexpected launcher output {line:?}"))?
            .to_string();
        Ok(Emulator { child, url })
    }

    /// Seeds a VPC, subnets, a subnet group, a replication group `demo-redis`, a memcached cluster and
    /// an existing group `demo-app`; returns seed.py's JSON.
    pub fn seed(&self) -> Result<serde_json::Value> {
        let out = Command::new(python())
            .arg(repo_root().join("tests/emulator/seed.py"))
            .args(["--endpoint", &self.url])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()?;
        if !out.status.success() {
            return Err(anyhow!(
                "seed failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    /// The calls received since the last reset.
    pub fn calls(&self) -> Result<Vec<Call>> {
        #[derive(serde::Deserialize)]
        struct Calls {
            calls: Vec<Call>,
        }
        let c: Calls = ureq::get(format!("{}/_emulator/calls", self.url))
            .call()?
            .body_mut()
            .read_json()?;
        Ok(c.calls)
    }

    /// The actions received since the last reset (service dropped).
    pub fn actions(&self) -> Result<Vec<String>> {
        Ok(self.calls()?.into_iter().map(|c| c.action).collect())
    }

    pub fn reset_calls(&self) -> Result<()> {
        ureq::post(format!("{}/_emulator/calls/reset", self.url)).send_empty()?;
        Ok(())
    }

    /// Makes the next `count` calls of `action` fail with `code`.
    pub fn fault(
        &self,
        service: &str,
        action: &str,
        code: &str,
        status: u16,
        count: u32,
    ) -> Result<()> {
        ureq::post(format!("{}/_emulator/fault", self.url))
            .send_json(serde_json::json!({"service": service, "action": action, "code": code, "status": status, "count": count, "after": 0}))?;
        Ok(())
    }

    /// Changes the emulator's AWS realism settings (tests/emulator/realism_config.py) until the
    /// next reset, e.g. `json!({"consistency_delay": 3.0})`; returns the whole configuration.
    pub fn configure(&self, settings: serde_json::Value) -> Result<serde_json::Value> {
        let mut out: serde_json::Value = ureq::post(format!("{}/_emulator/config", self.url))
            .send_json(settings)?
            .body_mut()
            .read_json()?;
        Ok(out["config"].take())
    }

    /// Ends the emulator's eventual-consistency windows now, so that what a test reads straight
    /// from the emulator shows everything made so far.
    pub fn settle(&self) -> Result<()> {
        ureq::post(format!("{}/_emulator/settle", self.url)).send_json(serde_json::json!({}))?;
        Ok(())
    }

    /// An active VPC peering connection from `vpc_id` to a VPC of another account holding the
    /// groups named (`POST /_emulator/peering`): AWS accepts a rule naming another account's group
    /// only across one.
    pub fn peering(&self, spec: serde_json::Value) -> Result<serde_json::Value> {
        Ok(ureq::post(format!("{}/_emulator/peering", self.url))
            .send_json(spec)?
            .body_mut()
            .read_json()?)
    }

    /// The cluster modifications so far (`GET /_emulator/modifications`).
    pub fn modifications(&self) -> Result<serde_json::Value> {
        Ok(ureq::get(format!("{}/_emulator/modifications", self.url))
            .call()?
            .body_mut()
            .read_json()?)
    }

    pub async fn sdk_config(&self) -> aws_types::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new("us-east-1"))
            .endpoint_url(&self.url)
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .load()
            .await
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
