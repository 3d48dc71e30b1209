//! The inverse DCT of the one-pass decoder (`pixels`): an 8×8 block of dequantised
//! coefficients to 64 samples, with exactly the integer arithmetic of zune-jpeg 0.5 (the
//! decoder `image` runs, itself after stb_image's `jidctint`-style transform: 12-bit fixed-point
//! constants, a column pass rounded to 10 bits, a row pass with the +128 level shift, clamped to
//! 0–255), so that a photo decodes to the same pixels whichever decoder reads it. One generic
//! 1-D transform serves a scalar version and an AVX2 one (8 columns at a time, chosen at run
//! time where the processor has it). All arithmetic wraps as zune-jpeg's does: a hostile file's
//! huge coefficients give wrong pixels, never a panic.

/// A lane type the 1-D transform runs on: one `i32`, or eight in an AVX2 register.
trait Lanes: Copy {
    fn splat(v: i32) -> Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, k: i32) -> Self;
    fn shl12(self) -> Self;
}

impl Lanes for i32 {
    #[inline(always)]
    fn splat(v: i32) -> i32 {
        v
    }
    #[inline(always)]
    fn add(self, o: i32) -> i32 {
        self.wrapping_add(o)
    }
    #[inline(always)]
    fn sub(self, o: i32) -> i32 {
        self.wrapping_sub(o)
    }
    #[inline(always)]
    fn mul(self, k: i32) -> i32 {
        self.wrapping_mul(k)
    }
    #[inline(always)]
    fn shl12(self) -> i32 {
        self.wrapping_shl(12)
    }
}

/// Column pass rounding; the row pass adds the level shift of 128 too (zune-jpeg's `SCALE_BITS`).
const PASS1_BIAS: i32 = 512;
const PASS2_BIAS: i32 = 512 + 65536 + (128 << 17);

/// One 1-D transform of `s` (coefficients 0..8 along one axis), before the final shift.
#[inline(always)]
fn idct8<L: Lanes>(s: [L; 8], bias: i32) -> [L; 8] {
    let bias = L::splat(bias);
    let p1 = s[2].add(s[6]).mul(2217);
    let t2 = p1.add(s[6].mul(-7567));
    let t3 = p1.add(s[2].mul(3135));
    let t0 = s[0].add(s[4]).shl12();
    let t1 = s[0].sub(s[4]).shl12();
    let (x0, x3) = (t0.add(t3).add(bias), t0.sub(t3).add(bias));
    let (x1, x2) = (t1.add(t2).add(bias), t1.sub(t2).add(bias));
    let (o0, o1, o2, o3) = (s[7], s[5], s[3], s[1]);
    let (p3, p4) = (o0.add(o2), o1.add(o3));
    let (p1, p2) = (o0.add(o3), o1.add(o2));
    let p5 = p3.add(p4).mul(4816);
    let p1 = p5.add(p1.mul(-3685));
    let p2 = p5.add(p2.mul(-10497));
    let (p3, p4) = (p3.mul(-8034), p4.mul(-1597));
    let t3 = o3.mul(6149).add(p1.add(p4));
    let t2 = o2.mul(12586).add(p2.add(p3));
    let t1 = o1.mul(8410).add(p2.add(p4));
    let t0 = o0.mul(1223).add(p1.add(p3));
    [
        x0.add(t3),
        x1.add(t2),
        x2.add(t1),
        x3.add(t0),
        x3.sub(t0),
        x2.sub(t1),
        x1.sub(t2),
        x0.sub(t3),
    ]
}

/// Transforms one block into 8 rows of 8 samples at `out[r * stride..]`, and zeroes `coefs`.
pub type Idct = fn(&mut [i32; 64], &mut [u8], usize);

/// The fastest transform this processor runs.
#[must_use]
pub fn choose() -> Idct {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        return avx2::idct;
    }
    scalar
}

/// A block whose AC coefficients are all zero is flat: zune-jpeg's shortcut, the same values as
/// the full transform gives.
#[inline(always)]
fn flat(coefs: &[i32; 64]) -> Option<u8> {
    let ac = coefs[1..].iter().fold(0, |a, &c| a | c);
    (ac == 0).then(|| (coefs[0].wrapping_add(4 + 1024) >> 3).clamp(0, 255) as u8)
}

#[inline(always)]
fn fill(out: &mut [u8], stride: usize, v: u8) {
    for r in 0..8 {
        out[r * stride..r * stride + 8].fill(v);
    }
}

/// The transform one lane at a time.
pub fn scalar(coefs: &mut [i32; 64], out: &mut [u8], stride: usize) {
    if let Some(v) = flat(coefs) {
        fill(out, stride, v);
        coefs[0] = 0;
        return;
    }
    let mut tmp = [0i32; 64];
    for c in 0..8 {
        let col = idct8(std::array::from_fn(|r| coefs[r * 8 + c]), PASS1_BIAS);
        for r in 0..8 {
            tmp[r * 8 + c] = col[r] >> 10;
        }
    }
    for r in 0..8 {
        let row = idct8(std::array::from_fn(|c| tmp[r * 8 + c]), PASS2_BIAS);
        for (o, v) in out[r * stride..r * stride + 8].iter_mut().zip(row) {
            *o = (v >> 17).clamp(0, 255) as u8;
        }
    }
    *coefs = [0; 64];
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! Eight columns (then eight rows) of the block per instruction.
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi32, _mm256_loadu_si256, _mm256_mullo_epi32, _mm256_packs_epi32,
        _mm256_packus_epi16, _mm256_permute2x128_si256, _mm256_permutevar8x32_epi32,
        _mm256_set1_epi32, _mm256_setr_epi32, _mm256_slli_epi32, _mm256_srai_epi32,
        _mm256_storeu_si256, _mm256_sub_epi32, _mm256_unpackhi_epi32, _mm256_unpackhi_epi64,
        _mm256_unpacklo_epi32, _mm256_unpacklo_epi64,
    };

    use super::{Lanes, PASS1_BIAS, PASS2_BIAS, fill, flat, idct8};

    #[derive(Clone, Copy)]
    struct V(__m256i);

    // The methods are only ever inlined into `transform`, which enables AVX2.
    impl Lanes for V {
        #[inline(always)]
        fn splat(v: i32) -> V {
            // SAFETY: AVX is present wherever this runs (see `super::choose`).
            V(unsafe { _mm256_set1_epi32(v) })
        }
        #[inline(always)]
        fn add(self, o: V) -> V {
            // SAFETY: as above.
            V(unsafe { _mm256_add_epi32(self.0, o.0) })
        }
        #[inline(always)]
        fn sub(self, o: V) -> V {
            // SAFETY: as above.
            V(unsafe { _mm256_sub_epi32(self.0, o.0) })
        }
        #[inline(always)]
        fn mul(self, k: i32) -> V {
            // SAFETY: as above.
            V(unsafe { _mm256_mullo_epi32(self.0, _mm256_set1_epi32(k)) })
        }
        #[inline(always)]
        fn shl12(self) -> V {
            // SAFETY: as above.
            V(unsafe { _mm256_slli_epi32::<12>(self.0) })
        }
    }

    /// Rows to columns of an 8×8 matrix of `i32`.
    #[target_feature(enable = "avx2")]
    fn transpose(r: [V; 8]) -> [V; 8] {
        let lo = |a: V, b: V| _mm256_unpacklo_epi32(a.0, b.0);
        let hi = |a: V, b: V| _mm256_unpackhi_epi32(a.0, b.0);
        let t = [
            lo(r[0], r[1]),
            hi(r[0], r[1]),
            lo(r[2], r[3]),
            hi(r[2], r[3]),
            lo(r[4], r[5]),
            hi(r[4], r[5]),
            lo(r[6], r[7]),
            hi(r[6], r[7]),
        ];
        let u = [
            _mm256_unpacklo_epi64(t[0], t[2]),
            _mm256_unpackhi_epi64(t[0], t[2]),
            _mm256_unpacklo_epi64(t[1], t[3]),
            _mm256_unpackhi_epi64(t[1], t[3]),
            _mm256_unpacklo_epi64(t[4], t[6]),
            _mm256_unpackhi_epi64(t[4], t[6]),
            _mm256_unpacklo_epi64(t[5], t[7]),
            _mm256_unpackhi_epi64(t[5], t[7]),
        ];
        std::array::from_fn(|i| {
            let (a, b) = (u[i % 4], u[i % 4 + 4]);
            V(if i < 4 {
                _mm256_permute2x128_si256::<0x20>(a, b)
            } else {
                _mm256_permute2x128_si256::<0x31>(a, b)
            })
        })
    }

    #[target_feature(enable = "avx2")]
    fn transform(coefs: &mut [i32; 64], out: &mut [u8], stride: usize) {
        let rows: [V; 8] = std::array::from_fn(|r| {
            // SAFETY: row `r` is `coefs[8r..8r + 8]`, inside the array.
            V(unsafe { _mm256_loadu_si256(coefs.as_ptr().add(8 * r).cast()) })
        });
        let cols = idct8(rows, PASS1_BIAS).map(|v| V(_mm256_srai_epi32::<10>(v.0)));
        let px = idct8(transpose(cols), PASS2_BIAS).map(|v| V(_mm256_srai_epi32::<17>(v.0)));
        let r = transpose(px);
        // Saturating packs clamp to 0..=255 as zune-jpeg's clamp does; the permute puts each
        // row's 8 bytes together.
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        for half in 0..2 {
            let a = _mm256_packs_epi32(r[4 * half].0, r[4 * half + 1].0);
            let b = _mm256_packs_epi32(r[4 * half + 2].0, r[4 * half + 3].0);
            let bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(a, b), order);
            let mut four = [0u8; 32];
            // SAFETY: 32 bytes into a 32-byte array.
            unsafe { _mm256_storeu_si256(four.as_mut_ptr().cast(), bytes) };
            for (k, row) in four.chunks_exact(8).enumerate() {
                let at = (4 * half + k) * stride;
                out[at..at + 8].copy_from_slice(row);
            }
        }
        *coefs = [0; 64];
    }

    pub(super) fn idct(coefs: &mut [i32; 64], out: &mut [u8], stride: usize) {
        if let Some(v) = flat(coefs) {
            fill(out, stride, v);
            coefs[0] = 0;
            return;
        }
        // SAFETY: `super::choose` hands this out only where the processor has AVX2.
        unsafe { transform(coefs, out, stride) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible block of coefficients of every size an 8-bit JPEG can hold.
    fn block(seed: u64) -> [i32; 64] {
        let mut x = seed;
        std::array::from_fn(|i| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let v = ((x >> 33) % 2001) as i32 - 1000;
            if i > 0 && (x >> 20).is_multiple_of(3) {
                0
            } else {
                v * (1 + (x >> 50) as i32 % 40)
            }
        })
    }

    #[test]
    fn the_vector_transform_gives_the_scalar_ones_samples() {
        for seed in 0..2000 {
            let (mut a, mut b) = (block(seed), block(seed));
            let (mut sa, mut sb) = ([0u8; 80], [0u8; 80]);
            scalar(&mut a, &mut sa, 10);
            choose()(&mut b, &mut sb, 10);
            assert_eq!(sa, sb, "block {seed}");
            assert_eq!((a, b), ([0; 64], [0; 64]), "coefficients left zeroed");
        }
    }

    #[test]
    fn a_flat_block_is_its_dc_over_eight_plus_128() {
        let mut c = [0; 64];
        c[0] = -80;
        let mut out = [0u8; 64];
        scalar(&mut c, &mut out, 8);
        assert!(out.iter().all(|&v| v == 118));
    }
}
