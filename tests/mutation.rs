//! Damaged photos. Thousands of mutated files (bit flips, overwritten ranges, truncations,
//! rewritten header fields) go through ingest and, when they decode, through registration: none
//! may panic or hang. Targeted cases pin the strict decoding (corrupt JPEG entropy data, a PNG
//! chunk with a bad CRC, a truncated TIFF, a JPEG overwritten in the middle as the watcher sees
//! it), and an end-to-end run shows damaged photos failing their own cases (exit 3, never 101).

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use beforeafter::align::{self, AlignParams};
use beforeafter::ingest::{self, IngestParams};
use beforeafter::synth::{self, Rng};
use image::{ImageEncoder, RgbImage};
use support::env::TestEnv;

/// Small limits, so that a rewritten header cannot make one mutant decode hundreds of
/// megapixels; the end-to-end run uses the shipped defaults instead.
const PARAMS: IngestParams = IngestParams {
    max_pixels: 4_000_000,
    max_file_bytes: 10_000_000,
};
const DEFAULT_LIMITS: IngestParams = IngestParams {
    max_pixels: 100_000_000,
    max_file_bytes: 100_000_000,
};
const MUTANTS_PER_FIXTURE: usize = 500;
/// The whole round must end within this; a hang fails the test instead of stalling CI.
const DEADLINE: Duration = Duration::from_secs(120);
/// Registration runs on working copies of this long side, as the pipeline's do.
const WORKING_SIZE: u32 = 96;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Jpeg,
    Png,
    WebP,
    Tiff,
    Heic,
}

struct Fixture {
    name: &'static str,
    kind: Kind,
    bytes: Vec<u8>,
}

impl Fixture {
    fn ext(&self) -> &'static str {
        match self.kind {
            Kind::Jpeg => "jpg",
            Kind::Png => "png",
            Kind::WebP => "webp",
            Kind::Tiff => "tif",
            Kind::Heic => "heic",
        }
    }
}

fn source() -> RgbImage {
    support::env::photo(96, 72, 1)
}

fn fixtures() -> Vec<Fixture> {
    let img = source();
    let (w, h) = img.dimensions();
    let fixture = |name, kind, bytes| Fixture { name, kind, bytes };
    let mut lossless = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut lossless)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    let mut tiff = std::io::Cursor::new(Vec::new());
    img.write_to(&mut tiff, image::ImageFormat::Tiff).unwrap();
    vec![
        fixture("jpeg", Kind::Jpeg, support::env::jpeg(&img)),
        fixture("jpeg-progressive", Kind::Jpeg, progressive_jpeg(&img)),
        fixture(
            "jpeg-exif-rotated",
            Kind::Jpeg,
            synth::jpeg_with_exif(&img, 6, 85, None),
        ),
        fixture("png", Kind::Png, support::env::png(&img)),
        fixture("png-p3-profile", Kind::Png, png_with_profile(&img)),
        fixture(
            "webp-lossy",
            Kind::WebP,
            webp::Encoder::from_rgb(img.as_raw(), w, h)
                .encode(80.0)
                .to_vec(),
        ),
        fixture("webp-lossless", Kind::WebP, lossless),
        fixture("tiff", Kind::Tiff, tiff.into_inner()),
        fixture("tiff-ifd-first", Kind::Tiff, tiff_ifd_first(&img)),
        fixture("heic", Kind::Heic, heic_like(b"heic", 3)),
        fixture("heic-mif1", Kind::Heic, heic_like(b"mif1", 4)),
    ]
}

/// Progressive, 4:2:0, with restart markers: the other paths of the JPEG check.
fn progressive_jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
    enc.set_progressive(true);
    enc.set_restart_interval(4);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    let (w, h) = (img.width() as u16, img.height() as u16);
    enc.encode(img.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

fn png_with_profile(img: &RgbImage) -> Vec<u8> {
    let mut icc = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    // The profile header carries its creation time; a fixed one keeps the mutants the same from
    // run to run. (A zero profile ID means "not computed", so it stays valid.)
    icc[24..36].copy_from_slice(&[0x07, 0xE8, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    icc[84..100].fill(0);
    let mut out = Vec::new();
    let mut enc = image::codecs::png::PngEncoder::new(&mut out);
    enc.set_icc_profile(icc).unwrap();
    enc.write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    out
}

/// An uncompressed RGB TIFF with its directory before the pixels (the `image` encoder writes it
/// after them), so that cutting the file leaves a readable header and missing pixel data.
fn tiff_ifd_first(img: &RgbImage) -> Vec<u8> {
    let (w, h) = img.dimensions();
    const ENTRIES: u32 = 10;
    let bits_at = 8 + 2 + 12 * ENTRIES + 4;
    let data_at = bits_at + 6;
    let entries: [(u16, u16, u32, u32); ENTRIES as usize] = [
        (256, 4, 1, w),
        (257, 4, 1, h),
        (258, 3, 3, bits_at),
        (259, 3, 1, 1),
        (262, 3, 1, 2),
        (273, 4, 1, data_at),
        (277, 3, 1, 3),
        (278, 4, 1, h),
        (279, 4, 1, w * h * 3),
        (284, 3, 1, 1),
    ];
    let mut out = b"II*\0".to_vec();
    out.extend(8u32.to_le_bytes());
    out.extend((ENTRIES as u16).to_le_bytes());
    for (tag, kind, count, value) in entries {
        out.extend(tag.to_le_bytes());
        out.extend(kind.to_le_bytes());
        out.extend(count.to_le_bytes());
        out.extend(value.to_le_bytes());
    }
    out.extend(0u32.to_le_bytes());
    out.extend([8, 0, 8, 0, 8, 0]);
    out.extend_from_slice(img.as_raw());
    out
}

/// What a phone's HEIC looks like to a reader without a HEIF decoder: an `ftyp` box with a HEIF
/// brand, then boxes of (here random) data.
fn heic_like(brand: &[u8; 4], seed: u64) -> Vec<u8> {
    let mut out = 24u32.to_be_bytes().to_vec();
    out.extend(b"ftyp");
    out.extend(brand);
    out.extend(0u32.to_be_bytes());
    out.extend(b"mif1");
    out.extend(brand);
    let mut rng = Rng::new(seed);
    out.extend(808u32.to_be_bytes());
    out.extend(b"mdat");
    out.extend((0..800).map(|_| rng.next_u64() as u8));
    out
}

fn pick(rng: &mut Rng, n: usize) -> usize {
    (rng.next_u64() % n.max(1) as u64) as usize
}

/// A value that tends to find bugs in a header field that held `orig`.
fn field_value(rng: &mut Rng, orig: u32) -> u32 {
    const EDGES: [u32; 13] = [
        0,
        1,
        2,
        7,
        8,
        15,
        16,
        63,
        64,
        255,
        65_535,
        0x7FFF_FFFF,
        u32::MAX,
    ];
    match pick(rng, 4) {
        0 => EDGES[pick(rng, EDGES.len())],
        1 => orig.wrapping_add(1),
        2 => orig.wrapping_sub(1).wrapping_mul(1 + pick(rng, 3) as u32),
        _ => rng.next_u64() as u32,
    }
}

/// One mutant of `fx` and what was done to it (to reproduce a failure).
fn mutate(fx: &Fixture, rng: &mut Rng) -> (String, Vec<u8>) {
    let mut b = fx.bytes.clone();
    let len = b.len();
    let what = match pick(rng, 100) {
        0..30 => {
            let n = 1 + pick(rng, 8);
            for _ in 0..n {
                let at = pick(rng, len);
                b[at] ^= 1 << pick(rng, 8);
            }
            format!("{n} bit flips")
        }
        30..45 => {
            let at = pick(rng, len);
            let n = (1 + pick(rng, 64)).min(len - at);
            b[at..at + n]
                .iter_mut()
                .for_each(|v| *v = rng.next_u64() as u8);
            format!("{n} random bytes at {at}")
        }
        45..55 => {
            let at = pick(rng, len);
            let n = (1 + pick(rng, 512)).min(len - at);
            let v = if pick(rng, 2) == 0 { 0 } else { 0xFF };
            b[at..at + n].fill(v);
            format!("{n} bytes of {v:#04x} at {at}")
        }
        55..70 => {
            let cut = pick(rng, len);
            b.truncate(cut);
            format!("truncated to {cut} bytes")
        }
        70..75 => {
            let (at, n) = (pick(rng, len), 1 + pick(rng, 32));
            if pick(rng, 2) == 0 {
                b.drain(at..(at + n).min(len));
                format!("{n} bytes removed at {at}")
            } else {
                let junk: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                b.splice(at..at, junk);
                format!("{n} bytes inserted at {at}")
            }
        }
        _ => rewrite_header(fx.kind, &mut b, rng),
    };
    (what, b)
}

fn rewrite_header(kind: Kind, b: &mut [u8], rng: &mut Rng) -> String {
    match kind {
        Kind::Jpeg => rewrite_jpeg(b, rng),
        Kind::Png => rewrite_png(b, rng),
        Kind::Tiff => rewrite_tiff(b, rng),
        Kind::WebP => {
            // RIFF size, chunk size, or the VP8/VP8L frame header (dimensions live there).
            let at = [4, 16, 20 + pick(rng, 10)][pick(rng, 3)];
            let v = field_value(rng, 0).to_le_bytes();
            let n = if at < 20 { 4 } else { 1 + pick(rng, 2) };
            b[at..at + n].copy_from_slice(&v[..n]);
            format!("WebP header bytes {at}..{} rewritten", at + n)
        }
        Kind::Heic => {
            let at = [0, 8, 24, 28][pick(rng, 4)];
            b[at..at + 4].copy_from_slice(&field_value(rng, 24).to_be_bytes());
            format!("HEIF box field at {at} rewritten")
        }
    }
}

/// The marker segments before the first scan: (marker, position of the marker).
fn jpeg_segments(b: &[u8]) -> Vec<(u8, usize)> {
    let mut out = Vec::new();
    let mut at = 2;
    while at + 4 <= b.len() && b[at] == 0xFF {
        out.push((b[at + 1], at));
        if b[at + 1] == 0xDA {
            break;
        }
        at += 2 + usize::from(u16::from_be_bytes([b[at + 2], b[at + 3]]));
    }
    out
}

fn rewrite_jpeg(b: &mut [u8], rng: &mut Rng) -> String {
    let segments = jpeg_segments(b);
    let sof = segments.iter().find(|s| matches!(s.0, 0xC0..=0xC2));
    match (pick(rng, 3), sof) {
        (0 | 1, Some(&(_, at))) => {
            // Precision, height, width, component count, a component's sampling or table.
            let (field, size) = [(4, 1), (5, 2), (7, 2), (9, 1), (11, 1), (12, 1)][pick(rng, 6)];
            let orig = u32::from(b[at + field]);
            let v = field_value(rng, orig).to_be_bytes();
            b[at + field..at + field + size].copy_from_slice(&v[4 - size..]);
            format!("SOF byte {field} (+{size}) rewritten")
        }
        _ => {
            let (marker, at) = segments[pick(rng, segments.len())];
            let seg_len = usize::from(u16::from_be_bytes([b[at + 2], b[at + 3]]));
            let field = 2 + pick(rng, seg_len.max(1));
            if let Some(v) = b.get_mut(at + field) {
                *v = field_value(rng, u32::from(*v)) as u8;
            }
            format!("segment {marker:#04x} byte {field} rewritten")
        }
    }
}

fn rewrite_png(b: &mut [u8], rng: &mut Rng) -> String {
    // IHDR: width, height, bit depth, colour type, compression, filter, interlace; or a byte of
    // the first IDAT. The CRC is fixed afterwards, so the decoder itself meets the damage.
    let (at, size, what) = match pick(rng, 8) {
        0 => (16, 4, "IHDR width"),
        1 => (20, 4, "IHDR height"),
        2 => (24, 1, "IHDR bit depth"),
        3 => (25, 1, "IHDR colour type"),
        4 => (26 + pick(rng, 3), 1, "IHDR method byte"),
        _ => {
            let idat = b.windows(4).position(|w| w == b"IDAT").unwrap() + 4;
            let n = u32::from_be_bytes(b[idat - 8..idat - 4].try_into().unwrap()) as usize;
            (idat + pick(rng, n), 1, "IDAT byte")
        }
    };
    let orig = u32::from(b[at]);
    let v = field_value(rng, orig).to_be_bytes();
    b[at..at + size].copy_from_slice(&v[4 - size..]);
    fix_png_crcs(b);
    format!("{what} rewritten (CRC fixed)")
}

/// Recompute every chunk's CRC so that only the decoder can object to the contents.
fn fix_png_crcs(b: &mut [u8]) {
    let mut at = 8;
    while at + 12 <= b.len() {
        let n = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        let Some(body) = b.get(at + 4..at + 8 + n) else {
            return;
        };
        let crc = crc32(body).to_be_bytes();
        b[at + 8 + n..at + 12 + n].copy_from_slice(&crc);
        at += 12 + n;
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |mut c, &byte| {
        c ^= u32::from(byte);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        c
    })
}

fn rewrite_tiff(b: &mut [u8], rng: &mut Rng) -> String {
    let ifd = u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize;
    let count = usize::from(u16::from_le_bytes([b[ifd], b[ifd + 1]]));
    if pick(rng, 4) == 0 {
        let v = field_value(rng, count as u32) as u16;
        b[ifd..ifd + 2].copy_from_slice(&v.to_le_bytes());
        return format!("IFD entry count {count} -> {v}");
    }
    let entry = ifd + 2 + 12 * pick(rng, count);
    // Type, count or value of one entry.
    let (off, size) = [(2, 2), (4, 4), (8, 4)][pick(rng, 3)];
    let orig = u32::from_le_bytes(b[entry + 8..entry + 12].try_into().unwrap());
    let v = field_value(rng, orig).to_le_bytes();
    b[entry + off..entry + off + size].copy_from_slice(&v[..size]);
    let tag = u16::from_le_bytes([b[entry], b[entry + 1]]);
    format!("IFD entry {tag} bytes {off}..{} rewritten", off + size)
}

/// The long-side-limited copy registration works on, as `pipeline::fit` makes it.
fn working(img: &RgbImage) -> RgbImage {
    let (w, h) = img.dimensions();
    let k = f64::from(WORKING_SIZE) / f64::from(w.max(h));
    if k >= 1.0 {
        return img.clone();
    }
    let size = |v: u32| ((f64::from(v) * k).round() as u32).max(1);
    image::imageops::thumbnail(img, size(w), size(h))
}

#[derive(Default)]
struct Tally {
    tried: usize,
    decoded: usize,
    refused: usize,
    panics: Vec<String>,
    /// Refused by `decode` but accepted as whole by `check_complete`, or the other way round
    /// for a decodable file (which must never happen).
    inconsistent: Vec<String>,
    slowest: (Duration, String),
    /// Per fixture: mutants tried and decoded.
    by_fixture: std::collections::BTreeMap<String, (usize, usize)>,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        self.tried += o.tried;
        self.decoded += o.decoded;
        self.refused += o.refused;
        self.panics.extend(o.panics);
        self.inconsistent.extend(o.inconsistent);
        if o.slowest.0 > self.slowest.0 {
            self.slowest = o.slowest;
        }
        for (name, (tried, decoded)) in o.by_fixture {
            let e = self.by_fixture.entry(name).or_default();
            e.0 += tried;
            e.1 += decoded;
        }
    }

    /// Ingest one mutant, register it against `valid` when it decodes; nothing may panic.
    fn run(&mut self, what: &str, bytes: &[u8], valid: &RgbImage) {
        let start = Instant::now();
        self.tried += 1;
        let path = Path::new("mutant");
        let decoded = catch_unwind(AssertUnwindSafe(|| ingest::decode(bytes, path, &PARAMS)));
        let whole = catch_unwind(AssertUnwindSafe(|| {
            ingest::check_complete(bytes, path, &PARAMS)
        }));
        let is_decoded = matches!(decoded, Ok(Ok(_)));
        match (decoded, whole) {
            (Ok(Ok(photo)), Ok(whole)) => {
                self.decoded += 1;
                if whole.is_err() {
                    self.inconsistent.push(what.to_owned());
                }
                let moving = working(&photo.pixels);
                let params = AlignParams::default();
                let est = catch_unwind(AssertUnwindSafe(|| {
                    align::estimate(valid, &moving, &params)
                }));
                if est.is_err() {
                    self.panics.push(format!("align::estimate: {what}"));
                }
            }
            (Ok(Err(_)), Ok(_)) => self.refused += 1,
            _ => self.panics.push(format!("ingest: {what}")),
        }
        let fixture = what.split(' ').next().unwrap_or_default().to_owned();
        let e = self.by_fixture.entry(fixture).or_default();
        e.0 += 1;
        e.1 += usize::from(is_decoded);
        let took = start.elapsed();
        if took > self.slowest.0 {
            self.slowest = (took, what.to_owned());
        }
    }
}

/// Every mutant, with a label saying how to make it again.
fn mutants() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (k, fx) in fixtures().into_iter().enumerate() {
        let mut rng = Rng::new(0x5EED_0017 + k as u64);
        out.push((format!("{} unchanged", fx.name), fx.bytes.clone()));
        for i in 0..MUTANTS_PER_FIXTURE {
            let (what, bytes) = mutate(&fx, &mut rng);
            out.push((format!("{} #{i}: {what}", fx.name), bytes));
        }
    }
    out
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[test]
fn thousands_of_damaged_photos_neither_panic_nor_hang() {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    // The round runs on its own thread so that a hang shows as a missed deadline.
    std::thread::spawn(move || {
        let mutants = mutants();
        let valid = working(&source());
        let mut tally = Tally::default();
        let halves: Vec<Tally> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..2)
                .map(|k| {
                    let (mutants, valid) = (&mutants, &valid);
                    s.spawn(move || {
                        let mut t = Tally::default();
                        for (what, bytes) in mutants.iter().skip(k).step_by(2) {
                            t.run(what, bytes, valid);
                        }
                        t
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        halves.into_iter().for_each(|t| tally.merge(t));
        let _ = tx.send(tally);
    });
    let tally = rx.recv_timeout(DEADLINE).unwrap_or_else(|_| {
        panic!("the mutation round did not finish within {DEADLINE:?}: a hang")
    });
    eprintln!(
        "mutation: tried {}, decoded {}, refused {}, panics {}, slowest {:.1} ms ({}), peak RSS {:.0} MiB, {:.1} s",
        tally.tried,
        tally.decoded,
        tally.refused,
        tally.panics.len(),
        tally.slowest.0.as_secs_f64() * 1e3,
        tally.slowest.1,
        peak_rss_mib().unwrap_or(f64::NAN),
        started.elapsed().as_secs_f64(),
    );
    for (name, (tried, decoded)) in &tally.by_fixture {
        eprintln!("  {name:<18} {decoded:>4} of {tried} decoded");
    }
    assert!(tally.tried >= 2_000, "only {} mutants", tally.tried);
    assert!(tally.panics.is_empty(), "panics: {:#?}", tally.panics);
    assert!(
        tally.inconsistent.is_empty(),
        "decodable but refused by the whole-file check: {:#?}",
        tally.inconsistent
    );
    assert_eq!(tally.decoded + tally.refused, tally.tried);
}

/// A 320×240 JPEG from the `image` encoder and the range of its entropy-coded data.
fn jpeg_and_scan() -> (Vec<u8>, std::ops::Range<usize>) {
    let bytes = support::env::jpeg(&support::env::photo(320, 240, 5));
    let sos = bytes.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let start = sos + 2 + usize::from(u16::from_be_bytes([bytes[sos + 2], bytes[sos + 3]]));
    let end = bytes.len() - 2;
    (bytes, start..end)
}

fn refused_as_damaged(bytes: &[u8]) -> bool {
    match ingest::decode(bytes, Path::new("x.jpg"), &PARAMS) {
        Ok(_) => false,
        Err(e) => {
            assert!(e.to_string().contains("x.jpg"), "{e}");
            assert!(
                e.reason.contains("damaged") || e.reason.contains("truncated"),
                "{e}"
            );
            true
        }
    }
}

#[test]
fn jpeg_with_corrupt_entropy_data_is_refused() {
    let (bytes, scan) = jpeg_and_scan();
    assert!(!refused_as_damaged(&bytes));
    let mid = (scan.start + scan.end) / 2;
    // Decoders recover from most of these: `image` returns an image with grey or garbage blocks.
    let mut damaged = Vec::new();
    let mut flipped = bytes.clone();
    flipped[mid..mid + 64].iter_mut().for_each(|v| *v ^= 0xFF);
    damaged.push(("64 bytes inverted", flipped));
    let mut zeroed = bytes.clone();
    zeroed[mid..mid + 512].fill(0);
    damaged.push(("512 bytes zeroed", zeroed));
    let mut cut = bytes.clone();
    cut.drain(mid..mid + 1024);
    damaged.push(("a lost kilobyte", cut));
    let mut marker = bytes.clone();
    marker[mid..mid + 2].copy_from_slice(&[0xFF, 0xD3]);
    damaged.push(("a restart marker where none belongs", marker));
    for (what, bytes) in &damaged {
        assert!(refused_as_damaged(bytes), "{what} was accepted");
    }
    // A single damaged byte: much of the data is raw coefficient bits, and Huffman codes fall
    // back into step, so often nothing in the file shows the damage and no reader can refuse it
    // (libjpeg and zune-jpeg, even in strict mode, warn about fewer still). Pin the rate.
    let mut rng = Rng::new(7);
    let n = 400;
    let refused = (0..n)
        .filter(|_| {
            let mut b = bytes.clone();
            let at = scan.start + pick(&mut rng, scan.len());
            b[at] ^= 0xFF;
            refused_as_damaged(&b)
        })
        .count();
    eprintln!("single inverted bytes refused: {refused} of {n}");
    assert!(refused * 2 >= n, "only {refused} of {n} refused");
}

/// Where chunk `kind`'s CRC is in a PNG.
fn png_crc_at(bytes: &[u8], kind: &[u8; 4]) -> usize {
    let at = bytes.windows(4).position(|w| w == kind).unwrap();
    let len = u32::from_be_bytes(bytes[at - 4..at].try_into().unwrap()) as usize;
    at + 4 + len
}

#[test]
fn png_with_a_bad_crc_is_refused() {
    let bytes = png_with_profile(&source());
    assert!(ingest::decode(&bytes, Path::new("x.png"), &PARAMS).is_ok());
    // The iCCP chunk is ancillary: the png crate alone skips it when its CRC fails, and the
    // photo would be shown in the wrong colours.
    for kind in [b"IHDR", b"iCCP", b"IDAT", b"IEND"] {
        let mut b = bytes.clone();
        b[png_crc_at(&bytes, kind)] ^= 0x01;
        let e = ingest::decode(&b, Path::new("x.png"), &PARAMS).unwrap_err();
        let kind = std::str::from_utf8(kind).unwrap();
        // (IHDR is already refused by the header read that comes first, in its own words.)
        let text = e.to_string();
        assert!(
            text.contains("x.png")
                && text.contains(kind)
                && (text.contains("fails its checksum") || text.contains("CRC")),
            "{e}"
        );
        assert!(ingest::check_complete(&b, Path::new("x.png"), &PARAMS).is_err());
    }
    let cut = &bytes[..bytes.len() - 12];
    let e = ingest::decode(cut, Path::new("x.png"), &PARAMS).unwrap_err();
    assert!(e.reason.contains("truncated"), "{e}");
}

#[test]
fn truncated_tiff_is_refused() {
    let img = source();
    let mut encoded = std::io::Cursor::new(Vec::new());
    img.write_to(&mut encoded, image::ImageFormat::Tiff)
        .unwrap();
    for bytes in [tiff_ifd_first(&img), encoded.into_inner()] {
        let photo = ingest::decode(&bytes, Path::new("x.tif"), &PARAMS).unwrap();
        assert_eq!(photo.pixels, img);
        let len = bytes.len();
        for cut in [len - 1, len - 100, len / 2, 300] {
            let e = ingest::decode(&bytes[..cut], Path::new("x.tif"), &PARAMS).unwrap_err();
            assert!(e.to_string().contains("x.tif"), "{e}");
            assert!(ingest::check_complete(&bytes[..cut], Path::new("x.tif"), &PARAMS).is_err());
        }
    }
}

#[test]
fn jpeg_overwritten_mid_file_fails_the_whole_file_check() {
    let (bytes, scan) = jpeg_and_scan();
    let whole = |b: &[u8]| ingest::check_complete(b, Path::new("x.jpg"), &PARAMS);
    assert!(whole(&bytes).is_ok());
    let mid = (scan.start + scan.end) / 2;
    // A copy that wrote a stretch of another photo over this one.
    let other = support::env::jpeg(&support::env::photo(320, 240, 9));
    let mut b = bytes.clone();
    b[mid..mid + 2048].copy_from_slice(&other[mid..mid + 2048]);
    assert!(whole(&b).is_err());
    // Pre-sized, end marker in place, still being filled from the middle on.
    let mut b = bytes.clone();
    b[mid..scan.end].fill(0);
    assert!(whole(&b).is_err());
    // Half written.
    let e = whole(&bytes[..mid]).unwrap_err();
    assert!(e.reason.contains("truncated"), "{e}");
}

#[test]
fn heic_like_files_fail_cleanly() {
    for brand in [b"heic", b"heix", b"mif1", b"hevc"] {
        let bytes = heic_like(brand, 1);
        let e = ingest::decode(&bytes, Path::new("IMG_0001.HEIC"), &PARAMS).unwrap_err();
        assert!(
            e.to_string().contains("IMG_0001.HEIC") && e.reason.contains("HEIC"),
            "{e}"
        );
        assert!(ingest::check_complete(&bytes, Path::new("IMG_0001.HEIC"), &PARAMS).is_err());
    }
}

#[test]
fn damaged_photos_fail_their_own_cases_while_the_good_one_publishes() {
    let env = TestEnv::new();
    env.put(
        "good/before.jpg",
        &support::env::jpeg(&support::env::photo(640, 480, 1)),
    );
    env.put(
        "good/after.jpg",
        &support::env::jpeg(&support::env::photo(700, 520, 2)),
    );
    let before = support::env::jpeg(&support::env::photo(640, 480, 3));
    let fixtures = fixtures();
    let mut rng = Rng::new(0xE2E);
    let mut bad = Vec::new();
    while bad.len() < 20 {
        let fx = &fixtures[bad.len() % fixtures.len()];
        let (what, bytes) = mutate(fx, &mut rng);
        // Only photos the shipped limits refuse (a few mutants are still valid photos).
        if ingest::decode(&bytes, Path::new("x"), &DEFAULT_LIMITS).is_ok() {
            continue;
        }
        let (case, file) = (
            format!("bad{:02}", bad.len()),
            format!("after.{}", fx.ext()),
        );
        env.put(&format!("{case}/before.jpg"), &before);
        env.put(&format!("{case}/{file}"), &bytes);
        bad.push((case, file, what));
    }
    let (out, summary) = env.batch(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let cases = summary["cases"].as_array().unwrap();
    let outcome = |id: &str| cases.iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(
        outcome("good")["outcome"],
        "published",
        "{}",
        outcome("good")
    );
    for (case, file, what) in &bad {
        let c = outcome(case);
        assert_eq!(c["outcome"], "failed", "{what}: {c}");
        assert!(
            c["reasons"].to_string().contains(&format!("{case}/{file}")),
            "{what}: {c}"
        );
    }
}
