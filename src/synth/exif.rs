//! JPEG files that look like they came off a phone: pixels stored under an
//! EXIF orientation, plus the privacy-sensitive tags (maker, serial number,
//! artist, capture date, GPS position) that the gallery tool must strip.
//! The TIFF structure is written by hand so tests control every byte.

use image::RgbImage;
use image::imageops::{flip_horizontal, flip_vertical, rotate90, rotate180, rotate270};

/// The capture date a real phone would record, for callers that want one.
pub const DEFAULT_DATE_TIME_ORIGINAL: &str = "2026:03:14 10:20:30";

/// Values written into the fake phone metadata (tests look for them to make
/// sure they were stripped).
pub const EXIF_MAKE: &str = "Examplephone";
pub const EXIF_MODEL: &str = "EP-12 Pro";
pub const EXIF_ARTIST: &str = "Dr. Jane Example";
pub const EXIF_SERIAL: &str = "SN4C2F9A17B3";

const ASCII: u16 = 2;
const BYTE: u16 = 1;
const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;
const UNDEFINED: u16 = 7;

/// One IFD entry with its value already serialised little-endian.
struct Entry {
    tag: u16,
    typ: u16,
    count: u32,
    data: Vec<u8>,
}

impl Entry {
    fn ascii(tag: u16, s: &str) -> Entry {
        let mut data = s.as_bytes().to_vec();
        data.push(0);
        Entry {
            tag,
            typ: ASCII,
            count: data.len() as u32,
            data,
        }
    }

    fn short(tag: u16, v: u16) -> Entry {
        Entry::one(tag, SHORT, v.to_le_bytes().to_vec())
    }

    fn long(tag: u16, v: u32) -> Entry {
        Entry::one(tag, LONG, v.to_le_bytes().to_vec())
    }

    /// A single value of type `typ`.
    fn one(tag: u16, typ: u16, data: Vec<u8>) -> Entry {
        Entry {
            tag,
            typ,
            count: 1,
            data,
        }
    }

    /// Degrees, minutes, seconds as three rationals.
    fn dms(tag: u16, parts: [(u32, u32); 3]) -> Entry {
        let data = parts
            .iter()
            .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
            .collect();
        Entry {
            tag,
            typ: RATIONAL,
            count: 3,
            data,
        }
    }
}

/// Bytes an IFD occupies including its out-of-line values.
fn ifd_len(entries: &[Entry]) -> usize {
    let out_of_line: usize = entries
        .iter()
        .filter(|e| e.data.len() > 4)
        .map(|e| e.data.len().next_multiple_of(2))
        .sum();
    2 + 12 * entries.len() + 4 + out_of_line
}

/// Appends an IFD (entries must be sorted by tag) at the end of `tiff`, with
/// its out-of-line values right after it. Offsets count from the TIFF header.
fn write_ifd(tiff: &mut Vec<u8>, entries: &[Entry]) {
    let start = tiff.len();
    let mut value_at = start + 2 + 12 * entries.len() + 4;
    let mut values = Vec::new();
    tiff.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for e in entries {
        tiff.extend_from_slice(&e.tag.to_le_bytes());
        tiff.extend_from_slice(&e.typ.to_le_bytes());
        tiff.extend_from_slice(&e.count.to_le_bytes());
        if e.data.len() <= 4 {
            let mut inline = e.data.clone();
            inline.resize(4, 0);
            tiff.extend_from_slice(&inline);
        } else {
            tiff.extend_from_slice(&(value_at as u32).to_le_bytes());
            values.extend_from_slice(&e.data);
            if e.data.len() % 2 == 1 {
                values.push(0); // values must start on word boundaries
            }
            value_at += e.data.len().next_multiple_of(2);
        }
    }
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    tiff.extend_from_slice(&values);
}

/// The TIFF payload of the Exif APP1 segment (without the "Exif\0\0" id).
fn exif_tiff(orientation: u8, date_time_original: Option<&str>) -> Vec<u8> {
    let mut exif = vec![Entry {
        tag: 0x9000,
        typ: UNDEFINED,
        count: 4,
        data: b"0232".to_vec(),
    }];
    if let Some(date) = date_time_original {
        exif.push(Entry::ascii(0x9003, date));
    }
    exif.push(Entry::ascii(0xA431, EXIF_SERIAL));
    let gps = vec![
        Entry {
            tag: 0x0000,
            typ: BYTE,
            count: 4,
            data: vec![2, 3, 0, 0],
        },
        Entry::ascii(0x0001, "N"),
        Entry::dms(0x0002, [(40, 1), (26, 1), (4612, 100)]),
        Entry::ascii(0x0003, "W"),
        Entry::dms(0x0004, [(79, 1), (58, 1), (5630, 100)]),
    ];
    let mut ifd0 = vec![
        Entry::ascii(0x010F, EXIF_MAKE),
        Entry::ascii(0x0110, EXIF_MODEL),
        Entry::short(0x0112, orientation as u16),
    ];
    if let Some(date) = date_time_original {
        ifd0.push(Entry::ascii(0x0132, date));
    }
    ifd0.push(Entry::ascii(0x013B, EXIF_ARTIST));
    // Pointer values depend on the IFD0 size, which they do not change.
    ifd0.push(Entry::long(0x8769, 0));
    ifd0.push(Entry::long(0x8825, 0));
    let exif_at = 8 + ifd_len(&ifd0);
    let gps_at = exif_at + ifd_len(&exif);
    let n = ifd0.len();
    ifd0[n - 2].data = (exif_at as u32).to_le_bytes().to_vec();
    ifd0[n - 1].data = (gps_at as u32).to_le_bytes().to_vec();

    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    write_ifd(&mut tiff, &ifd0);
    write_ifd(&mut tiff, &exif);
    write_ifd(&mut tiff, &gps);
    tiff
}

/// The pixels to store so that a reader applying `orientation` shows
/// `upright`, i.e. the inverse of the display transform.
fn stored_pixels(upright: &RgbImage, orientation: u8) -> RgbImage {
    match orientation {
        2 => flip_horizontal(upright),
        3 => rotate180(upright),
        4 => flip_vertical(upright),
        5 => flip_horizontal(&rotate90(upright)), // transpose (self-inverse)
        6 => rotate270(upright),                  // display rotates 90° CW
        7 => flip_horizontal(&rotate270(upright)), // transverse (self-inverse)
        8 => rotate90(upright),                   // display rotates 90° CCW
        _ => upright.clone(),
    }
}

/// JPEG bytes of `upright` stored with EXIF orientation `orientation` (1..=8): the stored pixels are the inverse-transformed image,
/// so a correct reader that applies the orientation gets `upright` back. The APP1 Exif segment also carries privacy-sensitive tags a
/// real phone writes: Make, Model, BodySerialNumber (0xA431), Artist, DateTimeOriginal (when given; see
/// [`DEFAULT_DATE_TIME_ORIGINAL`]) and DateTime, and a GPS IFD (GPSLatitude/Longitude with refs). Little-endian TIFF.
///
/// # Panics
/// If `orientation` is outside 1..=8 or the image exceeds JPEG's 65535 px limit.
pub fn jpeg_with_exif(
    upright: &RgbImage,
    orientation: u8,
    quality: u8,
    date_time_original: Option<&str>,
) -> Vec<u8> {
    assert!(
        (1..=8).contains(&orientation),
        "EXIF orientation must be 1..=8"
    );
    let stored = stored_pixels(upright, orientation);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&exif_tiff(orientation, date_time_original));
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
    enc.add_app_segment(1, app1)
        .expect("Exif segment fits in 64 KiB");
    let (w, h) = (stored.width(), stored.height());
    let (w, h) = (
        u16::try_from(w).expect("width"),
        u16::try_from(h).expect("height"),
    );
    enc.encode(stored.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .expect("JPEG encoding of an in-memory RGB buffer");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::jpeg::JpegDecoder;
    use image::{DynamicImage, ImageDecoder, Rgb};
    use std::io::Cursor;

    /// 64x40, four big distinct blocks plus a bar, so every flip and
    /// rotation of it is distinguishable.
    fn pattern() -> RgbImage {
        RgbImage::from_fn(64, 40, |x, y| match (x < 32, y < 20) {
            _ if x >= 48 && y >= 30 => Rgb([255, 255, 255]),
            (true, true) => Rgb([220, 30, 30]),
            (false, true) => Rgb([30, 200, 40]),
            (true, false) => Rgb([30, 40, 220]),
            (false, false) => Rgb([230, 220, 40]),
        })
    }

    fn max_diff(a: &RgbImage, b: &RgbImage) -> f64 {
        // Mean absolute error per block-interior pixel; edges ring in JPEG.
        let mut worst = 0.0f64;
        for (x, y, p) in a.enumerate_pixels() {
            if x % 16 < 3 || x % 16 > 12 || y % 10 < 3 || y % 10 > 6 {
                continue;
            }
            let q = b.get_pixel(x, y);
            for c in 0..3 {
                worst = worst.max((p[c] as f64 - q[c] as f64).abs());
            }
        }
        worst
    }

    #[test]
    fn all_orientations_round_trip() {
        let up = pattern();
        for o in 1..=8u8 {
            let bytes = jpeg_with_exif(&up, o, 92, Some(DEFAULT_DATE_TIME_ORIGINAL));
            let mut dec = JpegDecoder::new(Cursor::new(&bytes)).unwrap();
            let orientation = dec.orientation().unwrap();
            let (sw, sh) = dec.dimensions();
            if o >= 5 {
                assert_eq!((sw, sh), (40, 64), "orientation {o} stores transposed dims");
            }
            let mut img = DynamicImage::from_decoder(dec).unwrap();
            img.apply_orientation(orientation);
            let img = img.to_rgb8();
            assert_eq!(img.dimensions(), (64, 40), "orientation {o}");
            let d = max_diff(&up, &img);
            assert!(d < 40.0, "orientation {o}: max diff {d}");
        }
    }

    #[test]
    fn carries_private_tags() {
        let bytes = jpeg_with_exif(&pattern(), 6, 85, Some("2026:01:02 03:04:05"));
        let hay = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(hay(b"Exif\0\0II*\0"));
        for s in [
            EXIF_MAKE,
            EXIF_MODEL,
            EXIF_ARTIST,
            EXIF_SERIAL,
            "2026:01:02 03:04:05",
        ] {
            assert!(hay(s.as_bytes()), "missing {s}");
        }
        let mut dec = JpegDecoder::new(Cursor::new(&bytes)).unwrap();
        let raw = dec.exif_metadata().unwrap().expect("exif present");
        assert_eq!(&raw[..4], b"II*\0");
        // GPS pointer in IFD0 must point at an IFD whose first tag is GPSVersionID.
        let tiff = exif_tiff(6, Some("2026:01:02 03:04:05"));
        assert_eq!(raw, tiff);
        let n = u16::from_le_bytes([tiff[8], tiff[9]]) as usize;
        let last = 10 + 12 * (n - 1);
        assert_eq!(u16::from_le_bytes([tiff[last], tiff[last + 1]]), 0x8825);
        let gps_at = u32::from_le_bytes(tiff[last + 8..last + 12].try_into().unwrap()) as usize;
        assert_eq!(u16::from_le_bytes([tiff[gps_at], tiff[gps_at + 1]]), 5);
        assert_eq!(&tiff[gps_at + 2..gps_at + 4], &[0, 0]);
    }

    #[test]
    fn deterministic_bytes() {
        let a = jpeg_with_exif(&pattern(), 3, 85, None);
        let b = jpeg_with_exif(&pattern(), 3, 85, None);
        assert_eq!(a, b);
    }
}
