//! rpm's Berkeley DB `Packages` database (RHEL/CentOS <= 8, Amazon Linux 2, SUSE before NDB):
//! a hash database whose values are rpm header blobs. Read by hand, page by page, like
//! go-rpmdb: no Berkeley DB library is linked (none is pure Rust, and the format read here is
//! small: the metadata page, hash pages' item indexes, overflow page chains).

const HASH_MAGIC: u32 = 0x0006_1561;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
/// Page header size (lsn, pgno, prev, next, entries, hf_offset, level, type).
const PAGE_HEADER: usize = 26;

struct Db<'a> {
    bytes: &'a [u8],
    page_size: usize,
    big_endian: bool,
}

impl<'a> Db<'a> {
    fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn page(&self, pgno: u32) -> Option<&'a [u8]> {
        let start = (pgno as usize).checked_mul(self.page_size)?;
        self.bytes.get(start..start.checked_add(self.page_size)?)
    }

    /// Concatenates an overflow chain starting at `pgno`, `len` bytes in all.
    fn overflow(&self, mut pgno: u32, len: usize, pages: u32) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(len.min(64 << 20));
        let mut hops = 0u32;
        while pgno != 0 && out.len() < len {
            hops += 1;
            if hops > pages {
                return Err(format!("overflow chain at page {pgno} loops"));
            }
            let page = self
                .page(pgno)
                .ok_or_else(|| format!("overflow page {pgno} is past the end of the file"))?;
            if page.get(25) != Some(&P_OVERFLOW) {
                return Err(format!("page {pgno} is not an overflow page"));
            }
            let base = pgno as usize * self.page_size;
            let next = self.u32_at(base + 16).unwrap_or(0);
            let used = self.u16_at(base + 22).unwrap_or(0) as usize;
            let data = page
                .get(PAGE_HEADER..PAGE_HEADER + used)
                .ok_or_else(|| format!("overflow page {pgno} says {used} bytes, more than fit"))?;
            out.extend_from_slice(data);
            pgno = next;
        }
        if out.len() != len {
            return Err(format!(
                "overflow chain holds {} bytes, the item says {len}",
                out.len()
            ));
        }
        Ok(out)
    }
}

/// The values (rpm header blobs) of the hash database, in page order.
pub(crate) fn blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let magic_le = bytes
        .get(12..16)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .ok_or("file shorter than a Berkeley DB metadata page")?;
    let big_endian = if u32::from_le_bytes(magic_le) == HASH_MAGIC {
        false
    } else if u32::from_be_bytes(magic_le) == HASH_MAGIC {
        true
    } else {
        return Err("not a Berkeley DB hash database (magic 0x061561 missing)".to_string());
    };
    let mut db = Db {
        bytes,
        page_size: 0,
        big_endian,
    };
    let page_size = db.u32_at(20).ok_or("metadata truncated")? as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!(
            "page size {page_size} is not a Berkeley DB page size"
        ));
    }
    db.page_size = page_size;
    if bytes.get(25) != Some(&P_HASHMETA) {
        return Err("page 0 is not a hash metadata page".to_string());
    }
    if bytes.get(24).is_some_and(|&e| e != 0) {
        return Err("encrypted Berkeley DB databases are not read".to_string());
    }
    let last = db.u32_at(32).ok_or("metadata truncated")?;
    let pages = u32::try_from(bytes.len() / page_size).unwrap_or(u32::MAX);
    let mut out = Vec::new();
    for pgno in 1..=last.min(pages.saturating_sub(1)) {
        let Some(page) = db.page(pgno) else { break };
        let ty = page.get(25).copied().unwrap_or(0);
        if ty != P_HASH && ty != P_HASH_UNSORTED {
            continue;
        }
        let base = pgno as usize * page_size;
        let entries = db.u16_at(base + 20).unwrap_or(0) as usize;
        // Items alternate key, value; values are the odd indexes.
        for i in (1..entries).step_by(2) {
            let Some(off) = db.u16_at(base + PAGE_HEADER + 2 * i).map(usize::from) else {
                break;
            };
            let prev = db
                .u16_at(base + PAGE_HEADER + 2 * (i - 1))
                .map_or(page_size, usize::from);
            match page.get(off) {
                Some(&H_OFFPAGE) => {
                    let (Some(first), Some(len)) =
                        (db.u32_at(base + off + 4), db.u32_at(base + off + 8))
                    else {
                        return Err(format!("page {pgno} item {i}: off-page entry truncated"));
                    };
                    out.push(
                        db.overflow(first, len as usize, pages)
                            .map_err(|e| format!("page {pgno} item {i}: {e}"))?,
                    );
                }
                Some(&H_KEYDATA) => {
                    // An item's length is the gap to the previous item (items grow down from
                    // the page end).
                    let data = page
                        .get(off + 1..prev.max(off + 1))
                        .ok_or_else(|| format!("page {pgno} item {i}: out of the page"))?;
                    out.push(data.to_vec());
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_it_cannot_read() {
        assert!(blobs(b"short").is_err());
        assert!(blobs(&[0u8; 4096]).unwrap_err().contains("magic"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
            magic_be in proptest::prelude::any::<bool>(),
        ) {
            let mut b = bytes;
            if b.len() >= 26 {
                let m = if magic_be { HASH_MAGIC.to_be_bytes() } else { HASH_MAGIC.to_le_bytes() };
                b[12..16].copy_from_slice(&m);
                b[20..24].copy_from_slice(&if magic_be { 512u32.to_be_bytes() } else { 512u32.to_le_bytes() });
                b[24] = 0;
                b[25] = P_HASHMETA;
            }
            let _ = blobs(&b);
        }
    }
}
