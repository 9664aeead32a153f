//! What the fuzz target checks, shared with `tests/fuzz_regressions.rs` (included there by path)
//! so a saved input is replayed exactly as the fuzzer ran it.

const SOURCE: &str = "fuzz.sbom";

/// `read` target: any bytes through `palisade_sbom::read`. Never a panic and errors name the
/// input; an SBOM that reads is written as CycloneDX and SPDX, and both documents read back to
/// the same packages (the writers' round-trip promise, here on whatever the readers accept).
pub fn read(data: &[u8]) {
    let inv = match palisade_sbom::read(data, SOURCE) {
        Ok(inv) => inv,
        Err(e) => {
            assert!(
                e.to_string().contains(SOURCE),
                "error does not name the input: {e}"
            );
            return;
        }
    };
    let expected = inv.packages.clone();
    let invs = [inv];
    let cdx = palisade_sbom::cyclonedx_at(&invs, &[], "0.0.0", 0);
    let spdx = palisade_sbom::spdx_at(&invs, "0.0.0", 0);
    for (format, doc) in [("CycloneDX", cdx), ("SPDX", spdx)] {
        let bytes = doc.to_string().into_bytes();
        match palisade_sbom::read(&bytes, "written") {
            Ok(again) => assert_eq!(
                again.packages, expected,
                "the {format} written from the input reads back to other packages"
            ),
            Err(e) => panic!("the {format} written from the input does not read back: {e}"),
        }
    }
}
