// Temporary: the one-pass strict JPEG candidates of issue 32, compared with today's walk+decode.
#![allow(dead_code)]
use image::RgbImage;

/// zune-jpeg 0.5 in strict mode, to RGB.
pub fn zune_strict(bytes: &[u8]) -> Result<RgbImage, String> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(usize::MAX)
        .set_max_height(usize::MAX)
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut d = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let px = d.decode().map_err(|e| format!("{e:?}"))?;
    let (w, h) = d.dimensions().ok_or("no dims")?;
    RgbImage::from_raw(w as u32, h as u32, px).ok_or_else(|| "short".to_owned())
}

/// libjpeg-turbo 3 (vendored by turbojpeg-sys) with warnings treated as errors, to RGB.
pub fn turbo_strict(bytes: &[u8]) -> Result<RgbImage, String> {
    use turbojpeg::raw;
    unsafe {
        let h = raw::tj3Init(raw::TJINIT_TJINIT_DECOMPRESS as i32);
        let err = |h| {
            let msg = std::ffi::CStr::from_ptr(raw::tj3GetErrorStr(h)).to_string_lossy().into_owned();
            raw::tj3Destroy(h);
            Err(msg)
        };
        raw::tj3Set(h, raw::TJPARAM_TJPARAM_STOPONWARNING as i32, 1);
        if raw::tj3DecompressHeader(h, bytes.as_ptr(), bytes.len() as _) != 0 {
            return err(h);
        }
        let w = raw::tj3Get(h, raw::TJPARAM_TJPARAM_JPEGWIDTH as i32);
        let ht = raw::tj3Get(h, raw::TJPARAM_TJPARAM_JPEGHEIGHT as i32);
        if w <= 0 || ht <= 0 || (w as i64) * (ht as i64) > 100_000_000 {
            raw::tj3Destroy(h);
            return Err("size".into());
        }
        let mut px = vec![0u8; w as usize * ht as usize * 3];
        if raw::tj3Decompress8(h, bytes.as_ptr(), bytes.len() as _, px.as_mut_ptr(), w * 3, raw::TJPF_TJPF_RGB as i32) != 0 {
            return err(h);
        }
        raw::tj3Destroy(h);
        Ok(RgbImage::from_raw(w as u32, ht as u32, px).unwrap())
    }
}
