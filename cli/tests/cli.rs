//! The `tokengate` binary, run as a user would: exit codes, JSON verdicts, stdin, batches.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokengate::base64url_encode as b64;

const SECRET: [u8; 32] = [9; 32];
const NOW: i64 = 1_800_000_000;

fn mint(claims: Value) -> String {
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"HS256","kid":"k1"}"#),
        b64(claims.to_string().as_bytes())
    );
    let mut m = Hmac::<Sha256>::new_from_slice(&SECRET).unwrap();
    m.update(input.as_bytes());
    format!("{input}.{}", b64(&m.finalize().into_bytes()))
}

fn jwks() -> Value {
    json!({"keys": [{"kty": "oct", "kid": "k1", "k": b64(&SECRET)}]})
}

fn claims() -> Value {
    json!({"iss": "https://idp", "sub": "alice", "aud": "api", "exp": NOW + 60, "iat": NOW - 1, "jti": "j1"})
}

fn tmp(name: &str, content: &str) -> PathBuf {
    // Cargo's scratch directory for integration tests (under target/), not the system's.
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokengate"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The command may exit before reading its input (usage errors): a broken pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    (
        status.code().unwrap(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

fn json_out(s: &str) -> Value {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn verify_prints_claims_and_exits_zero_for_a_valid_token() {
    let keys = tmp("jwks1.json", &jwks().to_string());
    let token = mint(claims());
    let now = NOW.to_string();
    let (code, out, _) = run(
        &[
            "verify",
            "--jwks",
            keys.to_str().unwrap(),
            "--iss",
            "https://idp",
            "--aud",
            "api",
            "--now",
            &now,
            &token,
        ],
        "",
    );
    assert_eq!(code, 0, "{out}");
    let v = json_out(&out);
    assert_eq!(v["valid"], true);
    assert_eq!(v["claims"]["sub"], "alice");
    assert_eq!(v["header"], json!({"alg": "HS256", "kid": "k1"}));
}

#[test]
fn verify_reads_the_token_from_stdin_and_reports_codes() {
    let keys = tmp("jwks2.json", &jwks().to_string());
    let token = mint(claims());
    let k = keys.to_str().unwrap();
    let (code, out, _) = run(
        &["verify", "--jwks", k, "--now", "1800000120", "-"],
        &format!("{token}\n"),
    );
    assert_eq!(code, 1);
    let v = json_out(&out);
    assert_eq!(v["code"], "ERR_JWT_EXPIRED");
    assert_eq!(v["claim"], "exp");
    assert!(!out.contains(&token), "the token must not be echoed");

    let (code, out, _) = run(
        &[
            "verify",
            "--jwks",
            k,
            "--alg",
            "RS256",
            "--now",
            "1800000000",
            "-",
        ],
        &token,
    );
    assert_eq!(
        (code, json_out(&out)["code"].clone()),
        (1, json!("ERR_JOSE_ALG_NOT_ALLOWED"))
    );

    let (code, out, _) = run(
        &[
            "verify",
            "--jwks",
            k,
            "--aud",
            "other",
            "--now",
            "1800000000",
            "-",
        ],
        &token,
    );
    assert_eq!(code, 1);
    assert_eq!(json_out(&out)["reason"], "check_failed");
}

#[test]
fn verify_applies_a_denylist_file() {
    let keys = tmp("jwks3.json", &jwks().to_string());
    let deny = tmp("deny.json", r#"{"jti":["j1"]}"#);
    let (code, out, _) = run(
        &[
            "verify",
            "--jwks",
            keys.to_str().unwrap(),
            "--denylist",
            deny.to_str().unwrap(),
            "--now",
            "1800000000",
            "-",
        ],
        &mint(claims()),
    );
    assert_eq!(
        (code, json_out(&out)["code"].clone()),
        (1, json!("ERR_JWT_REVOKED"))
    );
}

#[test]
fn configuration_and_usage_errors_exit_two() {
    let bad = tmp("bad.json", r#"{"keys":[{"kty":"oct","k":"c2hvcnQ"}]}"#);
    let (code, out, _) = run(&["verify", "--jwks", bad.to_str().unwrap(), "-"], "x.y.z");
    assert_eq!(code, 2);
    assert_eq!(json_out(&out)["code"], "ERR_JWK_INVALID");
    let keys = tmp("jwks4.json", &jwks().to_string());
    let (code, out, _) = run(
        &[
            "verify",
            "--jwks",
            keys.to_str().unwrap(),
            "--alg",
            "none",
            "-",
        ],
        "x.y.z",
    );
    assert_eq!(
        (code, json_out(&out)["code"].clone()),
        (2, json!("ERR_POLICY_INVALID"))
    );
    let (code, _, err) = run(&["verify", "--frobnicate"], "");
    assert_eq!(code, 2);
    assert!(err.contains("unknown option"));
    let (code, _, _) = run(&["verify", "--jwks", "/nonexistent/jwks.json", "t"], "");
    assert_eq!(code, 2);
    let (code, _, _) = run(&[], "");
    assert_eq!(code, 2);
}

#[test]
fn batch_answers_every_line_in_order_and_survives_bad_lines() {
    let good = mint(claims());
    let mut forged = good.clone();
    forged.replace_range(forged.len() - 3.., "AAA");
    let payload_jws = {
        let input = format!("{}.{}", b64(br#"{"alg":"HS256"}"#), b64(b"\x00raw"));
        let mut m = Hmac::<Sha256>::new_from_slice(&SECRET).unwrap();
        m.update(input.as_bytes());
        format!("{input}.{}", b64(&m.finalize().into_bytes()))
    };
    let lines = [
        json!({"id": "good", "token": good, "jwks": jwks(), "policy": {"algorithms": ["HS256"], "audiences": ["api"]}, "now": NOW}).to_string(),
        json!({"id": "forged", "token": forged, "jwks": jwks(), "now": NOW}).to_string(),
        "this is not json".to_string(),
        json!({"id": "badkeys", "token": good, "jwks": {"keys": "nope"}}).to_string(),
        json!({"id": "badpolicy", "token": good, "jwks": jwks(), "policy": {"algorithms": []}}).to_string(),
        json!({"id": "jws", "token": payload_jws, "jwks": jwks(), "mode": "jws"}).to_string(),
        json!({"id": "jwt-of-raw", "token": payload_jws, "jwks": jwks(), "now": NOW, "policy": {"algorithms": ["HS256"], "require_expiration": false}}).to_string(),
        json!({"id": 7, "jwks": jwks()}).to_string(),
        json!({"id": "revoked", "token": good, "jwks": jwks(), "now": NOW, "denylist": {"sub": ["alice"]}}).to_string(),
    ];
    let (code, out, _) = run(&["verify", "--batch"], &lines.join("\n"));
    assert_eq!(code, 0);
    let verdicts: Vec<Value> = out.lines().map(json_out).collect();
    let summary: Vec<(Value, Value, Value)> = verdicts
        .iter()
        .map(|v| (v["id"].clone(), v["valid"].clone(), v["code"].clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!("good"), json!(true), Value::Null),
            (
                json!("forged"),
                json!(false),
                json!("ERR_JWS_SIGNATURE_VERIFICATION_FAILED")
            ),
            (Value::Null, json!(false), json!("ERR_CONFIG_JSON")),
            (json!("badkeys"), json!(false), json!("ERR_JWKS_INVALID")),
            (
                json!("badpolicy"),
                json!(false),
                json!("ERR_POLICY_INVALID")
            ),
            (json!("jws"), json!(true), Value::Null),
            (json!("jwt-of-raw"), json!(false), json!("ERR_JWT_INVALID")),
            (json!(7), json!(false), json!("ERR_POLICY_INVALID")),
            (json!("revoked"), json!(false), json!("ERR_JWT_REVOKED")),
        ]
    );
    assert_eq!(verdicts[0]["claims"]["jti"], "j1");
    assert_eq!(verdicts[5]["payload_base64url"], b64(b"\x00raw"));
    assert!(!out.contains(&good));
}

#[test]
fn inspect_labels_its_output_unverified() {
    let (code, out, _) = run(&["inspect", "-"], &mint(claims()));
    assert_eq!(code, 0);
    let v = json_out(&out);
    assert!(v["UNVERIFIED"].is_string());
    assert_eq!(v["claims"]["sub"], "alice");
    let (code, out, _) = run(&["inspect", "not-a-token"], "");
    assert_eq!(
        (code, json_out(&out)["code"].clone()),
        (1, json!("ERR_JWS_INVALID"))
    );
}

#[test]
fn a_non_utf8_argument_is_a_usage_error_not_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let keys = tmp("jwks-utf8.json", &jwks().to_string());
    for bad in [&b"\xff"[..], b"verify", b"eyJ\x80.x.y"] {
        let mut args: Vec<&std::ffi::OsStr> = vec![std::ffi::OsStr::new("verify")];
        let keys_arg = keys.as_os_str();
        args.extend([std::ffi::OsStr::new("--jwks"), keys_arg]);
        args.push(std::ffi::OsStr::from_bytes(bad));
        if bad == b"verify" {
            args = vec![std::ffi::OsStr::from_bytes(b"\xfeverify")];
        }
        let out = Command::new(env!("CARGO_BIN_EXE_tokengate"))
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("not valid UTF-8"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn an_empty_issuer_or_audience_list_is_refused_and_limits_are_flags() {
    let good = mint(claims());
    for field in ["issuers", "audiences", "subjects"] {
        let line = json!({"id": field, "token": good, "jwks": jwks(), "now": NOW,
                          "policy": {"algorithms": ["HS256"], field: []}})
        .to_string();
        let (code, out, _) = run(&["verify", "--batch"], &line);
        assert_eq!(code, 0);
        let v = json_out(&out);
        assert_eq!(
            (v["valid"].clone(), v["code"].clone()),
            (json!(false), json!("ERR_POLICY_INVALID")),
            "{field}: {out}"
        );
    }
    let keys = tmp("jwks-limits.json", &jwks().to_string());
    let now = NOW.to_string();
    let k = keys.to_str().unwrap();
    let (code, out, _) = run(
        &[
            "verify",
            "--jwks",
            k,
            "--now",
            &now,
            "--max-token-bytes",
            "64",
            "-",
        ],
        &good,
    );
    assert_eq!(
        (code, json_out(&out)["code"].clone()),
        (1, json!("ERR_JWT_TOO_LARGE"))
    );
    let (code, _, _) = run(
        &[
            "verify",
            "--jwks",
            k,
            "--now",
            &now,
            "--max-header-bytes",
            "64",
            "-",
        ],
        &good,
    );
    assert_eq!(code, 0);
    let (code, out, _) = run(
        &[
            "verify",
            "--jwks",
            k,
            "--now",
            &now,
            "--max-header-bytes",
            "8",
            "-",
        ],
        &good,
    );
    assert_eq!(
        (code, json_out(&out)["code"].clone()),
        (2, json!("ERR_POLICY_INVALID"))
    );
}
