//! Inventories (+ vulnerability findings) -> CycloneDX 1.6 JSON.

use crate::cyclonedx_read::{is_os_package, kind_name};
use crate::ids::{content_uuid, is_license_expression, is_listed_license};
use crate::purl::Purl;
use crate::{names, time};
use palisade_core::Severity;
use palisade_core::inventory::{Inventory, Package, PackageKind};
use palisade_vuln::VulnFinding;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};

/// CycloneDX 1.6 JSON for `inv` with `vulns` as its `vulnerabilities`, timestamped now
/// (`SOURCE_DATE_EPOCH` when set).
pub fn cyclonedx(inv: &[Inventory], vulns: &[VulnFinding], tool_version: &str) -> Value {
    cyclonedx_at(inv, vulns, tool_version, time::now())
}

/// [`cyclonedx`] with the timestamp given (seconds since the Unix epoch).
///
/// One inventory is the BOM's `metadata.component`; several are top-level components of
/// their own (type `container` for images, else `application`, property `palisade:source`).
/// Each package is a component whose `bom-ref` is its purl (made unique when two packages
/// share one); `dependencies` say only which subject (or operating system) holds which
/// package. The serial number is derived from the content, so the same input gives the same
/// document apart from the timestamp.
pub fn cyclonedx_at(
    inv: &[Inventory],
    vulns: &[VulnFinding],
    tool_version: &str,
    created: i64,
) -> Value {
    let single = inv.len() == 1;
    let mut used = HashSet::new();
    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    let mut subject_meta = None;
    // (inventory, package) -> bom-ref, for the vulnerabilities' `affects`.
    let mut refs: Vec<Vec<String>> = Vec::with_capacity(inv.len());

    for (i, one) in inv.iter().enumerate() {
        let subject_ref = if single {
            "palisade:subject".to_string()
        } else {
            format!("palisade:subject:{i}")
        };
        used.insert(subject_ref.clone());
        let subject = subject_component(one, &subject_ref);
        if single {
            subject_meta = Some(subject);
        } else {
            components.push(subject);
        }
        let os_ref = one.distro.as_ref().map(|d| {
            let r = format!("palisade:os:{i}");
            used.insert(r.clone());
            let mut os = json!({"bom-ref": r, "type": "operating-system", "name": d.id});
            if !d.version_id.is_empty()
                && let Some(m) = os.as_object_mut()
            {
                m.insert("version".into(), d.version_id.as_str().into());
            }
            components.push(os);
            r
        });
        let mut subject_deps = Vec::new();
        let mut os_deps = Vec::new();
        let mut inv_refs = Vec::with_capacity(one.packages.len());
        if let Some(r) = &os_ref {
            subject_deps.push(r.clone());
        }
        for (j, p) in one.packages.iter().enumerate() {
            let base = package_key(p);
            let r = if used.contains(&base) {
                format!("palisade:{i}:{j}")
            } else {
                base
            };
            used.insert(r.clone());
            components.push(package_component(p, &r));
            let os_package = is_os_package(p.kind);
            if os_package && os_ref.is_some() {
                os_deps.push(r.clone());
            } else {
                subject_deps.push(r.clone());
            }
            inv_refs.push(r);
        }
        dependencies.push(json!({"ref": subject_ref, "dependsOn": subject_deps}));
        if let Some(r) = os_ref {
            dependencies.push(json!({"ref": r, "dependsOn": os_deps}));
        }
        refs.push(inv_refs);
    }

    let mut doc = Map::new();
    doc.insert(
        "$schema".into(),
        "http://cyclonedx.org/schema/bom-1.6.schema.json".into(),
    );
    doc.insert("bomFormat".into(), "CycloneDX".into());
    doc.insert("specVersion".into(), "1.6".into());
    doc.insert("version".into(), 1.into());
    let mut metadata = Map::new();
    metadata.insert(
        "tools".into(),
        json!({"components": [{
            "type": "application",
            "name": "palisade",
            "version": tool_version,
        }]}),
    );
    if let Some(s) = subject_meta {
        metadata.insert("component".into(), s);
    }
    metadata.insert("timestamp".into(), time::rfc3339(created).into());
    doc.insert("metadata".into(), Value::Object(metadata));
    doc.insert("components".into(), Value::Array(components));
    doc.insert("dependencies".into(), Value::Array(dependencies));
    if !vulns.is_empty() {
        doc.insert(
            "vulnerabilities".into(),
            Value::Array(vulnerabilities(inv, &refs, vulns)),
        );
    }
    // From the input, not the output: hashing what we were given is cheaper than hashing
    // the document and says the same.
    let serial = format!(
        "urn:uuid:{}",
        content_uuid(
            &serde_json::to_vec(&("cyclonedx", tool_version, inv, vulns)).unwrap_or_default()
        )
    );
    doc.insert("serialNumber".into(), serial.into());
    Value::Object(doc)
}

fn subject_component(inv: &Inventory, bom_ref: &str) -> Value {
    let (ty, name) = match &inv.image {
        Some(image) => ("container", image.as_str()),
        None => ("application", inv.source.as_str()),
    };
    json!({
        "bom-ref": bom_ref,
        "type": ty,
        "name": name,
        "properties": [{"name": names::SOURCE, "value": inv.source}],
    })
}

fn package_component(p: &Package, bom_ref: &str) -> Value {
    let mut c = Map::new();
    c.insert("bom-ref".into(), bom_ref.into());
    let ty = if p.kind == PackageKind::Kubernetes {
        "application"
    } else {
        "library"
    };
    c.insert("type".into(), ty.into());
    // Maven and scoped npm names are split into CycloneDX's group and name, as Trivy and
    // Syft write them; the reader joins them back.
    // Only when both halves are there: `:` or `@/` stay whole (the reader would otherwise
    // see no name and take the purl's).
    let split = match p.kind {
        PackageKind::Maven => p.name.split_once(':'),
        PackageKind::Npm if p.name.len() > 1 && p.name.starts_with('@') => p.name.split_once('/'),
        _ => None,
    };
    let (group, name) = match split {
        Some((g, n)) if !g.is_empty() && !n.is_empty() => (g, n),
        _ => ("", p.name.as_str()),
    };
    if !group.is_empty() {
        c.insert("group".into(), group.into());
    }
    c.insert("name".into(), name.into());
    if !p.version.is_empty() {
        c.insert("version".into(), p.version.as_str().into());
    }
    let purl = (!p.purl.is_empty())
        .then(|| Purl::parse(&p.purl).ok())
        .flatten();
    if !p.purl.is_empty() {
        c.insert("purl".into(), p.purl.as_str().into());
    }
    if let Some(licenses) = licenses(&p.licenses) {
        c.insert("licenses".into(), licenses);
    }
    let mut props = Vec::new();
    let mut prop = |name: &str, value: &str| props.push(json!({"name": name, "value": value}));
    if purl.as_ref().map(Purl::kind) != Some(p.kind) {
        prop(names::KIND, &kind_name(p.kind));
    }
    if let Some(arch) = &p.arch
        && purl.as_ref().and_then(|u| u.qualifier("arch")) != Some(arch.as_str())
    {
        prop(names::ARCH, arch);
    }
    if let Some(v) = &p.source_name {
        prop(names::SOURCE_NAME, v);
    }
    if let Some(v) = &p.source_version {
        prop(names::SOURCE_VERSION, v);
    }
    if let Some(v) = &p.layer {
        prop(names::LAYER, v);
    }
    if let Some(v) = &p.path {
        prop(names::PATH, v);
    }
    if !props.is_empty() {
        c.insert("properties".into(), Value::Array(props));
    }
    Value::Object(c)
}

/// A package's licences: an SPDX-listed identifier as `id`, anything else (free text from a
/// package database, "GPLv3+") as `name`; a single licence expression as `expression` (the
/// schema allows an expression only alone).
fn licenses(list: &[String]) -> Option<Value> {
    let list: Vec<&str> = list
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    match list.as_slice() {
        [] => None,
        [one] if one.contains(' ') && is_license_expression(one) => {
            Some(json!([{"expression": one}]))
        }
        _ => Some(Value::Array(
            list.iter()
                .map(|l| {
                    if is_listed_license(l) {
                        json!({"license": {"id": l}})
                    } else {
                        json!({"license": {"name": l}})
                    }
                })
                .collect(),
        )),
    }
}

/// One entry per vulnerability ID (first-seen order), affecting every package it was found
/// in; fixed versions as `unaffected` versions and in the recommendation.
fn vulnerabilities(inv: &[Inventory], refs: &[Vec<String>], vulns: &[VulnFinding]) -> Vec<Value> {
    // purl (or name@version) -> the packages carrying it, to find a finding's bom-ref.
    let mut by_key: HashMap<String, Vec<(&Package, &str)>> = HashMap::new();
    for (one, inv_refs) in inv.iter().zip(refs) {
        for (p, r) in one.packages.iter().zip(inv_refs) {
            by_key.entry(package_key(p)).or_default().push((p, r));
        }
    }
    let mut order: Vec<&str> = Vec::new();
    let mut groups: HashMap<&str, Vec<&VulnFinding>> = HashMap::new();
    for f in vulns {
        let entry = groups.entry(f.id.as_str()).or_default();
        if entry.is_empty() {
            order.push(&f.id);
        }
        entry.push(f);
    }
    order
        .into_iter()
        .filter_map(|id| {
            let findings = groups.get(id)?;
            let first = findings.first()?;
            let mut v = Map::new();
            v.insert(
                "bom-ref".into(),
                format!("palisade:vulnerability:{id}").into(),
            );
            v.insert("id".into(), id.into());
            v.insert("source".into(), source(first));
            let aliases: Vec<Value> = first
                .aliases
                .iter()
                .filter(|a| a.as_str() != id)
                .map(|a| json!({"id": a, "source": alias_source(a)}))
                .collect();
            if !aliases.is_empty() {
                v.insert("references".into(), Value::Array(aliases));
            }
            v.insert("ratings".into(), json!([rating(first)]));
            if !first.summary.is_empty() {
                v.insert("description".into(), first.summary.as_str().into());
            }
            let mut recommendation = Vec::new();
            let mut affects = Vec::new();
            let mut seen = HashSet::new();
            for f in findings {
                if !f.fixed.is_empty() {
                    let line = format!("Upgrade {} to {}", f.package.name, f.fixed.join(" or "));
                    if !recommendation.contains(&line) {
                        recommendation.push(line);
                    }
                }
                // The same package in two inventories gives two equal findings: each takes
                // the next component not yet listed, the equal one first.
                let candidates = by_key
                    .get(&package_key(&f.package))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let free = |exact: bool| {
                    candidates
                        .iter()
                        .find(|(p, r)| (!exact || **p == f.package) && !seen.contains(r))
                        .map(|(_, r)| *r)
                };
                let Some(r) = free(true).or_else(|| free(false)) else {
                    continue;
                };
                seen.insert(r);
                let mut versions = vec![json!({"version": f.installed, "status": "affected"})];
                versions.extend(
                    f.fixed
                        .iter()
                        .map(|x| json!({"version": x, "status": "unaffected"})),
                );
                affects.push(json!({"ref": r, "versions": versions}));
            }
            if !recommendation.is_empty() {
                v.insert("recommendation".into(), recommendation.join("; ").into());
            }
            if let Some(url) = &first.url {
                v.insert("advisories".into(), json!([{"url": url}]));
            }
            v.insert("affects".into(), Value::Array(affects));
            Some(Value::Object(v))
        })
        .collect()
}

fn package_key(p: &Package) -> String {
    if p.purl.is_empty() {
        format!("{}:{}@{}", kind_name(p.kind), p.name, p.version)
    } else {
        p.purl.clone()
    }
}

fn source(f: &VulnFinding) -> Value {
    if f.source == "kubernetes-feed" {
        let url = f.url.clone().unwrap_or_else(|| {
            "https://kubernetes.io/docs/reference/issues-security/official-cve-feed/".to_string()
        });
        json!({"name": "Kubernetes CVE feed", "url": url})
    } else {
        json!({"name": "OSV", "url": format!("https://osv.dev/vulnerability/{}", f.id)})
    }
}

fn alias_source(id: &str) -> Value {
    if id.starts_with("CVE-") {
        json!({"name": "NVD", "url": format!("https://nvd.nist.gov/vuln/detail/{id}")})
    } else if id.starts_with("GHSA-") {
        json!({"name": "GitHub", "url": format!("https://github.com/advisories/{id}")})
    } else {
        json!({"name": "OSV", "url": format!("https://osv.dev/vulnerability/{id}")})
    }
}

fn rating(f: &VulnFinding) -> Value {
    let mut r = Map::new();
    r.insert(
        "severity".into(),
        match f.severity {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
        .into(),
    );
    if let Some(score) = f.score.filter(|s| s.is_finite())
        && let Some(n) = serde_json::Number::from_f64(score)
    {
        r.insert("score".into(), Value::Number(n));
    }
    if let Some(vector) = &f.cvss {
        let method = if vector.starts_with("CVSS:3.1/") {
            "CVSSv31"
        } else if vector.starts_with("CVSS:3.0/") {
            "CVSSv3"
        } else if vector.starts_with("CVSS:4.0/") {
            "CVSSv4"
        } else if vector.starts_with("AV:") {
            "CVSSv2"
        } else {
            "other"
        };
        r.insert("method".into(), method.into());
        r.insert("vector".into(), vector.as_str().into());
    }
    Value::Object(r)
}
