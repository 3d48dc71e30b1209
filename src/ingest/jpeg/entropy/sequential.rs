//! The fast path of the strict walk for sequential (baseline and extended) scans, which nearly
//! every camera and phone JPEG is: the same checks as the general block decoder, with the bit
//! reader held in registers for the whole scan (behind a pointer it costs a store and a load per
//! code) and each AC code and its coefficient bits stepped over with one lookup. Codes the lookup
//! does not hold (long or invalid ones, oversized coefficients) go to the general decoder, which
//! gives the same verdict and message as before.

use super::super::{Check, Limits, Scan, corrupt};
use super::{Bits, FAST_BITS, Huffman, Run, sequential_ac_from};

/// Bits of the AC lookup.
pub(super) const AC_BITS: u32 = 11;
/// Entry flag: the general decoder takes over (a code longer than `AC_BITS`, no code, a
/// coefficient too large for the sample precision, or a zero run other than 16).
pub(super) const AC_SLOW: u16 = 1 << 7;
/// Entry flag: the code is a run of 16 zeros (named when it overruns the block).
pub(super) const AC_ZRL: u16 = 1 << 6;
/// Advance of the end-of-block code: past any position in a block.
const AC_EOB: u16 = 128;

/// An AC Huffman table expanded for [`fast_ac`]: per `AC_BITS` prefix, `advance << 8 | flags |
/// length`, where length counts the code and its coefficient bits and advance is how far the
/// code moves along the block; and, for decoding, the coefficient's size in bits (0 for the
/// end-of-block and zero-run codes).
pub(super) struct AcLookup(pub(super) Vec<u16>, pub(super) Vec<u8>);

impl AcLookup {
    fn new(ac: &Huffman, limits: Limits) -> AcLookup {
        let entry = |prefix: usize| {
            let short = ac.fast[prefix >> (AC_BITS - FAST_BITS)];
            let (len, rs) = if short != 0 {
                (u32::from(short >> 8), short as u8)
            } else {
                long_code(ac, prefix as u32)?
            };
            let (r, s) = (u16::from(rs >> 4), u32::from(rs & 15));
            if s > limits.ac_bits {
                return None;
            }
            let advance = match (r, s) {
                (0, 0) => AC_EOB << 8,
                (15, 0) => 16 << 8 | AC_ZRL,
                (_, 0) => return None,
                _ => (r + 1) << 8,
            };
            Some((advance | (len + s) as u16, s as u8))
        };
        let (entries, sizes) = (0..1 << AC_BITS)
            .map(|p| entry(p).unwrap_or((AC_SLOW, 0)))
            .unzip();
        AcLookup(entries, sizes)
    }
}

/// A code of `FAST_BITS + 1` to `AC_BITS` bits at the top of `prefix`: its length and value.
fn long_code(ac: &Huffman, prefix: u32) -> Option<(u32, u8)> {
    (FAST_BITS + 1..=AC_BITS).find_map(|len| {
        let code = (prefix >> (AC_BITS - len)) as i32;
        (code <= ac.maxcode[len as usize])
            .then(|| (len, ac.values[(code + ac.valoff[len as usize]) as usize]))
    })
}

/// One component of a sequential scan: its tables, DC step and blocks per MCU.
pub(in super::super) struct SeqComp<'t> {
    pub(super) dc: &'t Huffman,
    pub(super) ac: &'t Huffman,
    pub(super) lookup: AcLookup,
    pub(super) quant_dc: i64,
    pub(super) blocks: usize,
}

impl<'t> SeqComp<'t> {
    /// The components of a sequential scan, or `None` when one uses a table never defined (the
    /// general path then refuses the file at the block that meets it, as before).
    pub(in super::super) fn for_scan(scan: &Scan<'t>, limits: Limits) -> Option<Vec<SeqComp<'t>>> {
        scan.comps
            .iter()
            .map(|sc| {
                let (dc, ac) = (sc.dc?, sc.ac?);
                Some(SeqComp {
                    dc,
                    ac,
                    lookup: AcLookup::new(ac, limits),
                    quant_dc: sc.quant_dc,
                    blocks: sc.h * sc.v,
                })
            })
            .collect()
    }
}

impl Run {
    /// Every MCU of a sequential scan whose data starts at `bits`, restart markers every
    /// `restart` MCUs (0: none); returns the reader after the last block.
    pub(in super::super) fn sequential<'a>(
        &mut self,
        bits: Bits<'a>,
        comps: &[SeqComp],
        mcus: usize,
        restart: usize,
    ) -> Check<Bits<'a>> {
        let mut b = bits;
        for mcu in 0..mcus {
            if restart > 0 && mcu > 0 && mcu % restart == 0 {
                b = self.restart_owned(b)?;
            }
            for (k, c) in comps.iter().enumerate() {
                for _ in 0..c.blocks {
                    self.dc(&mut b, c.dc, k, 0, c.quant_dc)?;
                    fast_ac(&mut b, &c.lookup, c.ac, self.limits)?;
                }
            }
        }
        Ok(b)
    }

    /// [`Run::restart`] taking and giving back the reader by value, so that the scan's reader
    /// never has its address taken and stays in registers.
    #[inline(never)]
    pub(super) fn restart_owned<'a>(&mut self, mut bits: Bits<'a>) -> Check<Bits<'a>> {
        self.restart(&mut bits)?;
        Ok(bits)
    }
}

/// The AC codes of one block, one lookup each; the same checks as `sequential_ac`.
#[inline(always)]
fn fast_ac(bits: &mut Bits, lookup: &AcLookup, ac: &Huffman, limits: Limits) -> Check<()> {
    let table: &[u16; 1 << AC_BITS] = lookup.0.as_slice().try_into().expect("sized");
    let mut k = 1u32;
    loop {
        bits.fill();
        let e = table[(bits.acc >> (64 - AC_BITS)) as usize];
        if e & AC_SLOW != 0 {
            *bits = slow_ac(*bits, ac, limits, k)?;
            return Ok(());
        }
        bits.consume(u32::from(e & 31))?;
        k += u32::from(e >> 8);
        if k >= 64 {
            return match k {
                64 | 128.. => Ok(()),
                _ if e & AC_ZRL != 0 => corrupt("a zero run past the end of a block"),
                _ => corrupt("a coefficient past the end of a block"),
            };
        }
    }
}

/// The rest of a block from coefficient `k` on, through the general decoder.
#[cold]
#[inline(never)]
fn slow_ac<'a>(mut bits: Bits<'a>, ac: &Huffman, limits: Limits, k: u32) -> Check<Bits<'a>> {
    sequential_ac_from(&mut bits, ac, limits, k)?;
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lookup_holds_codes_up_to_its_width_with_their_coefficient_bits() {
        // Canonical codes: 2 bits 00 -> EOB, 3 bits 010 -> 0/2, 10 bits 0110000000 -> 1/3,
        // 12 bits 011000000100 -> 0/1 (longer than the lookup), 2 bits... -> ZRL (0xF0).
        let mut counts = [0u8; 16];
        counts[1] = 1;
        counts[2] = 1;
        counts[9] = 1;
        counts[11] = 2;
        let ac = Huffman::new(&counts, &[0x00, 0x02, 0x13, 0x01, 0xF0]).unwrap();
        let limits = Limits::for_precision(8).unwrap();
        let t = AcLookup::new(&ac, limits).0;
        assert_eq!(t[0], AC_EOB << 8 | 2);
        assert_eq!(t[0b010 << 8], 1 << 8 | 5);
        assert_eq!(t[0b01_1000_0000 << 1], 2 << 8 | 13);
        assert_eq!(t[0b01_1000_0001 << 1], AC_SLOW);
        assert_eq!(t[(1 << AC_BITS) - 1], AC_SLOW);
    }
}
