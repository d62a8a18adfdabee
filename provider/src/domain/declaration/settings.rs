//! The provider configuration, parsed once into typed settings ([`Settings`]), with one set of rules
//! for both protocols: Region names, role ARNs, endpoint URLs, `max_retries`, tags. Every diagnostic
//! carries the setting's path, so Terraform points at the offending line of the `provider` block.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::domain::declaration::desired::{parse_tags_at, Checked};
use crate::domain::declaration::model::DEFAULT_MAX_RETRIES;
use crate::domain::declaration::schema;
use crate::domain::declaration::typecheck;
use crate::domain::declaration::value::read;
use crate::domain::declaration::value::Value;
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::types::{is_account, parse_duration, Known};

/// Session name used for `assume_role` when none is set.
pub const DEFAULT_SESSION_NAME: &str = "elasticache-access";
/// Highest `max_retries`.
pub const MAX_MAX_RETRIES: u32 = 25;

/// What connecting to AWS needs, wholly known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub shared_config_files: Vec<String>,
    pub shared_credentials_files: Vec<String>,
    pub assume_role: Option<RoleSettings>,
    pub endpoints: EndpointSettings,
    /// Attempts per AWS call, retries included.
    pub max_attempts: u32,
}

/// A role to assume.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleSettings {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    pub duration: Option<Duration>,
}

/// Service endpoints set in the configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointSettings {
    pub ec2: Option<String>,
    pub elasticache: Option<String>,
    pub sts: Option<String>,
    pub servicequotas: Option<String>,
}

/// Tags the provider leaves alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagFilter {
    pub keys: BTreeSet<String>,
    pub key_prefixes: BTreeSet<String>,
}

impl TagFilter {
    pub fn ignores(&self, key: &str) -> bool {
        self.keys.contains(key)
            || self
                .key_prefixes
                .iter()
                .any(|p| key.starts_with(p.as_str()))
    }
}

/// The provider configuration. A part that is not known yet (it depends on another resource) is
/// [`Known::Unknown`]: the provider then plans without AWS and without default tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub aws: Known<AwsSettings>,
    pub default_tags: Known<BTreeMap<String, String>>,
    pub ignore_tags: Known<TagFilter>,
}

impl Settings {
    pub fn is_known(&self) -> bool {
        !self.aws.is_unknown() && !self.default_tags.is_unknown() && !self.ignore_tags.is_unknown()
    }
}

#[derive(Default)]
struct Parser {
    out: Vec<Diagnostic>,
    unknown: bool,
}

impl Parser {
    fn error(&mut self, path: AttrPath, summary: &str, detail: impl Into<String>) {
        self.out.push(Diagnostic::error(path, summary, detail));
    }

    /// A string setting checked by `rule`; None when not set (or refused).
    fn string(
        &mut self,
        v: &Value,
        path: AttrPath,
        rule: impl Fn(&str) -> Result<(), String>,
    ) -> Option<String> {
        match read::string(v)? {
            Known::Unknown => {
                self.unknown = true;
                None
            }
            Known::Known(s) => match rule(&s) {
                Ok(()) => Some(s),
                Err(e) => {
                    let summary = format!(
                        "Invalid {}",
                        path.0.last().map(step_name).unwrap_or_default()
                    );
                    self.error(path, &summary, e);
                    None
                }
            },
        }
    }

    fn strings(&mut self, v: &Value, path: AttrPath) -> Vec<String> {
        let Some(items) = read::items(v) else {
            return Vec::new();
        };
        let Some(items) = items.into_known() else {
            self.unknown = true;
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            match it {
                Value::String(s) if !s.is_empty() => out.push(s.clone()),
                Value::Unknown => self.unknown = true,
                _ => self.error(
                    path.clone().then_index(i),
                    "Invalid entry",
                    "Write a non-empty string.",
                ),
            }
        }
        out
    }
}

fn step_name(s: &crate::domain::diag::PathStep) -> String {
    match s {
        crate::domain::diag::PathStep::Attr(a) => a.clone(),
        crate::domain::diag::PathStep::Key(k) => k.clone(),
        crate::domain::diag::PathStep::Index(i) => i.to_string(),
    }
}

fn region_rule(r: &str) -> Result<(), String> {
    let ok = !r.is_empty()
        && r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && r.split('-').count() >= 3;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{r:?} is not an AWS Region name such as us-east-1 or eu-west-1."
        ))
    }
}

fn non_empty(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        Err("Set a non-empty value, or remove the setting.".into())
    } else {
        Ok(())
    }
}

/// `arn:<partition>:iam::<12-digit account>:role/<path and name>`.
pub fn role_arn_rule(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ok = matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws") && is_account(account) && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty()));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a role ARN; write it as arn:aws:iam::123456789012:role/deployer."
        ))
    }
}

fn session_name_rule(s: &str) -> Result<(), String> {
    let ok = (2..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a session name: 2 to 64 letters, digits and +=,.@_-."
        ))
    }
}

fn external_id_rule(s: &str) -> Result<(), String> {
    let ok = (2..=1224).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err("An external id has 2 to 1224 letters, digits and +=,.@:/_-.".into())
    }
}

/// `http://` or `https://`, a host, an optional port and path.
pub fn endpoint_rule(s: &str) -> Result<(), String> {
    let bad = || {
        format!("{s:?} is not an endpoint URL; write it as https://host[:port], such as http://127.0.0.1:5000.")
    };
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, Some(p)),
        _ => (authority, None),
    };
    let host_ok = !host.is_empty() && !host.contains(char::is_whitespace) && !host.contains('@');
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

fn duration_rule(s: &str) -> Result<(), String> {
    let d = parse_duration(s)?;
    if (Duration::from_secs(900)..=Duration::from_secs(43200)).contains(&d) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is outside AWS's session durations: write 15m to 12h."
        ))
    }
}

fn parse_role(p: &mut Parser, v: &Value) -> Option<RoleSettings> {
    let at = |k: &str| AttrPath::attr("assume_role").then_attr(k);
    match v {
        Value::Null => return None,
        Value::Unknown => {
            p.unknown = true;
            return None;
        }
        _ => {}
    }
    if v.get("role_arn").is_null() {
        p.error(
            at("role_arn"),
            "Missing role_arn",
            "assume_role needs role_arn: the ARN of the role to assume.",
        );
    }
    // every setting is checked, so that each problem is reported at once
    let role_arn = p.string(v.get("role_arn"), at("role_arn"), role_arn_rule);
    let session_name = p.string(v.get("session_name"), at("session_name"), session_name_rule);
    let external_id = p.string(v.get("external_id"), at("external_id"), external_id_rule);
    let duration = p
        .string(v.get("duration"), at("duration"), duration_rule)
        .and_then(|d| parse_duration(&d).ok());
    let role_arn = role_arn?;
    Some(RoleSettings {
        role_arn,
        session_name: session_name.unwrap_or_else(|| DEFAULT_SESSION_NAME.into()),
        external_id,
        duration,
    })
}

fn parse_max_retries(p: &mut Parser, v: &Value) -> u32 {
    match read::number(v) {
        None => DEFAULT_MAX_RETRIES,
        Some(Known::Unknown) => {
            p.unknown = true;
            DEFAULT_MAX_RETRIES
        }
        Some(Known::Known(n))
            if n.fract() == 0.0 && (1.0..=f64::from(MAX_MAX_RETRIES)).contains(&n) =>
        {
            n as u32
        }
        Some(Known::Known(n)) => {
            p.error(AttrPath::attr("max_retries"), "max_retries out of range", format!("{n} is not allowed: set max_retries to a whole number from 1 to {MAX_MAX_RETRIES}."));
            DEFAULT_MAX_RETRIES
        }
    }
}

fn parse_aws(p: &mut Parser, config: &Value) -> AwsSettings {
    let eps = config.get("endpoints");
    let ep = |p: &mut Parser, k: &str| {
        p.string(
            eps.get(k),
            AttrPath::attr("endpoints").then_attr(k),
            endpoint_rule,
        )
    };
    if eps.is_unknown() {
        p.unknown = true;
    }
    AwsSettings {
        region: p.string(config.get("region"), AttrPath::attr("region"), region_rule),
        profile: p.string(config.get("profile"), AttrPath::attr("profile"), non_empty),
        shared_config_files: p.strings(
            config.get("shared_config_files"),
            AttrPath::attr("shared_config_files"),
        ),
        shared_credentials_files: p.strings(
            config.get("shared_credentials_files"),
            AttrPath::attr("shared_credentials_files"),
        ),
        assume_role: parse_role(p, config.get("assume_role")),
        endpoints: EndpointSettings {
            ec2: ep(p, "ec2"),
            elasticache: ep(p, "elasticache"),
            sts: ep(p, "sts"),
            servicequotas: ep(p, "servicequotas"),
        },
        max_attempts: parse_max_retries(p, config.get("max_retries")),
    }
}

fn parse_ignore(p: &mut Parser, v: &Value) -> Known<TagFilter> {
    if v.is_unknown() {
        return Known::Unknown;
    }
    let before = p.unknown;
    p.unknown = false;
    let keys = p.strings(
        v.get("keys"),
        AttrPath::attr("ignore_tags").then_attr("keys"),
    );
    let key_prefixes = p.strings(
        v.get("key_prefixes"),
        AttrPath::attr("ignore_tags").then_attr("key_prefixes"),
    );
    let unknown = p.unknown;
    p.unknown = before;
    if unknown {
        return Known::Unknown;
    }
    Known::Known(TagFilter {
        keys: keys.into_iter().collect(),
        key_prefixes: key_prefixes.into_iter().collect(),
    })
}

/// Parses and checks a provider configuration (every setting optional).
pub fn parse(config: &Value) -> Result<Checked<Settings>, Vec<Diagnostic>> {
    let mut p = Parser::default();
    typecheck::check_object(
        config,
        &schema::provider().attributes,
        &AttrPath::root(),
        &mut p.out,
    );
    if !p.out.is_empty() {
        return Err(p.out);
    }
    let aws = parse_aws(&mut p, config);
    let aws = if p.unknown {
        Known::Unknown
    } else {
        Known::Known(aws)
    };
    let dt = config.get("default_tags");
    let default_tags = if dt.is_unknown() {
        Known::Unknown
    } else {
        let path = AttrPath::attr("default_tags").then_attr("tags");
        match parse_tags_at(&mut p.out, dt.get("tags"), &path) {
            None => Known::Known(BTreeMap::new()),
            Some(k) => k,
        }
    };
    let ignore_tags = parse_ignore(&mut p, config.get("ignore_tags"));
    if p.out.is_empty() {
        Ok(Checked {
            value: Settings {
                aws,
                default_tags,
                ignore_tags,
            },
            warnings: Vec::new(),
        })
    } else {
        Err(p.out)
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
