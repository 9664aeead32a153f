//! SPDX 2.2/2.3 (JSON and tag-value) -> [`Inventory`].
//!
//! Both syntaxes are read into one small document model first, then turned into an
//! inventory the same way: packages (never files) with their purl `externalRefs`. Not
//! packages: the subject (a package the document DESCRIBES that holds other packages and has
//! no purl, or carries Palisade's subject annotation), containers (purpose `CONTAINER`, purl
//! type `oci`/`docker`; the described one names the image), and `OPERATING_SYSTEM` packages,
//! which give the distribution.

use crate::cyclonedx_read::{distro_from_purls, identity, image_reference, parse_kind};
use crate::json::{Ctx, Top, join};
use crate::purl::{self, Purl};
use crate::{SbomError, names};
use palisade_core::inventory::{Distro, Inventory, InventoryNote, Package, PackageKind};
use std::collections::{HashMap, HashSet};

const VERSIONS: &[&str] = &["SPDX-2.2", "SPDX-2.3"];

#[derive(Debug, Default)]
struct Doc {
    packages: Vec<Pkg>,
    /// (element, type, related element)
    relationships: Vec<(String, String, String)>,
    /// `documentDescribes` (JSON) — the same as DESCRIBES relationships.
    describes: Vec<String>,
    /// `LicenseRef-x` -> its name, for licences Palisade (or others) wrote as references.
    extracted: HashMap<String, String>,
}

#[derive(Debug, Default)]
struct Pkg {
    /// Where it is in the input (`packages[3]`, `line 120`) for notes.
    at: String,
    id: String,
    name: String,
    version: String,
    concluded: String,
    declared: String,
    purpose: String,
    /// (category, type, locator)
    refs: Vec<(String, String, String)>,
    /// Annotation comments.
    comments: Vec<String>,
    /// `attributionTexts` (Trivy writes `LayerDiffID: sha256:...` there).
    attributions: Vec<String>,
    /// `sourceInfo` (`built package from: <name> <version>`).
    source_info: String,
}

/// Whether `text` starts (after comments and blank lines) like an SPDX tag-value document.
pub(crate) fn looks_like_tag_value(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.starts_with("SPDXVersion:"))
}

pub(crate) fn read_json(doc: &Top<'_>, input: &str, path: &str) -> Result<Inventory, SbomError> {
    let cx = Ctx { input };
    let version = cx.top_str(doc, "spdxVersion", path)?;
    check_version(&version).map_err(|m| cx.err(&join(path, "spdxVersion"), m))?;
    let mut out = Doc::default();
    let ppath = join(path, "packages");
    // One package's tree at a time; `files` and `snippets` are never built at all.
    for (i, raw) in cx.items(doc, "packages", path)?.into_iter().enumerate() {
        let at = format!("{ppath}[{i}]");
        let tree = cx.tree(raw, &at)?;
        let p = cx.object(&tree, &at)?;
        let mut pkg = Pkg {
            id: cx.req_str(p, "SPDXID", &at)?.to_string(),
            name: cx.req_str(p, "name", &at)?.to_string(),
            version: cx.opt_str(p, "versionInfo", &at)?.unwrap_or("").to_string(),
            concluded: cx
                .opt_str(p, "licenseConcluded", &at)?
                .unwrap_or("")
                .to_string(),
            declared: cx
                .opt_str(p, "licenseDeclared", &at)?
                .unwrap_or("")
                .to_string(),
            purpose: cx
                .opt_str(p, "primaryPackagePurpose", &at)?
                .unwrap_or("")
                .to_string(),
            source_info: cx.opt_str(p, "sourceInfo", &at)?.unwrap_or("").to_string(),
            ..Pkg::default()
        };
        for (j, t) in cx.array(p, "attributionTexts", &at)?.iter().enumerate() {
            let text = t.as_str().ok_or_else(|| {
                cx.err(
                    &format!("{}[{j}]", join(&at, "attributionTexts")),
                    "expected a string",
                )
            })?;
            pkg.attributions.push(text.to_string());
        }
        for (j, r) in cx.array(p, "externalRefs", &at)?.iter().enumerate() {
            let rpath = format!("{}[{j}]", join(&at, "externalRefs"));
            let r = cx.object(r, &rpath)?;
            pkg.refs.push((
                cx.req_str(r, "referenceCategory", &rpath)?.to_string(),
                cx.req_str(r, "referenceType", &rpath)?.to_string(),
                cx.req_str(r, "referenceLocator", &rpath)?.to_string(),
            ));
        }
        for (j, a) in cx.array(p, "annotations", &at)?.iter().enumerate() {
            let apath = format!("{}[{j}]", join(&at, "annotations"));
            let a = cx.object(a, &apath)?;
            if let Some(c) = cx.opt_str(a, "comment", &apath)? {
                pkg.comments.push(c.to_string());
            }
        }
        pkg.at = at;
        out.packages.push(pkg);
    }
    let rpath = join(path, "relationships");
    for (i, raw) in cx
        .items(doc, "relationships", path)?
        .into_iter()
        .enumerate()
    {
        let at = format!("{rpath}[{i}]");
        let tree = cx.tree(raw, &at)?;
        let r = cx.object(&tree, &at)?;
        out.relationships.push((
            cx.req_str(r, "spdxElementId", &at)?.to_string(),
            cx.req_str(r, "relationshipType", &at)?.to_string(),
            cx.req_str(r, "relatedSpdxElement", &at)?.to_string(),
        ));
    }
    let dpath = join(path, "documentDescribes");
    for (i, raw) in cx
        .items(doc, "documentDescribes", path)?
        .into_iter()
        .enumerate()
    {
        let d = cx.tree(raw, &format!("{dpath}[{i}]"))?;
        let id = d
            .as_str()
            .ok_or_else(|| cx.err(&format!("{dpath}[{i}]"), "expected a string"))?;
        out.describes.push(id.to_string());
    }
    let epath = join(path, "hasExtractedLicensingInfos");
    for (i, raw) in cx
        .items(doc, "hasExtractedLicensingInfos", path)?
        .into_iter()
        .enumerate()
    {
        let at = format!("{epath}[{i}]");
        let tree = cx.tree(raw, &at)?;
        let e = cx.object(&tree, &at)?;
        let id = cx.req_str(e, "licenseId", &at)?;
        if let Some(name) = cx.opt_str(e, "name", &at)?.filter(|n| !n.is_empty()) {
            out.extracted.insert(id.to_string(), name.to_string());
        }
    }
    Ok(inventory(out, input))
}

fn check_version(version: &str) -> Result<(), String> {
    if VERSIONS.contains(&version) {
        Ok(())
    } else {
        Err(format!(
            "`{version}` is not supported (read: {})",
            VERSIONS.join(", ")
        ))
    }
}

/// What the current tag-value lines describe.
#[derive(PartialEq)]
enum Section {
    Document,
    Package,
    /// Files, snippets, annotations of other elements: their tags are not read.
    Other,
    ExtractedLicense(String),
}

pub(crate) fn read_tag_value(text: &str, input: &str) -> Result<Inventory, SbomError> {
    let err = |line: usize, message: String| SbomError::TagValue {
        input: input.to_string(),
        line,
        message,
    };
    let mut doc = Doc::default();
    let mut section = Section::Document;
    let mut version_seen = false;
    let mut lines = text.lines().enumerate();
    while let Some((i, raw)) = lines.next() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((tag, value)) = line.split_once(':') else {
            return Err(err(
                line_no,
                format!("expected `Tag: value`, found `{}`", clip(line)),
            ));
        };
        let tag = tag.trim();
        let mut value = value.trim().to_string();
        // Multi-line values sit between <text> and </text>.
        if let Some(rest) = value.strip_prefix("<text>") {
            let mut body = rest.to_string();
            while !body.contains("</text>") {
                let Some((_, next)) = lines.next() else {
                    return Err(err(
                        line_no,
                        format!("`{tag}`: <text> is never closed by </text>"),
                    ));
                };
                body.push('\n');
                body.push_str(next);
            }
            value = body
                .split("</text>")
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
        }
        match tag {
            "SPDXVersion" => {
                check_version(&value).map_err(|m| err(line_no, format!("SPDXVersion: {m}")))?;
                version_seen = true;
            }
            "PackageName" => {
                doc.packages.push(Pkg {
                    at: format!("line {line_no}"),
                    name: value,
                    ..Pkg::default()
                });
                section = Section::Package;
            }
            "FileName" | "SnippetSPDXID" | "Annotator" => section = Section::Other,
            "LicenseID" => section = Section::ExtractedLicense(value),
            "LicenseName" => {
                if let Section::ExtractedLicense(id) = &section {
                    doc.extracted.insert(id.clone(), value);
                }
            }
            "Relationship" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                match parts.as_slice() {
                    [a, ty, b, ..] => doc.relationships.push((
                        (*a).to_string(),
                        (*ty).to_string(),
                        (*b).to_string(),
                    )),
                    _ => {
                        return Err(err(
                            line_no,
                            format!(
                                "Relationship: expected `ELEMENT TYPE ELEMENT`, found `{}`",
                                clip(&value)
                            ),
                        ));
                    }
                }
            }
            _ if section == Section::Package => {
                let Some(pkg) = doc.packages.last_mut() else {
                    continue;
                };
                match tag {
                    "SPDXID" if pkg.id.is_empty() => pkg.id = value,
                    "PackageVersion" => pkg.version = value,
                    "PackageLicenseConcluded" => pkg.concluded = value,
                    "PackageLicenseDeclared" => pkg.declared = value,
                    "PrimaryPackagePurpose" => pkg.purpose = value,
                    "PackageSourceInfo" => pkg.source_info = value,
                    "PackageAttributionText" => pkg.attributions.push(value),
                    "ExternalRef" => {
                        let parts: Vec<&str> = value.split_whitespace().collect();
                        match parts.as_slice() {
                            [category, ty, locator, ..] => pkg.refs.push((
                                (*category).to_string(),
                                (*ty).to_string(),
                                (*locator).to_string(),
                            )),
                            _ => {
                                return Err(err(
                                    line_no,
                                    format!(
                                        "ExternalRef: expected `CATEGORY TYPE LOCATOR`, found `{}`",
                                        clip(&value)
                                    ),
                                ));
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if !version_seen {
        return Err(err(1, "no `SPDXVersion:` line".to_string()));
    }
    if let Some(p) = doc.packages.iter().find(|p| p.id.is_empty()) {
        return Err(SbomError::TagValue {
            input: input.to_string(),
            line: p
                .at
                .strip_prefix("line ")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            message: format!("package `{}` has no SPDXID", clip(&p.name)),
        });
    }
    Ok(inventory(doc, input))
}

fn clip(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", s.get(..i).unwrap_or(s)),
        None => s.to_string(),
    }
}

fn inventory(doc: Doc, input: &str) -> Inventory {
    let mut inv = Inventory {
        source: input.to_string(),
        ..Inventory::default()
    };
    let described: HashSet<&str> = doc
        .relationships
        .iter()
        .filter_map(|(a, ty, b)| match ty.as_str() {
            "DESCRIBES" if a == "SPDXRef-DOCUMENT" => Some(b.as_str()),
            "DESCRIBED_BY" if b == "SPDXRef-DOCUMENT" => Some(a.as_str()),
            _ => None,
        })
        .chain(doc.describes.iter().map(String::as_str))
        .collect();
    let ids: HashSet<&str> = doc.packages.iter().map(|p| p.id.as_str()).collect();
    // Packages that hold another package (CONTAINS / DEPENDS_ON / ... pointing at a package).
    let parents: HashSet<&str> = doc
        .relationships
        .iter()
        .filter(|(a, _, b)| a != "SPDXRef-DOCUMENT" && ids.contains(b.as_str()))
        .map(|(a, _, _)| a.as_str())
        .collect();

    let mut os: Option<Distro> = None;
    for p in &doc.packages {
        let annotation = |key: &str| {
            p.comments.iter().find_map(|c| {
                c.strip_prefix(key)
                    .and_then(|r| r.strip_prefix(": "))
                    .map(str::to_string)
            })
        };
        let attribution = |key: &str| {
            p.attributions.iter().find_map(|c| {
                c.strip_prefix(key)
                    .and_then(|r| r.strip_prefix(": "))
                    .map(str::to_string)
            })
        };
        // SPDX 2.2 has no primaryPackagePurpose; Trivy's identifiers say what a package is.
        if p.purpose == "OPERATING_SYSTEM" || p.id.starts_with("SPDXRef-OperatingSystem-") {
            if os.is_none() && !p.name.is_empty() {
                os = Some(Distro {
                    id: p.name.to_ascii_lowercase(),
                    version_id: p.version.clone(),
                    ..Distro::default()
                });
            }
            continue;
        }
        let purl_text = p
            .refs
            .iter()
            .find(|(cat, ty, _)| {
                (cat == "PACKAGE-MANAGER" || cat == "PACKAGE_MANAGER") && ty == "purl"
            })
            .map(|(_, _, loc)| loc.as_str());
        let mut purl = None;
        if let Some(text) = purl_text {
            match Purl::parse(text) {
                Ok(u) => purl = Some(u),
                Err(e) => inv.notes.push(InventoryNote {
                    entry: Some(p.at.clone()),
                    message: format!(
                        "package `{}`: `{text}` is not a package URL ({e}); kept as an unclassified package",
                        p.name
                    ),
                    ..InventoryNote::default()
                }),
            }
        }
        let is_described = described.contains(p.id.as_str());
        let is_container = p.purpose == "CONTAINER"
            || p.id.starts_with("SPDXRef-ContainerImage-")
            || purl
                .as_ref()
                .is_some_and(|u| u.ty == "oci" || u.ty == "docker");
        // Containers are never packages (CycloneDX's reader skips them alike); the one the
        // document describes names the image.
        if annotation(names::SOURCE).is_some()
            || is_container
            || (is_described && purl.is_none() && parents.contains(p.id.as_str()))
        {
            if is_described && is_container && inv.image.is_none() {
                inv.image = Some(image_reference(&p.name, &p.version));
            }
            continue;
        }

        let mut name = p.name.clone();
        let mut version = p.version.clone();
        let mut purl_string = purl.as_ref().and(purl_text).unwrap_or_default().to_string();
        let mut kind = purl.as_ref().map(Purl::kind).unwrap_or_default();
        let kind_note = annotation(names::KIND).and_then(|k| parse_kind(&k));
        if purl.is_none()
            && kind_note.is_none()
            && let Some((module, v)) = go_module_name(&p.name, &p.version)
        {
            // Kubernetes release tooling names Go modules `module@version` without a purl.
            kind = PackageKind::Go;
            name = module.to_string();
            version = v.to_string();
            purl_string = purl::golang(module, v);
        }
        if let Some(k) = kind_note {
            kind = k;
        }
        let (name, version, arch) = identity(
            kind,
            &name,
            &version,
            purl.as_ref(),
            annotation(names::ARCH),
        );
        let licenses = licenses(&p.concluded, &p.declared, &doc.extracted);
        let built_from = p
            .source_info
            .strip_prefix("built package from: ")
            .and_then(|r| r.trim().split_once(' '))
            .map(|(n, v)| (n.to_string(), v.trim().to_string()));
        inv.packages.push(Package {
            kind,
            name,
            version,
            purl: purl_string,
            source_name: annotation(names::SOURCE_NAME)
                .or_else(|| built_from.as_ref().map(|b| b.0.clone())),
            source_version: annotation(names::SOURCE_VERSION)
                .or_else(|| built_from.as_ref().map(|b| b.1.clone())),
            arch,
            licenses,
            layer: annotation(names::LAYER).or_else(|| attribution("LayerDiffID")),
            path: annotation(names::PATH),
        });
    }
    inv.distro = os.or_else(|| distro_from_purls(&inv.packages));
    inv
}

/// `golang.org/x/sys@v0.0.0-2021...` with `PackageVersion` the same (or empty): a Go
/// module, when the part before `@` is a module path (first element a host name).
fn go_module_name<'a>(name: &'a str, version: &'a str) -> Option<(&'a str, &'a str)> {
    let (module, v) = name.rsplit_once('@')?;
    let host = module.split('/').next()?;
    // The main module is written `module@` with no version at all.
    let go_version = v.is_empty()
        || (v.starts_with('v')
            && v.get(1..2)
                .is_some_and(|c| c.chars().all(|c| c.is_ascii_digit())));
    let looks_go = host.contains('.')
        && module.contains('/')
        && go_version
        && (version.is_empty() || version == v);
    looks_go.then_some((module, v))
}

/// The package's licences: the concluded expression, else the declared one (NOASSERTION and
/// NONE are no licence). A top-level `AND` of plain identifiers is split into its parts
/// (Palisade writes a package's list that way); other expressions stay whole.
fn licenses(concluded: &str, declared: &str, extracted: &HashMap<String, String>) -> Vec<String> {
    let known = |s: &str| !s.is_empty() && s != "NOASSERTION" && s != "NONE";
    let expr = if known(concluded) {
        concluded
    } else if known(declared) {
        declared
    } else {
        return Vec::new();
    };
    let name = |id: &str| extracted.get(id).cloned().unwrap_or_else(|| id.to_string());
    if expr.contains('(') || expr.contains(" OR ") || expr.contains(" WITH ") {
        return vec![expr.to_string()];
    }
    expr.split(" AND ").map(|s| name(s.trim())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_module_names() {
        assert_eq!(
            go_module_name("golang.org/x/sys@v0.0.0-2021", "v0.0.0-2021"),
            Some(("golang.org/x/sys", "v0.0.0-2021"))
        );
        assert_eq!(
            go_module_name("github.com/a/b@v1.2.3", ""),
            Some(("github.com/a/b", "v1.2.3"))
        );
        assert_eq!(go_module_name("github.com/a/b@v1.2.3", "v1.2.4"), None);
        assert_eq!(go_module_name("@angular/core@v1.0.0", ""), None);
        assert_eq!(go_module_name("coreos/etcd", "v3.4.16"), None);
        assert_eq!(go_module_name("x.io/a@latest", ""), None);
        assert_eq!(
            go_module_name("go.etcd.io/etcd/v3@", ""),
            Some(("go.etcd.io/etcd/v3", ""))
        );
    }

    #[test]
    fn license_expressions() {
        let none = HashMap::new();
        assert_eq!(licenses("NOASSERTION", "MIT", &none), vec!["MIT"]);
        assert_eq!(
            licenses("MIT AND Apache-2.0", "", &none),
            vec!["MIT", "Apache-2.0"]
        );
        assert_eq!(
            licenses("(MIT OR Apache-2.0) AND BSD-3-Clause", "", &none),
            vec!["(MIT OR Apache-2.0) AND BSD-3-Clause"]
        );
        assert!(licenses("NONE", "NOASSERTION", &none).is_empty());
        let ext = HashMap::from([("LicenseRef-GPL".to_string(), "GPL v2".to_string())]);
        assert_eq!(
            licenses("LicenseRef-GPL AND MIT", "", &ext),
            vec!["GPL v2", "MIT"]
        );
    }
}
