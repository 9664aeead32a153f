//! Comparators on many generated strings: no panic, and a consistent order (a < b exactly
//! when b > a), so sorting range events is well defined. A fixed-seed generator (no
//! property-testing dependency) over the characters versions are made of.

use palisade_vuln::version::{MAX_VERSION_LEN, Scheme};
use std::cmp::Ordering;

const SCHEMES: [Scheme; 6] = [
    Scheme::Dpkg,
    Scheme::Apk,
    Scheme::Rpm,
    Scheme::SemVer,
    Scheme::Pep440,
    Scheme::Maven,
];

/// xorshift64*: deterministic, good enough to spread over the alphabet.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn version(&mut self) -> String {
        const PARTS: &[&str] = &[
            "0",
            "1",
            "2",
            "10",
            "007",
            "9999999999999999999999",
            ".",
            ".",
            "-",
            "+",
            "~",
            "^",
            ":",
            "_",
            "a",
            "b",
            "rc",
            "alpha",
            "beta",
            "pre",
            "p",
            "post",
            "dev",
            "r",
            "-r",
            "_rc",
            "_p",
            "SNAPSHOT",
            "final",
            "v",
            "!",
            "é",
            " ",
            "x",
            "git",
            "0.",
        ];
        let n = self.next() % 9;
        (0..n).map(|_| self.pick(PARTS)).collect()
    }
}

#[test]
fn orders_are_antisymmetric_and_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let (a, b) = (rng.version(), rng.version());
        for s in SCHEMES {
            let ab = s.compare(&a, &b);
            let ba = s.compare(&b, &a);
            assert_eq!(ab, ba.map(Ordering::reverse), "{s:?} {a:?} {b:?}");
            if s.is_valid(&a) {
                assert_eq!(s.compare(&a, &a), Some(Ordering::Equal), "{s:?} {a:?}");
            }
        }
    }
}

#[test]
fn long_versions_are_refused_not_compared() {
    let long = "1-".repeat(MAX_VERSION_LEN);
    for s in SCHEMES {
        assert_eq!(s.compare(&long, "1"), None, "{s:?}");
        assert!(!s.is_valid(&long));
    }
}

#[test]
fn mutated_real_records_never_panic_open_or_match() {
    use palisade_core::inventory::PackageKind;
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let originals: Vec<Vec<u8>> = [
        "GO-2023-2102",
        "GO-2020-0006",
        "GO-2021-0072",
        "GO-2026-6218",
    ]
    .iter()
    .map(|id| std::fs::read(crate::testdata(&format!("osv-go/Go/{id}.json"))).unwrap())
    .collect();
    let dir = tempfile::tempdir().unwrap();
    const EDITS: &[&[u8]] = &[
        b"",
        b"\"",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"0",
        b"null",
        b"\"x\"",
        b"-",
        b".",
        b"\"fixed\"",
        b"\"limit\"",
        b"\"last_affected\"",
        b"\"GIT\"",
        b"\"*\"",
        b"1.2.3",
    ];
    for i in 0..1500 {
        let mut bytes = originals[i % originals.len()].clone();
        for _ in 0..(1 + rng.next() % 4) {
            let at = (rng.next() % bytes.len() as u64) as usize;
            let len = (rng.next() % 6) as usize;
            let end = (at + len).min(bytes.len());
            let edit = EDITS[(rng.next() % EDITS.len() as u64) as usize];
            bytes.splice(at..end, edit.iter().copied());
            if bytes.is_empty() {
                bytes.push(b'{');
            }
        }
        std::fs::write(dir.path().join(format!("m{i}.json")), &bytes).unwrap();
    }
    let db = palisade_vuln::OsvDb::open(dir.path()).unwrap();
    // Every file is either indexed, a repeat of an indexed id, or warned about.
    assert!(db.records() + db.warnings().len() > 0);
    let inv = crate::inv(vec![
        crate::pkg(PackageKind::Go, "golang.org/x/net", "v0.16.0"),
        crate::pkg(PackageKind::GoStdlib, "stdlib", "1.21.2"),
        crate::pkg(PackageKind::Go, "github.com/miekg/dns", "v1.0.0"),
        crate::pkg(
            PackageKind::Go,
            "github.com/docker/distribution",
            "v2.6.0+incompatible",
        ),
    ]);
    let _ = palisade_vuln::match_report(&inv, Some(&db), None);
}
