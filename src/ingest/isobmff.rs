//! Whether a HEIF file (an ISOBMFF box tree) is whole, without decoding it: every top-level box
//! fits in the file, and every extent the item location box (`iloc`) points at, in the file
//! itself, lies inside it. A copy that was cut short fails one of the two; watch mode uses this
//! so a HEIC still being copied is never decoded, let alone published.

/// Why a HEIF file was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Damage {
    /// The file ends before a box or an image's data does: an interrupted copy.
    Truncated(String),
    /// The structure contradicts itself.
    Corrupt(String),
}

/// Walk the top-level boxes of `bytes` and check every `iloc` extent against the file's length.
pub fn check(bytes: &[u8]) -> Result<(), Damage> {
    let mut at = 0usize;
    let mut meta = None;
    let mut first = true;
    while at < bytes.len() {
        let (kind, header, size) = box_at(bytes, at)?;
        if first && &kind != b"ftyp" {
            return Err(Damage::Corrupt("it does not start with an ftyp box".into()));
        }
        first = false;
        if &kind == b"meta" {
            meta = Some(&bytes[at + header..at + size]);
        }
        at += size;
    }
    let meta = meta.ok_or_else(|| bad("it has no meta box describing an image"))?;
    // `meta` is a full box: 4 bytes of version and flags, then child boxes.
    let children = meta.get(4..).ok_or_else(|| bad("meta box too short"))?;
    let iloc = child(children, b"iloc")?.ok_or_else(|| bad("no iloc box"))?;
    check_iloc(iloc, bytes.len() as u64)
}

fn bad(what: &str) -> Damage {
    Damage::Corrupt(what.to_owned())
}

/// The box at `at`: its type, header length and total size (a size of 0 runs to the end).
fn box_at(bytes: &[u8], at: usize) -> Result<([u8; 4], usize, usize), Damage> {
    let cut = |what: &str| Damage::Truncated(format!("it ends inside {what} at offset {at}"));
    let head = bytes.get(at..at + 8).ok_or_else(|| cut("a box header"))?;
    let kind: [u8; 4] = head[4..8].try_into().expect("4 bytes");
    if !kind.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return Err(Damage::Corrupt(format!(
            "unreadable box type at offset {at} (zeros or garbage where a box should start)"
        )));
    }
    let small = u64::from(u32::from_be_bytes(head[..4].try_into().expect("4 bytes")));
    let (header, size) = match small {
        0 => (8, (bytes.len() - at) as u64),
        1 => {
            let large = bytes
                .get(at + 8..at + 16)
                .ok_or_else(|| cut("a box header"))?;
            (16, u64::from_be_bytes(large.try_into().expect("8 bytes")))
        }
        n => (8, n),
    };
    if size < header as u64 {
        return Err(Damage::Corrupt(format!(
            "box at offset {at} is smaller than its header"
        )));
    }
    if (at as u64).saturating_add(size) > bytes.len() as u64 {
        let name = String::from_utf8_lossy(&kind).into_owned();
        return Err(cut(&format!("its {name} box, which starts")));
    }
    Ok((kind, header, size as usize))
}

/// The body of the first child box of type `want` in `children`.
fn child<'b>(children: &'b [u8], want: &[u8; 4]) -> Result<Option<&'b [u8]>, Damage> {
    let mut at = 0;
    while at < children.len() {
        let (kind, header, size) = box_at(children, at).map_err(|e| match e {
            Damage::Truncated(why) | Damage::Corrupt(why) => {
                Damage::Corrupt(format!("meta: {why}"))
            }
        })?;
        if &kind == want {
            return Ok(Some(&children[at + header..at + size]));
        }
        at += size;
    }
    Ok(None)
}

/// A big-endian reader over a box body.
struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl Reader<'_> {
    /// An unsigned integer of `n` bytes (0, 4 or 8 in `iloc`; 0 reads as 0).
    fn uint(&mut self, n: usize) -> Result<u64, Damage> {
        let field = self
            .bytes
            .get(self.at..self.at + n)
            .ok_or_else(|| bad("iloc box too short for its item count"))?;
        self.at += n;
        Ok(field.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
    }
}

/// Every extent stored in the file itself (construction method 0) must end inside it.
fn check_iloc(iloc: &[u8], file_len: u64) -> Result<(), Damage> {
    let mut r = Reader { bytes: iloc, at: 0 };
    let version = r.uint(1)?;
    r.uint(3)?; // flags
    let sizes = r.uint(2)?;
    let field = |shift: u64| ((sizes >> shift) & 0xF) as usize;
    let (offset_size, length_size, base_size) = (field(12), field(8), field(4));
    let index_size = if version >= 1 { field(0) } else { 0 };
    let items = r.uint(if version < 2 { 2 } else { 4 })?;
    for _ in 0..items {
        r.uint(if version < 2 { 2 } else { 4 })?; // item id
        let method = if version >= 1 { r.uint(2)? & 0xF } else { 0 };
        r.uint(2)?; // data reference index
        let base = r.uint(base_size)?;
        for _ in 0..r.uint(2)? {
            r.uint(index_size)?;
            let offset = r.uint(offset_size)?;
            let length = r.uint(length_size)?;
            let end = base.saturating_add(offset).saturating_add(length);
            if method == 0 && end > file_len {
                return Err(Damage::Truncated(format!(
                    "an image's data runs to byte {end} but the file has {file_len}"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    }

    /// ftyp, meta with an iloc (version 0, 4-byte offsets and lengths) of one extent, mdat.
    fn heif(extent_len: u32) -> Vec<u8> {
        let mut iloc = vec![0, 0, 0, 0, 0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1];
        let ftyp = boxed(b"ftyp", b"heic\0\0\0\0mif1heic");
        let meta_len = 8 + 4 + 8 + iloc.len() + 8;
        let data_at = (ftyp.len() + meta_len + 8) as u32;
        iloc.extend_from_slice(&data_at.to_be_bytes());
        iloc.extend_from_slice(&extent_len.to_be_bytes());
        let mut meta_body = vec![0; 4];
        meta_body.extend(boxed(b"iloc", &iloc));
        let mut file = ftyp;
        file.extend(boxed(b"meta", &meta_body));
        file.extend(boxed(b"mdat", &[7; 100]));
        file
    }

    #[test]
    fn a_whole_file_passes() {
        assert_eq!(check(&heif(100)), Ok(()));
    }

    #[test]
    fn every_cut_is_refused() {
        let file = heif(100);
        for len in 0..file.len() {
            assert!(check(&file[..len]).is_err(), "cut at {len} passed");
        }
    }

    #[test]
    fn an_extent_past_the_end_is_truncation() {
        assert!(matches!(check(&heif(101)), Err(Damage::Truncated(_))));
    }

    #[test]
    fn zeros_where_a_box_should_be_are_refused() {
        let mut file = heif(100);
        file.extend_from_slice(&[0; 64]);
        assert!(matches!(check(&file), Err(Damage::Corrupt(_))));
    }
}
