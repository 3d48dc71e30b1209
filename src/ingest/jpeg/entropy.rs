//! A JPEG's entropy-coded data: Huffman tables, the bit reader, and the block decoders of
//! sequential scans and of progressive first passes and refinements. Each checks what a decoder
//! needs (valid codes, coefficients inside the block or band, data that neither stops inside a
//! block nor goes on after the last one) and what an encoder cannot produce (coefficient sizes
//! beyond the sample precision, block brightness out of range). Sequential scans go through a
//! faster path with the same checks (`sequential`).

mod coefficients;
mod sequential;

pub(super) use coefficients::{Blocks, ZIGZAG};
pub(super) use sequential::SeqComp;

use super::{Check, Damage, Limits, Mode, Scan, ScanComp, corrupt, next_marker};

/// A Huffman table with a 9-bit lookahead for the short codes (nearly all of them).
pub(super) struct Huffman {
    /// `(length << 8) | value` for every 9-bit prefix that starts with a code; 0 otherwise.
    fast: Vec<u16>,
    /// Largest code of each length (-1: none) and the offset from a code to its value's index.
    maxcode: [i32; 17],
    valoff: [i32; 17],
    values: Vec<u8>,
}

const FAST_BITS: u32 = 9;

impl Huffman {
    pub(super) fn new(counts: &[u8], values: &[u8]) -> Check<Huffman> {
        let mut t = Huffman {
            fast: vec![0; 1 << FAST_BITS],
            maxcode: [-1; 17],
            valoff: [0; 17],
            values: values.to_vec(),
        };
        let (mut code, mut k) = (0u32, 0usize);
        for len in 1..=16u32 {
            let n = usize::from(counts[len as usize - 1]);
            if n > 0 {
                t.valoff[len as usize] = k as i32 - code as i32;
                if code + n as u32 > 1 << len {
                    return corrupt("an over-full Huffman table");
                }
                for _ in 0..n {
                    if len <= FAST_BITS {
                        let shift = FAST_BITS - len;
                        let entry = (len << 8) as u16 | u16::from(values[k]);
                        t.fast[(code << shift) as usize..((code + 1) << shift) as usize]
                            .fill(entry);
                    }
                    code += 1;
                    k += 1;
                }
                t.maxcode[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        Ok(t)
    }

    /// A run/size code and the `size` coefficient bits after it, which only need skipping: for
    /// the short codes (nearly all) one lookup and one step of the bit reader. Returns the run,
    /// and the size once checked against `max_bits`.
    #[inline(always)]
    fn skip_coefficient(&self, bits: &mut Bits, max_bits: u32) -> Check<(u32, u32)> {
        bits.fill();
        let entry = self.fast[(bits.acc >> (64 - FAST_BITS)) as usize];
        let (rs, len) = if entry == 0 {
            (self.decode(bits)?, 0)
        } else {
            (entry as u8, u32::from(entry >> 8))
        };
        let (r, s) = (u32::from(rs >> 4), u32::from(rs & 15));
        if s > max_bits {
            return corrupt("a coefficient too large for the sample precision");
        }
        // After `fill` at least 33 bits are buffered (or the data ends): a code of at most
        // FAST_BITS and at most 15 coefficient bits fit.
        bits.consume(len + s)?;
        Ok((r, s))
    }

    #[inline(always)]
    fn decode(&self, bits: &mut Bits) -> Check<u8> {
        let peek = bits.peek16();
        let entry = self.fast[(peek >> (16 - FAST_BITS)) as usize];
        if entry != 0 {
            bits.consume(u32::from(entry >> 8))?;
            return Ok(entry as u8);
        }
        for len in FAST_BITS as usize + 1..=16 {
            let code = (peek >> (16 - len)) as i32;
            if code <= self.maxcode[len] {
                bits.consume(len as u32)?;
                return Ok(self.values[(code + self.valoff[len]) as usize]);
            }
        }
        if bits.n < 16 {
            Err(short(bits.eof))
        } else {
            corrupt("an invalid Huffman code")
        }
    }
}

/// Decoding state that restart markers reset: DC predictions and the end-of-band run.
pub(super) struct Run {
    limits: Limits,
    pred: [i64; 4],
    eobrun: u32,
    next_restart: u8,
}

impl Run {
    pub(super) fn new(limits: Limits) -> Run {
        Run {
            limits,
            pred: [0; 4],
            eobrun: 0,
            next_restart: 0,
        }
    }

    /// Step over the restart marker that ends an interval, and start the next one afresh.
    pub(super) fn restart(&mut self, bits: &mut Bits) -> Check<()> {
        bits.restart(self.next_restart)?;
        self.pred = [0; 4];
        self.eobrun = 0;
        self.next_restart = (self.next_restart + 1) & 7;
        Ok(())
    }

    /// One block of scan component `sc` (the `k`-th of the scan).
    pub(super) fn block(
        &mut self,
        bits: &mut Bits,
        scan: &Scan,
        sc: &ScanComp,
        k: usize,
        nonzero: &mut u64,
    ) -> Check<()> {
        match scan.mode {
            Mode::Sequential => {
                self.dc(bits, table(sc.dc)?, k, 0, sc.quant_dc)?;
                sequential_ac(bits, table(sc.ac)?, self.limits)
            }
            Mode::DcFirst => self.dc(bits, table(sc.dc)?, k, scan.al, sc.quant_dc),
            Mode::DcRefine => bits.take(1).map(|_| ()),
            Mode::AcFirst => {
                if self.eobrun > 0 {
                    self.eobrun -= 1;
                    return Ok(());
                }
                self.eobrun = first_ac(bits, table(sc.ac)?, scan, self.limits, nonzero)?;
                Ok(())
            }
            Mode::AcRefine => self.refine_ac(bits, table(sc.ac)?, scan, nonzero),
        }
    }

    /// A DC difference: its category, its bits, and the value it leads to.
    #[inline(always)]
    fn dc(&mut self, bits: &mut Bits, dc: &Huffman, k: usize, al: u32, q: i64) -> Check<()> {
        let s = u32::from(dc.decode(bits)?);
        if s > self.limits.dc_bits {
            return corrupt("a brightness difference too large for the sample precision");
        }
        self.pred[k] += extend(bits.take(s)?, s);
        if (self.pred[k] << al).abs() * q > self.limits.dc_max {
            return corrupt("a block brightness outside the range an encoder produces");
        }
        Ok(())
    }

    /// AC successive-approximation refinement (as libjpeg's `decode_mcu_AC_refine`): new
    /// coefficients of size one, and a correction bit for each already non-zero one passed.
    fn refine_ac(&mut self, bits: &mut Bits, ac: &Huffman, scan: &Scan, nz: &mut u64) -> Check<()> {
        let (mut k, se) = (scan.ss, scan.se);
        if self.eobrun == 0 {
            while k <= se {
                let rs = ac.decode(bits)?;
                let (mut r, s) = (u32::from(rs >> 4), rs & 15);
                if s > 1 {
                    return corrupt("a refinement coefficient larger than one step");
                } else if s == 1 {
                    bits.take(1)?;
                } else if r != 15 {
                    self.eobrun = (1 << r) + bits.take(r)?;
                    break;
                }
                while k <= se {
                    if *nz >> k & 1 == 1 {
                        bits.take(1)?;
                    } else if r == 0 {
                        break;
                    } else {
                        r -= 1;
                    }
                    k += 1;
                }
                if s == 1 {
                    if k > se {
                        return corrupt("a coefficient past the end of its band");
                    }
                    *nz |= 1 << k;
                }
                k += 1;
            }
        }
        if self.eobrun > 0 {
            for k in k..=se {
                if *nz >> k & 1 == 1 {
                    bits.take(1)?;
                }
            }
            self.eobrun -= 1;
        }
        Ok(())
    }
}

/// The Huffman table a scan selected, which must have been defined before it.
fn table(t: Option<&Huffman>) -> Check<&Huffman> {
    t.ok_or_else(|| Damage::Corrupt("a scan that uses a Huffman table never defined".into()))
}

/// The AC coefficients of a sequential block: run/size codes up to the end-of-block code or
/// the 63rd coefficient.
#[inline(always)]
fn sequential_ac(bits: &mut Bits, ac: &Huffman, limits: Limits) -> Check<()> {
    sequential_ac_from(bits, ac, limits, 1)
}

/// [`sequential_ac`] from coefficient `k` on (the fast path hands a block over part-way).
#[inline(always)]
fn sequential_ac_from(bits: &mut Bits, ac: &Huffman, limits: Limits, mut k: u32) -> Check<()> {
    while k < 64 {
        let (r, s) = ac.skip_coefficient(bits, limits.ac_bits)?;
        if s == 0 {
            if r != 15 {
                return Ok(());
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
        k += 1;
    }
    Ok(())
}

/// The first AC pass of a progressive band; returns the end-of-band run that follows the block
/// (blocks after this one that have nothing in the band).
fn first_ac(
    bits: &mut Bits,
    ac: &Huffman,
    scan: &Scan,
    limits: Limits,
    nz: &mut u64,
) -> Check<u32> {
    let mut k = scan.ss;
    while k <= scan.se {
        let rs = ac.decode(bits)?;
        let (r, s) = (u32::from(rs >> 4), u32::from(rs & 15));
        if s == 0 {
            if r != 15 {
                return Ok((1 << r) - 1 + bits.take(r)?);
            }
            k += 16;
            if k > scan.se + 1 {
                return corrupt("a zero run past the end of its band");
            }
            continue;
        }
        k += r;
        if k > scan.se {
            return corrupt("a coefficient past the end of its band");
        }
        if s > limits.ac_bits {
            return corrupt("a coefficient too large for the sample precision");
        }
        bits.take(s)?;
        *nz |= 1 << k;
        k += 1;
    }
    Ok(0)
}

/// A `s`-bit magnitude category value to the signed number it codes.
fn extend(v: u32, s: u32) -> i64 {
    if s == 0 {
        0
    } else if v < 1 << (s - 1) {
        i64::from(v) - (1 << s) + 1
    } else {
        i64::from(v)
    }
}

/// Running out of data inside a block: the file was cut (`eof`), or codes were lost.
#[cold]
fn short(eof: bool) -> Damage {
    if eof {
        Damage::Truncated
    } else {
        Damage::Corrupt("image data that ends inside a block".into())
    }
}

/// Bit reader over entropy-coded data: removes stuffed zero bytes and stops at the first marker.
#[derive(Clone, Copy)]
pub(super) struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    /// Left-aligned bit buffer holding `n` bits of real data (zeros below them).
    acc: u64,
    n: u32,
    /// Where the marker that ends the data starts, once reached.
    marker: Option<usize>,
    /// The file ended before a marker did.
    eof: bool,
}

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8], pos: usize) -> Bits<'a> {
        Bits {
            data,
            pos,
            acc: 0,
            n: 0,
            marker: None,
            eof: false,
        }
    }

    /// Make sure the buffer holds more than 32 bits (one code and its extra bits need at most
    /// 32), or what is left before the marker.
    #[inline(always)]
    fn fill(&mut self) {
        if self.n > 32 {
            return;
        }
        // Nearly always the next eight bytes hold no 0xFF (no stuffed byte, no marker): as many
        // of them as fit go in at once.
        if let Some(word) = self.data.get(self.pos..self.pos + 8) {
            let w = u64::from_be_bytes(word.try_into().expect("eight bytes"));
            // A byte of `w` is 0xFF where one of `!w` is zero (the classic zero-byte test, exact
            // about whether there is one).
            let inv = !w;
            let has_ff = inv.wrapping_sub(0x0101_0101_0101_0101) & !inv & 0x8080_8080_8080_8080;
            if has_ff == 0 {
                let bytes = (64 - self.n) / 8;
                let fresh = w >> (64 - 8 * bytes) << (64 - 8 * bytes);
                self.acc |= fresh >> self.n;
                self.n += 8 * bytes;
                self.pos += bytes as usize;
                return;
            }
        }
        *self = self.fill_slow();
    }

    /// [`Bits::fill`] a byte at a time, removing stuffed zero bytes and stopping at a marker.
    /// By value, so that a reader held in registers never has its address taken.
    #[cold]
    #[inline(never)]
    fn fill_slow(mut self) -> Self {
        while self.n <= 56 && self.marker.is_none() && !self.eof {
            let byte = match (self.data.get(self.pos), self.data.get(self.pos + 1)) {
                (Some(0xFF), Some(0)) => {
                    self.pos += 2;
                    0xFF
                }
                (Some(0xFF), Some(_)) => {
                    self.marker = Some(self.pos);
                    break;
                }
                (Some(0xFF), None) | (None, _) => {
                    self.eof = true;
                    break;
                }
                (Some(&b), _) => {
                    self.pos += 1;
                    b
                }
            };
            self.acc |= u64::from(byte) << (56 - self.n);
            self.n += 8;
        }
        self
    }

    /// The next 16 bits, zero-padded past the end of the data.
    #[inline(always)]
    fn peek16(&mut self) -> u32 {
        self.fill();
        (self.acc >> 48) as u32
    }

    #[inline(always)]
    fn consume(&mut self, k: u32) -> Check<()> {
        if k > self.n {
            return Err(short(self.eof));
        }
        self.acc <<= k;
        self.n -= k;
        Ok(())
    }

    #[inline(always)]
    fn take(&mut self, k: u32) -> Check<u32> {
        if k == 0 {
            return Ok(0);
        }
        self.fill();
        let v = (self.acc >> (64 - k)) as u32;
        self.consume(k)?;
        Ok(v)
    }

    /// After the last block of an interval or scan only padding (under one byte) may remain
    /// before the marker; returns where the marker is.
    pub(super) fn end_of_data(&mut self) -> Check<usize> {
        self.fill();
        if self.n >= 8 {
            return corrupt("image data that goes on after the last block");
        }
        self.marker.ok_or(Damage::Truncated)
    }

    /// Step over restart marker number `expect`, which must end this interval.
    fn restart(&mut self, expect: u8) -> Check<()> {
        let at = self.end_of_data()?;
        let (marker, next) = next_marker(self.data, at)?;
        if marker != 0xD0 + expect {
            return corrupt("a restart marker missing or out of order");
        }
        *self = Bits::new(self.data, next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huffman_table_decodes_canonical_codes() {
        // Two codes of length 1 would fill the space; a third of length 2 over-fills it.
        let mut counts = [0u8; 16];
        counts[0] = 2;
        counts[1] = 1;
        assert!(Huffman::new(&counts, &[1, 2, 3]).is_err());
        counts = [0; 16];
        counts[1] = 1;
        counts[9] = 1;
        let t = Huffman::new(&counts, &[7, 9]).unwrap();
        // Codes: 00 -> 7, then 0100000000 (10 bits) -> 9.
        let data = [0b0001_0000, 0b0000_0000, 0xFF, 0xD9];
        let mut bits = Bits::new(&data, 0);
        assert_eq!(t.decode(&mut bits), Ok(7));
        assert_eq!(t.decode(&mut bits), Ok(9));
    }
}
