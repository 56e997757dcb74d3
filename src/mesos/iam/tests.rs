//! The service account file, the login JWT (its RS256 signature checked with ring on the key's public
//! half) and the token cache on virtual time. The keys here are test keys made with `openssl genrsa`.

use super::*;

const PKCS8: &str = include_str!("test-rsa-pkcs8.pem");
/// The same key as [`PKCS8`], written by `openssl rsa -traditional`.
const PKCS1: &str = include_str!("test-rsa-pkcs1.pem");
const RSA_1024: &str = include_str!("test-rsa-1024.pem");
const EC: &str = include_str!("test-ec.pem");

fn account_json(key: &str) -> String {
    serde_json::json!({
        "uid": "dcos_mesos_dns",
        "private_key": key,
        "login_endpoint": "https://leader.mesos/acs/api/v1/auth/login",
        "scheme": "RS256",
    })
    .to_string()
}

fn account(key: &str) -> ServiceAccount {
    ServiceAccount::from_json(&account_json(key)).unwrap()
}

/// The public half of the PKCS#8 test key, as ring sees it (DER `RSAPublicKey`).
fn public_key() -> Vec<u8> {
    let der = PrivateKeyDer::from_pem_slice(PKCS8.as_bytes()).unwrap();
    let pair = ring::signature::RsaKeyPair::from_pkcs8(der.secret_der()).unwrap();
    pair.public().as_ref().to_vec()
}

/// Splits a JWT and checks its RS256 signature; returns the decoded header and claims.
fn verified(jwt: &str) -> (Value, Value) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let signature = base64::decode_url(parts[2]).expect("base64url signature");
    let key = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public_key());
    let signed = &jwt[..parts[0].len() + 1 + parts[1].len()];
    key.verify(signed.as_bytes(), &signature)
        .expect("the signature verifies with the public key");
    let json = |part: &str| -> Value { serde_json::from_slice(&base64::decode_url(part).expect("base64url")).unwrap() };
    (json(parts[0]), json(parts[1]))
}

#[test]
fn login_jwt_is_rs256_signed_with_uid_and_exp() {
    for key in [PKCS8, PKCS1] {
        let jwt = account(key).login_jwt(1_700_003_600).unwrap();
        assert!(!jwt.contains('=') && !jwt.contains('+') && !jwt.contains('/'), "{jwt}");
        let (header, claims) = verified(&jwt);
        assert_eq!(header, serde_json::json!({"alg": "RS256", "typ": "JWT"}));
        assert_eq!(
            claims,
            serde_json::json!({"uid": "dcos_mesos_dns", "exp": 1_700_003_600})
        );
        // The header is the well-known encoding of those two members.
        assert!(jwt.starts_with("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."), "{jwt}");
    }
}

#[test]
fn pkcs1_and_pkcs8_forms_of_one_key_sign_alike() {
    // RSASSA-PKCS1-v1_5 is deterministic: the same key gives the same signature.
    let a = account(PKCS8).login_jwt(42).unwrap();
    let b = account(PKCS1).login_jwt(42).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_tampered_jwt_does_not_verify() {
    // The check in `verified` can fail: a changed claim breaks the signature.
    let jwt = account(PKCS8).login_jwt(42).unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let forged_claims = base64::encode_url(br#"{"exp":42,"uid":"root"}"#);
    let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
    let key = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public_key());
    let signature = base64::decode_url(parts[2]).unwrap();
    let signed = &forged[..forged.rfind('.').unwrap()];
    assert!(key.verify(signed.as_bytes(), &signature).is_err());
}

#[test]
fn keys_are_matched_case_insensitively_and_unknown_ones_ignored() {
    let text = serde_json::json!({
        "UID": "svc",
        "Private_Key": PKCS8,
        "LOGIN_ENDPOINT": "http://127.0.0.1:8101/acs/api/v1/auth/login",
        "description": "ignored",
    })
    .to_string();
    let account = ServiceAccount::from_json(&text).unwrap();
    assert_eq!(account.uid, "svc");
    assert_eq!(account.login_endpoint, "http://127.0.0.1:8101/acs/api/v1/auth/login");
    assert!(!account.logs_in_over_https());
    assert!(ServiceAccount::from_json(&account_json(PKCS8))
        .unwrap()
        .logs_in_over_https());
}

#[test]
fn debug_never_shows_the_key() {
    let shown = format!("{:?}", account(PKCS8));
    assert!(
        shown.contains("dcos_mesos_dns") && shown.contains("<redacted>"),
        "{shown}"
    );
    let body_line = PKCS8.lines().nth(1).unwrap();
    assert!(!shown.contains(body_line), "{shown}");
}

#[test]
fn each_bad_field_is_named() {
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut doc: Value = serde_json::from_str(&account_json(PKCS8)).unwrap();
        edit(&mut doc);
        ServiceAccount::from_json(&doc.to_string()).unwrap_err()
    };
    let cases: Vec<(String, &str)> = vec![
        (with(&|d| d["uid"] = "".into()), "`uid`"),
        (
            with(&|d| {
                d.as_object_mut().unwrap().remove("login_endpoint");
            }),
            "`login_endpoint`",
        ),
        (with(&|d| d["private_key"] = Value::Null), "`private_key`"),
        (with(&|d| d["private_key"] = 7.into()), "`private_key` must be a string"),
        (
            with(&|d| d["private_key"] = "not a key".into()),
            "`private_key`: no PEM private key",
        ),
        (
            with(&|d| d["private_key"] = EC.into()),
            "`private_key`: not a usable RSA private key",
        ),
        (
            with(&|d| d["private_key"] = RSA_1024.into()),
            "`private_key`: not a usable RSA",
        ),
        (with(&|d| d["scheme"] = "ES256".into()), "`scheme`"),
        (
            with(&|d| d["login_endpoint"] = "ftp://host/login".into()),
            "`login_endpoint`",
        ),
        (with(&|d| d["login_endpoint"] = "not a url".into()), "`login_endpoint`"),
        (ServiceAccount::from_json("[1]").unwrap_err(), "expected a JSON object"),
        (ServiceAccount::from_json("{").unwrap_err(), "not valid JSON"),
    ];
    for (error, want) in cases {
        assert!(error.contains(want), "{want:?} in {error:?}");
        assert!(!error.contains("MII"), "no key material in {error:?}");
    }
}

#[test]
fn an_unreadable_file_names_the_config_key_and_path() {
    let e = ServiceAccount::load("/nonexistent/iam.json").unwrap_err();
    assert_eq!(e.key, "IAMConfigFile");
    assert!(e.problem.contains("/nonexistent/iam.json"), "{e}");
    assert!(e.to_string().starts_with("config key `IAMConfigFile`: "), "{e}");
}

fn jwt_with_exp(exp: u64) -> String {
    let claims = base64::encode_url(format!(r#"{{"uid":"svc","exp":{exp}}}"#).as_bytes());
    format!("eyJhbGciOiJSUzI1NiJ9.{claims}.c2ln")
}

#[test]
fn jwt_exp_reads_the_claim_of_jwts_only() {
    assert_eq!(jwt_exp(&jwt_with_exp(1234)), Some(1234));
    let float = format!("a.{}.c", base64::encode_url(br#"{"exp":1234.9}"#));
    assert_eq!(jwt_exp(&float), Some(1234));
    assert_eq!(jwt_exp("opaque-token"), None);
    assert_eq!(jwt_exp("a.b.c.d"), None);
    assert_eq!(jwt_exp(&format!("a.{}.c", base64::encode_url(b"{}"))), None);
    assert_eq!(jwt_exp("a.!!.c"), None);
}

#[test]
fn cache_keeps_a_token_until_shortly_before_it_expires() {
    let mut cache = TokenCache::default();
    assert_eq!(cache.header(1000), None, "nothing yet: log in");
    // An opaque token lives as long as we asked: renewed RENEW_BEFORE ahead.
    let header = cache.issued("opaque", 1000 + LOGIN_TOKEN_LIFETIME, 1000);
    assert_eq!(header, "token=opaque");
    assert_eq!(cache.header(1001), Some("token=opaque"));
    let renew_at = 1000 + LOGIN_TOKEN_LIFETIME - RENEW_BEFORE;
    assert_eq!(cache.header(renew_at - 1), Some("token=opaque"));
    assert_eq!(cache.header(renew_at), None);
}

#[test]
fn cache_follows_the_exp_of_an_issued_jwt() {
    let mut cache = TokenCache::default();
    // A 20 s token: renewed a quarter of its lifetime ahead.
    let token = jwt_with_exp(1020);
    let header = cache.issued(&token, 1000 + LOGIN_TOKEN_LIFETIME, 1000);
    assert_eq!(header, format!("token={token}"));
    assert_eq!(cache.header(1014).map(str::len), Some(header.len()));
    assert_eq!(cache.header(1015), None);
    // A 2 s token is kept for 1 s; one already expired (clock skew) is used once and not kept.
    cache.issued(&jwt_with_exp(2002), 5600, 2000);
    assert!(cache.header(2000).is_some());
    assert!(cache.header(2001).is_none());
    let once = cache.issued(&jwt_with_exp(2900), 6600, 3000);
    assert!(once.starts_with("token="));
    assert_eq!(cache.header(3000), None);
}

#[test]
fn a_refused_token_is_dropped_unless_already_replaced() {
    let mut cache = TokenCache::default();
    let old = cache.issued("old", 5000, 1000);
    cache.refused(&old);
    assert_eq!(cache.header(1001), None, "refused: log in again");
    let new = cache.issued("new", 5000, 1001);
    // A request that still carried the old token comes back refused after the new login.
    cache.refused(&old);
    assert_eq!(cache.header(1002), Some(new.as_str()));
}

#[test]
fn login_answers_give_their_token() {
    assert_eq!(issued_token(r#"{"token":"abc.def.ghi"}"#).as_deref(), Ok("abc.def.ghi"));
    assert_eq!(issued_token(r#"{"Token":"t"}"#).as_deref(), Ok("t"));
    for bad in [
        r#"{}"#,
        r#"{"token":""}"#,
        r#"{"token":5}"#,
        r#"["token"]"#,
        "<html>",
        r#"{"token":"a\r\nX-Injected: 1"}"#,
    ] {
        assert!(issued_token(bad).is_err(), "{bad}");
    }
}

#[test]
fn login_errors_name_the_config_key_and_endpoint() {
    let e = IamError {
        endpoint: "http://127.0.0.1:1/login".into(),
        problem: LoginProblem::Status(500),
    };
    assert_eq!(
        e.to_string(),
        "IAM login (see `IAMConfigFile`) at http://127.0.0.1:1/login failed: HTTP status 500"
    );
    let refused = LoginProblem::Status(401).to_string();
    assert!(
        refused.contains("`uid`") && refused.contains("`private_key`"),
        "{refused}"
    );
}
