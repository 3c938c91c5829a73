//! Shared set-up for the benchmarks: keys generated with `openssl`, and the same realistic
//! ~500-byte-payload token per algorithm for tokengate and jsonwebtoken (aws-lc-rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{jwk::Jwk as JwtJwk, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tokengate::{Algorithm, JwkSet, Policy};

pub const ISS: &str = "https://login.example.com/realms/production";
pub const AUD: &str = "orders-api";

/// A realistic access token (Keycloak-like), ~500 bytes of JSON.
#[derive(Serialize, Deserialize)]
pub struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: u64,
    iat: u64,
    nbf: u64,
    jti: String,
    azp: String,
    scope: String,
    sid: String,
    email: String,
    email_verified: bool,
    name: String,
    preferred_username: String,
    realm_access: RealmAccess,
    groups: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct RealmAccess {
    roles: Vec<String>,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn claims() -> Claims {
    let now = now();
    Claims {
        iss: ISS.into(),
        sub: "f3c2a7d1-6b8e-4c1f-9a2d-5e7b8c9d0a1b".into(),
        aud: AUD.into(),
        exp: now + 3600,
        iat: now,
        nbf: now,
        jti: "0b9f6c2e-3d4a-4e5b-8c7d-1f2a3b4c5d6e".into(),
        azp: "storefront-web".into(),
        scope: "openid profile email orders:read orders:write".into(),
        sid: "7a8b9c0d-1e2f-3a4b-5c6d-7e8f9a0b1c2d".into(),
        email: "alice.liddell@example.com".into(),
        email_verified: true,
        name: "Alice Liddell".into(),
        preferred_username: "alice".into(),
        realm_access: RealmAccess {
            roles: vec![
                "default-roles-production".into(),
                "offline_access".into(),
                "customer".into(),
            ],
        },
        groups: vec!["/customers/eu".into(), "/beta-testers".into()],
    }
}

fn openssl(args: &[&str]) {
    let ok = Command::new("openssl")
        .args(args)
        .status()
        .expect("openssl")
        .success();
    assert!(ok, "openssl {args:?} failed");
}

pub struct Case {
    pub name: &'static str,
    pub alg: Algorithm,
    pub token: String,
    pub ours: JwkSet,
    pub theirs: DecodingKey,
    pub theirs_alg: jsonwebtoken::Algorithm,
}

fn case(
    name: &'static str,
    alg: Algorithm,
    theirs_alg: jsonwebtoken::Algorithm,
    enc: EncodingKey,
) -> Case {
    let mut header = Header::new(theirs_alg);
    header.kid = Some("bench".into());
    let token = jsonwebtoken::encode(&header, &claims(), &enc).unwrap();
    let mut jwk = JwtJwk::from_encoding_key(&enc, theirs_alg).unwrap();
    jwk.common.key_id = Some("bench".into());
    let theirs = DecodingKey::from_jwk(&jwk).unwrap();
    let ours = JwkSet::from_value(&serde_json::json!({ "keys": [jwk] })).unwrap();
    Case {
        name,
        alg,
        token,
        ours,
        theirs,
        theirs_alg,
    }
}

pub fn cases() -> Vec<Case> {
    let dir = std::env::temp_dir().join(format!("tokengate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
    openssl(&[
        "genpkey",
        "-quiet",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &path("rsa.pem"),
    ]);
    openssl(&[
        "genpkey",
        "-quiet",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        &path("ec.pem"),
    ]);
    openssl(&[
        "genpkey",
        "-quiet",
        "-algorithm",
        "ED25519",
        "-out",
        &path("ed.pem"),
    ]);
    let read = |f: &str| std::fs::read(Path::new(&path(f))).unwrap();
    let rsa = || EncodingKey::from_rsa_pem(&read("rsa.pem")).unwrap();
    use jsonwebtoken::Algorithm as J;
    let cases = vec![
        case(
            "HS256",
            Algorithm::HS256,
            J::HS256,
            EncodingKey::from_secret(&[0x5a; 32]),
        ),
        case("RS256", Algorithm::RS256, J::RS256, rsa()),
        case("PS256", Algorithm::PS256, J::PS256, rsa()),
        case(
            "ES256",
            Algorithm::ES256,
            J::ES256,
            EncodingKey::from_ec_pem(&read("ec.pem")).unwrap(),
        ),
        case(
            "EdDSA",
            Algorithm::EdDSA,
            J::EdDSA,
            EncodingKey::from_ed_pem(&read("ed.pem")).unwrap(),
        ),
    ];
    // The keys are read: leave nothing behind in the temporary directory.
    std::fs::remove_dir_all(&dir).unwrap();
    cases
}

impl Case {
    /// tokengate's policy and jsonwebtoken's validation for this case: same algorithm,
    /// issuer and audience.
    pub fn checks(&self) -> (Policy, Validation) {
        let policy = Policy::builder()
            .algorithms([self.alg])
            .issuer(ISS)
            .audience(AUD)
            .build()
            .unwrap();
        let mut validation = Validation::new(self.theirs_alg);
        validation.set_issuer(&[ISS]);
        validation.set_audience(&[AUD]);
        (policy, validation)
    }
}
