//! The verification pipeline, and the only way to obtain a [`Verified`] token:
//! size limits, structure, header, `crit`, algorithm allowlist, key lookup by `kid` and
//! algorithm, signature, and only then the payload, the claims policy and the denylist.

use alloc::string::String;
use alloc::vec::Vec;

use crate::gate::denylist::Denylist;
use crate::jose::alg::Algorithm;
use crate::jose::b64;
use crate::jose::claims::{self, Claims};
use crate::jose::compact;
use crate::jose::error::{Error, Part};
use crate::jose::header::{self, Header};
use crate::jose::jwk::Jwk;
use crate::jose::jwks::{Candidates, JwkSet, KeysIdentity, MAX_KIDLESS_CANDIDATES};
use crate::jose::limits::Limits;
use crate::jose::policy::Policy;
use crate::signature::backend::{AsyncSignatureBackend, FastVerify, SignatureBackend};

/// A JWS whose signature verified: its header and raw payload bytes. No claim was looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedJws {
    /// The protected header.
    pub header: Header,
    /// The payload bytes, base64url-decoded.
    pub payload: Vec<u8>,
    /// The `kid` of the key that verified it, if the key had one.
    pub key_id: Option<String>,
}

/// A JWT whose signature, claims and revocation status all checked out.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    header: Header,
    claims: Claims,
    /// The verifying key's `kid` when the header named none (with a header `kid`, the key's
    /// is the same and is not copied).
    key_id: Option<String>,
}

impl Verified {
    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }
    /// The claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }
    /// The `kid` of the key that verified the token, if the key had one.
    pub fn key_id(&self) -> Option<&str> {
        self.header.kid.as_deref().or(self.key_id.as_deref())
    }
}

/// Verifies tokens under one policy, with a signature backend and an optional denylist.
///
/// ```
/// use tokengate::{Algorithm, JwkSet, Policy, Verifier};
/// let keys = JwkSet::from_json(r#"{"keys":[{"kty":"oct","kid":"k1",
///     "k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]}"#).unwrap();
/// let policy = Policy::builder().algorithms([Algorithm::HS256]).issuer("joe").build().unwrap();
/// let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// let verified = Verifier::new(&policy).verify(token, &keys, 1_300_819_000).unwrap();
/// assert_eq!(verified.claims().issuer(), Some("joe"));
/// let expired = Verifier::new(&policy).verify(token, &keys, 1_400_000_000).unwrap_err();
/// assert_eq!(expired.code(), "ERR_JWT_EXPIRED");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Verifier<'a, B = FastVerify> {
    policy: &'a Policy,
    backend: B,
    denylist: Option<&'a Denylist>,
}

impl<'a> Verifier<'a, FastVerify> {
    /// A verifier with the default [`FastVerify`] backend and no denylist.
    pub fn new(policy: &'a Policy) -> Self {
        Verifier {
            policy,
            backend: FastVerify,
            denylist: None,
        }
    }
}

impl<'a, B: SignatureBackend> Verifier<'a, B> {
    /// Uses another signature backend.
    pub fn with_backend<C: SignatureBackend>(self, backend: C) -> Verifier<'a, C> {
        Verifier {
            policy: self.policy,
            backend,
            denylist: self.denylist,
        }
    }

    /// Checks tokens against a denylist after their signature and claims.
    pub fn with_denylist(mut self, denylist: &'a Denylist) -> Self {
        self.denylist = Some(denylist);
        self
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        self.policy
    }

    /// Verifies a JWS: structure, header, algorithm allowlist, key selection and signature.
    /// The payload is returned as bytes and not interpreted.
    pub fn verify_jws(&self, token: &str, keys: &JwkSet) -> Result<VerifiedJws, Error> {
        let (header, payload, key_id) = self.check_signature(token.as_bytes(), keys)?;
        let key_id = key_id.or_else(|| header.kid.clone());
        Ok(VerifiedJws {
            header,
            payload,
            key_id,
        })
    }

    /// Verifies a JWT at `now` (seconds since the epoch): everything [`Verifier::verify_jws`]
    /// does, then the claims set, the policy and the denylist.
    pub fn verify(&self, token: &str, keys: &JwkSet, now: i64) -> Result<Verified, Error> {
        let signed = self.check_signature(token.as_bytes(), keys)?;
        self.finish(signed, now)
    }

    /// After the signature: the claims parsed, then checked.
    fn finish(&self, (header, payload, key_id): Signed, now: i64) -> Result<Verified, Error> {
        let verified = Verified {
            header,
            claims: claims::parse(payload, self.policy.limits())?,
            key_id,
        };
        self.check_verified(&verified, now)?;
        Ok(verified)
    }

    /// The checks a cached token still goes through: claims against the policy at `now`, and
    /// the denylist.
    pub(crate) fn check_verified(&self, verified: &Verified, now: i64) -> Result<(), Error> {
        self.policy
            .check_claims(&verified.header, &verified.claims, now)?;
        if let Some(denylist) = self.denylist {
            denylist.check(&verified.claims, now)?;
        }
        Ok(())
    }

    fn check_signature(&self, token: &[u8], keys: &JwkSet) -> Result<Signed, Error> {
        let mut buf = SignatureBuf::new();
        let p = prepare(self.policy, token, keys, &mut buf)?;
        let key = p
            .candidates
            .iter()
            .find(|k| {
                self.backend
                    .verify(p.header.alg, k, p.segments.signing_input, p.signature)
                    .is_ok()
            })
            .ok_or(Error::SignatureInvalid)?;
        p.signed_by(key)
    }

    /// [`Verifier::verify`] with an asynchronous signature backend (WebCrypto in the npm
    /// package). Every step but the signature check itself is the same code as the synchronous
    /// path; this verifier's own backend is not used.
    pub async fn verify_async<A: AsyncSignatureBackend>(
        &self,
        backend: &A,
        token: &str,
        keys: &JwkSet,
        now: i64,
    ) -> Result<Verified, Error> {
        let signed = {
            let mut buf = SignatureBuf::new();
            let p = prepare(self.policy, token.as_bytes(), keys, &mut buf)?;
            let mut verified_by = None;
            for key in p.candidates.iter() {
                let ok = backend
                    .verify(p.header.alg, key, p.segments.signing_input, p.signature)
                    .await;
                if ok.is_ok() {
                    verified_by = Some(key);
                    break;
                }
            }
            p.signed_by(verified_by.ok_or(Error::SignatureInvalid)?)?
        };
        self.finish(signed, now)
    }

    /// The first half of a verification whose signature the host checks itself, without a
    /// callback per candidate key (the npm package awaits `crypto.subtle.verify` directly):
    /// size limits, structure, header, algorithm allowlist and key selection, as in
    /// [`Verifier::verify`]. The [`HostCheck`] names the candidate keys in the order to try
    /// (one, unless the token names no `kid` and several keys could verify it) and carries what
    /// the second half needs; give it back to [`Verifier::host_checked`] with the host's
    /// verdict.
    pub fn host_check(&self, token: &str, keys: &JwkSet) -> Result<HostCheck, Error> {
        let mut buf = SignatureBuf::new();
        let p = prepare(self.policy, token.as_bytes(), keys, &mut buf)?;
        let mut candidates = [0; MAX_KIDLESS_CANDIDATES];
        let mut count = 0;
        for key in p.candidates.iter() {
            // Always found (the candidates are the set's own keys); a miss is left out, and a
            // check left with no candidate verifies nothing.
            let found = keys.keys().iter().position(|k| core::ptr::eq(k, key));
            if let (Some(index), Some(slot)) = (found, candidates.get_mut(count)) {
                *slot = index;
                count += 1;
            }
        }
        Ok(HostCheck {
            alg: p.header.alg,
            candidates,
            count,
            at: 0,
            signature: p.signature.to_vec(),
            signing_input: p.segments.signing_input.to_vec(),
            payload_at: p.segments.signing_input.len() - p.segments.payload.len(),
            header: p.header,
            keys: keys.identity(),
        })
    }

    /// The second half: the host's `verdict` on `check`'s signature under its current key
    /// ([`HostCheck::key_index`]), then the claims, the policy and the denylist at `now`, as
    /// in [`Verifier::verify`]. `keys` must be the set `check` came from or a clone of it
    /// (else the signature is refused, even by a set of equal keys); [`HostVerdict::Unchecked`]
    /// has this verifier's own backend check the signature with the current key and the
    /// candidates after it.
    pub fn host_checked(
        &self,
        check: HostCheck,
        keys: &JwkSet,
        verdict: HostVerdict,
        now: i64,
    ) -> Result<Verified, Error> {
        // Candidate `at`, if `keys` is the very set the check came from (its key storage, held
        // by the check and never changed, so the index names the same key).
        let candidate = |at: usize| {
            let index = *check.candidates.get(at)?;
            keys.keys().get(index).filter(|_| {
                at < check.count && check.keys.is_of(keys) && self.policy.allows(check.alg)
            })
        };
        let key = match verdict {
            HostVerdict::Valid => candidate(check.at),
            HostVerdict::Invalid => None,
            HostVerdict::Unchecked => (check.at..check.count).filter_map(candidate).find(|k| {
                self.backend
                    .verify(check.alg, k, &check.signing_input, &check.signature)
                    .is_ok()
            }),
        }
        .ok_or(Error::SignatureInvalid)?;
        let payload =
            b64::decode(&check.signing_input[check.payload_at..]).ok_or(Error::MalformedJws {
                part: Part::Payload,
                reason: "not strict base64url",
            })?;
        let key_id = match check.header.kid {
            Some(_) => None,
            None => key.kid().map(String::from),
        };
        self.finish((check.header, payload, key_id), now)
    }
}

/// What [`Verifier::host_check`] leaves to the host: the candidate keys, by their index in the
/// key set and in the order to try, the algorithm, the signing input and the decoded
/// signature; and, kept inside, the parsed header for [`Verifier::host_checked`]. The host
/// checks the current key ([`HostCheck::key_index`]) and, while it finds the signature
/// invalid, moves on ([`HostCheck::next_key`]), as [`Verifier::verify`] tries its candidates.
/// Read-only otherwise: what the host checks is what the second half trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCheck {
    alg: Algorithm,
    /// Each candidate's index in the set; the first `count` are set.
    candidates: [usize; MAX_KIDLESS_CANDIDATES],
    count: usize,
    /// The current candidate.
    at: usize,
    signature: Vec<u8>,
    signing_input: Vec<u8>,
    payload_at: usize,
    header: Header,
    /// The set the candidates are in: the second half refuses any other.
    keys: KeysIdentity,
}

impl HostCheck {
    /// The algorithm the header names (and the policy allows).
    pub fn alg(&self) -> Algorithm {
        self.alg
    }
    /// The current candidate key's index in the [`JwkSet`].
    pub fn key_index(&self) -> usize {
        self.candidates.get(self.at).copied().unwrap_or(0)
    }
    /// Every candidate key's index in the [`JwkSet`], in the order to try (the current one
    /// first while none was skipped).
    pub fn key_indices(&self) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.candidates.iter().take(self.count).copied()
    }
    /// After the host found the signature invalid under the current key: makes the next
    /// candidate current. `false` when none is left (the verdict is then
    /// [`HostVerdict::Invalid`]).
    pub fn next_key(&mut self) -> bool {
        if self.at + 1 < self.count {
            self.at += 1;
            true
        } else {
            false
        }
    }
    /// The signature, base64url-decoded.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
    /// The bytes the signature covers: the token up to its second `.`.
    pub fn signing_input(&self) -> &[u8] {
        &self.signing_input
    }
}

/// The host's verdict on a [`HostCheck`]'s signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostVerdict {
    /// The signature verified under the current key ([`HostCheck::key_index`]).
    Valid,
    /// It did not under any candidate the host tried (or the host's check failed: fail
    /// closed).
    Invalid,
    /// The host could not check it (its crypto lacks the algorithm or cannot import the key):
    /// the verifier's own backend decides, with the current key and the candidates after it.
    Unchecked,
}

/// A token whose signature verified: its header, decoded payload, and the verifying key's
/// `kid` when the header named none.
type Signed = (Header, Vec<u8>, Option<String>);

/// Room for the largest signature, RSA-8192's 1024 bytes, decoded onto the stack.
struct SignatureBuf([u8; crate::jose::jwk::RSA_MAX_BITS / 8]);

impl SignatureBuf {
    fn new() -> Self {
        SignatureBuf([0u8; crate::jose::jwk::RSA_MAX_BITS / 8])
    }
}

/// Everything before the signature check: the token split and sized, its header parsed, its
/// algorithm allowed, its candidate keys selected and its signature decoded.
struct Prepared<'t, 'k> {
    segments: compact::Segments<'t>,
    header: Header,
    candidates: Candidates<'k>,
    signature: &'t [u8],
}

fn prepare<'t, 'k>(
    policy: &Policy,
    token: &'t [u8],
    keys: &'k JwkSet,
    buf: &'t mut SignatureBuf,
) -> Result<Prepared<'t, 'k>, Error> {
    let limits = policy.limits();
    let segments = compact::split(token, limits)?;
    let header = header::parse(segments.header, limits)?;
    if !policy.allows(header.alg) {
        return Err(Error::AlgorithmNotAllowed);
    }
    let candidates = keys.select(header.alg, header.kid.as_deref())?;
    let len = b64::decode_to_slice(segments.signature, &mut buf.0).ok_or(
        // Either not strict base64url, or longer than any signature: both malformed.
        Error::MalformedJws {
            part: Part::Signature,
            reason: "not strict base64url, or longer than any signature",
        },
    )?;
    Ok(Prepared {
        segments,
        header,
        candidates,
        signature: &buf.0[..len],
    })
}

impl Prepared<'_, '_> {
    /// After `key` verified the signature: the payload, decoded.
    fn signed_by(self, key: &Jwk) -> Result<Signed, Error> {
        let key_id = match self.header.kid {
            Some(_) => None,
            None => key.kid().map(String::from),
        };
        let payload = b64::decode(self.segments.payload).ok_or(Error::MalformedJws {
            part: Part::Payload,
            reason: "not strict base64url",
        })?;
        Ok((self.header, payload, key_id))
    }
}

/// An unverified view of a token, for diagnostics only (`tokengate inspect`): header and
/// claims decoded with the same strict parsers, and no signature or claim checked. Never
/// base a decision on it.
#[derive(Debug, Clone)]
pub struct Unverified {
    /// The header.
    pub header: Header,
    /// The claims.
    pub claims: Claims,
}

/// Decodes a token **without verifying anything**. See [`Unverified`].
pub fn decode_unverified(token: &str, limits: &Limits) -> Result<Unverified, Error> {
    let segments = compact::split(token.as_bytes(), limits)?;
    let header = header::parse(segments.header, limits)?;
    if b64::decode(segments.signature).is_none() {
        return Err(Error::MalformedJws {
            part: Part::Signature,
            reason: "not strict base64url",
        });
    }
    let payload = b64::decode(segments.payload).ok_or(Error::MalformedJws {
        part: Part::Payload,
        reason: "not strict base64url",
    })?;
    let claims = claims::parse(payload, limits)?;
    Ok(Unverified { header, claims })
}
