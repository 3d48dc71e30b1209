//! Test helpers: a temp input/output tree and the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use image::{Rgb, RgbImage};

pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

/// The test clinic's settings: its cases are named by number and consent is recorded
/// elsewhere, so folder names are public ids and every case may be published. Its photos are
/// small (320 to 1000 px, so the suite stays fast), so it publishes crops down to 64 px where
/// the shipped `[review] min_crop` holds anything under 400; the tests of that minimum use
/// [`TestEnv::with_defaults`]. `[cases]` comes last: tests append its keys. Tests of the
/// defaults (opaque ids, no consent) use [`TestEnv::with_defaults`]. Its "retakes" are
/// [`photo`]s with another seed, which moves a lattice of bright blobs over 40% of the frame: an
/// unrelated pattern, not a treatment, whose blue levels no unchanged pixel shows; the light
/// model's guess there still moves them by more than the `tone` flag allows (it holds only when
/// that guess is large), so `tone` only warns here; the tone gate's own tests (`registration`,
/// `truth`) keep the default.
pub const TEST_CLINIC: &str = "[review]\nmin_crop = 64\n\n[quality]\ntone = \"warn\"\n\n\
                               [cases]\ndefault_consent = true\nids = \"folder\"\n";

impl TestEnv {
    pub fn new() -> TestEnv {
        let env = TestEnv::with_defaults();
        env.put("beforeafter.toml", TEST_CLINIC.as_bytes());
        env
    }

    /// An empty input folder: the shipped defaults apply.
    pub fn with_defaults() -> TestEnv {
        let env = TestEnv {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(env.input()).unwrap();
        env
    }

    pub fn input(&self) -> PathBuf {
        self.dir.path().join("in")
    }

    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Write `bytes` at `rel` under the input folder.
    pub fn put(&self, rel: &str, bytes: &[u8]) {
        let path = self.input().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// `beforeafter batch <in> --out <out> --json` plus `args`.
    pub fn batch(&self, args: &[&str]) -> (Output, serde_json::Value) {
        let out = run(&[
            &[
                "batch",
                self.input().to_str().unwrap(),
                "--out",
                self.out().to_str().unwrap(),
                "--json",
            ],
            args,
        ]
        .concat());
        let summary = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        (out, summary)
    }

    /// `beforeafter verify <in> --out <out>`: exit code and what it printed.
    pub fn verify(&self) -> (i32, String) {
        let out = run(&[
            "verify",
            self.input().to_str().unwrap(),
            "--out",
            self.out().to_str().unwrap(),
        ]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code().unwrap(), text)
    }

    pub fn manifest(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.out().join("manifest.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// The records of cases held for review or failed, kept in the input folder.
    pub fn held(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.input().join(".beforeafter/held.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_beforeafter"))
        .args(args)
        .output()
        .unwrap()
}

/// A textured test photo: smooth gradients plus a grid of blobs, so any crop is recognisable.
pub fn photo(w: u32, h: u32, seed: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let fx = x as f32 / w as f32;
        let fy = y as f32 / h as f32;
        let blob = u8::from((x / 23 + y / 19 + seed).is_multiple_of(5)) * 60;
        Rgb([
            (80.0 + 120.0 * fx) as u8 + blob / 2,
            (60.0 + 100.0 * fy) as u8,
            (120.0 - 60.0 * fx * fy) as u8 + blob,
        ])
    })
}

pub fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode_image(img)
        .unwrap();
    bytes
}

pub fn png(img: &RgbImage) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

/// Every file under `dir`, relative, sorted.
pub fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push(
                p.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

/// CRC-32 as PNG computes it, written out here so PNG fixtures do not lean on the code under
/// test.
pub fn png_crc(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}
