//! Connecting: settings that cannot work are reported at their path, overrides reach the wire.

use std::time::Duration;

use aws_config::{BehaviorVersion, ConfigLoader};

use super::connect::{check_profile_in, timeout_config, INITIAL_BACKOFF, MAX_BACKOFF};
use super::Aws;
use crate::domain::cloud::{Cloud, CloudError};
use crate::domain::declaration::settings::{AwsSettings, EndpointSettings};

fn test_loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).credentials_provider(
        aws_sdk_ec2::config::Credentials::new("AKIDTEST", "not-a-secret", None, None, "test"),
    )
}

fn settings(ec2: Option<String>, elasticache: Option<&str>, max_attempts: u32) -> AwsSettings {
    AwsSettings {
        region: Some("eu-west-1".to_string()),
        endpoints: EndpointSettings {
            ec2,
            elasticache: elasticache.map(str::to_string),
            sts: None,
            servicequotas: None,
        },
        max_attempts,
        ..AwsSettings::default()
    }
}

#[tokio::test]
async fn no_region_is_reported_at_region() {
    let s = AwsSettings {
        max_attempts: 1,
        ..AwsSettings::default()
    };
    let loader = test_loader().region(None::<aws_types::region::Region>);
    // the environment may carry a Region: only check the path when none was found
    if let Err(d) = Aws::connect_with(&s, loader).await {
        assert_eq!(d[0].path_text(), "region", "{d:?}");
        assert!(d[0].to_string().contains("AWS_REGION"), "{d:?}");
    }
}

#[tokio::test]
#[allow(deprecated)] // aws-config only re-exports the profile file types under deprecated names
async fn missing_credentials_say_where_credentials_come_from() {
    use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};
    let dir = std::env::temp_dir().join(format!("aws-rs-creds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config");
    std::fs::write(&file, "[profile other]\nregion = eu-west-1\n").unwrap();
    let files = ProfileFiles::builder()
        .with_file(ProfileFileKind::Config, &file)
        .with_file(ProfileFileKind::Credentials, &file)
        .build();
    let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
        .profile_files(files)
        .profile_name("absent")
        .build();
    let loader = aws_config::defaults(BehaviorVersion::latest()).credentials_provider(provider);
    let s = settings(Some("http://127.0.0.1:9".to_string()), None, 1);
    let aws = Aws::connect_with(&s, loader).await.unwrap();
    let err = aws.delete_security_group("sg-1").await.unwrap_err();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(err.code(), "NoCredentials", "{err}");
    assert!(matches!(err, CloudError::Invalid { .. }), "{err:?}");
    assert!(err.to_string().contains("AWS_ACCESS_KEY_ID"), "{err}");
}

#[tokio::test]
async fn an_undefined_profile_is_reported_at_profile_with_the_defined_ones() {
    let dir = std::env::temp_dir().join(format!("aws-rs-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config");
    let credentials = dir.join("credentials");
    std::fs::write(&config, "[profile dev]\nregion = eu-west-1\n").unwrap();
    std::fs::write(&credentials, "[prod]\naws_access_key_id = AKIDTEST\n").unwrap();
    let env = aws_types::os_shim_internal::Env::from_slice(&[
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
    ]);
    let found = check_profile_in("dev", &env, None).await;
    let missing = check_profile_in("staging", &env, None).await;
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(found, Ok(()));
    let d = missing.unwrap_err();
    assert_eq!(d.path_text(), "profile");
    let text = d.to_string();
    assert!(
        text.contains("defined: dev, prod") && text.contains("AWS_PROFILE"),
        "{text}"
    );
}

/// Serves one HTTP request on 127.0.0.1 with `status` and `body`; returns the URL and the request
/// text it received.
async fn one_shot_server(
    status: &'static str,
    body: &'static str,
) -> (String, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut sock, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
            .await
            .expect("a request within 10 s")
            .unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = sock.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    break;
                }
            }
        }
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nx-amzn-RequestId: req-7\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(response.as_bytes()).await.unwrap();
        sock.shutdown().await.ok();
        String::from_utf8_lossy(&buf).to_string()
    });
    (url, task)
}

#[tokio::test]
async fn connect_honours_region_and_endpoint_overrides_on_the_wire() {
    let (url, server) = one_shot_server(
        "200 OK",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
<requestId>r-1</requestId>
<securityGroupInfo><item><ownerId>111111111111</ownerId><groupId>sg-9</groupId><groupName>web-cluster</groupName><vpcId>vpc-1</vpcId></item></securityGroupInfo>
</DescribeSecurityGroupsResponse>"#,
    )
    .await;
    let s = settings(Some(url), Some("http://127.0.0.1:9"), 2);
    let aws = Aws::connect_with(&s, test_loader()).await.unwrap();
    assert_eq!(aws.region().as_deref(), Some("eu-west-1"));
    let retry = aws.ec2.config().retry_config().unwrap();
    assert_eq!(retry.max_attempts(), 2);
    assert_eq!(retry.mode(), aws_smithy_types::retry::RetryMode::Adaptive);
    assert_eq!(retry.initial_backoff(), INITIAL_BACKOFF);
    assert_eq!(retry.max_backoff(), MAX_BACKOFF);

    let groups = aws
        .describe_security_groups(&["sg-9".to_string()])
        .await
        .unwrap();
    assert_eq!(groups[0].id, "sg-9");
    let request = server.await.unwrap();
    assert!(request.starts_with("POST / HTTP/1.1"), "{request}");
    assert!(
        request.contains("Action=DescribeSecurityGroups"),
        "{request}"
    );
    assert!(request.contains("Filter.1.Name=group-id"), "{request}");
    assert!(request.contains("/eu-west-1/ec2/aws4_request"), "{request}");
    assert!(
        !request.contains("not-a-secret"),
        "the secret key is never sent"
    );
}

#[tokio::test]
async fn an_ec2_error_answer_is_classified_by_its_code() {
    let (url, server) = one_shot_server(
        "400 Bad Request",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>InvalidGroup.InUse</Code><Message>Group sg-9 is used by another group</Message></Error></Errors><RequestID>req-7</RequestID></Response>"#,
    )
    .await;
    let s = settings(Some(url), None, 3);
    let aws = Aws::connect_with(&s, test_loader()).await.unwrap();
    let err = aws.delete_security_group("sg-9").await.unwrap_err();
    server.await.unwrap();
    assert!(matches!(err, CloudError::InUse { .. }), "{err:?}");
    assert!(err.to_string().contains("used by another group"), "{err}");
    assert!(err.to_string().contains("req-7"), "{err}");
}

#[test]
fn the_attempt_timeout_is_60_s_unless_the_environment_says_otherwise() {
    let attempt = |env: Option<&str>| timeout_config(env).operation_attempt_timeout();
    assert_eq!(attempt(None), Some(Duration::from_secs(60)));
    assert_eq!(attempt(Some("2s")), Some(Duration::from_secs(2)));
    assert_eq!(attempt(Some("1m30s")), Some(Duration::from_secs(90)));
    // what does not parse, or zero, keeps the default
    assert_eq!(attempt(Some("soon")), Some(Duration::from_secs(60)));
    assert_eq!(attempt(Some("0s")), Some(Duration::from_secs(60)));
    assert_eq!(
        timeout_config(None).connect_timeout(),
        Some(Duration::from_millis(3100))
    );
}
