//! The ```` ```json osv ```` block that SIG Security's `srctl` embeds in new announcements
//! (2026+), read and repaired: `v` prefixes dropped, binary names mapped to Go modules, and the
//! `introduced: "0"` it writes for every branch without a lower bound replaced by the branch start
//! (only the oldest branch reaches back to 0; otherwise OSV evaluation marks vulnerable versions
//! safe, research §2.4).

use crate::affected::{self, AffectedComponent, BodyVersions, Range};
use crate::component;
use crate::version::Version;
use serde_json::Value;

/// Largest embedded block read.
pub const MAX_BLOCK_BYTES: usize = 256 << 10;

/// The block's text, if the body has one.
pub fn find_block(body: &str) -> Option<&str> {
    let start = body.find("```json osv")?;
    let after = body.get(start + "```json osv".len()..)?;
    let after = after.get(after.find('\n')? + 1..)?;
    let end = after.find("```")?;
    after.get(..end)
}

/// Affected ranges from the embedded block; `None` without a block, `Err` when it is unusable.
pub fn affected_from_body(body: &str) -> Option<Result<BodyVersions, String>> {
    let block = find_block(body)?;
    Some(parse_block(block))
}

fn parse_block(block: &str) -> Result<BodyVersions, String> {
    if block.len() > MAX_BLOCK_BYTES {
        return Err(format!("block is over {MAX_BLOCK_BYTES} bytes"));
    }
    let doc: Value = serde_json::from_str(block).map_err(|e| format!("not JSON ({e})"))?;
    let affected = doc
        .get("affected")
        .and_then(Value::as_array)
        .ok_or("no `affected` array")?;
    let mut out = BodyVersions {
        has_version_section: true,
        ..BodyVersions::default()
    };
    for (i, a) in affected.iter().enumerate() {
        let name = a
            .pointer("/package/name")
            .and_then(Value::as_str)
            .ok_or(format!("affected[{i}] has no package name"))?;
        let comp = component::lookup(name).unwrap_or_else(|| component::Component {
            name: name.to_owned(),
            package: name.to_owned(),
        });
        let mut pairs: Vec<(Option<Version>, Option<Version>, Option<Version>)> = Vec::new();
        for r in a
            .get("ranges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut open: Option<Option<Version>> = None;
            for ev in r
                .get("events")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let get = |k: &str| ev.get(k).and_then(Value::as_str);
                if let Some(intro) = get("introduced") {
                    if let Some(prev) = open.take() {
                        pairs.push((prev, None, None));
                    }
                    open = Some(if intro == "0" {
                        None
                    } else {
                        Some(version(intro)?)
                    });
                } else if let Some(f) = get("fixed") {
                    let f = version(f)?;
                    out.fixed_versions.push(f.clone());
                    pairs.push((open.take().flatten(), Some(f), None));
                } else if let Some(l) = get("last_affected") {
                    pairs.push((open.take().flatten(), None, Some(version(l)?)));
                }
            }
            if let Some(prev) = open.take() {
                pairs.push((prev, None, None));
            }
        }
        // Oldest end first; every later `introduced: 0` starts at its own branch.
        pairs.sort_by(|a, b| {
            a.1.as_ref()
                .or(a.2.as_ref())
                .cmp(&b.1.as_ref().or(b.2.as_ref()))
        });
        let mut ranges = Vec::new();
        for (k, (lo, fixed, last)) in pairs.into_iter().enumerate() {
            let end = fixed.as_ref().or(last.as_ref());
            let introduced = match (lo, end) {
                (None, Some(e)) if k > 0 => {
                    out.warnings.push(format!("embedded OSV: `introduced: 0` before {e} is not the oldest branch; taken as {}", e.branch_start()));
                    Some(e.branch_start())
                }
                (lo, _) => lo,
            };
            ranges.push(Range {
                introduced,
                fixed,
                last_affected: last,
            });
        }
        let line = format!("embedded OSV record: package {}", comp.package);
        out.affected.push(AffectedComponent {
            lines: vec![line],
            component: comp.name,
            package: comp.package,
            ranges: affected::merge(affected::sanitize(
                ranges,
                "embedded OSV",
                &mut out.warnings,
            )),
        });
    }
    out.fixed_versions.sort();
    out.fixed_versions.dedup();
    Ok(out)
}

fn version(text: &str) -> Result<Version, String> {
    Version::parse(text).map_err(|e| format!("embedded OSV: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape srctl writes (sig-security `state/osv.go`): binary names, `v` prefixes and an
    /// `introduced: "0"` per branch.
    const SRCTL_BODY: &str = "CVSS Rating: **8.8** (HIGH)\n#### Affected Versions\n- kube-apiserver: < v1.31.12\n\n<details><summary>OSV format</summary>\n\n```json osv\n{\"schema_version\":\"1.6.0\",\"id\":\"CVE-2025-0000\",\"modified\":\"2026-02-02T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":\"Kubernetes\",\"name\":\"kube-apiserver\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"v1.31.12\"},{\"introduced\":\"v1.32.0\"},{\"fixed\":\"v1.32.8\"},{\"introduced\":\"0\"},{\"fixed\":\"v1.33.4\"}]}]}]}\n```\n</details>\n";

    #[test]
    fn repairs_srctl_block() {
        let b = affected_from_body(SRCTL_BODY).unwrap().unwrap();
        let c = &b.affected[0];
        assert_eq!(
            (c.component.as_str(), c.package.as_str()),
            ("kube-apiserver", "k8s.io/apiserver")
        );
        let v = |s: &str| Version::parse(s).unwrap();
        assert_eq!(
            c.ranges,
            vec![
                Range {
                    introduced: None,
                    fixed: Some(v("1.31.12")),
                    last_affected: None
                },
                Range {
                    introduced: Some(v("1.32.0")),
                    fixed: Some(v("1.32.8")),
                    last_affected: None
                },
                Range {
                    introduced: Some(v("1.33.0")),
                    fixed: Some(v("1.33.4")),
                    last_affected: None
                },
            ]
        );
        // 1.33.2 is vulnerable; srctl's own block says it is not.
        assert!(c.ranges.iter().any(|r| r.contains(&v("1.33.2"))));
        assert_eq!(b.warnings.len(), 1);
    }

    #[test]
    fn bad_blocks() {
        assert!(affected_from_body("no block").is_none());
        assert!(
            affected_from_body("```json osv\n{not json\n```")
                .unwrap()
                .is_err()
        );
        assert!(affected_from_body("```json osv\n{}\n```").unwrap().is_err());
        assert!(affected_from_body("```json osv\n{\"affected\":[{\"package\":{\"name\":\"kubelet\"},\"ranges\":[{\"events\":[{\"fixed\":\"vX\"}]}]}]}\n```").unwrap().is_err());
    }
}
