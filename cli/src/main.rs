//! `tokengate`: verify JWTs from the command line.
//!
//! ```text
//! tokengate verify --jwks FILE [--alg A]... [--iss I]... [--aud A]... [--sub S] [--typ T]
//!                  [--clock-skew SECS] [--max-lifetime SECS] [--no-require-exp]
//!                  [--max-token-bytes N] [--max-header-bytes N]
//!                  [--require-claim C]... [--now UNIX] [--denylist FILE] TOKEN|-
//! tokengate verify --batch            JSON Lines on stdin, one verdict line per input line
//! tokengate inspect TOKEN|-           header and claims, UNVERIFIED
//! ```
//!
//! `verify` prints one JSON object and exits 0 when the token is valid, 1 when it is not, 2 on
//! a usage or configuration error. Prefer `-` (standard input) to passing the token as an
//! argument, where other users of the machine can see it in the process list.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod args;
mod batch;
mod check;
mod verdict;

use std::io::Read;
use std::process::ExitCode;

use serde_json::json;
use tokengate::{decode_unverified, Denylist, JwkSet, Limits, PolicyConfig};

const USAGE: &str = "usage:
  tokengate verify --jwks FILE [--alg A]... [--iss I]... [--aud A]... [--sub S] [--typ T]
                   [--clock-skew SECS] [--max-lifetime SECS] [--no-require-exp]
                   [--max-token-bytes N] [--max-header-bytes N]
                   [--require-claim C]... [--now UNIX] [--denylist FILE] TOKEN|-
  tokengate verify --batch    (JSON Lines on standard input)
  tokengate inspect TOKEN|-   (decode without verifying: output is UNVERIFIED)

Without --alg, the algorithms of the keys in the JWKS are allowed.
Exit status: 0 valid, 1 invalid, 2 usage or configuration error.";

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("tokengate: {msg}\n\n{USAGE}");
    ExitCode::from(2)
}

fn read_token(arg: &str) -> Result<String, String> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    let mut s = String::new();
    std::io::stdin()
        .take(2 * 1024 * 1024)
        .read_to_string(&mut s)
        .map_err(|e| format!("cannot read the token from standard input: {e}"))?;
    Ok(s.trim().to_string())
}

fn read_file(path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn print_config_error(e: &tokengate::ConfigError) -> ExitCode {
    println!("{}", verdict::config(e));
    ExitCode::from(2)
}

fn verify(args: &[String]) -> ExitCode {
    let a = match args::parse_verify(args) {
        Ok(a) => a,
        Err(e) => return usage_error(&e),
    };
    if a.batch {
        let stdin = std::io::stdin();
        return match batch::run(stdin.lock(), std::io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tokengate: {e}");
                ExitCode::from(2)
            }
        };
    }
    let (Some(jwks_path), Some(token_arg)) = (&a.jwks, &a.token) else {
        return usage_error("--jwks and TOKEN are required");
    };
    let jwks_text = match read_file(jwks_path) {
        Ok(t) => t,
        Err(e) => return usage_error(&e),
    };
    let keys = match JwkSet::from_json(&jwks_text) {
        Ok(k) => k,
        Err(e) => return print_config_error(&e),
    };
    let config = PolicyConfig {
        algorithms: a.algs.clone(),
        // Repeated flags build the lists; no flag leaves the check out (never an empty list).
        issuers: (!a.issuers.is_empty()).then(|| a.issuers.clone()),
        audiences: (!a.audiences.is_empty()).then(|| a.audiences.clone()),
        subjects: (!a.subjects.is_empty()).then(|| a.subjects.clone()),
        typ: a.typ.clone(),
        clock_skew_seconds: a.clock_skew,
        require_expiration: a.no_require_exp.then_some(false),
        max_lifetime_seconds: a.max_lifetime,
        max_token_bytes: a.max_token_bytes,
        max_header_bytes: a.max_header_bytes,
        required_claims: a.required_claims.clone(),
        ..PolicyConfig::default()
    };
    let policy = match check::policy_for(config, &keys) {
        Ok(p) => p,
        Err(e) => return print_config_error(&e),
    };
    let denylist = match &a.denylist {
        None => None,
        Some(path) => match read_file(path).map(|t| Denylist::from_json(&t)) {
            Err(e) => return usage_error(&e),
            Ok(Err(e)) => return print_config_error(&e),
            Ok(Ok(d)) => Some(d),
        },
    };
    let token = match read_token(token_arg) {
        Ok(t) => t,
        Err(e) => return usage_error(&e),
    };
    let now = a.now.unwrap_or_else(check::system_now);
    let (valid, out) = check::run(
        &token,
        &keys,
        &policy,
        denylist.as_ref(),
        now,
        check::Mode::Jwt,
    );
    println!("{out}");
    if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn inspect(args: &[String]) -> ExitCode {
    let [arg] = args else {
        return usage_error("inspect takes exactly one TOKEN (or -)");
    };
    let token = match read_token(arg) {
        Ok(t) => t,
        Err(e) => return usage_error(&e),
    };
    match decode_unverified(&token, &Limits::DEFAULT) {
        Ok(u) => {
            let out = json!({
                "UNVERIFIED": "signature, time claims and policy were NOT checked",
                "header": verdict::header_json(&u.header),
                "claims": serde_json::Value::Object(u.claims.to_object()),
            });
            match serde_json::to_string_pretty(&out) {
                Ok(s) => println!("{s}"),
                Err(_) => println!("{out}"),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{}", verdict::invalid(&e));
            ExitCode::from(1)
        }
    }
}

/// The arguments as UTF-8, or the position of the first one that is not (a token, a path or
/// a name given as raw bytes is a usage error, never a panic).
fn utf8_args(raw: impl Iterator<Item = std::ffi::OsString>) -> Result<Vec<String>, usize> {
    raw.enumerate()
        .map(|(i, a)| a.into_string().map_err(|_| i + 1))
        .collect()
}

fn main() -> ExitCode {
    let args = match utf8_args(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(at) => return usage_error(&format!("argument {at} is not valid UTF-8")),
    };
    match args.first().map(String::as_str) {
        Some("verify") => verify(&args[1..]),
        Some("inspect") => inspect(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("tokengate {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(other) => usage_error(&format!("unknown command {other:?}")),
        None => usage_error("no command"),
    }
}
