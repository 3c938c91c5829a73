//! A JSON Web Key Set, parsed once into ready keys, and key selection for a token.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use crate::jose::fingerprint::{Fingerprint, LazyFingerprint};
use serde_json::Value;

use crate::jose::alg::Algorithm;
use crate::jose::error::{ConfigError, Error};
use crate::jose::json::{self, ParseFailure, Reader};
use crate::jose::jwk::{Jwk, KeyMaterial, Members};

/// Most keys a set may hold. Real sets hold a handful; a huge one is a misconfiguration or an
/// attack on memory.
pub const MAX_KEYS: usize = 100;

/// A token without `kid` is tried against at most this many compatible keys; with more, the
/// choice is refused as ambiguous ([`Error::MultipleMatchingKeys`]) rather than turning one
/// token into an unbounded number of signature checks.
pub const MAX_KIDLESS_CANDIDATES: usize = 4;

/// A set of verifying keys.
#[derive(Debug, Clone)]
pub struct JwkSet {
    /// Shared by the set's clones, and held by each [`crate::HostCheck`] made from it
    /// ([`KeysIdentity`]); never changed after construction.
    keys: Arc<[Jwk]>,
    skipped: usize,
    /// [`JwkSet::version`], hashed when first asked for: the npm verifier never asks, so a
    /// fresh isolate's first token runs (and compiles) no SHA-256 for it.
    version: LazyFingerprint,
    /// One key handed over directly ([`JwkSet::single`]): a token's `kid` is not matched.
    direct: bool,
}

/// Which set of keys a [`crate::HostCheck`] was made from: the set's key storage itself, held
/// (so it cannot be freed and its address reused while the check lives) and compared by
/// address. A set's clones share it; two sets built apart never do, even with equal keys.
#[derive(Clone)]
pub(crate) struct KeysIdentity(Arc<[Jwk]>);

impl PartialEq for KeysIdentity {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for KeysIdentity {}

impl KeysIdentity {
    /// Whether `set` holds these very keys (it is the set this came from, or a clone of it).
    pub(crate) fn is_of(&self, set: &JwkSet) -> bool {
        Arc::ptr_eq(&self.0, &set.keys)
    }
}

impl fmt::Debug for KeysIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys themselves are not shown: an `oct` key is a secret.
        write!(f, "KeysIdentity({} keys)", self.0.len())
    }
}

/// The keys a token may be checked against, in order.
#[derive(Clone, Copy)]
pub(crate) struct Candidates<'a> {
    keys: [Option<&'a Jwk>; MAX_KIDLESS_CANDIDATES],
}

impl<'a> Candidates<'a> {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a Jwk> + '_ {
        self.keys.iter().flatten().copied()
    }
}

impl JwkSet {
    /// Parses a JWKS document (`{"keys":[...]}`).
    ///
    /// Keys of unsupported types, curves or algorithms, and keys not meant for signature
    /// verification (`use`, `key_ops`), are skipped and counted ([`JwkSet::skipped`]). A
    /// supported key that is malformed or weak fails the whole set, as does a set that mixes
    /// symmetric and asymmetric keys or that has no usable key: serving half of a broken set
    /// hides the breakage.
    pub fn from_json(json: &str) -> Result<JwkSet, ConfigError> {
        JwkSet::from_slice(json.as_bytes())
    }

    /// [`JwkSet::from_json`] over bytes.
    pub fn from_slice(json: &[u8]) -> Result<JwkSet, ConfigError> {
        let keys = json::utf8(json)
            .map_err(Fail::Parse)
            .and_then(read)
            .map_err(|f| match f {
                Fail::Parse(f) => f.config_error("jwks", |reason| ConfigError::Jwks { reason }),
                Fail::Set(reason) => ConfigError::Jwks { reason },
            })?;
        let mut parsed = Vec::with_capacity(keys.len());
        let mut skipped = 0;
        for (index, key) in keys.iter().enumerate() {
            let Some(members) = key else {
                return Err(ConfigError::Jwk {
                    index: Some(index),
                    member: "",
                    reason: "a JWK must be a JSON object",
                });
            };
            match Jwk::from_members(members) {
                Ok(k) => parsed.push(k),
                Err(ConfigError::JwkUnsupported { .. }) => skipped += 1,
                Err(ConfigError::Jwk { member, reason, .. }) => {
                    return Err(ConfigError::Jwk {
                        index: Some(index),
                        member,
                        reason,
                    })
                }
                Err(other) => return Err(other),
            }
        }
        JwkSet::build(parsed, skipped)
    }

    /// Builds a set from a serde_json JWKS value (by way of its JSON text, so that one reader
    /// decides every set).
    pub fn from_value(value: &Value) -> Result<JwkSet, ConfigError> {
        JwkSet::from_json(&value.to_string())
    }

    /// Builds a set from keys already parsed.
    pub fn from_keys(keys: Vec<Jwk>) -> Result<JwkSet, ConfigError> {
        if keys.len() > MAX_KEYS {
            return Err(ConfigError::Jwks {
                reason: "more keys than the limit (100)",
            });
        }
        JwkSet::build(keys, 0)
    }

    /// One key given directly rather than published in a set, as in jose's
    /// `jwtVerify(token, key)`: there is no choice to make, so a token's `kid` (a hint, RFC 7515
    /// 4.1.4) is not matched against the key's. The algorithm still has to fit the key.
    pub fn single(key: Jwk) -> JwkSet {
        JwkSet {
            keys: Arc::from([key]),
            skipped: 0,
            version: LazyFingerprint::new(),
            direct: true,
        }
    }

    fn build(keys: Vec<Jwk>, skipped: usize) -> Result<JwkSet, ConfigError> {
        if keys.is_empty() {
            return Err(ConfigError::NoUsableKeys { skipped });
        }
        let symmetric = keys.iter().filter(|k| k.is_symmetric()).count();
        if symmetric != 0 && symmetric != keys.len() {
            // RFC 8725 3.1/3.2: a published key set is public; a shared secret in it is either
            // a leak or a confusion attack waiting to happen.
            return Err(ConfigError::Jwks {
                reason: "mixes symmetric (oct) and asymmetric keys",
            });
        }
        Ok(JwkSet {
            keys: Arc::from(keys),
            skipped,
            version: LazyFingerprint::new(),
            direct: false,
        })
    }

    /// Whether this is one key given directly ([`JwkSet::single`]): a token's `kid` does not
    /// select it.
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// The usable keys.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// How many keys were skipped as unsupported.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// A fingerprint of the set's contents: equal sets have equal versions, so a re-fetched
    /// but unchanged JWKS does not invalidate the verified-token cache.
    pub fn version(&self) -> u64 {
        self.version.get_or(|| fingerprint(&self.keys))
    }

    /// The identity of this set's keys, for a [`crate::HostCheck`] made from it.
    pub(crate) fn identity(&self) -> KeysIdentity {
        KeysIdentity(Arc::clone(&self.keys))
    }

    /// Every algorithm some key in the set supports, in [`Algorithm::ALL`] order: a key's own
    /// `alg` when it names one, else every algorithm of its type. Hosts that have no
    /// configured allowlist (the CLI without `--alg`) use this, so the keys still decide.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(|a| self.keys.iter().any(|k| k.supports(*a)))
            .collect()
    }

    /// Builds every key's [`crate::FastVerify`] tables now (the EC comb tables and their
    /// curves', the RSA keys' Montgomery forms), for a host that adopts key sets off the
    /// request path (the Envoy filter's root context). Without it they are built on the
    /// verifications that make them worth it, so a short-lived isolate that checks one token
    /// never pays for them.
    pub fn warm(&self) {
        for key in self.keys.iter() {
            key.warm();
        }
    }

    /// Whether some key has this `kid`.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid() == Some(kid))
    }

    /// The keys a token with this `alg` and `kid` may be checked against.
    ///
    /// With a `kid`, only keys carrying that `kid` are considered (a key without `kid` never
    /// matches a token that names one), and more than one is ambiguous. Without a `kid`, up to
    /// [`MAX_KIDLESS_CANDIDATES`] compatible keys are tried. A [`JwkSet::single`] key is
    /// considered whatever the `kid`.
    pub(crate) fn select(
        &self,
        alg: Algorithm,
        kid: Option<&str>,
    ) -> Result<Candidates<'_>, Error> {
        let mut out = Candidates {
            keys: [None; MAX_KIDLESS_CANDIDATES],
        };
        let mut n = 0;
        let limit = if kid.is_some() {
            1
        } else {
            MAX_KIDLESS_CANDIDATES
        };
        for key in self.keys.iter() {
            if kid.is_some() && !self.direct && key.kid() != kid {
                continue;
            }
            if !key.supports(alg) {
                continue;
            }
            if n == limit {
                return Err(Error::MultipleMatchingKeys);
            }
            out.keys[n] = Some(key);
            n += 1;
        }
        if n == 0 {
            return Err(Error::NoMatchingKey);
        }
        Ok(out)
    }
}

/// Why reading a JWKS document stopped.
enum Fail {
    Parse(ParseFailure),
    /// Valid JSON, but not a key set.
    Set(&'static str),
}

impl From<ParseFailure> for Fail {
    fn from(f: ParseFailure) -> Self {
        Fail::Parse(f)
    }
}

/// Reads a JWKS document: the members of each key in `keys` (`None` for an entry that is not
/// an object), other members validated and ignored. The whole document is read before any
/// key is prepared, and a document that is not JSON is reported as such even when its shape
/// was wrong first.
fn read(text: &str) -> Result<Vec<Option<Members<'_>>>, Fail> {
    let mut r = Reader::new(text, 8, 1024);
    let Some(mut object) = r.top_object()? else {
        return Err(Fail::Set("a JWKS must be a JSON object"));
    };
    let depth = object.inner();
    let mut shape = None;
    let mut keys = None;
    while let Some(name) = object.next(&mut r)? {
        if name != "keys" {
            r.skip(depth)?;
        } else if r.peek() != Some(b'[') {
            r.skip(depth)?;
            shape = Some("\"keys\" must be an array");
        } else {
            let mut array = r.array(depth)?;
            let mut list = Vec::new();
            while array.next(&mut r)? {
                if list.len() == MAX_KEYS {
                    return Err(Fail::Set("more keys than the limit (100)"));
                }
                list.push(match r.peek() {
                    Some(b'{') => {
                        let key = r.object(array.inner())?;
                        Some(Members::read(&mut r, key)?)
                    }
                    _ => {
                        r.skip(array.inner())?;
                        None
                    }
                });
            }
            keys = Some(list);
        }
    }
    r.finish()?;
    match (shape, keys) {
        (Some(reason), _) => Err(Fail::Set(reason)),
        (None, Some(keys)) => Ok(keys),
        (None, None) => Err(Fail::Set("missing \"keys\"")),
    }
}

fn fingerprint(keys: &[Jwk]) -> u64 {
    let mut f = Fingerprint::new();
    let mut field = |tag: u8, bytes: &[u8]| f.field(tag, bytes);
    for k in keys {
        field(b'k', k.kid().unwrap_or("").as_bytes());
        field(b'a', k.alg().map_or("", |a| a.name()).as_bytes());
        match k.material() {
            KeyMaterial::Symmetric(s) => field(b's', s),
            KeyMaterial::Rsa { n, e } => {
                field(b'n', n);
                field(b'e', e);
            }
            KeyMaterial::Ec { curve, x, y } => {
                field(b'c', curve.name().as_bytes());
                field(b'x', x);
                field(b'y', y);
            }
            KeyMaterial::Ed25519(x) => field(b'o', x),
        }
    }
    f.finish()
}

/// Owned list of kids, for diagnostics.
impl JwkSet {
    /// The `kid`s present, in order (keys without one are left out).
    pub fn kids(&self) -> Vec<String> {
        self.keys
            .iter()
            .filter_map(|k| k.kid().map(String::from))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::b64;
    use alloc::format;

    fn oct(kid: &str, byte: u8) -> String {
        format!(
            r#"{{"kty":"oct","kid":"{kid}","k":"{}"}}"#,
            b64::encode(&[byte; 32])
        )
    }

    const EC: &str = r#"{"kty":"EC","crv":"P-256","kid":"ec","x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw"}"#;

    #[test]
    fn skips_unsupported_and_counts_them() {
        let set = JwkSet::from_json(&format!(
            r#"{{"keys":[{},{{"kty":"OKP","crv":"X25519","x":"AA"}},{{"kty":"EC","use":"enc"}}]}}"#,
            oct("a", 1)
        ))
        .unwrap();
        assert_eq!(set.keys().len(), 1);
        assert_eq!(set.skipped(), 2);
    }

    #[test]
    fn fails_on_a_malformed_supported_key_with_its_index() {
        let e = JwkSet::from_json(&format!(
            r#"{{"keys":[{},{{"kty":"oct","k":"short"}}]}}"#,
            oct("a", 1)
        ))
        .unwrap_err();
        assert!(
            matches!(e, ConfigError::Jwk { index: Some(1), .. }),
            "{e:?}"
        );
    }

    #[test]
    fn refuses_mixed_and_empty_sets() {
        let e = JwkSet::from_json(&format!(r#"{{"keys":[{},{EC}]}}"#, oct("a", 1))).unwrap_err();
        assert_eq!(e.code(), "ERR_JWKS_INVALID");
        assert_eq!(
            JwkSet::from_json(r#"{"keys":[]}"#).unwrap_err().code(),
            "ERR_JWKS_NO_USABLE_KEYS"
        );
        assert_eq!(
            JwkSet::from_json(r#"{"kys":[]}"#).unwrap_err().code(),
            "ERR_JWKS_INVALID"
        );
        assert_eq!(
            JwkSet::from_json(r#"{"keys":[1]}"#).unwrap_err().code(),
            "ERR_JWK_INVALID"
        );
    }

    #[test]
    fn selects_by_kid_then_algorithm() {
        let set =
            JwkSet::from_json(&format!(r#"{{"keys":[{},{}]}}"#, oct("a", 1), oct("b", 2))).unwrap();
        assert_eq!(
            set.select(Algorithm::HS256, Some("b"))
                .unwrap()
                .iter()
                .count(),
            1
        );
        assert!(matches!(
            set.select(Algorithm::HS256, Some("zzz")),
            Err(Error::NoMatchingKey)
        ));
        assert!(matches!(
            set.select(Algorithm::HS384, Some("a")),
            Err(Error::NoMatchingKey)
        ));
        assert_eq!(
            set.select(Algorithm::HS256, None).unwrap().iter().count(),
            2
        );
    }

    #[test]
    fn duplicate_kid_is_ambiguous() {
        let set =
            JwkSet::from_json(&format!(r#"{{"keys":[{},{}]}}"#, oct("a", 1), oct("a", 2))).unwrap();
        assert!(matches!(
            set.select(Algorithm::HS256, Some("a")),
            Err(Error::MultipleMatchingKeys)
        ));
    }

    #[test]
    fn too_many_kidless_candidates_is_ambiguous() {
        let keys: Vec<String> = (0..5).map(|i| oct(&format!("k{i}"), i)).collect();
        let set = JwkSet::from_json(&format!(r#"{{"keys":[{}]}}"#, keys.join(","))).unwrap();
        assert!(matches!(
            set.select(Algorithm::HS256, None),
            Err(Error::MultipleMatchingKeys)
        ));
    }

    #[test]
    fn algorithms_follow_the_keys() {
        let set = JwkSet::from_json(&format!(r#"{{"keys":[{EC}]}}"#)).unwrap();
        assert_eq!(set.algorithms(), [Algorithm::ES256]);
        let set = JwkSet::from_json(&format!(r#"{{"keys":[{}]}}"#, oct("a", 1))).unwrap();
        assert_eq!(set.algorithms(), [Algorithm::HS256]);
    }

    #[test]
    fn a_single_key_ignores_the_kid_a_set_does_not() {
        let key = Jwk::from_json(EC).unwrap();
        let single = JwkSet::single(key.clone());
        for kid in [None, Some("other"), key.kid()] {
            assert_eq!(
                single.select(Algorithm::ES256, kid).unwrap().iter().count(),
                1
            );
        }
        assert!(matches!(
            single.select(Algorithm::RS256, Some("other")),
            Err(Error::NoMatchingKey)
        ));
        let set = JwkSet::from_keys(alloc::vec![key]).unwrap();
        assert!(matches!(
            set.select(Algorithm::ES256, Some("other")),
            Err(Error::NoMatchingKey)
        ));
    }

    #[test]
    fn version_depends_on_content_only() {
        let a = JwkSet::from_json(&format!(r#"{{"keys":[{}]}}"#, oct("a", 1))).unwrap();
        let a2 = JwkSet::from_json(&format!(r#"{{ "keys" : [ {} ] }}"#, oct("a", 1))).unwrap();
        let b = JwkSet::from_json(&format!(r#"{{"keys":[{}]}}"#, oct("a", 2))).unwrap();
        assert_eq!(a.version(), a2.version());
        assert_ne!(a.version(), b.version());
        // Asked again (it is kept after the first time), and on a clone.
        assert_eq!(a.version(), a.clone().version());
    }

    #[test]
    fn identity_is_the_key_storage_not_the_content() {
        let a = JwkSet::from_json(&format!(r#"{{"keys":[{}]}}"#, oct("a", 1))).unwrap();
        let a2 = JwkSet::from_json(&format!(r#"{{"keys":[{}]}}"#, oct("a", 1))).unwrap();
        assert_eq!(a.identity(), a.clone().identity());
        assert_ne!(a.identity(), a2.identity());
        assert!(a.identity().is_of(&a.clone()));
        assert!(!a.identity().is_of(&a2));
        // Held by an identity, the keys outlive their set, so no later set can take their place.
        let held = a.identity();
        drop(a);
        let b = JwkSet::from_json(&format!(r#"{{"keys":[{}]}}"#, oct("a", 1))).unwrap();
        assert_ne!(held, b.identity());
        assert_eq!(format!("{held:?}"), "KeysIdentity(1 keys)");
    }
}
