//! Go build information (`debug/buildinfo` blob and `runtime/debug.BuildInfo` text) and the
//! packages it yields: the toolchain's standard library, the main module, every dependency.

use palisade_core::inventory::{Package, PackageKind};

use crate::purl;

/// The 14 bytes that open the build info blob (research §C.1).
pub(crate) const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
/// Header length: magic, pointer size, flags, padding.
const HEADER: usize = 32;
const FLAG_INLINE: u8 = 0x2;
/// Modinfo is framed by 16-byte sentinels; stripped only under Go's own condition.
const SENTINEL: usize = 16;

/// What a candidate blob decodes to so far.
#[derive(Debug)]
pub(crate) enum Blob {
    /// More bytes are needed to finish the two strings.
    NeedMore,
    /// Not build info (a stray magic, e.g. the constant inside `debug/buildinfo` itself).
    NotBuildInfo,
    /// Go < 1.18 layout: pointers to string headers instead of inline strings.
    PointerFormat,
    Inline {
        go_version: String,
        modinfo: String,
    },
}

fn uvarint(bytes: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for i in 0..10 {
        let byte = *bytes.get(at + i)?;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, at + i + 1));
        }
    }
    // Ten continuation bytes: not a varint Go wrote; treat as garbage, not as "need more".
    Some((u64::MAX, at + 10))
}

/// Decodes a blob starting at the magic. `limit` caps the strings so a corrupt length never
/// makes the caller buffer without bound.
pub(crate) fn decode(blob: &[u8], limit: usize) -> Blob {
    if blob.len() < HEADER {
        return Blob::NeedMore;
    }
    if blob.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Blob::NotBuildInfo;
    }
    let ptr_size = blob.get(14).copied().unwrap_or(0);
    let flags = blob.get(15).copied().unwrap_or(0);
    if ptr_size != 4 && ptr_size != 8 {
        return Blob::NotBuildInfo;
    }
    if flags & FLAG_INLINE == 0 {
        // Only a plausible header (flags uses two bits) counts as the old format.
        return if flags & !1 == 0 {
            Blob::PointerFormat
        } else {
            Blob::NotBuildInfo
        };
    }
    let mut strings = Vec::with_capacity(2);
    let mut at = HEADER;
    for _ in 0..2 {
        let Some((len, start)) = uvarint(blob, at) else {
            return Blob::NeedMore;
        };
        let Ok(len) = usize::try_from(len) else {
            return Blob::NotBuildInfo;
        };
        if len > limit {
            return Blob::NotBuildInfo;
        }
        let end = start + len;
        let Some(bytes) = blob.get(start..end) else {
            return Blob::NeedMore;
        };
        strings.push(bytes);
        at = end;
    }
    let (Some(version), Some(modinfo)) = (strings.first(), strings.get(1)) else {
        return Blob::NotBuildInfo;
    };
    let Ok(go_version) = std::str::from_utf8(version) else {
        return Blob::NotBuildInfo;
    };
    if !(go_version.starts_with("go") || go_version.starts_with("devel"))
        || go_version.bytes().any(|b| !(0x20..0x7f).contains(&b))
    {
        return Blob::NotBuildInfo;
    }
    let modinfo = strip_sentinels(modinfo);
    let Ok(modinfo) = std::str::from_utf8(modinfo) else {
        return Blob::NotBuildInfo;
    };
    Blob::Inline {
        go_version: go_version.to_string(),
        modinfo: modinfo.to_string(),
    }
}

fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    let len = modinfo.len();
    if len > 2 * SENTINEL && modinfo.get(len - SENTINEL - 1) == Some(&b'\n') {
        modinfo.get(SENTINEL..len - SENTINEL).unwrap_or(modinfo)
    } else {
        modinfo
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Module {
    pub path: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Dep {
    pub module: Module,
    pub replace: Option<Module>,
}

/// `runtime/debug.BuildInfo` as the binary records it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct BuildInfo {
    pub go_version: String,
    /// The main package (`path` line), e.g. `k8s.io/kubernetes/cmd/kubelet`.
    pub path: String,
    pub main: Option<Module>,
    pub deps: Vec<Dep>,
    pub settings: Vec<(String, String)>,
}

impl BuildInfo {
    pub(crate) fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses the modinfo text with the rules of `runtime/debug.ParseBuildInfo`.
pub(crate) fn parse_modinfo(go_version: &str, text: &str) -> Result<BuildInfo, String> {
    let mut info = BuildInfo {
        go_version: go_version.to_string(),
        ..BuildInfo::default()
    };
    // Which module a following `=>` line replaces: None, the main module, or the last dep.
    let mut last: Option<bool> = None;
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        if line.is_empty() {
            continue;
        }
        let (word, rest) = line.split_once('\t').unwrap_or((line, ""));
        match word {
            "path" => info.path = rest.to_string(),
            "mod" | "dep" => {
                let module = module_fields(rest)
                    .ok_or_else(|| format!("modinfo line {line_no}: malformed {word} line"))?;
                if word == "mod" {
                    info.main = Some(module);
                    last = Some(true);
                } else {
                    info.deps.push(Dep {
                        module,
                        replace: None,
                    });
                    last = Some(false);
                }
            }
            "=>" => {
                let module = module_fields(rest)
                    .ok_or_else(|| format!("modinfo line {line_no}: malformed => line"))?;
                match last.take() {
                    Some(false) => {
                        if let Some(dep) = info.deps.last_mut() {
                            dep.replace = Some(module);
                        }
                    }
                    // A replaced main module keeps its own identity (Go does the same).
                    Some(true) => {}
                    None => {
                        return Err(format!(
                            "modinfo line {line_no}: => replacement with no module before it"
                        ));
                    }
                }
            }
            "build" => {
                let (key, value) = build_setting(rest)
                    .ok_or_else(|| format!("modinfo line {line_no}: malformed build setting"))?;
                info.settings.push((key, value));
            }
            // Unknown words are ignored, so a newer toolchain's additions do not fail the file.
            _ => {}
        }
    }
    Ok(info)
}

fn module_fields(rest: &str) -> Option<Module> {
    let fields: Vec<&str> = rest.split('\t').collect();
    match fields.as_slice() {
        [path, version] | [path, version, _] if !path.is_empty() => Some(Module {
            path: (*path).to_string(),
            version: (*version).to_string(),
        }),
        _ => None,
    }
}

fn build_setting(rest: &str) -> Option<(String, String)> {
    let (key, after) = if rest.starts_with('"') {
        let (key, used) = unquote_prefix(rest)?;
        (key, rest.get(used..)?.strip_prefix('=')?)
    } else {
        let (key, value) = rest.split_once('=')?;
        (key.to_string(), value)
    };
    if key.is_empty() {
        return None;
    }
    let value = if after.starts_with('"') {
        let (value, used) = unquote_prefix(after)?;
        if used != after.len() {
            return None;
        }
        value
    } else {
        after.to_string()
    };
    Some((key, value))
}

/// Decodes one Go double-quoted string literal at the start of `s` (`strconv.Quote` output):
/// the value and how many bytes of `s` it used.
fn unquote_prefix(s: &str) -> Option<(String, usize)> {
    let bytes = s.as_bytes();
    if bytes.first() != Some(&b'"') {
        return None;
    }
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    let mut i = 1;
    loop {
        let byte = *bytes.get(i)?;
        match byte {
            b'"' => return String::from_utf8(out).ok().map(|v| (v, i + 1)),
            b'\\' => {
                let escape = *bytes.get(i + 1)?;
                i += 2;
                match escape {
                    b'a' => out.push(7),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'v' => out.push(11),
                    b'\\' | b'"' | b'\'' => out.push(escape),
                    b'x' => {
                        out.push(u8::try_from(hex_value(bytes.get(i..i + 2)?)?).ok()?);
                        i += 2;
                    }
                    b'u' | b'U' => {
                        let digits = if escape == b'u' { 4 } else { 8 };
                        let c = char::from_u32(hex_value(bytes.get(i..i + digits)?)?)?;
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        i += digits;
                    }
                    b'0'..=b'7' => {
                        let digits = bytes.get(i - 1..i + 2)?;
                        let mut value: u32 = 0;
                        for d in digits {
                            if !(b'0'..=b'7').contains(d) {
                                return None;
                            }
                            value = value * 8 + u32::from(d - b'0');
                        }
                        out.push(u8::try_from(value).ok()?);
                        i += 2;
                    }
                    _ => return None,
                }
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
}

fn hex_value(digits: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(text, 16).ok()
}

/// The toolchain version as OSV's Go ecosystem spells `stdlib` versions: `go1.22.3` → `1.22.3`,
/// `go1.21rc2` → `1.21.0-rc.2`, `go1.20` → `1.20.0`; experiments (`X:…`) dropped. `None` for
/// development toolchains, which have no release to match.
pub(crate) fn stdlib_version(go_version: &str) -> Option<String> {
    let tag = go_version.split(' ').next()?;
    let tag = tag.split("-X:").next()?;
    let rest = tag.strip_prefix("go")?;
    let split = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (numbers, pre) = rest.split_at(split);
    let parts: Vec<&str> = numbers.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let major = parts.first()?;
    let minor = parts.get(1).copied().unwrap_or("0");
    let patch = parts.get(2).copied().unwrap_or("0");
    let mut version = format!("{major}.{minor}.{patch}");
    // Vendor toolchains append their own build suffix (`go1.22.5-1`, `go1.22.5+fips`); the
    // standard library underneath is the upstream release.
    if !pre.is_empty() && !pre.starts_with(['-', '+']) {
        let kind_end = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
        let (kind, number) = pre.split_at(kind_end);
        if !matches!(kind, "rc" | "beta" | "alpha") || number.is_empty() {
            return None;
        }
        if !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        version.push_str(&format!("-{kind}.{number}"));
    }
    Some(version)
}

/// A Go pseudo-version (`v0.0.0-20240101120000-abcdef123456` and its two other forms).
pub(crate) fn is_pseudo_version(version: &str) -> bool {
    let mut parts = version.rsplitn(2, '-');
    let (Some(hash), Some(before)) = (parts.next(), parts.next()) else {
        return false;
    };
    if hash.len() != 12 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let stamp_start = before.len().saturating_sub(14);
    before.len() >= 14
        && before
            .get(stamp_start..)
            .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()))
}

/// A version string that names no release (`(devel)`, empty).
fn no_release(version: &str) -> bool {
    version.is_empty() || version == "(devel)"
}

/// Packages of one Go binary. `kube_version` (when the binary is a Kubernetes component whose
/// version was recovered) fills the `(devel)` main module `k8s.io/kubernetes` and the staging
/// modules (`k8s.io/api` → `v0.<minor>.<patch>`) that Kubernetes builds from its own tree.
pub(crate) fn packages(path: &str, info: &BuildInfo, kube_version: Option<&str>) -> Vec<Package> {
    let mut out = Vec::with_capacity(info.deps.len() + 2);
    let file = Some(path.to_string());
    if let Some(version) = stdlib_version(&info.go_version) {
        out.push(Package {
            kind: PackageKind::GoStdlib,
            name: "stdlib".to_string(),
            purl: purl::golang("stdlib", &version),
            version,
            path: file.clone(),
            ..Package::default()
        });
    }
    let is_kubernetes = info
        .main
        .as_ref()
        .is_some_and(|m| m.path == "k8s.io/kubernetes");
    let staging = kube_version
        .filter(|_| is_kubernetes)
        .and_then(staging_version);
    if let Some(main) = &info.main {
        let mut version = if no_release(&main.version) {
            String::new()
        } else {
            main.version.clone()
        };
        if version.is_empty()
            && is_kubernetes
            && let Some(kube) = kube_version
        {
            version = kube.to_string();
        }
        out.push(go_package(&main.path, version, &file));
    }
    for dep in &info.deps {
        let (name, version) = match &dep.replace {
            // A local directory replacement has no module identity of its own: it keeps the
            // module path it stands for, and the version Go records for it, `(devel)` (what
            // Syft reports; Trivy reports none). The purl omits it: nothing was released.
            Some(replace) if replace.path.starts_with('.') || replace.path.starts_with('/') => {
                let local = if replace.version.is_empty() {
                    DEVEL.to_string()
                } else {
                    replace.version.clone()
                };
                (dep.module.path.clone(), local)
            }
            Some(replace) => (replace.path.clone(), replace.version.clone()),
            None => (dep.module.path.clone(), dep.module.version.clone()),
        };
        let local = is_local(dep);
        let mut version = if (no_release(&version) && !local) || version == "v0.0.0" {
            String::new()
        } else {
            version
        };
        if no_release(&version)
            && let Some(staging) = &staging
            && name.starts_with("k8s.io/")
        {
            version = staging.clone();
        }
        out.push(go_package(&name, version, &file));
    }
    out
}

/// Go's version of the main module and of local directory replacements: built from a
/// source tree, not a released module.
const DEVEL: &str = "(devel)";

fn is_local(dep: &Dep) -> bool {
    dep.replace
        .as_ref()
        .is_some_and(|r| r.path.starts_with('.') || r.path.starts_with('/'))
}

fn go_package(name: &str, version: String, file: &Option<String>) -> Package {
    let purl_version = if no_release(&version) { "" } else { &version };
    Package {
        kind: PackageKind::Go,
        name: name.to_string(),
        purl: purl::golang(name, purl_version),
        version,
        path: file.clone(),
        ..Package::default()
    }
}

/// Kubernetes `v1.32.5` → staging module version `v0.32.5` (same minor and patch, suffix kept).
fn staging_version(kube: &str) -> Option<String> {
    let rest = kube.strip_prefix("v1.")?;
    Some(format!("v0.{rest}"))
}

/// Splits a `-ldflags` value like `cmd/internal/quoted.Split`: whitespace separates words,
/// single or double quotes group without escapes.
pub(crate) fn split_flags(value: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in value.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            None => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

/// The `-X key=value` pairs of an `-ldflags` value (`-X k=v`, `-X=k=v`, `'-X k=v'`, `all=` prefix).
pub(crate) fn x_flags(ldflags: &str) -> Vec<(String, String)> {
    let words = split_flags(ldflags.strip_prefix("all=").unwrap_or(ldflags));
    let mut out = Vec::new();
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        let word = word.trim_start_matches('-');
        let pair = if word == "X" {
            iter.next().map(String::as_str)
        } else if let Some(rest) = word.strip_prefix("X=") {
            Some(rest)
        } else {
            word.strip_prefix("X ").map(str::trim_start)
        };
        if let Some((key, value)) = pair.and_then(|p| p.split_once('=')) {
            out.push((key.to_string(), value.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdlib_versions_follow_osv_go() {
        assert_eq!(stdlib_version("go1.22.3").as_deref(), Some("1.22.3"));
        assert_eq!(
            stdlib_version("go1.22.3 X:boringcrypto").as_deref(),
            Some("1.22.3")
        );
        assert_eq!(stdlib_version("go1.20").as_deref(), Some("1.20.0"));
        assert_eq!(stdlib_version("go1.21rc2").as_deref(), Some("1.21.0-rc.2"));
        assert_eq!(
            stdlib_version("go1.9beta1").as_deref(),
            Some("1.9.0-beta.1")
        );
        assert_eq!(stdlib_version("go1.22.5-1").as_deref(), Some("1.22.5"));
        assert_eq!(stdlib_version("devel go1.23-abcdef Mon"), None);
        assert_eq!(stdlib_version("go1.2x"), None);
    }

    #[test]
    fn pseudo_versions_are_recognised() {
        assert!(is_pseudo_version("v0.0.0-20240101120000-abcdef123456"));
        assert!(is_pseudo_version("v1.2.4-0.20240101120000-abcdef123456"));
        assert!(is_pseudo_version(
            "v1.2.3-pre.0.20240101120000-abcdef123456"
        ));
        assert!(!is_pseudo_version("v1.33.1"));
        assert!(!is_pseudo_version("v1.2.3-rc.1"));
    }

    #[test]
    fn modinfo_with_replacements_and_quoted_settings() {
        let text = "path\tk8s.io/kubernetes/cmd/kubectl\n\
            mod\tk8s.io/kubernetes\t(devel)\t\n\
            dep\tgithub.com/a/b\tv1.0.0\th1:abc=\n\
            dep\tk8s.io/api\tv0.0.0\n\
            =>\t./staging/src/k8s.io/api\t(devel)\t\n\
            dep\tgithub.com/c/d\tv1.2.0\th1:x=\n\
            =>\tgithub.com/fork/d\tv1.2.1\th1:y=\n\
            build\t-ldflags=\"-s -w -X 'k8s.io/component-base/version.gitVersion=v1.30.2'\"\n\
            build\t\"key with space\"=value\n\
            build\tvcs.revision=0123456789abcdef0123456789abcdef01234567\n";
        let info = parse_modinfo("go1.22.5", text).unwrap();
        assert_eq!(info.path, "k8s.io/kubernetes/cmd/kubectl");
        assert_eq!(info.deps.len(), 3);
        assert_eq!(
            info.setting("-ldflags"),
            Some("-s -w -X 'k8s.io/component-base/version.gitVersion=v1.30.2'")
        );
        assert_eq!(info.setting("key with space"), Some("value"));
        let pairs = x_flags(info.setting("-ldflags").unwrap());
        assert_eq!(
            pairs,
            vec![(
                "k8s.io/component-base/version.gitVersion".to_string(),
                "v1.30.2".to_string()
            )]
        );
        let pkgs = packages("usr/bin/kubectl", &info, Some("v1.30.2"));
        let names: Vec<(&str, &str)> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("stdlib", "1.22.5"),
                ("k8s.io/kubernetes", "v1.30.2"),
                ("github.com/a/b", "v1.0.0"),
                ("k8s.io/api", "v0.30.2"),
                ("github.com/fork/d", "v1.2.1"),
            ]
        );
        assert_eq!(pkgs[4].purl, "pkg:golang/github.com/fork/d@v1.2.1");
        assert_eq!(pkgs[0].purl, "pkg:golang/stdlib@1.22.5");
    }

    #[test]
    fn malformed_modinfo_names_the_line() {
        let err = parse_modinfo("go1.22.0", "path\tx\n=>\ty\tv1\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        let err = parse_modinfo("go1.22.0", "dep\tonly-path\n").unwrap_err();
        assert!(err.contains("line 1") && err.contains("dep"), "{err}");
    }

    #[test]
    fn x_flag_spellings() {
        let pairs = x_flags("-X=a.b=1 '-X c.d=2' -X e.f=3 -s");
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec!["a.b", "c.d", "e.f"]);
    }

    #[test]
    fn decode_rejects_stray_magic_and_reads_inline_blob() {
        let mut blob = MAGIC.to_vec();
        blob.extend_from_slice(&[8, 2]);
        blob.resize(32, 0);
        blob.push(8);
        blob.extend_from_slice(b"go1.22.3");
        blob.push(5);
        blob.extend_from_slice(b"path\t");
        match decode(&blob, 1 << 20) {
            Blob::Inline {
                go_version,
                modinfo,
            } => {
                assert_eq!(go_version, "go1.22.3");
                assert_eq!(modinfo, "path\t");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(decode(&blob[..40], 1 << 20), Blob::NeedMore));
        let mut stray = MAGIC.to_vec();
        stray.extend_from_slice(b"xx and more text that follows it...");
        assert!(matches!(decode(&stray, 1 << 20), Blob::NotBuildInfo));
    }
}
