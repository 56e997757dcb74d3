//! IAM authentication towards the masters (`mesosAuthentication: "iam"`, DC/OS Enterprise): a service
//! account (`IAMConfigFile`) logs in at its login endpoint with a JWT it signs itself (RS256), and the
//! token the endpoint issues goes to the masters as `Authorization: token=<token>`.
//!
//! This module owns the account file (read and checked whenever the config is loaded or reloaded, so a
//! bad file or key fails the config naming `IAMConfigFile` and the field), the login JWT, when to log in
//! ([`TokenCache`]: a pure state machine on the caller's clock) and the login request itself
//! ([`IamLogin`]: the thin ureq driver around the cache). It does not own the requests to the masters:
//! [`super::access::Access`] asks here for the header and reports a token a master refused.
//!
//! The original logs in before every request. Here a token is kept until shortly before it expires,
//! and a master's 401 makes the next request log in again. Its lifetime is the token's own `exp` when
//! the endpoint issues a JWT (as DC/OS does: it takes the `exp` we ask for), else the `exp` we asked
//! for: [`LOGIN_TOKEN_LIFETIME`] from the login, as in the original.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use rustls::crypto::ring::sign::RsaSigningKey;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::{Signer, SigningKey};
use rustls::SignatureScheme;
use serde_json::Value;

use super::error::AccessError;
pub(crate) use super::error::{IamError, LoginProblem};
use crate::base64;
use crate::clock::unix_now;

/// The config key that names the service account file.
pub(crate) use super::error::IAM_FILE_KEY as FILE_KEY;

/// The `exp` asked for in the login JWT, in seconds after the login (the original's hour).
pub(crate) const LOGIN_TOKEN_LIFETIME: u64 = 3600;

/// A cached token is replaced this long before it expires at most (a quarter of its lifetime when that
/// is shorter), so that a request never carries a token that runs out on the way.
pub(crate) const RENEW_BEFORE: u64 = 300;

/// The largest login answer read (a token is a few KiB).
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// The service account of `IAMConfigFile`: who logs in, where, and the key its login JWT is signed with.
pub(crate) struct ServiceAccount {
    pub uid: String,
    pub login_endpoint: String,
    signer: Box<dyn Signer>,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("uid", &self.uid)
            .field("login_endpoint", &self.login_endpoint)
            .field("private_key", &crate::config::REDACTED)
            .finish()
    }
}

impl ServiceAccount {
    /// Reads and checks the file; errors name `IAMConfigFile`, the path and the field.
    pub(crate) fn load(path: &str) -> Result<ServiceAccount, AccessError> {
        let error = |problem: String| AccessError { key: FILE_KEY, problem };
        let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read {path}: {e}")))?;
        ServiceAccount::from_json(&text).map_err(|p| error(format!("{path}: {p}")))
    }

    /// `{"uid", "private_key", "login_endpoint", "scheme"?}`, keys matched case-insensitively (as the
    /// original's JSON decoder does); other keys are ignored. The message says which field is wrong.
    pub(crate) fn from_json(text: &str) -> Result<ServiceAccount, String> {
        const SHAPE: &str =
            r#"{"uid": ..., "private_key": "-----BEGIN PRIVATE KEY-----...", "login_endpoint": "https://..."}"#;
        let doc: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e}); expected {SHAPE}"))?;
        let Value::Object(members) = doc else {
            return Err(format!("expected a JSON object {SHAPE}"));
        };
        let (mut uid, mut private_key, mut login_endpoint, mut scheme) = (None, None, None, None);
        for (key, value) in &members {
            let slot = match key.to_lowercase().as_str() {
                "uid" => &mut uid,
                "private_key" => &mut private_key,
                "login_endpoint" => &mut login_endpoint,
                "scheme" => &mut scheme,
                _ => continue,
            };
            match value {
                Value::String(s) => *slot = Some(s.as_str()),
                Value::Null => {}
                // The key's value is not echoed, whatever its type.
                _ => return Err(format!("`{key}` must be a string")),
            }
        }
        let required = |value: Option<&str>, field: &str| match value {
            Some(v) if !v.is_empty() => Ok(v.to_owned()),
            _ => Err(format!("`{field}` is missing or empty; expected {SHAPE}")),
        };
        let uid = required(uid, "uid")?;
        let login_endpoint = required(login_endpoint, "login_endpoint")?;
        let private_key = required(private_key, "private_key")?;
        if let Some(s) = scheme.filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("RS256")) {
            return Err(format!("`scheme` is {s:?}: only \"RS256\" is supported"));
        }
        check_endpoint(&login_endpoint).map_err(|p| format!("`login_endpoint` {login_endpoint:?}: {p}"))?;
        let signer = rs256_signer(private_key.as_bytes()).map_err(|p| format!("`private_key`: {p}"))?;
        Ok(ServiceAccount {
            uid,
            login_endpoint,
            signer,
        })
    }

    /// Whether the login endpoint is reached over TLS.
    pub(crate) fn logs_in_over_https(&self) -> bool {
        self.login_endpoint
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    }

    /// The login JWT: `{"alg":"RS256","typ":"JWT"}`, `{"exp": exp, "uid": uid}`, signed with
    /// RSASSA-PKCS1-v1_5 and SHA-256 (RFC 7518 section 3.3), each part base64url without padding.
    pub(crate) fn login_jwt(&self, exp: u64) -> Result<String, String> {
        let mut jwt = base64::encode_url(br#"{"alg":"RS256","typ":"JWT"}"#);
        jwt.push('.');
        let claims = serde_json::json!({"uid": self.uid, "exp": exp});
        base64::encode_url_into(claims.to_string().as_bytes(), &mut jwt);
        let signature = self.signer.sign(jwt.as_bytes()).map_err(|e| e.to_string())?;
        jwt.push('.');
        base64::encode_url_into(&signature, &mut jwt);
        Ok(jwt)
    }
}

/// `http://` or `https://` with a host.
fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let uri: ureq::http::Uri = endpoint.parse().map_err(|e| format!("not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err("expected an http:// or https:// URL".into()),
    }
    if !uri.host().is_some_and(|h| !h.is_empty()) {
        return Err("the URL has no host".into());
    }
    Ok(())
}

/// An RS256 signer from a PEM RSA key, PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE
/// KEY`). rustls's ring provider does the signing, so no other crypto crate is needed.
fn rs256_signer(pem: &[u8]) -> Result<Box<dyn Signer>, String> {
    let der = PrivateKeyDer::from_pem_slice(pem).map_err(|e| format!("no PEM private key in it ({e})"))?;
    let key = RsaSigningKey::new(&der)
        .map_err(|_| "not a usable RSA private key (PKCS#1 or PKCS#8 PEM, 2048 to 8192 bits)".to_string())?;
    key.choose_scheme(&[SignatureScheme::RSA_PKCS1_SHA256])
        .ok_or_else(|| "the key cannot sign RS256".to_string())
}

/// The `exp` claim of a JWT (seconds since the epoch), if `token` is one.
pub(crate) fn jwt_exp(token: &str) -> Option<u64> {
    let mut parts = token.split('.');
    let (_header, claims, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let claims: Value = serde_json::from_slice(&base64::decode_url(claims)?).ok()?;
    let exp = claims.get("exp")?;
    exp.as_u64()
        .or_else(|| exp.as_f64().filter(|e| *e >= 0.0).map(|e| e as u64))
}

/// Which token to send and when to log in again, on the caller's clock (seconds since the epoch).
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    current: Option<Cached>,
}

#[derive(Debug)]
struct Cached {
    /// `token=<token>`.
    header: String,
    /// From this second on, log in again.
    renew_at: u64,
}

impl TokenCache {
    /// The `Authorization` value to send at `now`; `None`: log in first.
    pub(crate) fn header(&self, now: u64) -> Option<&str> {
        self.current
            .as_ref()
            .filter(|c| now < c.renew_at)
            .map(|c| c.header.as_str())
    }

    /// A login at `now` that asked for `requested_exp` got `token`: returns the header to send, and keeps
    /// it until shortly before the token expires (its own `exp` if it is a JWT, else the one asked for).
    pub(crate) fn issued(&mut self, token: &str, requested_exp: u64, now: u64) -> String {
        let expires = jwt_exp(token).unwrap_or(requested_exp);
        let margin = (expires.saturating_sub(now) / 4).clamp(1, RENEW_BEFORE);
        let header = format!("token={token}");
        self.current = Some(Cached {
            header: header.clone(),
            renew_at: expires.saturating_sub(margin),
        });
        header
    }

    /// A master refused `header` (HTTP 401): the next request logs in again, unless another request
    /// has already replaced that token.
    pub(crate) fn refused(&mut self, header: &str) {
        if self.current.as_ref().is_some_and(|c| c.header == header) {
            self.current = None;
        }
    }
}

/// The service account's logins and the token they gave, shared by every request to the masters (the
/// state fetches and the event stream).
pub(crate) struct IamLogin {
    account: ServiceAccount,
    agent: ureq::Agent,
    /// Whether the endpoint's certificate is checked against the system bundle (for the hint).
    system_bundle: bool,
    /// Held while logging in, so that two requests wanting a token at once log in once.
    cache: Mutex<TokenCache>,
}

impl fmt::Debug for IamLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamLogin").field("account", &self.account).finish()
    }
}

impl IamLogin {
    /// Logs in as `account` with `agent` (the masters' TLS settings and timeouts).
    pub(crate) fn new(account: ServiceAccount, agent: ureq::Agent, system_bundle: bool) -> IamLogin {
        IamLogin {
            account,
            agent,
            system_bundle,
            cache: Mutex::new(TokenCache::default()),
        }
    }

    /// The `Authorization` value for a request now: the cached token, or a fresh one.
    pub(crate) fn authorization(&self) -> Result<String, IamError> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let now = unix_now();
        if let Some(header) = cache.header(now) {
            return Ok(header.to_owned());
        }
        let requested_exp = now + LOGIN_TOKEN_LIFETIME;
        let token = self.login(requested_exp).map_err(|problem| IamError {
            endpoint: self.account.login_endpoint.clone(),
            problem,
        })?;
        log::info!(
            "logged in at {} as {} (IAM token until {})",
            self.account.login_endpoint,
            self.account.uid,
            jwt_exp(&token).unwrap_or(requested_exp)
        );
        Ok(cache.issued(&token, requested_exp, now))
    }

    /// A master answered 401 to `header`.
    pub(crate) fn refused(&self, header: &str) {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .refused(header);
    }

    /// `POST login_endpoint {"uid", "token": <login JWT>}` -> `{"token": ...}`.
    fn login(&self, exp: u64) -> Result<String, LoginProblem> {
        let jwt = self.account.login_jwt(exp).map_err(LoginProblem::Sign)?;
        let body = serde_json::json!({"uid": self.account.uid, "token": jwt}).to_string();
        let request = self
            .agent
            .post(&self.account.login_endpoint)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        let mut resp = match request.send(body.as_str()) {
            Ok(r) => r,
            Err(e) => {
                return Err(match super::crypto::untrusted(&e, self.system_bundle) {
                    Some(u) => LoginProblem::Untrusted(u),
                    None => LoginProblem::Network(e.to_string()),
                })
            }
        };
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(LoginProblem::Status(status));
        }
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(|e| LoginProblem::Network(e.to_string()))?;
        issued_token(&text).map_err(LoginProblem::BadAnswer)
    }
}

/// The `token` of a login answer (the key matched case-insensitively).
fn issued_token(answer: &str) -> Result<String, String> {
    let doc: Value = serde_json::from_str(answer).map_err(|e| format!("not JSON ({e})"))?;
    let token = doc
        .as_object()
        .and_then(|members| members.iter().find(|(k, _)| k.eq_ignore_ascii_case("token")))
        .and_then(|(_, v)| v.as_str())
        .filter(|t| !t.is_empty())
        .ok_or("no `token` string in it")?;
    // The token goes into a header: refuse what cannot be sent as one.
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the token holds characters a header cannot carry".into());
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests;
