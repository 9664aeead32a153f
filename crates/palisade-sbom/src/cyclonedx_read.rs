//! CycloneDX 1.4–1.6 JSON -> [`Inventory`].

use crate::json::{Ctx, Top, join};
use crate::purl::Purl;
use crate::{SbomError, names};
use palisade_core::inventory::{Distro, Inventory, InventoryNote, Package, PackageKind};
use serde_json::{Map, Value};

/// Spec versions whose component model this reader follows (1.2 and 1.3 share it; 1.7 is
/// what Trivy's main branch emits).
const SPEC_VERSIONS: &[&str] = &["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];

pub(crate) fn read(doc: &Top<'_>, input: &str, path: &str) -> Result<Inventory, SbomError> {
    let cx = Ctx { input };
    let format = cx.top_str(doc, "bomFormat", path)?;
    if format != "CycloneDX" {
        return Err(cx.err(
            &join(path, "bomFormat"),
            format!("`{format}` is not `CycloneDX`"),
        ));
    }
    let spec = cx.top_str(doc, "specVersion", path)?;
    if !SPEC_VERSIONS.contains(&spec.as_str()) {
        return Err(cx.err(
            &join(path, "specVersion"),
            format!(
                "CycloneDX {spec} is not supported (read: {})",
                SPEC_VERSIONS.join(", ")
            ),
        ));
    }
    // Components that hold others in `dependencies` (for the grouping rule in `component`).
    let mut parents = std::collections::HashSet::new();
    for (i, raw) in cx.items(doc, "dependencies", path)?.into_iter().enumerate() {
        let dpath = format!("{}[{i}]", join(path, "dependencies"));
        let tree = cx.tree(raw, &dpath)?;
        let d = cx.object(&tree, &dpath)?;
        if !cx.array(d, "dependsOn", &dpath)?.is_empty()
            && let Some(r) = cx.opt_str(d, "ref", &dpath)?
        {
            parents.insert(r.to_string());
        }
    }
    let mut reader = Reader {
        parents,
        cx,
        inv: Inventory {
            source: input.to_string(),
            ..Inventory::default()
        },
        os: None,
    };
    if let Some(metadata) = cx.member(doc, "metadata", path)? {
        let mpath = join(path, "metadata");
        let metadata = cx.object(&metadata, &mpath)?;
        if let Some(subject) = metadata.get("component").filter(|v| !v.is_null()) {
            reader.subject(subject, &join(&mpath, "component"))?;
        }
    }
    // One component's tree at a time: memory stays near the input's size.
    for (i, raw) in cx.items(doc, "components", path)?.into_iter().enumerate() {
        let cpath = format!("{}[{i}]", join(path, "components"));
        reader.component(&cx.tree(raw, &cpath)?, &cpath)?;
    }
    let mut inv = reader.inv;
    // The distribution: an operating-system component, else the first OS package's purl.
    inv.distro = reader.os.or_else(|| distro_from_purls(&inv.packages));
    Ok(inv)
}

struct Reader<'a> {
    parents: std::collections::HashSet<String>,
    cx: Ctx<'a>,
    inv: Inventory,
    os: Option<Distro>,
}

impl Reader<'_> {
    /// `metadata.component`: what the BOM describes (an image, an application), not a package.
    fn subject(&mut self, v: &Value, path: &str) -> Result<(), SbomError> {
        let c = self.cx.object(v, path)?;
        let ty = self.cx.opt_str(c, "type", path)?.unwrap_or("");
        let name = self.cx.opt_str(c, "name", path)?.unwrap_or("");
        let version = self.cx.opt_str(c, "version", path)?.unwrap_or("");
        if ty == "operating-system" {
            self.os_component(name, version);
        } else if ty == "container" && !name.is_empty() {
            self.inv.image = Some(image_reference(name, version));
        }
        self.nested(c, path)
    }

    fn nested(&mut self, c: &Map<String, Value>, path: &str) -> Result<(), SbomError> {
        for (i, child) in self.cx.array(c, "components", path)?.iter().enumerate() {
            self.component(child, &format!("{}[{i}]", join(path, "components")))?;
        }
        Ok(())
    }

    fn os_component(&mut self, name: &str, version: &str) {
        if self.os.is_none() && !name.is_empty() {
            self.os = Some(Distro {
                id: name.to_ascii_lowercase(),
                version_id: version.to_string(),
                ..Distro::default()
            });
        }
    }

    fn component(&mut self, v: &Value, path: &str) -> Result<(), SbomError> {
        let cx = self.cx;
        let c = cx.object(v, path)?;
        let ty = cx.req_str(c, "type", path)?;
        let name = cx.req_str(c, "name", path)?;
        let version = cx.opt_str(c, "version", path)?.unwrap_or("");
        let group = cx.opt_str(c, "group", path)?.unwrap_or("");
        let purl_text = cx.opt_str(c, "purl", path)?.unwrap_or("").trim();
        let props = self.properties(c, path)?;
        let prop = |key: &str| {
            props
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        match ty {
            "operating-system" => {
                self.os_component(name, version);
                return self.nested(c, path);
            }
            // Files are not packages; containers and components marked as a Palisade
            // subject are inputs (a BOM of several images), and Trivy's grouping components
            // (`aquasecurity:trivy:Class`) carry no package of their own.
            "file" | "container" => return self.nested(c, path),
            // A platform without a purl is a node or cluster (Trivy's KBOM), not software.
            "platform" if purl_text.is_empty() => return self.nested(c, path),
            // A component with neither purl nor version that holds others is a grouping
            // (Trivy's `node-core-components`, its per-file `lang-pkgs` components).
            _ if prop(names::SOURCE).is_some()
                || (purl_text.is_empty()
                    && (prop("aquasecurity:trivy:Class").is_some()
                        || (version.is_empty()
                            && cx
                                .opt_str(c, "bom-ref", path)?
                                .is_some_and(|r| self.parents.contains(r))))) =>
            {
                return self.nested(c, path);
            }
            _ => {}
        }

        let purl = if purl_text.is_empty() {
            None
        } else {
            match Purl::parse(purl_text) {
                Ok(p) => Some(p),
                Err(e) => {
                    self.inv.notes.push(InventoryNote {
                        entry: Some(join(path, "purl")),
                        message: format!("`{purl_text}` is not a package URL ({e}); kept as an unclassified package"),
                        ..InventoryNote::default()
                    });
                    None
                }
            }
        };
        let mut kind = purl.as_ref().map(Purl::kind).unwrap_or_default();
        if let Some(k) = prop(names::KIND).and_then(|k| parse_kind(&k)) {
            kind = k;
        }
        let (name, version, arch) = identity(
            kind,
            &joined_name(kind, group, name),
            version,
            purl.as_ref(),
            prop(names::ARCH),
        );
        let source_name = prop(names::SOURCE_NAME).or_else(|| prop("aquasecurity:trivy:SrcName"));
        let source_version = prop(names::SOURCE_VERSION).or_else(|| trivy_source_version(&prop));
        let package = Package {
            kind,
            name,
            version,
            purl: if purl.is_some() {
                purl_text.to_string()
            } else {
                String::new()
            },
            source_name,
            source_version,
            arch,
            licenses: self.licenses(c, path)?,
            // Palisade's names, then Trivy's, then Syft's (first location); paths inside the
            // image without the leading `/` Syft writes.
            layer: prop(names::LAYER)
                .or_else(|| prop("aquasecurity:trivy:LayerDiffID"))
                .or_else(|| prop("syft:location:0:layerID")),
            path: prop(names::PATH)
                .or_else(|| prop("aquasecurity:trivy:FilePath"))
                .or_else(|| {
                    prop("syft:location:0:path")
                        .map(|p| p.trim_start_matches('/').to_string())
                        .filter(|p| !p.is_empty())
                }),
        };
        self.inv.packages.push(package);
        self.nested(c, path)
    }

    fn properties(
        &self,
        c: &Map<String, Value>,
        path: &str,
    ) -> Result<Vec<(String, String)>, SbomError> {
        let cx = self.cx;
        let mut out = Vec::new();
        for (i, p) in cx.array(c, "properties", path)?.iter().enumerate() {
            let ppath = format!("{}[{i}]", join(path, "properties"));
            let p = cx.object(p, &ppath)?;
            let name = cx.req_str(p, "name", &ppath)?;
            let value = cx.opt_str(p, "value", &ppath)?.unwrap_or("");
            out.push((name.to_string(), value.to_string()));
        }
        Ok(out)
    }

    /// `licenses`: `{license: {id}}`, `{license: {name}}` or `{expression}`, in order.
    fn licenses(&self, c: &Map<String, Value>, path: &str) -> Result<Vec<String>, SbomError> {
        let cx = self.cx;
        let mut out = Vec::new();
        for (i, l) in cx.array(c, "licenses", path)?.iter().enumerate() {
            let lpath = format!("{}[{i}]", join(path, "licenses"));
            let l = cx.object(l, &lpath)?;
            if let Some(expr) = cx.opt_str(l, "expression", &lpath)? {
                out.push(expr.to_string());
            } else if let Some(lic) = l.get("license") {
                let lpath = join(&lpath, "license");
                let lic = cx.object(lic, &lpath)?;
                let id = cx.opt_str(lic, "id", &lpath)?;
                let name = cx.opt_str(lic, "name", &lpath)?;
                match id.or(name) {
                    Some(s) if !s.is_empty() => out.push(s.to_string()),
                    _ => return Err(cx.err(&lpath, "a license needs an `id` or a `name`")),
                }
            }
        }
        Ok(out)
    }
}

/// The component's name with its `group` joined the way the ecosystem writes it (Maven
/// `g:a`, npm `@scope/name`).
fn joined_name(kind: PackageKind, group: &str, name: &str) -> String {
    match kind {
        _ if group.is_empty() || name.is_empty() => name.to_string(),
        PackageKind::Maven => format!("{group}:{name}"),
        PackageKind::Npm | PackageKind::Go | PackageKind::Other => format!("{group}/{name}"),
        _ => name.to_string(),
    }
}

/// Name, version and architecture as the model has them, from what the SBOM says, its purl
/// and an architecture the SBOM states apart from the purl (both readers end here).
pub(crate) fn identity(
    kind: PackageKind,
    name: &str,
    version: &str,
    purl: Option<&Purl>,
    arch: Option<String>,
) -> (String, String, Option<String>) {
    let name = model_name(kind, name, purl);
    let mut version = model_version(kind, version, purl);
    if kind == PackageKind::GoStdlib {
        version = go_toolchain_version(&version);
    }
    let arch = arch.or_else(|| {
        purl.and_then(|p| p.qualifier("arch"))
            .filter(|a| !a.is_empty())
            .map(str::to_string)
    });
    (name, version, arch)
}

/// The name an SBOM gives, unless it lacks what matching needs and the purl has it: an
/// empty name, a Maven name without its group, an npm name without its scope. (SPDX names
/// are free text: the example document names `pkg:maven/org.apache.jena/apache-jena` "Jena".)
fn model_name(kind: PackageKind, name: &str, purl: Option<&Purl>) -> String {
    // Trivy names Kubernetes components `k8s.io/kubelet`; the model names the component.
    let name = match kind {
        PackageKind::Kubernetes => name.strip_prefix("k8s.io/").unwrap_or(name),
        _ => name,
    };
    let Some(purl) = purl else {
        return name.to_string();
    };
    let incomplete = name.is_empty()
        || (kind == PackageKind::Maven && !name.contains(':'))
        || (kind == PackageKind::Npm && !purl.namespace.is_empty() && !name.contains('/'));
    if incomplete && purl.kind() == kind {
        purl.package_name()
    } else {
        name.to_string()
    }
}

/// The installed version: the SBOM's, unless the purl's is a more complete spelling of it,
/// which happens for OS packages: Trivy leaves the epoch out of the CycloneDX version
/// (`1.0.2k-16.el7`, purl `epoch=1`) and older Trivy the release out of SPDX
/// (`4.2.46` for `4.2.46-31.el7`).
fn model_version(kind: PackageKind, version: &str, purl: Option<&Purl>) -> String {
    let from_purl = purl.map(Purl::package_version).unwrap_or_default();
    let os = is_os_package(kind);
    if version.is_empty() || (os && from_purl.len() > version.len() && from_purl.contains(version))
    {
        from_purl
    } else {
        version.to_string()
    }
}

/// The distribution the first OS package's purl names (`distro=` qualifier).
pub(crate) fn distro_from_purls(packages: &[Package]) -> Option<Distro> {
    packages
        .iter()
        .filter(|p| is_os_package(p.kind))
        .find_map(|p| Purl::parse(&p.purl).ok().and_then(|u| u.distro()))
}

/// Packages of the distribution's own package manager.
pub(crate) fn is_os_package(kind: PackageKind) -> bool {
    matches!(kind, PackageKind::Deb | PackageKind::Apk | PackageKind::Rpm)
}

/// Go's standard library carries the toolchain version without `go`/`v` (`1.22.3`).
fn go_toolchain_version(v: &str) -> String {
    v.strip_prefix("go")
        .or_else(|| v.strip_prefix('v'))
        .unwrap_or(v)
        .to_string()
}

/// Trivy splits a source package's version into SrcEpoch / SrcVersion / SrcRelease.
fn trivy_source_version(prop: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut v = prop("aquasecurity:trivy:SrcVersion")?;
    if let Some(release) = prop("aquasecurity:trivy:SrcRelease") {
        v = format!("{v}-{release}");
    }
    if let Some(epoch) = prop("aquasecurity:trivy:SrcEpoch").filter(|e| e != "0") {
        v = format!("{epoch}:{v}");
    }
    Some(v)
}

/// `name` plus `version` as an image reference (`name:tag`, `name@sha256:...`).
pub(crate) fn image_reference(name: &str, version: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if version.is_empty() || last.contains(':') || last.contains('@') {
        name.to_string()
    } else if version.contains(':') {
        format!("{name}@{version}")
    } else {
        format!("{name}:{version}")
    }
}

/// The inverse of `PackageKind`'s serde names (`deb`, `gostdlib`, ...).
pub(crate) fn parse_kind(s: &str) -> Option<PackageKind> {
    serde_json::from_value(Value::String(s.to_string())).ok()
}

pub(crate) fn kind_name(kind: PackageKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
