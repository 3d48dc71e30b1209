//! Strict check of a JPEG's structure and entropy-coded data, without decoding any pixel.
//!
//! Decoders recover from damaged JPEG data: zune-jpeg (as `image` runs it) and libjpeg warn,
//! fill the rest of the image with grey or decode garbage up to the next marker, and return an
//! image anyway. A clinic's gallery must not publish that, and JPEG carries no checksum, so this
//! walks every scan as a decoder would (Huffman codes, coefficient positions, restart markers,
//! the brightness (DC) values an encoder can produce) and refuses the file if anything is invalid
//! or if a scan's data does not end exactly after its last block: damage that throws the codes
//! out of step (a cut, a stretch overwritten or lost) makes the data run short or long. Damage
//! that leaves them in step (a flipped coefficient bit, a few bytes the codes recover from)
//! cannot be seen in the data, by this or any reader. Baseline, extended and progressive Huffman
//! JPEGs are checked; the other kinds are not decoded by this build anyway. Data after the main
//! image's end marker (a phone's depth map or motion-photo video) is ignored.

mod entropy;
mod idct;
mod pixels;

pub use pixels::Decoded;

use entropy::{Bits, Huffman, Run, SeqComp, ZIGZAG};
use pixels::Planes;

/// Why a JPEG was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Damage {
    /// The file ends before the image does: an interrupted copy.
    Truncated,
    /// The data contradicts itself; says how.
    Corrupt(String),
}

type Check<T> = Result<T, Damage>;

fn corrupt<T>(what: impl Into<String>) -> Check<T> {
    Err(Damage::Corrupt(what.into()))
}

/// Check the main image of `bytes`, from the start-of-image marker to its end-of-image marker.
pub fn check(bytes: &[u8]) -> Check<()> {
    read(bytes, false).map(drop)
}

/// [`check`], decoding the pixels in the same pass when the file is a kind the one-pass decoder
/// takes (`pixels`: baseline or extended, 8-bit, grey or YCbCr 4:4:4, 4:2:2 or 4:2:0 in one
/// scan). The verdict and message are [`check`]'s whichever way; `None` for a sound file of
/// another kind, which the caller decodes some other way.
pub fn decode(bytes: &[u8]) -> Check<Option<Decoded>> {
    let mut state = read(bytes, true)?;
    let icc = pixels::icc(&state.icc_chunks);
    Ok(state.planes.take().and_then(|p| p.finish(icc)))
}

/// Walk the whole main image; with `pixels`, decode it into `State::planes` where it can.
fn read(bytes: &[u8], pixels: bool) -> Check<State> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return corrupt("no start-of-image marker");
    }
    let mut state = State {
        pixels,
        ..State::default()
    };
    let mut at = 2;
    loop {
        let (marker, seg) = next_marker(bytes, at)?;
        match marker {
            0xD9 => return state.finished().map(|()| state),
            0xD8 => return corrupt("a second start-of-image marker inside the image"),
            // Restart markers between scans and TEM carry nothing.
            0xD0..=0xD7 | 0x01 => {
                at = seg;
                continue;
            }
            _ => {}
        }
        let body = segment(bytes, seg)?;
        let next = seg + 2 + body.len();
        at = match marker {
            0xDA => state.scan(bytes, body, next)?,
            _ => {
                state.header(marker, body)?;
                next
            }
        };
    }
}

/// Whether a sequential JPEG with subsampled chroma codes its colour components in separate
/// scans, one after another, rather than interleaved in one (allowed by the standard;
/// jpeg-encoder writes it with optimised Huffman tables). zune-jpeg, the decoder `image` runs,
/// leaves the chroma of such a file at zero, so the photo comes out green with no error (without
/// subsampling it reads right). Reads the headers up to the first scan only; a file it cannot
/// read says `false` (the strict check reports why).
#[must_use]
pub fn separate_scans(bytes: &[u8]) -> bool {
    let mut at = 2;
    // Components of the frame, and whether their sampling factors differ.
    let mut frame: Option<(u8, bool)> = None;
    while let Ok((marker, seg)) = next_marker(bytes, at) {
        // Restart markers and TEM have no length.
        if matches!(marker, 0xD0..=0xD7 | 0x01) {
            at = seg;
            continue;
        }
        let Ok(body) = segment(bytes, seg) else {
            return false;
        };
        match (marker, body) {
            (0xC0 | 0xC1, [_, _, _, _, _, nf, comps @ ..]) => {
                let mut sampling = comps.chunks(3).filter_map(|c| c.get(1));
                let first = sampling.next();
                frame = Some((*nf, sampling.any(|s| Some(s) != first)));
            }
            (0xC2, _) => return false,
            (0xDA, [ns, ..]) => {
                return frame.is_some_and(|(nf, subsampled)| subsampled && *ns < nf);
            }
            (0xD8 | 0xD9, _) => return false,
            _ => {}
        }
        at = seg + 2 + body.len();
    }
    false
}

/// The marker at `at` (after any fill bytes) and the position just after it.
fn next_marker(bytes: &[u8], at: usize) -> Check<(u8, usize)> {
    match bytes.get(at) {
        None => return Err(Damage::Truncated),
        Some(0xFF) => {}
        Some(_) => return corrupt(format!("stray bytes at offset {at} between segments")),
    }
    let mut i = at + 1;
    while bytes.get(i) == Some(&0xFF) {
        i += 1;
    }
    match bytes.get(i) {
        None => Err(Damage::Truncated),
        Some(0) => corrupt(format!("a stuffed byte at offset {i} outside image data")),
        Some(&m) => Ok((m, i + 1)),
    }
}

/// A marker segment's payload (after its two length bytes).
fn segment(bytes: &[u8], seg: usize) -> Check<&[u8]> {
    let len = match bytes.get(seg..seg + 2) {
        Some(l) => usize::from(u16::from_be_bytes([l[0], l[1]])),
        None => return Err(Damage::Truncated),
    };
    if len < 2 {
        return corrupt(format!("a segment length of {len} at offset {seg}"));
    }
    bytes.get(seg + 2..seg + len).ok_or(Damage::Truncated)
}

/// Value ranges an encoder of this sample precision can produce.
#[derive(Clone, Copy)]
struct Limits {
    /// Largest DC difference category and AC coefficient category.
    dc_bits: u32,
    ac_bits: u32,
    /// Twice the largest |DC coefficient| (level-shifted samples), so rounding and encoders that
    /// overshoot to reduce ringing stay well inside.
    dc_max: i64,
}

impl Limits {
    fn for_precision(p: u8) -> Check<Limits> {
        match p {
            8 => Ok(Limits {
                dc_bits: 11,
                ac_bits: 10,
                dc_max: 2048,
            }),
            12 => Ok(Limits {
                dc_bits: 15,
                ac_bits: 14,
                dc_max: 32_768,
            }),
            _ => corrupt(format!("a sample precision of {p} bits")),
        }
    }
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
    tq: usize,
    blocks_w: usize,
    blocks_h: usize,
}

struct Frame {
    width: usize,
    height: usize,
    progressive: bool,
    limits: Limits,
    mcus_x: usize,
    mcus_y: usize,
    comps: Vec<Component>,
}

/// What the headers so far defined, and what the scans so far covered.
#[derive(Default)]
struct State {
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
    /// Each quantisation table's DC step, and all its steps in natural order.
    quant_dc: [Option<i64>; 4],
    quant: [Option<[i32; 64]>; 4],
    restart: usize,
    frame: Option<Frame>,
    /// Per component: coded in a scan (sequential), or its DC coded (progressive).
    covered: Vec<bool>,
    /// Progressive only: per component and block, which coefficients are already non-zero (the
    /// refinement scans send a correction bit for each of them).
    nonzero: Vec<Vec<u64>>,
    /// Whether to decode the pixels as well, and where they go (until a scan shows the file is
    /// not a kind `pixels` takes).
    pixels: bool,
    planes: Option<Planes>,
    scans: usize,
    /// An Adobe segment, which can say the components are not YCbCr: such files go to zune-jpeg.
    adobe: bool,
    /// ICC profile chunks before the first scan: sequence number, count, data.
    icc_chunks: Vec<(u8, u8, Vec<u8>)>,
}

impl State {
    fn header(&mut self, marker: u8, body: &[u8]) -> Check<()> {
        match marker {
            0xC4 => self.read_dht(body),
            0xDB => self.read_dqt(body),
            0xDD => {
                let [a, b] = body else {
                    return corrupt("a restart-interval segment of the wrong length");
                };
                self.restart = usize::from(u16::from_be_bytes([*a, *b]));
                Ok(())
            }
            0xC0..=0xC2 => self.read_sof(body, marker == 0xC2),
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                corrupt("lossless, hierarchical or arithmetic coding, which this build cannot read")
            }
            0xDC => corrupt("the height given after the image data (DNL marker)"),
            0xEE => {
                self.adobe |= body.starts_with(b"Adobe");
                Ok(())
            }
            0xE2 => {
                if let (
                    0,
                    [
                        b'I',
                        b'C',
                        b'C',
                        b'_',
                        b'P',
                        b'R',
                        b'O',
                        b'F',
                        b'I',
                        b'L',
                        b'E',
                        0,
                        seq,
                        count,
                        data @ ..,
                    ],
                ) = (self.scans, body)
                    && body.len() > 14
                {
                    self.icc_chunks.push((*seq, *count, data.to_vec()));
                }
                Ok(())
            }
            // Other APPn, COM and the like: not needed here.
            _ => Ok(()),
        }
    }

    fn read_dht(&mut self, mut body: &[u8]) -> Check<()> {
        while let [tc_th, rest @ ..] = body {
            let (class, id) = (tc_th >> 4, usize::from(tc_th & 15));
            let Some(counts) = rest.get(..16) else {
                return corrupt("a short Huffman table segment");
            };
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let Some(values) = rest.get(16..16 + total) else {
                return corrupt("a short Huffman table segment");
            };
            if id > 3 || class > 1 || total > 256 {
                return corrupt("an invalid Huffman table header");
            }
            let table = Some(Huffman::new(counts, values)?);
            if class == 0 {
                self.dc[id] = table;
            } else {
                self.ac[id] = table;
            }
            body = &rest[16 + total..];
        }
        Ok(())
    }

    fn read_dqt(&mut self, mut body: &[u8]) -> Check<()> {
        while let [pq_tq, rest @ ..] = body {
            let (wide, id) = (pq_tq >> 4, usize::from(pq_tq & 15));
            let size = if wide == 0 { 64 } else { 128 };
            if wide > 1 || id > 3 || rest.len() < size {
                return corrupt("an invalid quantisation table");
            }
            let step = |k: usize| {
                if wide == 0 {
                    i32::from(rest[k])
                } else {
                    i32::from(u16::from_be_bytes([rest[2 * k], rest[2 * k + 1]]))
                }
            };
            self.quant_dc[id] = Some(i64::from(step(0)));
            let mut table = [0; 64];
            for (k, &at) in ZIGZAG.iter().enumerate() {
                table[at] = step(k);
            }
            self.quant[id] = Some(table);
            body = &rest[size..];
        }
        Ok(())
    }

    fn read_sof(&mut self, body: &[u8], progressive: bool) -> Check<()> {
        if self.frame.is_some() {
            return corrupt("two frame headers");
        }
        let [p, y0, y1, x0, x1, nf, comps @ ..] = body else {
            return corrupt("a short frame header");
        };
        let (height, width) = (
            usize::from(u16::from_be_bytes([*y0, *y1])),
            usize::from(u16::from_be_bytes([*x0, *x1])),
        );
        let limits = Limits::for_precision(*p)?;
        if comps.len() != 3 * usize::from(*nf) || !(1..=4).contains(nf) {
            return corrupt("a frame header of the wrong length");
        }
        if width == 0 || height == 0 {
            return corrupt("a frame of zero width or height");
        }
        let sampling = |c: &[u8]| (usize::from(c[1] >> 4), usize::from(c[1] & 15));
        let valid = |(h, v): (usize, usize)| (1..=4).contains(&h) && (1..=4).contains(&v);
        if !comps.chunks(3).all(|c| valid(sampling(c)) && c[2] < 4) {
            return corrupt("invalid component sampling or table in the frame header");
        }
        let hmax = comps.chunks(3).map(|c| sampling(c).0).max().unwrap_or(1);
        let vmax = comps.chunks(3).map(|c| sampling(c).1).max().unwrap_or(1);
        let comps: Vec<Component> = comps
            .chunks(3)
            .map(|c| {
                let (h, v) = sampling(c);
                Component {
                    id: c[0],
                    h,
                    v,
                    tq: usize::from(c[2]),
                    blocks_w: (width * h).div_ceil(hmax).div_ceil(8),
                    blocks_h: (height * v).div_ceil(vmax).div_ceil(8),
                }
            })
            .collect();
        self.covered = vec![false; comps.len()];
        self.nonzero = vec![Vec::new(); comps.len()];
        let frame = Frame {
            width,
            height,
            progressive,
            limits,
            mcus_x: width.div_ceil(8 * hmax),
            mcus_y: height.div_ceil(8 * vmax),
            comps,
        };
        if self.pixels {
            self.planes = Planes::new(&frame);
        }
        self.frame = Some(frame);
        Ok(())
    }

    /// At the end-of-image marker: was there an image, and was every component coded?
    fn finished(&self) -> Check<()> {
        if self.frame.is_none() {
            return corrupt("no frame header before the end marker");
        }
        if self.covered.iter().any(|c| !c) {
            return corrupt("the image data stops before every colour component is coded");
        }
        Ok(())
    }

    /// Walk one scan whose header is `body` and whose data starts at `start`; returns where
    /// the marker after it is.
    fn scan(&mut self, bytes: &[u8], body: &[u8], start: usize) -> Check<usize> {
        let mut nonzero = std::mem::take(&mut self.nonzero);
        // Only a file whose first scan codes every component is decoded here.
        let mut planes = self
            .planes
            .take()
            .filter(|_| self.scans == 0 && !self.adobe);
        self.scans += 1;
        let walked = self.walk(bytes, body, start, (&mut nonzero, &mut planes));
        (self.nonzero, self.planes) = (nonzero, planes);
        let (end, coded) = walked?;
        for i in coded {
            self.covered[i] = true;
        }
        Ok(end)
    }

    /// [`State::scan`]'s work: the marker position and the components whose image it coded.
    fn walk(
        &self,
        bytes: &[u8],
        body: &[u8],
        start: usize,
        (nonzero, planes): (&mut [Vec<u64>], &mut Option<Planes>),
    ) -> Check<(usize, Vec<usize>)> {
        let Some(frame) = &self.frame else {
            return corrupt("image data before the frame header");
        };
        let scan = Scan::read(body, frame, self)?;
        let mcus = if let [sc] = &scan.comps[..] {
            let c = &frame.comps[sc.index];
            c.blocks_w * c.blocks_h
        } else if scan.comps.iter().map(|c| c.h * c.v).sum::<usize>() <= 10 {
            frame.mcus_x * frame.mcus_y
        } else {
            return corrupt("more than 10 blocks in one MCU");
        };
        // AC scans have one component and one block per MCU: its history, block by block.
        let history: &mut [u64] = if matches!(scan.mode, Mode::AcFirst | Mode::AcRefine) {
            let h = &mut nonzero[scan.comps[0].index];
            if h.is_empty() {
                *h = vec![0; mcus];
            }
            h
        } else {
            &mut []
        };
        let (mut bits, mut run, mut unused) = (Bits::new(bytes, start), Run::new(frame.limits), 0);
        if scan.mode == Mode::Sequential
            && let Some(comps) = SeqComp::for_scan(&scan, frame.limits)
        {
            let coded: Vec<usize> = scan.comps.iter().map(|c| c.index).collect();
            let mut end = self.sequential(frame, &scan, &comps, (bits, mcus), planes)?;
            return Ok((end.end_of_data()?, coded));
        }
        *planes = None;
        for mcu in 0..mcus {
            if self.restart > 0 && mcu > 0 && mcu % self.restart == 0 {
                run.restart(&mut bits)?;
            }
            for (k, sc) in scan.comps.iter().enumerate() {
                let nz = history.get_mut(mcu).unwrap_or(&mut unused);
                for _ in 0..sc.h * sc.v {
                    run.block(&mut bits, &scan, sc, k, nz)?;
                }
            }
        }
        let coded = match scan.mode {
            Mode::Sequential | Mode::DcFirst => scan.comps.iter().map(|c| c.index).collect(),
            _ => Vec::new(),
        };
        Ok((bits.end_of_data()?, coded))
    }
}

impl State {
    /// A sequential scan by the fast path: decoded into `planes` when they fit it (dropped
    /// otherwise), checked only when there are none; returns the reader after the last block.
    fn sequential<'a>(
        &self,
        frame: &Frame,
        scan: &Scan,
        comps: &[SeqComp],
        (bits, mcus): (Bits<'a>, usize),
        planes: &mut Option<Planes>,
    ) -> Check<Bits<'a>> {
        let mut run = Run::new(frame.limits);
        match planes {
            Some(p) if p.fits(scan.comps.iter().map(|c| c.index)) => {
                let quant: Vec<[i32; 64]> = (scan.comps.iter())
                    // `Scan::read` has made sure each table is defined.
                    .map(|c| self.quant[frame.comps[c.index].tq].unwrap_or([0; 64]))
                    .collect();
                run.sequential_decode(bits, comps, &quant, (mcus, self.restart), p)
            }
            _ => {
                *planes = None;
                run.sequential(bits, comps, mcus, self.restart)
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Sequential,
    DcFirst,
    DcRefine,
    AcFirst,
    AcRefine,
}

/// One component of a scan, with what its blocks are decoded with.
struct ScanComp<'t> {
    index: usize,
    /// Blocks per MCU (1 × 1 when the scan has one component).
    h: usize,
    v: usize,
    dc: Option<&'t Huffman>,
    ac: Option<&'t Huffman>,
    quant_dc: i64,
}

struct Scan<'t> {
    mode: Mode,
    comps: Vec<ScanComp<'t>>,
    ss: u32,
    se: u32,
    al: u32,
}

impl<'t> Scan<'t> {
    fn read(body: &[u8], frame: &Frame, state: &'t State) -> Check<Scan<'t>> {
        let [ns, rest @ ..] = body else {
            return corrupt("an empty scan header");
        };
        let ns = usize::from(*ns);
        if !(1..=frame.comps.len()).contains(&ns) || rest.len() != 2 * ns + 3 {
            return corrupt("a scan header of the wrong length");
        }
        let (ss, se, ah, al) = (
            u32::from(rest[2 * ns]),
            u32::from(rest[2 * ns + 1]),
            u32::from(rest[2 * ns + 2] >> 4),
            u32::from(rest[2 * ns + 2] & 15),
        );
        let mode = scan_mode(frame.progressive, ns, ss, se, ah, al)?;
        let mut comps = Vec::with_capacity(ns);
        for sel in rest[..2 * ns].chunks(2) {
            let Some(index) = frame.comps.iter().position(|c| c.id == sel[0]) else {
                return corrupt("a scan of a component the frame does not have");
            };
            if comps.iter().any(|c: &ScanComp| c.index == index) {
                return corrupt("a component twice in one scan");
            }
            let c = &frame.comps[index];
            let (td, ta) = (usize::from(sel[1] >> 4), usize::from(sel[1] & 15));
            let dc = state.dc.get(td).and_then(Option::as_ref);
            let ac = state.ac.get(ta).and_then(Option::as_ref);
            let quant_dc = state.quant_dc[c.tq];
            if matches!(mode, Mode::Sequential | Mode::DcFirst) && quant_dc.is_none() {
                return corrupt("a component whose quantisation table is never defined");
            }
            let (h, v) = if ns == 1 { (1, 1) } else { (c.h, c.v) };
            comps.push(ScanComp {
                index,
                h,
                v,
                dc,
                ac,
                quant_dc: quant_dc.unwrap_or(0),
            });
        }
        Ok(Scan {
            mode,
            comps,
            ss,
            se,
            al,
        })
    }
}

/// What a scan's spectral selection and successive approximation say it codes; refuses the
/// combinations no encoder writes (libjpeg warns about them and decodes something).
fn scan_mode(progressive: bool, ns: usize, ss: u32, se: u32, ah: u32, al: u32) -> Check<Mode> {
    if !progressive {
        return if (ss, se, ah, al) == (0, 63, 0, 0) {
            Ok(Mode::Sequential)
        } else {
            corrupt("progressive parameters in a sequential scan")
        };
    }
    let bad = se > 63 || ss > se || (ss == 0) != (se == 0) || al > 13 || (ah != 0 && ah != al + 1);
    if bad || (ss > 0 && ns != 1) {
        return corrupt("invalid progressive scan parameters");
    }
    Ok(match (ss, ah) {
        (0, 0) => Mode::DcFirst,
        (0, _) => Mode::DcRefine,
        (_, 0) => Mode::AcFirst,
        _ => Mode::AcRefine,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 3) as u8, (y * 5) as u8, (x * y) as u8])
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&img)
            .unwrap();
        out
    }

    #[test]
    fn an_encoders_output_passes() {
        assert_eq!(check(&jpeg(97, 61)), Ok(()));
    }

    #[test]
    fn only_a_sequential_file_with_a_scan_per_component_has_separate_scans() {
        let img = image::RgbImage::from_fn(40, 24, |x, y| image::Rgb([x as u8, y as u8, 9]));
        let encode = |progressive: bool, optimised: bool| {
            let mut out = Vec::new();
            let mut enc = jpeg_encoder::Encoder::new(&mut out, 80);
            enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
            enc.set_progressive(progressive);
            enc.set_optimized_huffman_tables(optimised);
            enc.encode(img.as_raw(), 40, 24, jpeg_encoder::ColorType::Rgb)
                .unwrap();
            out
        };
        assert!(!separate_scans(&jpeg(97, 61)));
        assert!(!separate_scans(&encode(false, false)));
        assert!(!separate_scans(&encode(true, true)));
        assert!(separate_scans(&encode(false, true)));
        assert_eq!(check(&encode(false, true)), Ok(()));
        // Separate scans without subsampling: zune-jpeg reads those right.
        let mut full = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut full, 80);
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
        enc.set_optimized_huffman_tables(true);
        enc.encode(img.as_raw(), 40, 24, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        assert_eq!(full.windows(2).filter(|w| w == &[0xFF, 0xDA]).count(), 3);
        assert!(!separate_scans(&full));
    }

    #[test]
    fn a_cut_file_is_truncated() {
        let bytes = jpeg(97, 61);
        for cut in [4, 200, bytes.len() / 2, bytes.len() - 2, bytes.len() - 1] {
            assert_eq!(check(&bytes[..cut]), Err(Damage::Truncated), "cut at {cut}");
        }
    }

    #[test]
    fn end_marker_before_the_scan_is_refused() {
        assert!(check(&[0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xDA, 1, 2]).is_err());
    }
}
