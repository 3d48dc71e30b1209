//! The strict walk of a sequential scan that also keeps what it reads: each block's
//! coefficients, dequantised and in natural order, handed to a [`Blocks`] receiver (the
//! one-pass decoder, `jpeg::pixels`). It makes the same checks in the same order as the walk
//! that only checks (`sequential`), with the same lookups, so a file gets the same verdict and
//! message whichever of the two reads it; only the coefficient values are new.

use super::super::{Check, Limits, corrupt};
use super::sequential::{AC_BITS, AC_SLOW, AC_ZRL, AcLookup, SeqComp};
use super::{Bits, Huffman, Run};

/// Natural (row-major) position of the `k`-th coefficient in zig-zag order.
pub(in super::super) const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Where the decoded blocks of a scan go, in the order the scan codes them.
pub(in super::super) trait Blocks {
    /// The next block of the scan's `k`-th component, dequantised, in natural order; the
    /// receiver leaves it all zeros for the next one.
    fn block(&mut self, k: usize, coefs: &mut [i32; 64]);
}

impl Run {
    /// [`Run::sequential`], keeping every block: `quant` holds each scan component's
    /// quantisation steps in natural order.
    pub(in super::super) fn sequential_decode<'a>(
        &mut self,
        bits: Bits<'a>,
        comps: &[SeqComp],
        quant: &[[i32; 64]],
        (mcus, restart): (usize, usize),
        out: &mut impl Blocks,
    ) -> Check<Bits<'a>> {
        let mut b = bits;
        let mut coefs = [0i32; 64];
        for mcu in 0..mcus {
            if restart > 0 && mcu > 0 && mcu % restart == 0 {
                b = self.restart_owned(b)?;
            }
            for (k, (c, q)) in comps.iter().zip(quant).enumerate() {
                for _ in 0..c.blocks {
                    self.dc(&mut b, c.dc, k, 0, c.quant_dc)?;
                    // `dc` has bounded the prediction (|pred × step| ≤ 2 × 2048).
                    coefs[0] = self.pred[k] as i32 * q[0];
                    decode_ac(&mut b, &c.lookup, c.ac, self.limits, q, &mut coefs)?;
                    out.block(k, &mut coefs);
                }
            }
        }
        Ok(b)
    }
}

/// A coefficient of `s` bits (1..=15) whose bits are `v`, as the signed number they code.
#[inline(always)]
fn extend(v: u32, s: u32) -> i32 {
    let negative = ((v >> (s - 1)) ^ 1) as i32;
    v as i32 - (negative << s) + negative
}

/// The AC coefficients of one block into `coefs`; the same lookups and checks as `fast_ac`.
#[inline(always)]
fn decode_ac(
    bits: &mut Bits,
    lookup: &AcLookup,
    ac: &Huffman,
    limits: Limits,
    q: &[i32; 64],
    coefs: &mut [i32; 64],
) -> Check<()> {
    let table: &[u16; 1 << AC_BITS] = lookup.0.as_slice().try_into().expect("sized");
    let sizes: &[u8; 1 << AC_BITS] = lookup.1.as_slice().try_into().expect("sized");
    let mut k = 1u32;
    loop {
        bits.fill();
        let prefix = (bits.acc >> (64 - AC_BITS)) as usize;
        let e = table[prefix];
        if e & AC_SLOW != 0 {
            *bits = slow_ac(*bits, ac, limits, (k, q), coefs)?;
            return Ok(());
        }
        let (len, s) = (u32::from(e & 31), u32::from(sizes[prefix]));
        let v = (bits.acc >> (64 - len)) as u32 & ((1 << s) - 1);
        bits.consume(len)?;
        k += u32::from(e >> 8);
        if s != 0 && k <= 64 {
            let at = ZIGZAG[(k - 1) as usize & 63];
            coefs[at] = extend(v, s) * q[at];
        }
        if k >= 64 {
            return match k {
                64 | 128.. => Ok(()),
                _ if e & AC_ZRL != 0 => corrupt("a zero run past the end of a block"),
                _ => corrupt("a coefficient past the end of a block"),
            };
        }
    }
}

/// The rest of a block from coefficient `k` on through the general decoder, as
/// `sequential_ac_from` reads it.
#[cold]
#[inline(never)]
fn slow_ac<'a>(
    mut bits: Bits<'a>,
    ac: &Huffman,
    limits: Limits,
    (mut k, q): (u32, &[i32; 64]),
    coefs: &mut [i32; 64],
) -> Check<Bits<'a>> {
    while k < 64 {
        let rs = ac.decode(&mut bits)?;
        let (r, s) = (u32::from(rs >> 4), u32::from(rs & 15));
        if s > limits.ac_bits {
            return corrupt("a coefficient too large for the sample precision");
        }
        let v = bits.take(s)?;
        if s == 0 {
            if r != 15 {
                return Ok(bits);
            }
            k += 16;
            if k > 64 {
                return corrupt("a zero run past the end of a block");
            }
            continue;
        }
        k += r;
        if k > 63 {
            return corrupt("a coefficient past the end of a block");
        }
        let at = ZIGZAG[k as usize];
        coefs[at] = extend(v, s) * q[at];
        k += 1;
    }
    Ok(bits)
}
