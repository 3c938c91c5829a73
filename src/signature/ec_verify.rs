//! ECDSA verification (P-256, P-384, P-521) on [`crate::signature::ec_field`], for
//! [`crate::FastVerify`]: the verdicts of the RustCrypto `p256`/`p384`/`p521` crates it stands
//! in for (raw `r || s`, both in `[1, n-1]`, FIPS 186-5 6.4.2), several times faster in wasm32,
//! and the public-key validation they do (coordinates below `p`, the point on the curve; the
//! curves have prime order, so that point is in the group).
//!
//! `u1 G + u2 Q` is computed without a single doubling once a point is warm: for the generator
//! and for each public key a comb table holds `d * 2^(w k) * P` in affine coordinates for every
//! window position `k` and digit `1 <= d <= 2^(w-1)`. A scalar recoded into signed base-`2^w`
//! digits then costs one mixed Jacobian-affine addition per nonzero digit.
//!
//! A table costs what dozens of verifications cost, so it is built only for a point in use:
//! a key's on its [`KEY_WARM_AFTER`]th verification, the generator's on the curve's
//! [`GENERATOR_WARM_AFTER`]th (or at once through [`EcVerifyKey::warm`], which a host calls off
//! the request path). Until then `u1 G + u2 Q` is Shamir's double-and-add, so a short-lived
//! isolate that verifies one token never pays for tables it would not use.
//!
//! The final `x(R) mod n == r` check compares in Jacobian coordinates (`X == r Z^2`, and
//! `(r + n) Z^2` when that is below `p`), so no field inversion happens per signature; the one
//! scalar inversion (`s^-1 mod n`) is a binary extended Euclid. Everything here is public, so
//! it may take variable time.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use once_cell::race::OnceBox;

use crate::signature::ec_field::{bits_at, is_zero, less, MontField};
use crate::signature::sha::Sha;

/// A short Weierstrass curve `y^2 = x^3 - 3x + b` of prime order, as published (big-endian
/// hex), with the comb widths used for it.
struct CurveParams {
    p: &'static str,
    n: &'static str,
    b: &'static str,
    gx: &'static str,
    gy: &'static str,
    /// Bits of the group order.
    bits: usize,
    /// The generator's comb width (computed once per process).
    g_width: u32,
    /// Each public key's comb width (computed once per key).
    key_width: u32,
}

/// P-256 (FIPS 186-5 / SEC 2 secp256r1).
const P256: CurveParams = CurveParams {
    p: "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
    n: "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
    b: "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
    gx: "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
    gy: "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
    bits: 256,
    g_width: 7,
    key_width: 5,
};

/// P-384 (FIPS 186-5 / SEC 2 secp384r1).
const P384: CurveParams = CurveParams {
    p: "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff",
    n: "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    b: "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
    gx: "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7",
    gy: "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f",
    bits: 384,
    g_width: 6,
    key_width: 4,
};

/// P-521 (FIPS 186-5 / SEC 2 secp521r1). Narrower combs: its points are twice P-256's size.
const P521: CurveParams = CurveParams {
    p: "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    n: "01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409",
    b: "0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00",
    gx: "00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66",
    gy: "011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650",
    bits: 521,
    g_width: 5,
    key_width: 4,
};

/// Limbs for P-256 values (9 x 29 = 261 bits).
const P256_LIMBS: usize = 9;
/// Limbs for P-384 values (14 x 29 = 406 bits).
const P384_LIMBS: usize = 14;
/// Limbs for P-521 values (18 x 29 = 522 bits).
const P521_LIMBS: usize = 18;

/// Whether `(x, y)` (big-endian, `x` and `y` below `p`) is a point of `curve`:
/// `y^2 = x^3 - 3x + b (mod p)`. It uses the compact arithmetic of
/// [`crate::signature::curve_point`] rather than this module's per-curve tables, so a build that
/// verifies no ECDSA signature itself (the npm package's main module, without the
/// `public-key-verify` feature) still refuses the keys [`EcVerifyKey`] refuses, with a few
/// hundred bytes of code instead of the unrolled field. Agreement is tested below.
pub(crate) fn is_curve_point(curve: crate::jose::alg::Curve, x: &[u8], y: &[u8]) -> bool {
    use crate::jose::alg::Curve as Named;
    let params = match curve {
        Named::P256 => &P256,
        Named::P384 => &P384,
        Named::P521 => &P521,
    };
    crate::signature::curve_point::is_on_curve(&hex(params.p), &hex(params.b), x, y)
}

fn hex(s: &str) -> Vec<u8> {
    let nibble = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => 0,
    };
    s.as_bytes()
        .chunks(2)
        .map(|pair| nibble(pair[0]) << 4 | pair.get(1).map_or(0, |&c| nibble(c)))
        .collect()
}

/// The verification that builds a key's comb table (the earlier ones run without it).
pub(crate) const KEY_WARM_AFTER: u32 = 8;
/// The verification on a curve that builds the generator's comb table (about three times a
/// key's: its table is wider).
pub(crate) const GENERATOR_WARM_AFTER: u32 = 24;

/// A curve with its fields prepared, and the generator's comb table once warm.
pub(crate) struct Curve<const N: usize> {
    p: MontField<N>,
    n: MontField<N>,
    /// `n` as a Montgomery-form element of the base field, for the `r + n` case.
    n_in_p: Option<[u32; N]>,
    /// The equation's `b`, in Montgomery form.
    b: [u32; N],
    /// Bytes of a coordinate and of each half of a signature.
    len: usize,
    bits: usize,
    key_width: u32,
    g: Affine<N>,
    g_width: u32,
    g_comb: LazyComb<N>,
}

impl<const N: usize> Curve<N> {
    fn new(params: &CurveParams) -> Option<Self> {
        let p = MontField::new(&hex(params.p))?;
        let n = MontField::new(&hex(params.n))?;
        let n_in_p = p.element_from_be(&hex(params.n));
        let b = p.element_from_be(&hex(params.b))?;
        let g = Affine {
            x: p.element_from_be(&hex(params.gx))?,
            y: p.element_from_be(&hex(params.gy))?,
        };
        Some(Curve {
            p,
            n,
            n_in_p,
            b,
            len: params.bits.div_ceil(8),
            bits: params.bits,
            key_width: params.key_width,
            g,
            g_width: params.g_width,
            g_comb: LazyComb::new(),
        })
    }

    /// Whether the Montgomery-form `(x, y)` satisfies `y^2 = x^3 - 3x + b`.
    fn on_curve(&self, a: &Affine<N>) -> bool {
        let f = &self.p;
        let x2_minus_3 = f.sub(&f.sqr(&a.x), &f.add(&f.add(&f.one(), &f.one()), &f.one()));
        f.sqr(&a.y) == f.add(&f.mul(&x2_minus_3, &a.x), &self.b)
    }

    /// The generator's table: built now when `build`, else only if it already exists.
    fn g_table(&self, build: bool) -> Option<&Comb<N>> {
        self.g_comb
            .table(build, &self.p, &self.g, self.bits, self.g_width)
    }
}

/// A point's comb table, built on first need, and how often the point was used so far
/// (saturating at the warm-up count).
struct LazyComb<const N: usize> {
    table: OnceBox<Option<Comb<N>>>,
    uses: AtomicU32,
}

impl<const N: usize> LazyComb<N> {
    fn new() -> Self {
        LazyComb {
            table: OnceBox::new(),
            uses: AtomicU32::new(0),
        }
    }

    /// Counts one use; whether it is the `warm_after`th or a later one (the table is due).
    fn count_use(&self, warm_after: u32) -> bool {
        if self.uses.load(Ordering::Relaxed) >= warm_after {
            return true;
        }
        self.uses.fetch_add(1, Ordering::Relaxed) + 1 >= warm_after
    }

    /// The table for `point`: built now when `build`, else only if it already exists.
    fn table(
        &self,
        build: bool,
        f: &MontField<N>,
        point: &Affine<N>,
        bits: usize,
        width: u32,
    ) -> Option<&Comb<N>> {
        if build {
            self.table
                .get_or_init(|| Box::new(Comb::new(f, point, bits, width)))
                .as_ref()
        } else {
            self.table.get().and_then(Option::as_ref)
        }
    }
}

static P256_CURVE: OnceBox<Option<Curve<P256_LIMBS>>> = OnceBox::new();
static P384_CURVE: OnceBox<Option<Curve<P384_LIMBS>>> = OnceBox::new();
static P521_CURVE: OnceBox<Option<Curve<P521_LIMBS>>> = OnceBox::new();

/// The curve of `params`, prepared in `cell` on first use (its fields; the generator's table
/// once warm).
fn prepared<const N: usize>(
    cell: &'static OnceBox<Option<Curve<N>>>,
    params: &CurveParams,
) -> Option<&'static Curve<N>> {
    cell.get_or_init(|| Box::new(Curve::new(params))).as_ref()
}

/// P-256, prepared on first use.
fn p256_curve() -> Option<&'static Curve<P256_LIMBS>> {
    prepared(&P256_CURVE, &P256)
}

/// P-384, prepared on first use.
fn p384_curve() -> Option<&'static Curve<P384_LIMBS>> {
    prepared(&P384_CURVE, &P384)
}

/// P-521, prepared on first use.
fn p521_curve() -> Option<&'static Curve<P521_LIMBS>> {
    prepared(&P521_CURVE, &P521)
}

/// An affine point (never the point at infinity), coordinates in Montgomery form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Affine<const N: usize> {
    x: [u32; N],
    y: [u32; N],
}

/// A Jacobian point `(X/Z^2, Y/Z^3)`; `Z = 0` is the point at infinity.
#[derive(Clone, Copy, Debug)]
struct Jacobian<const N: usize> {
    x: [u32; N],
    y: [u32; N],
    z: [u32; N],
}

impl<const N: usize> Jacobian<N> {
    const INFINITY: Self = Jacobian {
        x: [0; N],
        y: [0; N],
        z: [0; N],
    };

    fn is_infinity(&self) -> bool {
        is_zero(&self.z)
    }

    fn from_affine(f: &MontField<N>, a: &Affine<N>) -> Self {
        Jacobian {
            x: a.x,
            y: a.y,
            z: f.one(),
        }
    }

    /// `2P` for `a = -3` (dbl-2001-b: 3M + 5S).
    fn double(&self, f: &MontField<N>) -> Self {
        if self.is_infinity() || is_zero(&self.y) {
            return Self::INFINITY;
        }
        let delta = f.sqr(&self.z);
        let gamma = f.sqr(&self.y);
        let beta = f.mul(&self.x, &gamma);
        let t = f.mul(&f.sub(&self.x, &delta), &f.add(&self.x, &delta));
        let alpha = f.add(&f.add(&t, &t), &t);
        let beta4 = f.add(&beta, &beta);
        let beta4 = f.add(&beta4, &beta4);
        let beta8 = f.add(&beta4, &beta4);
        let x3 = f.sub(&f.sqr(&alpha), &beta8);
        let yz = f.add(&self.y, &self.z);
        let z3 = f.sub(&f.sub(&f.sqr(&yz), &gamma), &delta);
        let gamma2 = f.sqr(&gamma);
        let g2 = f.add(&gamma2, &gamma2);
        let g4 = f.add(&g2, &g2);
        let g8 = f.add(&g4, &g4);
        let y3 = f.sub(&f.mul(&alpha, &f.sub(&beta4, &x3)), &g8);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `P + A` for an affine `A` (madd: 8M + 3S), with the doubling and inverse cases.
    fn add_affine(&self, f: &MontField<N>, a: &Affine<N>) -> Self {
        if self.is_infinity() {
            return Self::from_affine(f, a);
        }
        let z1z1 = f.sqr(&self.z);
        let u2 = f.mul(&a.x, &z1z1);
        let s2 = f.mul(&a.y, &f.mul(&self.z, &z1z1));
        // A's Z is 1: U1 = X1, S1 = Y1, Z1·Z2 = Z1.
        self.add_tail(f, &self.x, &self.y, &u2, &s2, self.z)
    }

    /// `P + Q` for two Jacobian points (add-1998-cmo-2: 12M + 4S), for building tables.
    fn add(&self, f: &MontField<N>, q: &Self) -> Self {
        if self.is_infinity() {
            return *q;
        }
        if q.is_infinity() {
            return *self;
        }
        let z1z1 = f.sqr(&self.z);
        let z2z2 = f.sqr(&q.z);
        let u1 = f.mul(&self.x, &z2z2);
        let u2 = f.mul(&q.x, &z1z1);
        let s1 = f.mul(&self.y, &f.mul(&q.z, &z2z2));
        let s2 = f.mul(&q.y, &f.mul(&self.z, &z1z1));
        self.add_tail(f, &u1, &s1, &u2, &s2, f.mul(&self.z, &q.z))
    }

    /// The part both additions share, from `U1 = X1·Z2²`, `S1 = Y1·Z2³`, `U2`, `S2` and
    /// `Z1·Z2`: the sum, or the doubling of `self` when the points are equal, or infinity when
    /// they are inverses.
    #[inline(always)]
    fn add_tail(
        &self,
        f: &MontField<N>,
        u1: &[u32; N],
        s1: &[u32; N],
        u2: &[u32; N],
        s2: &[u32; N],
        z1z2: [u32; N],
    ) -> Self {
        let h = f.sub(u2, u1);
        let r = f.sub(s2, s1);
        if is_zero(&h) {
            return if is_zero(&r) {
                self.double(f)
            } else {
                Self::INFINITY
            };
        }
        let hh = f.sqr(&h);
        let hhh = f.mul(&h, &hh);
        let v = f.mul(u1, &hh);
        let x3 = f.sub(&f.sub(&f.sqr(&r), &hhh), &f.add(&v, &v));
        let y3 = f.sub(&f.mul(&r, &f.sub(&v, &x3)), &f.mul(s1, &hhh));
        let z3 = f.mul(&z1z2, &h);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }
}

/// `k1 P1 + k2 P2` (or `k2 P2` alone) for scalars below `2^bits`, by Shamir's trick: one
/// doubling per bit and one addition per bit set in either scalar (`P1 + P2` added at once
/// where both are set). About five times a table lookup's cost, and no table.
fn shamir<const N: usize>(
    f: &MontField<N>,
    bits: usize,
    first: Option<(&Affine<N>, &[u32; N])>,
    (p2, k2): (&Affine<N>, &[u32; N]),
) -> Jacobian<N> {
    let both = first.map(|(p1, _)| Jacobian::from_affine(f, p1).add_affine(f, p2));
    let mut acc = Jacobian::INFINITY;
    for i in (0..bits).rev() {
        acc = acc.double(f);
        let b1 = first.is_some_and(|(_, k1)| bits_at(k1, i, 1) == 1);
        let b2 = bits_at(k2, i, 1) == 1;
        acc = match (b1, b2, first, &both) {
            (true, true, _, Some(sum)) => acc.add(f, sum),
            (true, false, Some((p1, _)), _) => acc.add_affine(f, p1),
            (false, true, _, _) => acc.add_affine(f, p2),
            _ => acc,
        };
    }
    acc
}

/// Jacobian points to affine with one inversion (Montgomery's trick). `None` if any is the
/// point at infinity.
fn batch_to_affine<const N: usize>(
    f: &MontField<N>,
    points: &[Jacobian<N>],
) -> Option<Vec<Affine<N>>> {
    let mut prefix = Vec::with_capacity(points.len());
    let mut acc = f.one();
    for p in points {
        if p.is_infinity() {
            return None;
        }
        prefix.push(acc);
        acc = f.mul(&acc, &p.z);
    }
    let mut inv = f.invert(&acc)?;
    let mut out = alloc::vec![Affine { x: [0; N], y: [0; N] }; points.len()];
    for i in (0..points.len()).rev() {
        // inv = (z_0 ... z_i)^-1, so z_i^-1 = inv * (z_0 ... z_{i-1}).
        let zinv = f.mul(&inv, &prefix[i]);
        inv = f.mul(&inv, &points[i].z);
        let zinv2 = f.sqr(&zinv);
        out[i] = Affine {
            x: f.mul(&points[i].x, &zinv2),
            y: f.mul(&points[i].y, &f.mul(&zinv2, &zinv)),
        };
    }
    Some(out)
}

/// A fixed-base comb: `points[k * half + d - 1] = d * 2^(width k) * P` for every window
/// position `k` and digit `1 <= d <= half = 2^(width-1)`.
#[derive(Debug)]
struct Comb<const N: usize> {
    width: u32,
    half: usize,
    positions: usize,
    points: Vec<Affine<N>>,
}

impl<const N: usize> Comb<N> {
    /// The table for `point`, covering scalars of `bits` bits (signed digits need one more).
    fn new(f: &MontField<N>, point: &Affine<N>, bits: usize, width: u32) -> Option<Self> {
        let half = 1usize << (width - 1);
        let positions = (bits + 1).div_ceil(width as usize);
        let mut jac = Vec::with_capacity(positions * half);
        let mut base = Jacobian::from_affine(f, point);
        for _ in 0..positions {
            let row_start = jac.len();
            jac.push(base);
            jac.push(base.double(f));
            for d in 2..half {
                let next = jac[row_start + d - 1].add(f, &base);
                jac.push(next);
            }
            // The next position's base: 2^width * base = 2 * (half * base).
            base = jac[row_start + half - 1].double(f);
        }
        Some(Comb {
            width,
            half,
            positions,
            points: batch_to_affine(f, &jac)?,
        })
    }

    /// Adds `scalar * P` (a plain scalar below `2^bits`) to `acc`.
    fn accumulate(&self, f: &MontField<N>, scalar: &[u32; N], acc: &mut Jacobian<N>) {
        let full = 1u32 << self.width;
        let mut carry = 0u32;
        for k in 0..self.positions {
            let c = bits_at(scalar, k * self.width as usize, self.width) + carry;
            let (digit, negative) = if c as usize > self.half {
                carry = 1;
                ((full - c) as usize, true)
            } else {
                carry = 0;
                (c as usize, false)
            };
            if digit == 0 {
                continue;
            }
            let entry = &self.points[k * self.half + digit - 1];
            *acc = if negative {
                acc.add_affine(
                    f,
                    &Affine {
                        x: entry.x,
                        y: f.neg(&entry.y),
                    },
                )
            } else {
                acc.add_affine(f, entry)
            };
        }
    }
}

/// A P-256, P-384 or P-521 public key for [`crate::FastVerify`], with its comb table once
/// warm. Cloning shares the table.
#[derive(Clone)]
pub(crate) enum EcVerifyKey {
    /// A P-256 key (ES256).
    P256(Arc<KeyTable<P256_LIMBS>>),
    /// A P-384 key (ES384).
    P384(Arc<KeyTable<P384_LIMBS>>),
    /// A P-521 key (ES512).
    P521(Arc<KeyTable<P521_LIMBS>>),
}

/// One key: its point, its curve, and its comb table once warm.
pub(crate) struct KeyTable<const N: usize> {
    curve: &'static Curve<N>,
    q: Affine<N>,
    comb: LazyComb<N>,
}

impl<const N: usize> KeyTable<N> {
    /// The key `(x, y)` (big-endian); `None` unless both are below `p` and the point is on
    /// the curve.
    fn new(curve: &'static Curve<N>, x: &[u8], y: &[u8]) -> Option<Self> {
        let q = Affine {
            x: curve.p.element_from_be(x)?,
            y: curve.p.element_from_be(y)?,
        };
        curve.on_curve(&q).then(|| KeyTable {
            curve,
            q,
            comb: LazyComb::new(),
        })
    }

    /// The key's table: built now when `build`, else only if it already exists.
    fn comb(&self, build: bool) -> Option<&Comb<N>> {
        let c = self.curve;
        self.comb.table(build, &c.p, &self.q, c.bits, c.key_width)
    }

    /// Builds both tables now.
    fn warm(&self) {
        self.curve.g_table(true);
        self.comb(true);
    }

    /// `u1 G + u2 Q`, through the tables that exist (or are due now), and Shamir's
    /// double-and-add for the points without one.
    fn combination(&self, u1: &[u32; N], u2: &[u32; N]) -> Jacobian<N> {
        let c = self.curve;
        let f = &c.p;
        let g_table = c.g_table(c.g_comb.count_use(GENERATOR_WARM_AFTER));
        let comb = self.comb(self.comb.count_use(KEY_WARM_AFTER));
        let mut acc = Jacobian::INFINITY;
        match (g_table, comb) {
            (Some(g), Some(k)) => {
                g.accumulate(f, u1, &mut acc);
                k.accumulate(f, u2, &mut acc);
            }
            (Some(g), None) => {
                g.accumulate(f, u1, &mut acc);
                acc = acc.add(f, &shamir(f, c.bits, None, (&self.q, u2)));
            }
            (None, Some(k)) => {
                acc = shamir(f, c.bits, None, (&c.g, u1));
                k.accumulate(f, u2, &mut acc);
            }
            (None, None) => acc = shamir(f, c.bits, Some((&c.g, u1)), (&self.q, u2)),
        }
        acc
    }

    /// ECDSA verification of `sig = r || s` over the digest `e`. No JWS pairing needs the
    /// digest truncated: SHA-256 and SHA-384 are exactly P-256's and P-384's order length,
    /// and SHA-512's 512 bits are shorter than P-521's 521, so `e` is the whole digest.
    fn verify_digest(&self, digest: &[u8], sig: &[u8]) -> bool {
        let c = self.curve;
        let len = c.len;
        if sig.len() != 2 * len || digest.len() * 8 > c.bits {
            return false;
        }
        let (Some(r), Some(s)) = (
            MontField::<N>::limbs_from_be(&sig[..len]),
            MontField::<N>::limbs_from_be(&sig[len..]),
        ) else {
            return false;
        };
        if is_zero(&r) || is_zero(&s) || !c.n.is_reduced(&r) || !c.n.is_reduced(&s) {
            return false;
        }
        let Some(mut e) = MontField::<N>::limbs_from_be(digest) else {
            return false;
        };
        if !c.n.is_reduced(&e) {
            // e < 2^bits < 2n: one subtraction reduces it.
            e = c.n.sub(&e, c.n.modulus());
        }
        let Some(w) = c.n.inverse_plain(&s) else {
            return false;
        };
        // Montgomery products with w R give plain results: (e)(w R) R^-1 = e w.
        let w_mont = c.n.to_mont(&w);
        let u1 = c.n.mul(&e, &w_mont);
        let u2 = c.n.mul(&r, &w_mont);
        let acc = self.combination(&u1, &u2);
        if acc.is_infinity() {
            return false;
        }
        // x(R) mod n == r  <=>  X == r Z^2, or X == (r + n) Z^2 when r + n < p.
        let z2 = c.p.sqr(&acc.z);
        let r_mont = c.p.to_mont(&r);
        if c.p.mul(&r_mont, &z2) == acc.x {
            return true;
        }
        let Some(n_mont) = &c.n_in_p else {
            return false;
        };
        let r_plus_n = c.p.add(&r_mont, n_mont);
        let r_plus_n_plain = c.p.to_plain(&r_plus_n);
        // Only when r + n did not wrap past p is it a candidate x.
        less(&r, &r_plus_n_plain) && c.p.mul(&r_plus_n, &z2) == acc.x
    }
}

impl EcVerifyKey {
    /// Prepares a P-256 key from its affine coordinates (big-endian). `None` if a coordinate
    /// is not below `p` or the point is not on the curve. No table is built yet.
    pub(crate) fn p256(x: &[u8], y: &[u8]) -> Option<Self> {
        Some(EcVerifyKey::P256(Arc::new(KeyTable::new(
            p256_curve()?,
            x,
            y,
        )?)))
    }

    /// Prepares a P-384 key from its affine coordinates.
    pub(crate) fn p384(x: &[u8], y: &[u8]) -> Option<Self> {
        Some(EcVerifyKey::P384(Arc::new(KeyTable::new(
            p384_curve()?,
            x,
            y,
        )?)))
    }

    /// Prepares a P-521 key from its affine coordinates.
    pub(crate) fn p521(x: &[u8], y: &[u8]) -> Option<Self> {
        Some(EcVerifyKey::P521(Arc::new(KeyTable::new(
            p521_curve()?,
            x,
            y,
        )?)))
    }

    /// Builds the key's and its curve's tables now (off the request path), instead of on the
    /// verifications that make them due.
    pub(crate) fn warm(&self) {
        match self {
            EcVerifyKey::P256(k) => k.warm(),
            EcVerifyKey::P384(k) => k.warm(),
            EcVerifyKey::P521(k) => k.warm(),
        }
    }

    /// Whether the key's own table has been built.
    #[cfg(test)]
    fn is_warm(&self) -> bool {
        match self {
            EcVerifyKey::P256(k) => k.comb(false).is_some(),
            EcVerifyKey::P384(k) => k.comb(false).is_some(),
            EcVerifyKey::P521(k) => k.comb(false).is_some(),
        }
    }

    /// ES256 (on a P-256 key), ES384 (on a P-384 key) or ES512 (on a P-521 key) over
    /// `message`.
    pub(crate) fn verify(&self, sha: Sha, message: &[u8], sig: &[u8]) -> bool {
        let digest = sha.hash(&[message]);
        let digest = digest.as_bytes();
        match self {
            EcVerifyKey::P256(k) => k.verify_digest(digest, sig),
            EcVerifyKey::P384(k) => k.verify_digest(digest, sig),
            EcVerifyKey::P521(k) => k.verify_digest(digest, sig),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `acc += value`, both big-endian, `acc` wide enough (no carry out of it here).
    fn add_be(acc: &mut [u8], value: &[u8]) {
        let mut carry = 0u16;
        let mut digits = value.iter().rev();
        for a in acc.iter_mut().rev() {
            let sum = u16::from(*a) + u16::from(digits.next().copied().unwrap_or(0)) + carry;
            *a = sum as u8;
            carry = sum >> 8;
        }
    }

    /// Every point of the generators' tables (P-256 and P-521; P-384's is the next test's) is
    /// on its curve, and the public-key check refuses points off it or not reduced.
    #[test]
    fn curves_build_and_tables_are_on_the_curve() {
        fn check<const N: usize>(c: &Curve<N>) {
            for pt in &c.g_table(true).unwrap_or_else(|| unreachable!()).points {
                assert!(c.on_curve(pt));
            }
            let mut off = c.g;
            off.y = c.p.add(&off.y, &c.p.one());
            assert!(!c.on_curve(&off));
        }
        check(p256_curve().unwrap_or_else(|| unreachable!()));
        check(p521_curve().unwrap_or_else(|| unreachable!()));
        assert!(p384_curve().is_some());
        // P-521's generator itself, then with y + 1, then with x = p (not reduced).
        let gx = hex(P521.gx);
        let gy = hex(P521.gy);
        assert!(EcVerifyKey::p521(&gx, &gy).is_some());
        let mut bad_y = gy.clone();
        bad_y[65] ^= 1;
        assert!(EcVerifyKey::p521(&gx, &bad_y).is_none());
        assert!(EcVerifyKey::p521(&hex(P521.p), &gy).is_none());
        assert!(EcVerifyKey::p256(&hex(P256.gx), &hex(P256.gy)).is_some());
        assert!(EcVerifyKey::p256(&hex(P256.gx), &hex(P256.gx)).is_none());
    }

    /// The fast path itself (not a fallback) accepts RustCrypto's signatures and refuses
    /// altered ones, before and after its tables are built; a parsed JWK carries the key.
    #[test]
    fn verifies_rustcrypto_signatures_cold_and_warm() {
        use signature::Signer;
        for seed in 1u8..=8 {
            let sk =
                p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap_or_else(|_| unreachable!());
            let point = sk.verifying_key().to_sec1_point(false);
            let xy = &point.as_bytes()[1..];
            let key = EcVerifyKey::p256(&xy[..32], &xy[32..]).unwrap_or_else(|| unreachable!());
            // Seeds 1-4 warm up one verification at a time; 5-8 are warmed at once.
            if seed > 4 {
                key.warm();
                assert!(key.is_warm());
            }
            for round in 0..KEY_WARM_AFTER + 2 {
                let msg = [seed ^ round as u8; 100];
                let sig: p256::ecdsa::Signature = sk.sign(&msg);
                let mut sig = sig.to_bytes().to_vec();
                assert!(
                    key.verify(Sha::Sha256, &msg, &sig),
                    "seed {seed} round {round}"
                );
                assert!(!key.verify(Sha::Sha256, &msg[1..], &sig));
                sig[usize::from(seed) * 7] ^= 0x10;
                assert!(!key.verify(Sha::Sha256, &msg, &sig));
            }
            assert!(key.is_warm(), "warm after {KEY_WARM_AFTER} verifications");
            let jwk = crate::Jwk::from_json(&alloc::format!(
                r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
                crate::base64url_encode(&xy[..32]),
                crate::base64url_encode(&xy[32..])
            ))
            .unwrap_or_else(|_| unreachable!());
            assert!(matches!(
                jwk.prepared,
                crate::jose::jwk::Prepared::P256 { .. }
            ));
        }
    }

    /// Shamir's double-and-add and the combs agree on random-looking scalars, both points
    /// and either alone (P-384, whose tables the other test does not build).
    #[test]
    fn shamir_and_combs_agree() {
        let c = p384_curve().unwrap_or_else(|| unreachable!());
        let f = &c.p;
        let g_comb = c.g_table(true).unwrap_or_else(|| unreachable!());
        let q = Jacobian::from_affine(f, &c.g)
            .double(f)
            .double(f)
            .add_affine(f, &c.g);
        let q = batch_to_affine(f, &[q]).unwrap_or_else(|| unreachable!())[0];
        let q_comb = Comb::new(f, &q, c.bits, c.key_width).unwrap_or_else(|| unreachable!());
        let same = |a: &Jacobian<P384_LIMBS>, b: &Jacobian<P384_LIMBS>| {
            batch_to_affine(f, &[*a]) == batch_to_affine(f, &[*b])
        };
        for seed in 1u32..=20 {
            let mut k1 = [0u32; P384_LIMBS];
            let mut k2 = [0u32; P384_LIMBS];
            for i in 0..P384_LIMBS - 1 {
                k1[i] = seed.wrapping_mul(0x9e37_79b9).rotate_left(i as u32) & 0x1fff_ffff;
                k2[i] = seed.wrapping_mul(0x85eb_ca6b).rotate_left(3 * i as u32) & 0x1fff_ffff;
            }
            let mut by_combs = Jacobian::INFINITY;
            g_comb.accumulate(f, &k1, &mut by_combs);
            q_comb.accumulate(f, &k2, &mut by_combs);
            let both = shamir(f, c.bits, Some((&c.g, &k1)), (&q, &k2));
            assert!(same(&both, &by_combs), "seed {seed}");
            let mut g_only = Jacobian::INFINITY;
            g_comb.accumulate(f, &k1, &mut g_only);
            assert!(same(&shamir(f, c.bits, None, (&c.g, &k1)), &g_only));
        }
    }

    type Prepare = fn(&[u8], &[u8]) -> Option<EcVerifyKey>;

    /// Each curve with its per-curve key check and its parameters.
    const CURVES: [(crate::jose::alg::Curve, Prepare, &CurveParams); 3] = [
        (crate::jose::alg::Curve::P256, EcVerifyKey::p256, &P256),
        (crate::jose::alg::Curve::P384, EcVerifyKey::p384, &P384),
        (crate::jose::alg::Curve::P521, EcVerifyKey::p521, &P521),
    ];

    /// The public point (x ‖ y) of `curve`'s private key whose scalar bytes are all `seed`
    /// (P-521's with a zero byte first); `None` for a scalar out of range.
    fn real_point(curve: crate::jose::alg::Curve, seed: u8) -> Option<Vec<u8>> {
        use crate::jose::alg::Curve as Named;
        let sec1 = match curve {
            Named::P256 => p256::ecdsa::SigningKey::from_slice(&[seed; 32])
                .ok()?
                .verifying_key()
                .to_sec1_point(false)
                .as_bytes()
                .to_vec(),
            Named::P384 => p384::ecdsa::SigningKey::from_slice(&[seed; 48])
                .ok()?
                .verifying_key()
                .to_sec1_point(false)
                .as_bytes()
                .to_vec(),
            Named::P521 => p521::ecdsa::SigningKey::from_slice(&[&[0u8][..], &[seed; 65]].concat())
                .ok()?
                .verifying_key()
                .to_sec1_point(false)
                .as_bytes()
                .to_vec(),
        };
        Some(sec1[1..].to_vec())
    }

    /// The compact on-curve check the main npm module uses ([`is_curve_point`]) accepts and
    /// refuses exactly the points the per-curve one does: real public keys (and their
    /// negations) on each curve, and the same coordinates nudged, swapped, at or above `p`.
    #[test]
    fn compact_on_curve_check_agrees() {
        let mut accepted = 0;
        let mut refused = 0;
        for seed in 1u8..=12 {
            for (named, prepare, params) in CURVES {
                let point = real_point(named, seed).unwrap_or_else(|| unreachable!());
                let len = point.len() / 2;
                let (x, y) = (point[..len].to_vec(), point[len..].to_vec());
                let p = hex(params.p);
                let sub = |a: &[u8], b: &[u8]| -> Vec<u8> {
                    let mut out = a.to_vec();
                    let mut borrow = 0i16;
                    for i in (0..out.len()).rev() {
                        let d = i16::from(out[i]) - i16::from(b[i]) - borrow;
                        out[i] = d.rem_euclid(256) as u8;
                        borrow = i16::from(d < 0);
                    }
                    out
                };
                // v + p, cut to the coordinate's length (one byte wider to see the carry), and
                // whether it overflowed that length (never for P-521: 66 bytes for 521 bits).
                let plus_p = |v: &[u8]| {
                    let mut wide = [&[0u8][..], v].concat();
                    add_be(&mut wide, &p);
                    (wide[1..].to_vec(), wide[0] != 0)
                };
                let mut nudged = y.clone();
                nudged[len - 1] ^= 1;
                let (x_plus_p, overflowed) = plus_p(&x);
                let (y_plus_p, _) = plus_p(&y);
                let cases = [
                    (x.clone(), y.clone()),
                    (x.clone(), sub(&p, &y)),
                    (x.clone(), nudged),
                    (y.clone(), x.clone()),
                    (p.clone(), y.clone()),
                    (x.clone(), p.clone()),
                    (alloc::vec![0; len], alloc::vec![0; len]),
                    (alloc::vec![0xff; len], y.clone()),
                    (x_plus_p, y.clone()),
                    (x.clone(), y_plus_p),
                ];
                for (i, (cx, cy)) in cases.iter().enumerate() {
                    let full = prepare(cx, cy).is_some();
                    assert_eq!(
                        is_curve_point(named, cx, cy),
                        full,
                        "{} seed {seed} case {i} (x + p overflowed: {overflowed})",
                        named.name()
                    );
                    if full {
                        accepted += 1;
                    } else {
                        refused += 1;
                    }
                }
            }
        }
        assert_eq!(accepted, 72, "a key and its negation per curve and seed");
        assert!(refused >= 200, "{refused} refused");
    }

    proptest::proptest! {
        /// Random coordinates: the two checks agree (almost all are refused by both).
        #[test]
        fn compact_on_curve_check_agrees_on_random(x in proptest::collection::vec(proptest::num::u8::ANY, 32), y in proptest::collection::vec(proptest::num::u8::ANY, 32)) {
            proptest::prop_assert_eq!(
                is_curve_point(crate::jose::alg::Curve::P256, &x, &y),
                EcVerifyKey::p256(&x, &y).is_some()
            );
        }

        /// A real point of each curve, and that point with one byte changed: accepted, then
        /// refused, by both checks alike.
        #[test]
        fn compact_on_curve_check_agrees_near_real_points(seed in 1u8..=255, curve in 0usize..3, at in 0usize..132, flip in 1u8..=255) {
            let (named, prepare, _) = CURVES[curve];
            let point = real_point(named, seed);
            proptest::prop_assume!(point.is_some());
            let mut xy = point.unwrap_or_default();
            let len = xy.len() / 2;
            proptest::prop_assert!(is_curve_point(named, &xy[..len], &xy[len..]));
            let at = at % xy.len();
            xy[at] ^= flip;
            proptest::prop_assert_eq!(
                is_curve_point(named, &xy[..len], &xy[len..]),
                prepare(&xy[..len], &xy[len..]).is_some()
            );
        }
    }
}
