//! `terraform-provider-elasticache sweep [--region REGION] [--vpc-id VPC_ID] [--dry-run]` (and the
//! same as `pulumi-resource-elasticache sweep ...`): deletes the security groups of creates that
//! never finished (the provider killed, a run cancelled, an answer lost), proven abandoned by their
//! expired creation lease, and client groups whose access is gone (see
//! [`crate::domain::engine::sweep`]), and prints one line naming each group; marked groups it
//! leaves alone are named on stderr with the reason. With `--dry-run` it only lists them. AWS settings come from the standard chain (`AWS_REGION`,
//! `AWS_PROFILE`, `AWS_ENDPOINT_URL_EC2`, ... and the shared files); `--region` overrides the
//! Region. Exit status: 0 when every group found was deleted (or listed), 1 when one could not be
//! or AWS could not be asked, 2 for a usage error.

use std::io::Write;
use std::sync::Arc;

use crate::aws::AwsConnector;
use crate::domain::declaration::value::Value;
use crate::domain::service::Service;

/// What the command line asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepArgs {
    pub region: Option<String>,
    pub vpc_id: Option<String>,
    pub dry_run: bool,
}

pub const USAGE: &str =
    "usage: terraform-provider-elasticache (or pulumi-resource-elasticache) sweep [--region REGION] [--vpc-id VPC_ID] [--dry-run]";

/// Parses the arguments after `sweep`.
pub fn parse_args(args: &[String]) -> Result<SweepArgs, String> {
    let mut out = SweepArgs::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .filter(|v| !v.starts_with("--"))
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match a.as_str() {
            "--region" => out.region = Some(value("--region")?),
            "--vpc-id" => out.vpc_id = Some(value("--vpc-id")?),
            "--dry-run" => out.dry_run = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(out)
}

/// Runs `sweep` when `args` (without the program name) start with it; None otherwise.
pub async fn main_from_args(args: &[String]) -> Option<i32> {
    let (first, rest) = args.split_first()?;
    if first != "sweep" {
        return None;
    }
    let parsed = match parse_args(rest) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{e}\n{USAGE}");
            return Some(2);
        }
    };
    let (code, lines) = run(&parsed).await;
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    for (is_err, line) in lines {
        let _ = if is_err {
            writeln!(err, "{line}")
        } else {
            writeln!(out, "{line}")
        };
    }
    Some(code)
}

/// Sweeps as `args` say: the exit status and the lines to print (true: to stderr).
pub async fn run(args: &SweepArgs) -> (i32, Vec<(bool, String)>) {
    let mut config = serde_json::Map::new();
    if let Some(r) = &args.region {
        config.insert("region".into(), r.clone().into());
    }
    let svc = Service::new(Arc::new(AwsConnector));
    let diags = svc
        .configure(&Value::from_json(&serde_json::Value::Object(config)))
        .await;
    let Some(engine) = svc.engine().filter(|_| diags.is_empty()) else {
        return (1, diags.iter().map(|d| (true, d.to_string())).collect());
    };
    let report = match engine
        .sweep(args.vpc_id.as_deref(), args.dry_run, true)
        .await
    {
        Ok(s) => s,
        Err(d) => return (1, vec![(true, d.to_string())]),
    };
    let swept = report.swept;
    let mut lines: Vec<(bool, String)> = report
        .untouched
        .iter()
        .map(|u| {
            (
                true,
                format!("left alone {} ({}): {}", u.group_id, u.name, u.why),
            )
        })
        .collect();
    let mut code = 0;
    for s in &swept {
        let line = match (&s.error, args.dry_run) {
            (_, true) => format!("would delete {s}"),
            (None, false) => format!("deleted {s}"),
            (Some(_), false) => {
                code = 1;
                format!("{s}")
            }
        };
        lines.push((s.error.is_some(), line));
    }
    let scope = args.vpc_id.as_deref().unwrap_or("every VPC");
    lines.push((
        false,
        format!(
            "{} security group(s) of unfinished creates in {scope}",
            swept.len()
        ),
    ));
    (code, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_are_parsed_and_mistakes_refused() {
        assert_eq!(
            parse_args(&args(&[
                "--region",
                "eu-west-1",
                "--vpc-id",
                "vpc-1",
                "--dry-run"
            ])),
            Ok(SweepArgs {
                region: Some("eu-west-1".into()),
                vpc_id: Some("vpc-1".into()),
                dry_run: true
            })
        );
        assert_eq!(parse_args(&[]), Ok(SweepArgs::default()));
        assert!(parse_args(&args(&["--region"])).is_err());
        assert!(parse_args(&args(&["--region", "--dry-run"])).is_err());
        assert!(parse_args(&args(&["--force"])).is_err());
    }

    #[tokio::test]
    async fn other_commands_are_not_sweep() {
        assert_eq!(main_from_args(&args(&["generate"])).await, None);
        assert_eq!(main_from_args(&[]).await, None);
        assert_eq!(main_from_args(&args(&["sweep", "--bogus"])).await, Some(2));
    }
}
