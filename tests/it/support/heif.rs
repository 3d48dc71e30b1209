//! HEIC fixtures made at test time with libheif's `heif-enc` (Debian `libheif-examples`), and an
//! `irot` transform written into one, as iPhones store a portrait photo: sideways pixels, an
//! `irot` box, and an EXIF Orientation saying the same thing again.
//!
//! Without heif-enc or libheif these tests print that they were SKIPPED, except under CI (`CI`
//! set), where they fail: `.ci/run` installs both.

use std::path::Path;
use std::process::Command;

/// Whether heif-enc and libheif are here; says SKIPPED (or fails under CI) when not.
pub fn tools(test: &str) -> bool {
    let enc = Command::new("heif-enc").arg("--help").output().is_ok();
    let lib = beforeafter::ingest::heif::available();
    if enc && lib.is_ok() {
        return true;
    }
    let message = format!(
        "{test}: HEIC test SKIPPED: needs heif-enc and libheif (apt-get install libheif1 libheif-examples){}",
        lib.err().map_or(String::new(), |e| format!("; {e}"))
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "{message}; CI must run it"
    );
    eprintln!("\n*** {message} ***\n");
    false
}

/// `heif-enc <args> <input> -o <output>`, returning the HEIC's bytes.
pub fn heif_enc(input: &Path, args: &[&str]) -> Vec<u8> {
    let output = input.with_extension("heic");
    let run = Command::new("heif-enc")
        .args(args)
        .arg(input)
        .arg("-o")
        .arg(&output)
        .output()
        .expect("heif-enc runs");
    assert!(
        run.status.success(),
        "heif-enc failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read(output).unwrap()
}

/// Start and size of the box at `path` (top-level first); `meta` is a full box.
pub fn find(bytes: &[u8], path: &[&[u8; 4]]) -> Option<(usize, usize)> {
    let (mut from, mut to) = (0, bytes.len());
    let mut found = None;
    for want in path {
        let mut at = from;
        found = None;
        while at + 8 <= to {
            let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            if &bytes[at + 4..at + 8] == *want {
                found = Some((at, size));
                break;
            }
            at += size.max(8);
        }
        let (start, size) = found?;
        from = start + if *want == b"meta" { 12 } else { 8 };
        to = start + size;
    }
    found
}

fn grow(bytes: &mut [u8], at: usize, by: usize) {
    let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize + by;
    bytes[at..at + 4].copy_from_slice(&(size as u32).to_be_bytes());
}

/// Add an `irot` property (`angle` × 90° anticlockwise) to the primary image.
pub fn add_irot(heic: &[u8], angle: u8) -> Vec<u8> {
    add_property(heic, &[0, 0, 0, 9, b'i', b'r', b'o', b't', angle], true)
}

/// Add an `nclx` colour description (CICP primaries and transfer; BT.601 matrix, full range,
/// as heif-enc encodes) to the primary image. heif-enc 1.15 writes none, whatever its options.
pub fn add_nclx(heic: &[u8], primaries: u16, transfer: u16) -> Vec<u8> {
    let mut colr = vec![0, 0, 0, 19];
    colr.extend_from_slice(b"colrnclx");
    colr.extend_from_slice(&primaries.to_be_bytes());
    colr.extend_from_slice(&transfer.to_be_bytes());
    colr.extend_from_slice(&6u16.to_be_bytes());
    colr.push(0x80);
    add_property(heic, &colr, false)
}

/// Add the property box `prop` to item 1, the primary image of a single-image heif-enc file,
/// and move every `iloc` extent by the bytes added.
fn add_property(heic: &[u8], prop: &[u8], essential: bool) -> Vec<u8> {
    let mut b = heic.to_vec();
    let (ipma, ipma_size) = find(&b, &[b"meta", b"iprp", b"ipma"]).expect("ipma");
    let (ipco, ipco_size) = find(&b, &[b"meta", b"iprp", b"ipco"]).expect("ipco");
    assert!(ipco < ipma, "ipco precedes ipma in heif-enc's files");
    let mut index = 0u16;
    let mut at = ipco + 8;
    while at < ipco + ipco_size {
        index += 1;
        at += u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    }
    let index = index + 1;
    // ipma: version, flags, entry count, then per entry item id, count, associations.
    let (version, wide) = (b[ipma + 8], b[ipma + 11] & 1 == 1);
    let mut e = ipma + 16;
    let id_len = if version < 1 { 2 } else { 4 };
    let item = b[e..e + id_len]
        .iter()
        .fold(0u32, |v, &x| (v << 8) | u32::from(x));
    assert_eq!(item, 1, "the first ipma entry is the primary image");
    e += id_len;
    let count = b[e] as usize;
    let flag = if essential { 0x80 } else { 0 };
    let assoc: Vec<u8> = if wide {
        ((flag << 8) | index).to_be_bytes().to_vec()
    } else {
        vec![flag as u8 | index as u8]
    };
    let insert_at = e + 1 + count * assoc.len();
    b[e] += 1;
    assert!(insert_at <= ipma + ipma_size);
    b.splice(insert_at..insert_at, assoc.iter().copied());
    b.splice(ipco + ipco_size..ipco + ipco_size, prop.iter().copied());
    let added = prop.len() + assoc.len();
    grow(&mut b, ipma + prop.len(), assoc.len());
    grow(&mut b, ipco, prop.len());
    let iprp = find(&b, &[b"meta", b"iprp"]).unwrap().0;
    grow(&mut b, iprp, added);
    let meta = find(&b, &[b"meta"]).unwrap().0;
    grow(&mut b, meta, added);
    let (meta, mdat) = (
        find(&b, &[b"meta"]).unwrap().0,
        find(&b, &[b"mdat"]).unwrap().0,
    );
    if meta < mdat {
        shift_iloc(&mut b, added as u64);
    }
    b
}

/// Add `by` to every file-offset extent of the `iloc` box.
fn shift_iloc(b: &mut [u8], by: u64) {
    let (iloc, _) = find(b, &[b"meta", b"iloc"]).expect("iloc");
    let mut at = iloc + 8;
    let version = b[at];
    at += 4;
    let (sizes_hi, sizes_lo) = (b[at], b[at + 1]);
    at += 2;
    let (off_len, len_len, base_len) = (
        (sizes_hi >> 4) as usize,
        (sizes_hi & 15) as usize,
        (sizes_lo >> 4) as usize,
    );
    let idx_len = if version >= 1 {
        (sizes_lo & 15) as usize
    } else {
        0
    };
    let uint = |b: &[u8], at: usize, n: usize| {
        b[at..at + n]
            .iter()
            .fold(0u64, |v, &x| (v << 8) | u64::from(x))
    };
    let put = |b: &mut [u8], at: usize, n: usize, v: u64| {
        for i in 0..n {
            b[at + i] = (v >> (8 * (n - 1 - i))) as u8;
        }
    };
    let wide = version >= 2;
    let items = uint(b, at, if wide { 4 } else { 2 });
    at += if wide { 4 } else { 2 };
    for _ in 0..items {
        at += if wide { 4 } else { 2 };
        let method = if version >= 1 {
            at += 2;
            uint(b, at - 2, 2) & 15
        } else {
            0
        };
        at += 2;
        let base_at = at;
        at += base_len;
        if method == 0 && base_len > 0 {
            put(b, base_at, base_len, uint(b, base_at, base_len) + by);
        }
        let extents = uint(b, at, 2);
        at += 2;
        for _ in 0..extents {
            at += idx_len;
            if method == 0 && base_len == 0 {
                put(b, at, off_len, uint(b, at, off_len) + by);
            }
            at += off_len + len_len;
        }
    }
}

/// `heif-convert -q 92 <heic> <jpeg>` (libheif-examples, as heif-enc): the JPEG of the same
/// photo, its EXIF Orientation reset to 1. heif-convert writes the pixels already turned by
/// `irot` but (libheif 1.15) keeps the HEIC's Orientation tag, which would turn them again.
pub fn heif_convert(heic: &Path) -> Vec<u8> {
    let jpeg = heic.with_extension("jpg");
    let run = Command::new("heif-convert")
        .args(["-q", "92"])
        .arg(heic)
        .arg(&jpeg)
        .output()
        .expect("heif-convert runs");
    assert!(
        run.status.success(),
        "heif-convert failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut bytes = std::fs::read(jpeg).unwrap();
    // The Orientation entry of a big- or little-endian TIFF directory: tag 0x0112, SHORT, 1.
    for (entry, one) in [
        (&[1u8, 0x12, 0, 3, 0, 0, 0, 1][..], [0u8, 1]),
        (&[0x12, 1, 3, 0, 1, 0, 0, 0][..], [1, 0]),
    ] {
        if let Some(at) = bytes.windows(8).position(|w| w == entry) {
            bytes[at + 8..at + 10].copy_from_slice(&one);
        }
    }
    bytes
}
