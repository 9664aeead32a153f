//! Inventories -> SPDX 2.3 JSON.

use crate::cyclonedx_read::{is_os_package, kind_name};
use crate::ids::{content_uuid, is_license_expression, spdx_idstring};
use crate::purl::Purl;
use crate::{names, time};
use palisade_core::inventory::{Inventory, Package, PackageKind};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashSet};

/// Where document namespaces live: the project's home plus the document's name and a UUID
/// derived from its content (SPDX 2.3 clause 6.5 asks for a unique URI without `#`).
const NAMESPACE_BASE: &str = "https://github.com/palisade-dev/palisade/spdx";

/// SPDX 2.3 JSON for `inv`, created now (`SOURCE_DATE_EPOCH` when set).
pub fn spdx(inv: &[Inventory], tool_version: &str) -> Value {
    spdx_at(inv, tool_version, time::now())
}

/// [`spdx`] with the creation time given (seconds since the Unix epoch).
///
/// Each inventory is one package the document DESCRIBES (purpose `CONTAINER` for images),
/// which CONTAINS its operating system (purpose `OPERATING_SYSTEM`) and its packages; OS
/// packages hang under the operating system. Packages carry their purl as a
/// `PACKAGE-MANAGER purl` external reference, `downloadLocation: NOASSERTION`,
/// `filesAnalyzed: false`, their licences as an expression (free-text names as
/// `LicenseRef-` entries in `hasExtractedLicensingInfos`, NOASSERTION when unknown), and
/// layer, path and source package as `palisade:*` annotations.
pub fn spdx_at(inv: &[Inventory], tool_version: &str, created: i64) -> Value {
    let created = time::rfc3339(created);
    let tool = format!("Tool: palisade-{tool_version}");
    let mut ids: HashSet<String> = HashSet::new();
    let mut packages = Vec::new();
    let mut relationships = Vec::new();
    // LicenseRef id -> licence text, sorted for a stable document.
    let mut extracted: BTreeMap<String, String> = BTreeMap::new();
    let annotation = |key: &str, value: &str| {
        json!({
            "annotationDate": created,
            "annotationType": "OTHER",
            "annotator": tool,
            "comment": format!("{key}: {value}"),
        })
    };

    for (i, one) in inv.iter().enumerate() {
        let subject_id = unique(&mut ids, &format!("SPDXRef-Input-{i}"));
        let mut subject = json!({
            "SPDXID": subject_id,
            "name": one.image.as_deref().unwrap_or(&one.source),
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "annotations": [annotation(names::SOURCE, &one.source)],
        });
        if one.image.is_some()
            && let Some(m) = subject.as_object_mut()
        {
            m.insert("primaryPackagePurpose".into(), "CONTAINER".into());
        }
        packages.push(subject);
        relationships.push(relationship("SPDXRef-DOCUMENT", "DESCRIBES", &subject_id));

        let os_id = one.distro.as_ref().map(|d| {
            let id = unique(&mut ids, &format!("SPDXRef-OperatingSystem-{i}"));
            let mut os = json!({
                "SPDXID": id,
                "name": d.id,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "primaryPackagePurpose": "OPERATING_SYSTEM",
            });
            if !d.version_id.is_empty()
                && let Some(m) = os.as_object_mut()
            {
                m.insert("versionInfo".into(), d.version_id.as_str().into());
            }
            packages.push(os);
            relationships.push(relationship(&subject_id, "CONTAINS", &id));
            id
        });

        for p in &one.packages {
            let id = unique(
                &mut ids,
                &format!(
                    "SPDXRef-Package-{}",
                    spdx_idstring(&format!("{}-{}-{}", kind_name(p.kind), p.name, p.version))
                ),
            );
            let mut notes = Vec::new();
            let purl = (!p.purl.is_empty())
                .then(|| Purl::parse(&p.purl).ok())
                .flatten();
            if purl.as_ref().map(Purl::kind) != Some(p.kind) {
                notes.push(annotation(names::KIND, &kind_name(p.kind)));
            }
            if let Some(arch) = &p.arch
                && purl.as_ref().and_then(|u| u.qualifier("arch")) != Some(arch.as_str())
            {
                notes.push(annotation(names::ARCH, arch));
            }
            for (key, value) in [
                (names::SOURCE_NAME, &p.source_name),
                (names::SOURCE_VERSION, &p.source_version),
                (names::LAYER, &p.layer),
                (names::PATH, &p.path),
            ] {
                if let Some(v) = value {
                    notes.push(annotation(key, v));
                }
            }
            packages.push(package(p, &id, notes, &mut extracted));
            let os_package = is_os_package(p.kind);
            let parent = match &os_id {
                Some(os) if os_package => os.as_str(),
                _ => subject_id.as_str(),
            };
            relationships.push(relationship(parent, "CONTAINS", &id));
        }
    }

    let name = match inv {
        [one] => one.image.clone().unwrap_or_else(|| one.source.clone()),
        _ => format!("palisade inventory of {} inputs", inv.len()),
    };
    let mut doc = Map::new();
    doc.insert("spdxVersion".into(), "SPDX-2.3".into());
    doc.insert("dataLicense".into(), "CC0-1.0".into());
    doc.insert("SPDXID".into(), "SPDXRef-DOCUMENT".into());
    doc.insert("name".into(), name.as_str().into());
    doc.insert("packages".into(), Value::Array(packages));
    doc.insert("relationships".into(), Value::Array(relationships));
    if !extracted.is_empty() {
        let infos: Vec<Value> = extracted
            .iter()
            .map(|(id, text)| json!({"licenseId": id, "name": text, "extractedText": text}))
            .collect();
        doc.insert("hasExtractedLicensingInfos".into(), Value::Array(infos));
    }
    // The namespace's UUID comes from the input, not the creation time, so it changes
    // exactly when the content does.
    let uuid = content_uuid(&serde_json::to_vec(&("spdx", tool_version, inv)).unwrap_or_default());
    doc.insert(
        "documentNamespace".into(),
        format!("{NAMESPACE_BASE}/{}-{uuid}", namespace_segment(&name)).into(),
    );
    doc.insert(
        "creationInfo".into(),
        json!({"created": created, "creators": [tool]}),
    );
    Value::Object(doc)
}

fn package(
    p: &Package,
    id: &str,
    annotations: Vec<Value>,
    extracted: &mut BTreeMap<String, String>,
) -> Value {
    let mut m = Map::new();
    m.insert("SPDXID".into(), id.into());
    m.insert("name".into(), p.name.as_str().into());
    if !p.version.is_empty() {
        m.insert("versionInfo".into(), p.version.as_str().into());
    }
    m.insert("downloadLocation".into(), "NOASSERTION".into());
    m.insert("filesAnalyzed".into(), false.into());
    let license = license_expression(&p.licenses, extracted);
    m.insert("licenseConcluded".into(), license.as_str().into());
    m.insert("licenseDeclared".into(), license.as_str().into());
    m.insert(
        "primaryPackagePurpose".into(),
        if p.kind == PackageKind::Kubernetes {
            "APPLICATION"
        } else {
            "LIBRARY"
        }
        .into(),
    );
    if let (Some(name), Some(version)) = (&p.source_name, &p.source_version) {
        m.insert(
            "sourceInfo".into(),
            format!("built package from: {name} {version}").into(),
        );
    }
    if !p.purl.is_empty() {
        m.insert(
            "externalRefs".into(),
            json!([{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": p.purl,
            }]),
        );
    }
    if !annotations.is_empty() {
        m.insert("annotations".into(), Value::Array(annotations));
    }
    Value::Object(m)
}

/// The package's licences as one SPDX expression (parts joined with AND); a free-text name
/// becomes a `LicenseRef-` whose text goes to `hasExtractedLicensingInfos`.
fn license_expression(licenses: &[String], extracted: &mut BTreeMap<String, String>) -> String {
    let licenses: Vec<&str> = licenses
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    if licenses.is_empty() {
        return "NOASSERTION".to_string();
    }
    let parts: Vec<String> = licenses
        .iter()
        .map(|&l| {
            if is_license_expression(l) {
                if licenses.len() > 1 && l.contains(' ') {
                    format!("({l})")
                } else {
                    l.to_string()
                }
            } else {
                let id = format!("LicenseRef-{}", spdx_idstring(l));
                // Two texts that sanitise alike get distinct references.
                let mut unique_id = id.clone();
                let mut n = 2;
                while extracted.get(&unique_id).is_some_and(|t| t != l) {
                    unique_id = format!("{id}-{n}");
                    n += 1;
                }
                extracted.insert(unique_id.clone(), l.to_string());
                unique_id
            }
        })
        .collect();
    parts.join(" AND ")
}

fn relationship(a: &str, ty: &str, b: &str) -> Value {
    json!({"spdxElementId": a, "relationshipType": ty, "relatedSpdxElement": b})
}

/// `base`, or `base-2`, `base-3`, ... when taken.
fn unique(ids: &mut HashSet<String>, base: &str) -> String {
    let mut id = base.to_string();
    let mut n = 2;
    while ids.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    ids.insert(id.clone());
    id
}

fn namespace_segment(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() { "sbom".to_string() } else { s }
}
