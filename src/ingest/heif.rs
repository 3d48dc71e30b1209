//! HEIC/HEIF photos through the system's libheif, loaded at run time so that the build needs
//! nothing: a machine without libheif still builds and runs, and only HEIC photos fail, with the
//! command that installs it.
//!
//! Only the primary image is decoded (depth maps, thumbnails and burst frames are other items
//! and are never touched). libheif applies the HEIF transforms (`irot`, `imir`, `clap`) while
//! decoding, as the HEIF rule says; an EXIF Orientation tag inside the file describes the
//! untransformed image and is therefore ignored (see `super::decode_heif`). Colour: an embedded
//! ICC profile, or an `nclx` description (an iPhone's Display P3), is returned for conversion to
//! sRGB. 8- to 16-bit images are read; alpha is returned for flattening onto white.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::marker::PhantomData;
use std::sync::OnceLock;

use image::{DynamicImage, ImageBuffer, Rgb, Rgba};
use libloading::Library;

/// Set to a library file to load instead of the system's libheif (tests use a missing path).
pub const LIBRARY_ENV: &str = "BEFOREAFTER_LIBHEIF";

/// `struct heif_error`, returned by value.
#[repr(C)]
#[derive(Clone, Copy)]
struct HeifError {
    code: c_int,
    subcode: c_int,
    message: *const c_char,
}

/// The leading fields of `struct heif_color_profile_nclx` (only read, never allocated here).
#[repr(C)]
struct Nclx {
    _version: u8,
    primaries: c_int,
    transfer: c_int,
}

type Ptr = *mut c_void;

/// The leading fields of `struct heif_decoding_options` (versions 1 to 3), which libheif
/// allocates with its defaults; only the fields of the version it reports are written.
#[repr(C)]
struct DecodingOptions {
    version: u8,
    ignore_transformations: u8,
    start_progress: Ptr,
    on_progress: Ptr,
    end_progress: Ptr,
    progress_user_data: Ptr,
    convert_hdr_to_8bit: u8,
    strict_decoding: u8,
}

/// The libheif functions this module uses, declared by hand (libheif ≥ 1.4).
struct Api {
    context_alloc: unsafe extern "C" fn() -> Ptr,
    context_free: unsafe extern "C" fn(Ptr),
    read_from_memory: unsafe extern "C" fn(Ptr, *const c_void, usize, *const c_void) -> HeifError,
    primary_handle: unsafe extern "C" fn(Ptr, *mut Ptr) -> HeifError,
    handle_release: unsafe extern "C" fn(Ptr),
    handle_width: unsafe extern "C" fn(Ptr) -> c_int,
    handle_height: unsafe extern "C" fn(Ptr) -> c_int,
    has_alpha: unsafe extern "C" fn(Ptr) -> c_int,
    luma_bits: unsafe extern "C" fn(Ptr) -> c_int,
    decode: unsafe extern "C" fn(Ptr, *mut Ptr, c_int, c_int, *const c_void) -> HeifError,
    image_release: unsafe extern "C" fn(Ptr),
    plane: unsafe extern "C" fn(Ptr, c_int, *mut c_int) -> *const u8,
    image_width: unsafe extern "C" fn(Ptr, c_int) -> c_int,
    image_height: unsafe extern "C" fn(Ptr, c_int) -> c_int,
    profile_type: unsafe extern "C" fn(Ptr) -> u32,
    raw_profile_size: unsafe extern "C" fn(Ptr) -> usize,
    raw_profile: unsafe extern "C" fn(Ptr, *mut c_void) -> HeifError,
    nclx_profile: unsafe extern "C" fn(Ptr, *mut *mut Nclx) -> HeifError,
    nclx_free: unsafe extern "C" fn(*mut Nclx),
    /// Optional (libheif ≥ 1.4 and ≥ 1.7; absent, libheif's defaults are kept).
    set_max_threads: Option<unsafe extern "C" fn(Ptr, c_int)>,
    options_alloc: Option<unsafe extern "C" fn() -> *mut DecodingOptions>,
    options_free: Option<unsafe extern "C" fn(*mut DecodingOptions)>,
    // Kept last so the functions above are dropped (never called) before the library unloads.
    _lib: Library,
}

// SAFETY: the API is a table of function pointers into a loaded library; libheif's functions
// are safe to call from several threads on distinct contexts.
unsafe impl Send for Api {}
unsafe impl Sync for Api {}

const COLORSPACE_RGB: c_int = 1;
const CHROMA_RGB: c_int = 10;
const CHROMA_RGBA: c_int = 11;
const CHROMA_RRGGBB_LE: c_int = 14;
const CHROMA_RRGGBBAA_LE: c_int = 15;
const CHANNEL_INTERLEAVED: c_int = 10;

/// The names the system's libheif goes by on this platform.
fn library_names() -> &'static [&'static str] {
    if cfg!(target_os = "macos") {
        &[
            "libheif.1.dylib",
            "/opt/homebrew/lib/libheif.1.dylib",
            "/usr/local/lib/libheif.1.dylib",
        ]
    } else if cfg!(windows) {
        &["heif.dll", "libheif.dll"]
    } else {
        &["libheif.so.1", "libheif.so"]
    }
}

/// What to run to install libheif on this platform.
#[must_use]
pub fn install_hint() -> &'static str {
    if cfg!(target_os = "macos") {
        "brew install libheif"
    } else if cfg!(windows) {
        "vcpkg install libheif:x64-windows, then put heif.dll beside beforeafter.exe or on PATH"
    } else {
        "sudo apt-get install libheif1 (Debian/Ubuntu; Fedora: sudo dnf install libheif)"
    }
}

fn load() -> Result<Api, String> {
    let names: Vec<String> = match std::env::var(LIBRARY_ENV) {
        Ok(path) if !path.is_empty() => vec![path],
        _ => library_names().iter().map(|s| (*s).to_owned()).collect(),
    };
    // SAFETY: loading libheif runs only its own initialisers.
    let lib = names
        .iter()
        .find_map(|n| unsafe { Library::new(n) }.ok())
        .ok_or_else(|| {
            format!(
                "HEIC/HEIF photos need the system's libheif, which was not found ({}): install it with `{}`, or export the photo as JPEG",
                names.join(", "),
                install_hint()
            )
        })?;
    bind(lib).map_err(|e| {
        format!(
            "the libheif found is too old or incomplete ({e}): update it with `{}`",
            install_hint()
        )
    })
}

fn bind(lib: Library) -> Result<Api, libloading::Error> {
    macro_rules! sym {
        ($name:literal) => {
            // SAFETY: the declared type matches libheif's C prototype of this function.
            *unsafe { lib.get(concat!($name, "\0").as_bytes()) }?
        };
    }
    if let Ok(init) =
        unsafe { lib.get::<unsafe extern "C" fn(*const c_void) -> HeifError>(b"heif_init\0") }
    {
        // Loads libheif's decoder plugins (libheif ≥ 1.13); older versions have none to load.
        // SAFETY: heif_init accepts NULL parameters and may be called more than once.
        let _ = unsafe { init(std::ptr::null()) };
    }
    Ok(Api {
        context_alloc: sym!("heif_context_alloc"),
        context_free: sym!("heif_context_free"),
        read_from_memory: sym!("heif_context_read_from_memory_without_copy"),
        primary_handle: sym!("heif_context_get_primary_image_handle"),
        handle_release: sym!("heif_image_handle_release"),
        handle_width: sym!("heif_image_handle_get_width"),
        handle_height: sym!("heif_image_handle_get_height"),
        has_alpha: sym!("heif_image_handle_has_alpha_channel"),
        luma_bits: sym!("heif_image_handle_get_luma_bits_per_pixel"),
        decode: sym!("heif_decode_image"),
        image_release: sym!("heif_image_release"),
        plane: sym!("heif_image_get_plane_readonly"),
        image_width: sym!("heif_image_get_width"),
        image_height: sym!("heif_image_get_height"),
        profile_type: sym!("heif_image_handle_get_color_profile_type"),
        raw_profile_size: sym!("heif_image_handle_get_raw_color_profile_size"),
        raw_profile: sym!("heif_image_handle_get_raw_color_profile"),
        nclx_profile: sym!("heif_image_handle_get_nclx_color_profile"),
        nclx_free: sym!("heif_nclx_color_profile_free"),
        // SAFETY: the declared types match libheif's C prototypes.
        set_max_threads: unsafe { lib.get(b"heif_context_set_max_decoding_threads\0") }
            .ok()
            .map(|f| *f),
        options_alloc: unsafe { lib.get(b"heif_decoding_options_alloc\0") }
            .ok()
            .map(|f| *f),
        options_free: unsafe { lib.get(b"heif_decoding_options_free\0") }
            .ok()
            .map(|f| *f),
        _lib: lib,
    })
}

/// Whether libheif can be used here; the error says how to install it.
pub fn available() -> Result<(), String> {
    api().map(drop)
}

/// libheif, loaded once per process; the error says how to install it.
fn api() -> Result<&'static Api, String> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(load).as_ref().map_err(Clone::clone)
}

fn check(e: HeifError, what: &str) -> Result<(), String> {
    if e.code == 0 {
        return Ok(());
    }
    let message = if e.message.is_null() {
        String::new()
    } else {
        // SAFETY: libheif's messages are static NUL-terminated strings.
        unsafe { CStr::from_ptr(e.message) }
            .to_string_lossy()
            .into_owned()
    };
    Err(format!(
        "{what}: {message} (libheif error {}.{})",
        e.code, e.subcode
    ))
}

/// How many threads libheif may decode a grid's tiles on, or `None` for its default (4).
/// Inside a rayon pool of several threads (a run's cases, a check's files) the photos already
/// keep every core busy, and libheif's own threads would only compete with them: 0 decodes the
/// tiles on the calling thread. A photo decoded alone (watch mode's single change, a bench)
/// keeps libheif's threads.
fn tile_threads() -> Option<c_int> {
    (rayon::current_thread_index().is_some() && rayon::current_num_threads() > 1).then_some(0)
}

/// libheif's default decoding options with strict decoding on (libheif ≥ 1.13): a grid whose
/// tile fails to decode is an error, not an image with a hole. Freed on drop.
struct Options {
    api: &'static Api,
    ptr: *mut DecodingOptions,
}

impl Options {
    fn new(api: &'static Api) -> Options {
        let ptr = api
            .options_alloc
            // SAFETY: returns libheif's defaults, or NULL.
            .map_or(std::ptr::null_mut(), |alloc| unsafe { alloc() });
        // SAFETY: libheif allocated at least the fields of the version it reports.
        if let Some(o) = unsafe { ptr.as_mut() }
            && o.version >= 3
        {
            o.strict_decoding = 1;
        }
        Options { api, ptr }
    }
}

impl Drop for Options {
    fn drop(&mut self) {
        if let (Some(free), false) = (self.api.options_free, self.ptr.is_null()) {
            // SAFETY: allocated by heif_decoding_options_alloc, freed once.
            unsafe { free(self.ptr) };
        }
    }
}

/// How a HEIF image describes its colours.
#[derive(Debug, PartialEq, Eq)]
pub enum Colour {
    None,
    Icc(Vec<u8>),
    /// CICP code points: colour primaries and transfer characteristics.
    Nclx {
        primaries: u8,
        transfer: u8,
    },
}

/// The primary image of a HEIF file, its boxes parsed and nothing decoded yet.
pub struct Primary<'a> {
    api: &'static Api,
    ctx: Ptr,
    handle: Ptr,
    _bytes: PhantomData<&'a [u8]>,
}

impl Drop for Primary<'_> {
    fn drop(&mut self) {
        // SAFETY: both were allocated by libheif and are released exactly once, handle first.
        unsafe {
            if !self.handle.is_null() {
                (self.api.handle_release)(self.handle);
            }
            (self.api.context_free)(self.ctx);
        }
    }
}

/// Why a HEIF file could not be opened. The caller branches on it: how to install libheif, or
/// that the file is damaged.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// libheif cannot be loaded on this machine; the message says how to install it.
    #[error("{0}")]
    Unavailable(String),
    /// libheif refused the file.
    #[error("{0}")]
    Refused(String),
}

impl<'a> Primary<'a> {
    /// Parse `bytes` (kept borrowed: libheif reads them in place) and find the primary image.
    pub fn open(bytes: &'a [u8]) -> Result<Primary<'a>, OpenError> {
        let api = api().map_err(OpenError::Unavailable)?;
        // SAFETY: the context is freed by Drop; `bytes` outlives it (the lifetime says so).
        let ctx = unsafe { (api.context_alloc)() };
        if ctx.is_null() {
            return Err(OpenError::Refused(
                "libheif could not allocate a context".into(),
            ));
        }
        let mut me = Primary {
            api,
            ctx,
            handle: std::ptr::null_mut(),
            _bytes: PhantomData,
        };
        let read = unsafe {
            (api.read_from_memory)(ctx, bytes.as_ptr().cast(), bytes.len(), std::ptr::null())
        };
        check(read, "cannot read the HEIF file").map_err(OpenError::Refused)?;
        if let (Some(set), Some(threads)) = (api.set_max_threads, tile_threads()) {
            // SAFETY: the context is valid.
            unsafe { set(ctx, threads) };
        }
        let found = unsafe { (api.primary_handle)(ctx, &raw mut me.handle) };
        check(found, "the HEIF file has no primary image").map_err(OpenError::Refused)?;
        Ok(me)
    }

    /// Width and height as displayed (after the HEIF transforms).
    #[must_use]
    pub fn size(&self) -> (u32, u32) {
        // SAFETY: the handle is valid while self lives.
        let (w, h) = unsafe {
            (
                (self.api.handle_width)(self.handle),
                (self.api.handle_height)(self.handle),
            )
        };
        (w.max(0).unsigned_abs(), h.max(0).unsigned_abs())
    }

    /// The embedded ICC profile, else the nclx description, else nothing.
    #[must_use]
    pub fn colour(&self) -> Colour {
        let api = self.api;
        // SAFETY: the handle is valid; buffers are sized from libheif's own answers.
        let kind = unsafe { (api.profile_type)(self.handle) };
        match &kind.to_be_bytes() {
            b"prof" | b"rICC" => {
                let len = unsafe { (api.raw_profile_size)(self.handle) };
                let mut icc = vec![0u8; len];
                let e = unsafe { (api.raw_profile)(self.handle, icc.as_mut_ptr().cast()) };
                if len == 0 || e.code != 0 {
                    return Colour::None;
                }
                Colour::Icc(icc)
            }
            b"nclx" => {
                let mut nclx: *mut Nclx = std::ptr::null_mut();
                let e = unsafe { (api.nclx_profile)(self.handle, &raw mut nclx) };
                if e.code != 0 || nclx.is_null() {
                    return Colour::None;
                }
                let (p, t) = unsafe { ((*nclx).primaries, (*nclx).transfer) };
                unsafe { (api.nclx_free)(nclx) };
                Colour::Nclx {
                    primaries: u8::try_from(p).unwrap_or(2),
                    transfer: u8::try_from(t).unwrap_or(2),
                }
            }
            _ => Colour::None,
        }
    }

    /// Decode the primary image with its transforms applied, as 8-bit RGB(A) or, above 8 bits,
    /// 16-bit RGB(A) scaled to the full 16-bit range.
    pub fn decode(&self) -> Result<DynamicImage, String> {
        let api = self.api;
        // SAFETY: the handle is valid.
        let (alpha, bits) = unsafe {
            (
                (api.has_alpha)(self.handle) != 0,
                (api.luma_bits)(self.handle),
            )
        };
        let chroma = match (alpha, bits > 8) {
            (false, false) => CHROMA_RGB,
            (true, false) => CHROMA_RGBA,
            (false, true) => CHROMA_RRGGBB_LE,
            (true, true) => CHROMA_RRGGBBAA_LE,
        };
        let mut image: Ptr = std::ptr::null_mut();
        // libheif's defaults apply irot/imir/clap; the pixels come out in the layout read
        // below (interleaved RGB), so libheif converts once and nothing converts again.
        let options = Options::new(api);
        let e = unsafe {
            (api.decode)(
                self.handle,
                &raw mut image,
                COLORSPACE_RGB,
                chroma,
                options.ptr.cast_const().cast(),
            )
        };
        check(e, "cannot decode the HEIF image")?;
        let decoded = Decoded { api, image };
        decoded.to_image(alpha, bits)
    }
}

/// A decoded `heif_image`, released on drop.
struct Decoded {
    api: &'static Api,
    image: Ptr,
}

impl Drop for Decoded {
    fn drop(&mut self) {
        // SAFETY: allocated by heif_decode_image and released once.
        unsafe { (self.api.image_release)(self.image) };
    }
}

impl Decoded {
    fn to_image(&self, alpha: bool, bits: c_int) -> Result<DynamicImage, String> {
        let api = self.api;
        let mut stride: c_int = 0;
        // SAFETY: the image is valid; the plane holds `height` rows of `stride` bytes.
        let (w, h, data) = unsafe {
            (
                (api.image_width)(self.image, CHANNEL_INTERLEAVED),
                (api.image_height)(self.image, CHANNEL_INTERLEAVED),
                (api.plane)(self.image, CHANNEL_INTERLEAVED, &raw mut stride),
            )
        };
        if data.is_null() || w <= 0 || h <= 0 || stride <= 0 {
            return Err("libheif returned no pixels".into());
        }
        let (w, h, stride) = (w as usize, h as usize, stride as usize);
        let channels = if alpha { 4 } else { 3 };
        let wide = bits > 8;
        let row = w * channels * if wide { 2 } else { 1 };
        if stride < row {
            return Err("libheif returned a malformed image plane".into());
        }
        // SAFETY: see above; the slice lives no longer than the image.
        let plane = unsafe { std::slice::from_raw_parts(data, stride * (h - 1) + row) };
        let rows = (0..h).map(|y| &plane[y * stride..y * stride + row]);
        Ok(if wide {
            wide_image(rows, w, h, alpha, bits)
        } else {
            narrow_image(rows, w, h, alpha)
        })
    }
}

fn narrow_image<'r>(
    rows: impl Iterator<Item = &'r [u8]>,
    w: usize,
    h: usize,
    alpha: bool,
) -> DynamicImage {
    let row = w * if alpha { 4 } else { 3 };
    let mut raw = super::buffer::zeroed(row * h);
    for (to, from) in raw.chunks_exact_mut(row).zip(rows) {
        to.copy_from_slice(from);
    }
    let (w, h) = (w as u32, h as u32);
    if alpha {
        DynamicImage::ImageRgba8(ImageBuffer::<Rgba<u8>, _>::from_raw(w, h, raw).expect("sized"))
    } else {
        DynamicImage::ImageRgb8(ImageBuffer::<Rgb<u8>, _>::from_raw(w, h, raw).expect("sized"))
    }
}

/// Little-endian samples of `bits` bits, scaled to the full 16-bit range.
fn wide_image<'r>(
    rows: impl Iterator<Item = &'r [u8]>,
    w: usize,
    h: usize,
    alpha: bool,
    bits: c_int,
) -> DynamicImage {
    let max = (1u32 << bits.clamp(9, 16)) - 1;
    let raw: Vec<u16> = rows
        .flat_map(|r| r.chunks_exact(2))
        .map(|b| {
            let v = u32::from(u16::from_le_bytes([b[0], b[1]])).min(max);
            ((v * 65535 + max / 2) / max) as u16
        })
        .collect();
    let (w, h) = (w as u32, h as u32);
    if alpha {
        DynamicImage::ImageRgba16(ImageBuffer::<Rgba<u16>, _>::from_raw(w, h, raw).expect("sized"))
    } else {
        DynamicImage::ImageRgb16(ImageBuffer::<Rgb<u16>, _>::from_raw(w, h, raw).expect("sized"))
    }
}
