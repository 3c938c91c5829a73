//! One JSON Web Key (RFC 7517, RFC 7518 section 6, RFC 8037) turned into a ready-to-use
//! verifying key: the checks run once, the expensive preparation (RSA Montgomery parameters,
//! decompressed curve points, keyed HMAC states) is done once and kept with the key.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use hmac::{Hmac, KeyInit};
use serde_json::{Map, Value};
use sha2::{Sha256, Sha384, Sha512};

use crate::jose::alg::{Algorithm, Curve, KeyFamily};
use crate::jose::b64;
use crate::jose::error::ConfigError;
use crate::jose::json::{Object, ParseFailure, Reader, Scalar};
use crate::signature::roca;

/// Smallest RSA modulus accepted, in bits (RFC 7518 section 3.3 requires 2048).
pub const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits.
pub const RSA_MAX_BITS: usize = 8192;

/// JWK members that carry private key material. A verifier is never handed private keys; a key
/// set that contains them was published by mistake, and is refused rather than half-used.
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth"];

/// The public (or, for `oct`, secret) components of a key, for signature backends that
/// import keys themselves (WebCrypto, a hardware module, a faster verifier).
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum KeyMaterial<'a> {
    /// The HMAC secret.
    Symmetric(&'a [u8]),
    /// RSA modulus and exponent, big-endian without leading zeros.
    Rsa {
        /// Modulus.
        n: &'a [u8],
        /// Public exponent.
        e: &'a [u8],
    },
    /// An EC point, each coordinate the curve's full size.
    Ec {
        /// The curve.
        curve: Curve,
        /// x coordinate.
        x: &'a [u8],
        /// y coordinate.
        y: &'a [u8],
    },
    /// An Ed25519 public key.
    Ed25519(&'a [u8; 32]),
}

impl fmt::Debug for KeyMaterial<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyMaterial::Symmetric(k) => write!(f, "Symmetric({} bytes, redacted)", k.len()),
            KeyMaterial::Rsa { n, .. } => write!(f, "Rsa({} bits)", n.len() * 8),
            KeyMaterial::Ec { curve, .. } => write!(f, "Ec({})", curve.name()),
            KeyMaterial::Ed25519(_) => f.write_str("Ed25519"),
        }
    }
}

/// Keyed HMAC states, one per hash the secret is long enough (and allowed) for.
#[derive(Clone)]
pub(crate) struct HmacKeys {
    pub(crate) secret: Vec<u8>,
    pub(crate) hs256: Option<Hmac<Sha256>>,
    pub(crate) hs384: Option<Hmac<Sha384>>,
    pub(crate) hs512: Option<Hmac<Sha512>>,
}

impl Drop for HmacKeys {
    fn drop(&mut self) {
        // Best effort: overwrite the secret before its memory is returned. (The keyed hash
        // states hold only derived values.)
        for b in self.secret.iter_mut() {
            // A volatile-free write can be elided; `black_box` discourages that.
            *b = core::hint::black_box(0);
        }
    }
}

/// The prepared form of a key: what [`crate::FastVerify`] uses, and with the `reference`
/// feature the RustCrypto key for the [`crate::RustCrypto`] reference backend as well.
#[derive(Clone)]
pub(crate) enum Prepared {
    // Boxed: three keyed hash states are ~800 bytes, the other variants a fraction of that.
    Hmac(alloc::boxed::Box<HmacKeys>),
    Rsa {
        #[cfg(feature = "reference")]
        key: rsa::PublicKey,
        /// The key for [`crate::FastVerify`], its Montgomery constants computed on first use;
        /// it holds the modulus `n`.
        fast: crate::signature::rsa_verify::RsaVerifyKey,
        e: Vec<u8>,
    },
    P256 {
        #[cfg(feature = "reference")]
        key: p256::ecdsa::VerifyingKey,
        /// The key for [`crate::FastVerify`], with its comb table once warm.
        #[cfg(feature = "public-key-verify")]
        fast: crate::signature::ec_verify::EcVerifyKey,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    P384 {
        #[cfg(feature = "reference")]
        key: p384::ecdsa::VerifyingKey,
        /// As for P-256.
        #[cfg(feature = "public-key-verify")]
        fast: crate::signature::ec_verify::EcVerifyKey,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    P521 {
        #[cfg(feature = "reference")]
        key: p521::ecdsa::VerifyingKey,
        /// As for P-256.
        #[cfg(feature = "public-key-verify")]
        fast: crate::signature::ec_verify::EcVerifyKey,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Ed25519 {
        /// Decompressed at parse (which validates the point); read by the verifying backends.
        #[cfg_attr(
            not(any(feature = "public-key-verify", feature = "reference")),
            allow(dead_code)
        )]
        key: ed25519_dalek::VerifyingKey,
        x: [u8; 32],
    },
}

/// A verifying key parsed from a JWK.
#[derive(Clone)]
pub struct Jwk {
    kid: Option<String>,
    alg: Option<Algorithm>,
    pub(crate) prepared: Prepared,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("material", &self.material())
            .finish()
    }
}

impl Jwk {
    /// Builds this key's fast-verify tables now (see [`crate::JwkSet::warm`]).
    pub(crate) fn warm(&self) {
        match &self.prepared {
            Prepared::Rsa { fast, .. } => fast.warm(),
            #[cfg(feature = "public-key-verify")]
            Prepared::P256 { fast, .. }
            | Prepared::P384 { fast, .. }
            | Prepared::P521 { fast, .. } => fast.warm(),
            _ => {}
        }
    }

    /// Parses one JWK from JSON text.
    pub fn from_json(json: &str) -> Result<Jwk, ConfigError> {
        let mut r = Reader::new(json, 8, 64);
        let read = match r.top_object() {
            Ok(Some(object)) => {
                Members::read(&mut r, object).and_then(|members| r.finish().map(|()| Some(members)))
            }
            other => other.map(|_| None),
        }
        .map_err(|f| f.config_error("jwk", |reason| ConfigError::jwk("", reason)))?;
        match read {
            Some(members) => Jwk::from_members(&members),
            None => Err(ConfigError::jwk("", "a JWK must be a JSON object")),
        }
    }

    /// Parses one JWK from a serde_json object (by way of its JSON text, so that one reader
    /// decides every key).
    pub fn from_object(jwk: &Map<String, Value>) -> Result<Jwk, ConfigError> {
        Jwk::from_json(&Value::Object(jwk.clone()).to_string())
    }

    /// Builds one JWK from its members.
    ///
    /// Unsupported keys (unknown `kty`, `crv` or `alg`, `use` other than `sig`, `key_ops`
    /// without `verify`) give [`ConfigError::JwkUnsupported`]; supported keys that are
    /// malformed or weak give [`ConfigError::Jwk`].
    pub(crate) fn from_members(jwk: &Members<'_>) -> Result<Jwk, ConfigError> {
        let kty = match jwk.get("kty") {
            None => return Err(ConfigError::jwk("kty", "missing")),
            Some(Member::Str(s)) => &**s,
            Some(_) => return Err(ConfigError::jwk("kty", "must be a string")),
        };
        check_use(jwk)?;
        let alg = match opt_str(jwk, "alg")? {
            None => None,
            Some(name) => Some(
                Algorithm::from_name(name).ok_or(ConfigError::JwkUnsupported {
                    reason: "\"alg\" is not a supported JWS algorithm",
                })?,
            ),
        };
        let kid = opt_str(jwk, "kid")?.map(String::from);
        let prepared = match kty {
            "RSA" => {
                reject_private(jwk)?;
                rsa_key(jwk)?
            }
            "EC" => {
                reject_private(jwk)?;
                ec_key(jwk)?
            }
            "OKP" => {
                reject_private(jwk)?;
                okp_key(jwk)?
            }
            "oct" => hmac_keys(jwk, alg)?,
            _ => {
                return Err(ConfigError::JwkUnsupported {
                    reason: "\"kty\" is not RSA, EC, OKP or oct",
                })
            }
        };
        let key = Jwk { kid, alg, prepared };
        if let Some(alg) = alg {
            if !key.family_matches(alg) {
                return Err(ConfigError::jwk(
                    "alg",
                    "does not match the key type or curve",
                ));
            }
        }
        Ok(key)
    }

    /// `kid`
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// `alg`, when the JWK names one.
    pub fn alg(&self) -> Option<Algorithm> {
        self.alg
    }

    /// Whether this is a symmetric (`oct`) key.
    pub fn is_symmetric(&self) -> bool {
        matches!(self.prepared, Prepared::Hmac(_))
    }

    /// The raw key components.
    pub fn material(&self) -> KeyMaterial<'_> {
        match &self.prepared {
            Prepared::Hmac(h) => KeyMaterial::Symmetric(&h.secret),
            Prepared::Rsa { fast, e, .. } => KeyMaterial::Rsa { n: fast.n(), e },
            Prepared::P256 { x, y, .. } => KeyMaterial::Ec {
                curve: Curve::P256,
                x,
                y,
            },
            Prepared::P384 { x, y, .. } => KeyMaterial::Ec {
                curve: Curve::P384,
                x,
                y,
            },
            Prepared::P521 { x, y, .. } => KeyMaterial::Ec {
                curve: Curve::P521,
                x,
                y,
            },
            Prepared::Ed25519 { x, .. } => KeyMaterial::Ed25519(x),
        }
    }

    fn family_matches(&self, alg: Algorithm) -> bool {
        match (alg.key_family(), &self.prepared) {
            (KeyFamily::Symmetric, Prepared::Hmac(h)) => match alg {
                Algorithm::HS256 => h.hs256.is_some(),
                Algorithm::HS384 => h.hs384.is_some(),
                _ => h.hs512.is_some(),
            },
            (KeyFamily::Rsa, Prepared::Rsa { .. }) => true,
            (KeyFamily::Ec(Curve::P256), Prepared::P256 { .. }) => true,
            (KeyFamily::Ec(Curve::P384), Prepared::P384 { .. }) => true,
            (KeyFamily::Ec(Curve::P521), Prepared::P521 { .. }) => true,
            (KeyFamily::Ed25519, Prepared::Ed25519 { .. }) => true,
            _ => false,
        }
    }

    /// Whether this key may verify a token signed with `alg`: the key type (and curve, and
    /// for HMAC the secret's length) fits, and the JWK's own `alg`, when present, is equal.
    pub fn supports(&self, alg: Algorithm) -> bool {
        self.alg.is_none_or(|a| a == alg) && self.family_matches(alg)
    }
}

/// One JWK's members as read: strings kept (borrowed from the document), arrays of strings
/// (`key_ops`) kept, anything else only noted as present. Names are unique (the reader refuses
/// duplicates).
pub(crate) struct Members<'a>(Vec<(Cow<'a, str>, Member<'a>)>);

/// A JWK member's value, as far as any JWK rule looks at it.
pub(crate) enum Member<'a> {
    Str(Cow<'a, str>),
    Strings(Vec<Cow<'a, str>>),
    Other,
}

impl<'a> Members<'a> {
    /// Reads the members of the JWK `object` (just opened).
    pub(crate) fn read(
        r: &mut Reader<'a>,
        mut object: Object<'a>,
    ) -> Result<Members<'a>, ParseFailure> {
        let inner = object.inner();
        let mut out = Vec::new();
        while let Some(name) = object.next(r)? {
            let value = match r.peek() {
                Some(b'[') => r
                    .strings(inner, |s| s)?
                    .map_or(Member::Other, Member::Strings),
                _ => match r.scalar(inner)? {
                    Scalar::Str(s) => Member::Str(s),
                    _ => Member::Other,
                },
            };
            out.push((name, value));
        }
        Ok(Members(out))
    }

    fn get(&self, name: &str) -> Option<&Member<'a>> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

fn opt_str<'a>(jwk: &'a Members<'_>, member: &'static str) -> Result<Option<&'a str>, ConfigError> {
    match jwk.get(member) {
        None => Ok(None),
        Some(Member::Str(s)) => Ok(Some(s)),
        Some(_) => Err(ConfigError::jwk(member, "must be a string")),
    }
}

fn check_use(jwk: &Members<'_>) -> Result<(), ConfigError> {
    if let Some(u) = opt_str(jwk, "use")? {
        if u != "sig" {
            return Err(ConfigError::JwkUnsupported {
                reason: "\"use\" is not \"sig\"",
            });
        }
    }
    match jwk.get("key_ops") {
        None => Ok(()),
        Some(Member::Strings(ops)) => {
            if ops.iter().any(|o| o == "verify") {
                Ok(())
            } else {
                Err(ConfigError::JwkUnsupported {
                    reason: "\"key_ops\" does not include \"verify\"",
                })
            }
        }
        Some(_) => Err(ConfigError::jwk("key_ops", "must be an array of strings")),
    }
}

fn reject_private(jwk: &Members<'_>) -> Result<(), ConfigError> {
    if PRIVATE_MEMBERS.iter().any(|m| jwk.get(m).is_some()) {
        return Err(ConfigError::jwk("d", "contains private key material"));
    }
    Ok(())
}

/// A required base64url member.
fn bytes(jwk: &Members<'_>, member: &'static str) -> Result<Vec<u8>, ConfigError> {
    let s = opt_str(jwk, member)?.ok_or(ConfigError::jwk(member, "missing"))?;
    b64::decode(s.as_bytes()).ok_or(ConfigError::jwk(member, "not strict base64url"))
}

fn strip_leading_zeros(v: &[u8]) -> &[u8] {
    let first = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    &v[first..]
}

fn rsa_key(jwk: &Members<'_>) -> Result<Prepared, ConfigError> {
    let n_raw = bytes(jwk, "n")?;
    let e_raw = bytes(jwk, "e")?;
    let n = strip_leading_zeros(&n_raw).to_vec();
    let e = strip_leading_zeros(&e_raw).to_vec();
    if n.is_empty() {
        return Err(ConfigError::jwk("n", "is zero"));
    }
    if e.is_empty() || e.len() > 8 {
        return Err(ConfigError::jwk("e", "out of range"));
    }
    let bits = n.len() * 8 - n[0].leading_zeros() as usize;
    if bits < RSA_MIN_BITS {
        return Err(ConfigError::jwk("n", "RSA modulus shorter than 2048 bits"));
    }
    if bits > RSA_MAX_BITS {
        return Err(ConfigError::jwk("n", "RSA modulus longer than 8192 bits"));
    }
    if roca::is_vulnerable(&n) {
        return Err(ConfigError::jwk(
            "n",
            "RSA modulus has the ROCA fingerprint (CVE-2017-15361)",
        ));
    }
    // The `rsa` crate's public-key rules (its `PublicKey::new`), kept here so that a build
    // without the reference backend refuses the same keys: an odd modulus, and an odd
    // exponent in [3, 2^33 - 1] (so below any accepted modulus).
    const INVALID: ConfigError =
        ConfigError::jwk("e", "invalid RSA public key (exponent or modulus)");
    let e_value = e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    if n[n.len() - 1] & 1 == 0 || e_value & 1 == 0 || !(3..(1 << 33)).contains(&e_value) {
        return Err(INVALID);
    }
    #[cfg(feature = "reference")]
    let key = rsa::PublicKey::new_with_size_limits(
        rsa::BoxedUint::from_be_slice_vartime(&n),
        rsa::BoxedUint::from_be_slice_vartime(&e),
        RSA_MIN_BITS..=RSA_MAX_BITS,
    )
    .map_err(|_| INVALID)?;
    let fast = crate::signature::rsa_verify::RsaVerifyKey::new(n, &e).ok_or(ConfigError::jwk(
        "n",
        "invalid RSA public key (exponent or modulus)",
    ))?;
    Ok(Prepared::Rsa {
        #[cfg(feature = "reference")]
        key,
        fast,
        e,
    })
}

fn ec_key(jwk: &Members<'_>) -> Result<Prepared, ConfigError> {
    let curve = match opt_str(jwk, "crv")? {
        None => return Err(ConfigError::jwk("crv", "missing")),
        Some("P-256") => Curve::P256,
        Some("P-384") => Curve::P384,
        Some("P-521") => Curve::P521,
        Some(_) => {
            return Err(ConfigError::JwkUnsupported {
                reason: "EC \"crv\" is not P-256, P-384 or P-521",
            })
        }
    };
    let len = curve.field_bytes();
    let x = coordinate(jwk, "x", len)?;
    let y = coordinate(jwk, "y", len)?;
    const NOT_ON_CURVE: ConfigError = ConfigError::Jwk {
        index: None,
        member: "y",
        reason: "point is not on the curve",
    };
    #[cfg(feature = "public-key-verify")]
    use crate::signature::ec_verify::EcVerifyKey;
    // The fast key validates the point (coordinates below p, on the curve); the reference
    // key, when built, validates it again. A build without the fast key's arithmetic
    // (`public-key-verify` off) checks the same with the compact check.
    #[cfg(not(feature = "public-key-verify"))]
    if !crate::signature::ec_verify::is_curve_point(curve, &x, &y) {
        return Err(NOT_ON_CURVE);
    }
    #[cfg(feature = "reference")]
    let sec1 = [&[0x04][..], &x, &y].concat();
    Ok(match curve {
        Curve::P256 => Prepared::P256 {
            #[cfg(feature = "reference")]
            key: p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| NOT_ON_CURVE)?,
            #[cfg(feature = "public-key-verify")]
            fast: EcVerifyKey::p256(&x, &y).ok_or(NOT_ON_CURVE)?,
            x,
            y,
        },
        Curve::P384 => Prepared::P384 {
            #[cfg(feature = "reference")]
            key: p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| NOT_ON_CURVE)?,
            #[cfg(feature = "public-key-verify")]
            fast: EcVerifyKey::p384(&x, &y).ok_or(NOT_ON_CURVE)?,
            x,
            y,
        },
        Curve::P521 => Prepared::P521 {
            #[cfg(feature = "reference")]
            key: p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| NOT_ON_CURVE)?,
            #[cfg(feature = "public-key-verify")]
            fast: EcVerifyKey::p521(&x, &y).ok_or(NOT_ON_CURVE)?,
            x,
            y,
        },
    })
}

/// An EC coordinate. RFC 7518 6.2.1.2 asks for the full coordinate size; some issuers drop
/// leading zero bytes (seen for P-521), which leaves the value unambiguous, so a shorter
/// coordinate is left-padded. A longer one is refused.
fn coordinate(jwk: &Members<'_>, member: &'static str, len: usize) -> Result<Vec<u8>, ConfigError> {
    let raw = bytes(jwk, member)?;
    if raw.len() > len || raw.is_empty() {
        return Err(ConfigError::jwk(
            member,
            "not the curve's coordinate length",
        ));
    }
    let mut out = alloc::vec![0u8; len - raw.len()];
    out.extend_from_slice(&raw);
    Ok(out)
}

fn okp_key(jwk: &Members<'_>) -> Result<Prepared, ConfigError> {
    match opt_str(jwk, "crv")? {
        None => return Err(ConfigError::jwk("crv", "missing")),
        Some("Ed25519") => {}
        Some(_) => {
            return Err(ConfigError::JwkUnsupported {
                reason: "OKP \"crv\" is not Ed25519",
            })
        }
    }
    let x_vec = bytes(jwk, "x")?;
    let x: [u8; 32] = x_vec
        .as_slice()
        .try_into()
        .map_err(|_| ConfigError::jwk("x", "an Ed25519 key is 32 bytes"))?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&x)
        .map_err(|_| ConfigError::jwk("x", "not a valid Ed25519 point"))?;
    if key.is_weak() {
        return Err(ConfigError::jwk("x", "Ed25519 key of small order"));
    }
    Ok(Prepared::Ed25519 { key, x })
}

fn hmac_keys(jwk: &Members<'_>, alg: Option<Algorithm>) -> Result<Prepared, ConfigError> {
    let secret = bytes(jwk, "k")?;
    // RFC 7518 3.2: a key of the same size as the hash output or larger MUST be used.
    let needed = match alg {
        Some(a) if a.is_symmetric() => a.hash_len(),
        _ => 32,
    };
    if secret.len() < needed {
        return Err(ConfigError::jwk(
            "k",
            "HMAC key shorter than the hash output",
        ));
    }
    let allowed = |a: Algorithm| alg.is_none_or(|x| x == a) && secret.len() >= a.hash_len();
    let keys = HmacKeys {
        hs256: if allowed(Algorithm::HS256) {
            Hmac::<Sha256>::new_from_slice(&secret).ok()
        } else {
            None
        },
        hs384: if allowed(Algorithm::HS384) {
            Hmac::<Sha384>::new_from_slice(&secret).ok()
        } else {
            None
        },
        hs512: if allowed(Algorithm::HS512) {
            Hmac::<Sha512>::new_from_slice(&secret).ok()
        } else {
            None
        },
        secret,
    };
    Ok(Prepared::Hmac(alloc::boxed::Box::new(keys)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC_X: &str = "04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY";
    const EC_Y: &str = "UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw";

    fn ec(extra: &str) -> String {
        alloc::format!(r#"{{"kty":"EC","crv":"P-256","x":"{EC_X}","y":"{EC_Y}"{extra}}}"#)
    }

    /// A point off the curve, or a coordinate at or above `p`, is refused at parse in every
    /// build: by the fast key's check, or without `public-key-verify` by the compact one.
    #[test]
    fn off_curve_points_are_refused() {
        assert!(Jwk::from_json(&ec("")).is_ok());
        let y = crate::base64url_decode(EC_Y.as_bytes()).unwrap_or_default();
        let mut nudged = y.clone();
        nudged[31] ^= 1;
        let p256_p = [
            0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        for bad_y in [nudged, p256_p.to_vec(), alloc::vec![0xff; 32]] {
            let jwk = alloc::format!(
                r#"{{"kty":"EC","crv":"P-256","x":"{EC_X}","y":"{}"}}"#,
                crate::base64url_encode(&bad_y)
            );
            match Jwk::from_json(&jwk) {
                Err(ConfigError::Jwk { member, reason, .. }) => {
                    assert_eq!((member, reason), ("y", "point is not on the curve"));
                }
                other => unreachable!("{other:?}"),
            }
        }
    }

    #[test]
    fn parses_ec_key_and_derives_supported_algorithms() {
        let k = Jwk::from_json(&ec(r#","kid":"k1""#)).unwrap();
        assert_eq!(k.kid(), Some("k1"));
        assert!(k.supports(Algorithm::ES256));
        assert!(!k.supports(Algorithm::ES384));
        assert!(!k.supports(Algorithm::HS256));
        assert!(!k.is_symmetric());
    }

    #[test]
    fn jwk_alg_must_fit_the_key() {
        let e = Jwk::from_json(&ec(r#","alg":"RS256""#)).unwrap_err();
        assert_eq!(e.code(), "ERR_JWK_INVALID");
        let e = Jwk::from_json(&ec(r#","alg":"ES521""#)).unwrap_err();
        assert_eq!(e.code(), "ERR_JWK_UNSUPPORTED");
    }

    #[test]
    fn use_and_key_ops_must_allow_verification() {
        assert_eq!(
            Jwk::from_json(&ec(r#","use":"enc""#)).unwrap_err().code(),
            "ERR_JWK_UNSUPPORTED"
        );
        assert_eq!(
            Jwk::from_json(&ec(r#","key_ops":["sign"]"#))
                .unwrap_err()
                .code(),
            "ERR_JWK_UNSUPPORTED"
        );
        assert!(Jwk::from_json(&ec(r#","key_ops":["verify"],"use":"sig""#)).is_ok());
    }

    #[test]
    fn refuses_private_material_and_bad_points() {
        assert_eq!(
            Jwk::from_json(&ec(r#","d":"AAAA""#)).unwrap_err().code(),
            "ERR_JWK_INVALID"
        );
        let bad = ec("").replace("9nVgmw", "9nVgnw");
        assert_eq!(Jwk::from_json(&bad).unwrap_err().code(), "ERR_JWK_INVALID");
        let short = ec("").replace(EC_X, "AAAA");
        assert_eq!(
            Jwk::from_json(&short).unwrap_err().code(),
            "ERR_JWK_INVALID"
        );
    }

    #[test]
    fn hmac_key_length_follows_rfc7518() {
        let k31 = b64::encode(&[7u8; 31]);
        let k32 = b64::encode(&[7u8; 32]);
        let k48 = b64::encode(&[7u8; 48]);
        let j = |k: &str, alg: &str| alloc::format!(r#"{{"kty":"oct","k":"{k}"{alg}}}"#);
        assert!(Jwk::from_json(&j(&k31, "")).is_err());
        let key = Jwk::from_json(&j(&k32, "")).unwrap();
        assert!(key.supports(Algorithm::HS256) && !key.supports(Algorithm::HS384));
        assert!(Jwk::from_json(&j(&k32, r#","alg":"HS384""#)).is_err());
        let key = Jwk::from_json(&j(&k48, r#","alg":"HS384""#)).unwrap();
        assert!(key.supports(Algorithm::HS384) && !key.supports(Algorithm::HS256));
        assert!(format!("{key:?}").contains("redacted"));
    }

    #[test]
    fn unknown_kty_is_unsupported_and_missing_kty_invalid() {
        assert_eq!(
            Jwk::from_json(r#"{"kty":"XYZ"}"#).unwrap_err().code(),
            "ERR_JWK_UNSUPPORTED"
        );
        assert_eq!(
            Jwk::from_json(r#"{"n":"AQAB"}"#).unwrap_err().code(),
            "ERR_JWK_INVALID"
        );
    }

    extern crate std;
    use std::format;
}
