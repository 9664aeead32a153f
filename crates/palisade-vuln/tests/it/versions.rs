//! Each comparator against its ecosystem's own reference comparisons.

use crate::read;
use palisade_vuln::version::{Scheme, apk, dpkg, maven, pep440, rpm, semver};
use std::cmp::Ordering;

fn data_lines(rel: &str) -> Vec<String> {
    read(rel)
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

fn op(o: &str) -> Ordering {
    match o {
        "<" | "-1" => Ordering::Less,
        "=" | "0" => Ordering::Equal,
        ">" | "1" => Ordering::Greater,
        _ => panic!("op {o}"),
    }
}

/// Checks `cmp(a, b)` and its mirror for every row; returns how many rows were checked.
fn check_pairs(rows: &[(String, String, Ordering)], cmp: impl Fn(&str, &str) -> Ordering) -> usize {
    let mut failures = Vec::new();
    for (a, b, want) in rows {
        let got = cmp(a, b);
        let back = cmp(b, a);
        if got != *want || back != want.reverse() {
            failures.push(format!(
                "{a} vs {b}: want {want:?}, got {got:?} (mirror {back:?})"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    rows.len()
}

#[test]
fn apk_tools_version_data() {
    let rows: Vec<_> = data_lines("versions/apk-version.data")
        .into_iter()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            match f.as_slice() {
                [a, o @ ("<" | ">" | "="), b] => Some((a.to_string(), b.to_string(), op(o))),
                _ => None,
            }
        })
        .collect();
    assert!(check_pairs(&rows, apk::compare) > 700);
}

#[test]
fn apk_research_examples() {
    // research note §E.4: 1.2_rc1 < 1.2 < 1.2-r1 < 1.2_p1 < 1.2a < 1.2.1, 5.2_rc4-r0 < 5.2-r0
    let chain = ["1.2_rc1", "1.2", "1.2-r1", "1.2_p1", "1.2a", "1.2.1"];
    for w in chain.windows(2) {
        assert_eq!(apk::compare(w[0], w[1]), Ordering::Less, "{w:?}");
    }
    assert_eq!(apk::compare("5.2_rc4-r0", "5.2-r0"), Ordering::Less);
}

#[test]
fn dpkg_version_t_data() {
    let rows: Vec<_> = data_lines("versions/dpkg-version.data")
        .into_iter()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_owned(), f[1].to_owned(), op(f[2]))
        })
        .collect();
    assert_eq!(check_pairs(&rows, dpkg::compare), 43);
}

#[test]
fn dpkg_policy_examples() {
    assert_eq!(dpkg::compare("1.0~rc1", "1.0"), Ordering::Less);
    assert_eq!(dpkg::compare("1.0", "1.0+b1"), Ordering::Less);
    assert_eq!(dpkg::compare("1:0.9", "2.0"), Ordering::Greater);
    assert_eq!(
        dpkg::compare("2.36.1-8+deb12u1", "2.36.1-8"),
        Ordering::Greater
    );
    // digit runs longer than u64 compare numerically
    assert_eq!(
        dpkg::compare("1.99999999999999999999999", "1.100000000000000000000000"),
        Ordering::Less
    );
}

#[test]
fn rpmvercmp_at() {
    let rows: Vec<_> = data_lines("versions/rpmvercmp.data")
        .into_iter()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_owned(), f[1].to_owned(), op(f[2]))
        })
        .collect();
    let n = check_pairs(&rows, |a, b| rpm::vercmp(a.as_bytes(), b.as_bytes()));
    assert!(n > 80, "{n}");
}

#[test]
fn rpm_evr() {
    assert_eq!(rpm::compare("1:1.0-1", "2.0-1"), Ordering::Greater);
    assert_eq!(rpm::compare("0:1.0-1.el9", "1.0-2.el9"), Ordering::Less);
    assert_eq!(
        rpm::compare("3.0.7-27.el9", "3.0.7-25.el9_3"),
        Ordering::Greater
    );
    assert_eq!(rpm::compare("1.0", "1.0-5"), Ordering::Equal);
}

#[test]
fn pep440_packaging_sorted_list() {
    let list = data_lines("versions/pep440-order.data");
    assert_eq!(list.len(), 92);
    for (i, a) in list.iter().enumerate() {
        for (j, b) in list.iter().enumerate() {
            assert_eq!(pep440::compare(a, b), Some(i.cmp(&j)), "{a} vs {b}");
        }
    }
}

#[test]
fn pep440_normalised_spellings_compare_equal() {
    for l in data_lines("versions/pep440-equal.data") {
        let (a, b) = l.split_once(' ').unwrap();
        assert_eq!(pep440::compare(a, b), Some(Ordering::Equal), "{a} = {b}");
    }
}

#[test]
fn pep440_invalid_versions_rejected() {
    let text = read("versions/pep440-invalid.data");
    let mut n = 0;
    for l in text.lines().filter(|l| !l.is_empty()) {
        assert!(pep440::parse(l).is_none(), "{l:?} should be invalid");
        n += 1;
    }
    assert_eq!(n, 16);
}

#[test]
fn maven_comparable_version_orders() {
    for l in data_lines("versions/maven-order.data") {
        let list: Vec<&str> = l.split_whitespace().collect();
        for (i, a) in list.iter().enumerate() {
            for (j, b) in list.iter().enumerate() {
                assert_eq!(maven::compare(a, b), i.cmp(&j), "{a} vs {b}");
            }
        }
    }
}

#[test]
fn maven_comparable_version_pairs() {
    let rows: Vec<_> = data_lines("versions/maven-pairs.data")
        .into_iter()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_owned(), f[2].to_owned(), op(f[1]))
        })
        .collect();
    assert_eq!(check_pairs(&rows, maven::compare), 62);
}

#[test]
fn go_semver_table() {
    // Each line is one rank; `=` joins equal spellings.
    let ranks: Vec<Vec<String>> = data_lines("versions/go-semver-order.data")
        .iter()
        .map(|l| l.split(" = ").map(str::to_owned).collect())
        .collect();
    for (i, ra) in ranks.iter().enumerate() {
        for (j, rb) in ranks.iter().enumerate() {
            for a in ra {
                for b in rb {
                    assert_eq!(semver::compare(a, b), Some(i.cmp(&j)), "{a} vs {b}");
                }
            }
        }
    }
    for bad in [
        "bad",
        "v1-alpha.beta.gamma",
        "v1-pre",
        "v1+meta",
        "v1-pre+meta",
        "v1.2-pre",
        "v1.2+meta",
        "v1.2-pre+meta",
    ] {
        assert!(semver::parse(bad).is_none(), "{bad}");
    }
}

#[test]
fn semver_org_precedence_example() {
    let chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
    ];
    for (i, a) in chain.iter().enumerate() {
        for (j, b) in chain.iter().enumerate() {
            assert_eq!(Scheme::SemVer.compare(a, b), Some(i.cmp(&j)), "{a} vs {b}");
        }
    }
}

#[test]
fn go_pseudo_versions_and_incompatible() {
    // go.dev/ref/mod#pseudo-versions: a pseudo-version sorts before the release it precedes
    // and after the one it is based on; `+incompatible` is build metadata.
    let c = |a, b| semver::compare(a, b).unwrap();
    assert_eq!(
        c("v1.0.4-0.20180125103619-43913f2f4fbd", "v1.0.4"),
        Ordering::Less
    );
    assert_eq!(
        c("v1.0.4-0.20180125103619-43913f2f4fbd", "v1.0.3"),
        Ordering::Greater
    );
    assert_eq!(
        c(
            "v0.0.0-20160722212129-ac0cc4484ad4",
            "v0.0.0-20170101000000-000000000000"
        ),
        Ordering::Less
    );
    assert_eq!(
        c("v1.2.3-pre.0.20200101000000-abcdefabcdef", "v1.2.3-pre"),
        Ordering::Greater
    );
    assert_eq!(c("v2.7.0-rc.0+incompatible", "2.7.0-rc.0"), Ordering::Equal);
    assert_eq!(c("v2.6.9+incompatible", "2.7.0-rc.0"), Ordering::Less);
    assert_eq!(c("1.21.0-0", "1.21.0-rc.2"), Ordering::Less);
}

#[test]
fn go_toolchain_versions() {
    assert_eq!(semver::go_toolchain("go1.21").as_deref(), Some("1.21.0"));
    assert_eq!(semver::go_toolchain("go1.21.3").as_deref(), Some("1.21.3"));
    assert_eq!(
        semver::go_toolchain("go1.21rc2").as_deref(),
        Some("1.21.0-rc.2")
    );
    assert_eq!(
        semver::go_toolchain("go1.19beta1").as_deref(),
        Some("1.19.0-beta.1")
    );
    assert_eq!(
        semver::go_toolchain("go1.22.3 X:boringcrypto").as_deref(),
        Some("1.22.3")
    );
    assert_eq!(semver::go_toolchain("v1.22.3").as_deref(), Some("1.22.3"));
    assert_eq!(semver::go_toolchain("devel go1.23-abc"), None);
}

#[test]
fn scheme_for_ecosystem() {
    assert_eq!(Scheme::for_ecosystem("Debian:12"), Some(Scheme::Dpkg));
    assert_eq!(
        Scheme::for_ecosystem("Ubuntu:22.04:LTS"),
        Some(Scheme::Dpkg)
    );
    assert_eq!(Scheme::for_ecosystem("Alpine:v3.19"), Some(Scheme::Apk));
    assert_eq!(Scheme::for_ecosystem("Rocky Linux:9"), Some(Scheme::Rpm));
    assert_eq!(Scheme::for_ecosystem("PyPI"), Some(Scheme::Pep440));
    assert_eq!(Scheme::for_ecosystem("Hex"), None);
}
