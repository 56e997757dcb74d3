//! Credentials: the warnings for unused ones, and secrets that never show.

use super::*;

#[test]
fn credentials_without_basic_authentication_warn() {
    let (_, warnings) = load(with("mesosCredentials", json!({"principal": "p", "secret": "s"}))).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("mesosCredentials"));
}

#[test]
fn the_unused_kind_of_credentials_warns() {
    let creds = json!({"principal": "p", "secret": "s"});
    let mut iam = with("mesosAuthentication", json!("iam"));
    iam["IAMConfigFile"] = json!("/etc/mesos-dns/iam.json");
    iam["mesosCredentials"] = creds.clone();
    let (c, warnings) = load(iam).unwrap();
    assert_eq!(c.iam_config_file, "/etc/mesos-dns/iam.json");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("`mesosCredentials`") && warnings[0].contains("`iam`"));

    let mut basic = with("mesosAuthentication", json!("Basic"));
    basic["mesosCredentials"] = creds;
    basic["iamconfigfile"] = json!("/etc/mesos-dns/iam.json");
    let (_, warnings) = load(basic).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("`IAMConfigFile`") && warnings[0].contains("`basic`"));
}

#[test]
fn secret_never_appears_in_to_json_or_debug() {
    let doc = json!({
        "masters": ["m:1"], "mesosAuthentication": "basic", "zk": "zk://dns:zkpass@zk1:2181/mesos",
        "mesosCredentials": {"principal": "dns", "secret": "hunter2"}
    });
    let (c, _) = load(doc).unwrap();
    let json = c.to_json();
    assert_eq!(
        json["MesosCredentials"],
        json!({"Principal": "dns", "Secret": "<redacted>"})
    );
    assert_eq!(json["Zk"], json!("zk://dns:<redacted>@zk1:2181/mesos"));
    let text = json.to_string();
    assert!(!text.contains("hunter2") && !text.contains("zkpass"), "{text}");
    let debug = format!("{c:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
}

#[test]
fn a_bad_secret_value_is_not_echoed_in_the_error() {
    let err = load(with(
        "mesosCredentials",
        json!({"principal": "p", "secret": ["hunter2"]}),
    ))
    .unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}
