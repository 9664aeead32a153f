//! kubeconfig files, as client-go's loader reads them, for running the watch outside a
//! cluster: `$KUBECONFIG` (a `:`-separated list, merged: the first file to define a
//! cluster, user or context by name wins, and the first non-empty `current-context`) or
//! `~/.kube/config`; the current context's cluster (`server`, `certificate-authority` or
//! `-data`, `tls-server-name`) and user (`client-certificate`/`client-key` or `-data`,
//! `token`, `tokenFile`). Relative file paths are resolved against the kubeconfig file
//! that names them, as kubectl does.
//!
//! Refused with an error that names the file and field, rather than half-supported:
//! `exec` and `auth-provider` plugins, basic auth, impersonation, `proxy-url`,
//! `insecure-skip-tls-verify: true`, and a cluster without a CA (the watch trusts only
//! the cluster's CA, never a system store).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

/// Why a kubeconfig cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeconfigError {
    #[error("cannot read kubeconfig {file}: {reason}")]
    Read { file: String, reason: String },
    #[error("kubeconfig {file}: {field}: {reason}")]
    Field {
        file: String,
        field: String,
        reason: String,
    },
    #[error("kubeconfig {files}: {reason}")]
    Context { files: String, reason: String },
}

/// Where a token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Fixed(String),
    /// Re-read on every request (client-go re-reads `tokenFile` too: it may rotate).
    File(PathBuf),
}

/// What the API client needs from the current context.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterAccess {
    /// `https://host[:port][/path]` (or `http://` only in tests).
    pub server: String,
    pub ca_pem: Vec<u8>,
    /// Overrides the name the server's certificate is checked against.
    pub tls_server_name: Option<String>,
    /// PEM certificate chain and PEM private key.
    pub client_cert: Option<(Vec<u8>, Vec<u8>)>,
    pub token: Option<TokenSource>,
    /// For the log: `context "x" (cluster "c", user "u") from FILE`.
    pub description: String,
}

impl std::fmt::Debug for ClusterAccess {
    // Never prints keys or tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterAccess")
            .field("server", &self.server)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

/// One named entry (`clusters[i]`, `users[i]`, `contexts[i]`) and the file it came from.
struct Entry {
    file: PathBuf,
    field: String,
    body: Value,
}

#[derive(Default)]
struct Merged {
    current_context: Option<(PathBuf, String)>,
    clusters: HashMap<String, Entry>,
    users: HashMap<String, Entry>,
    contexts: HashMap<String, Entry>,
}

fn field_err(file: &Path, field: &str, reason: impl Into<String>) -> KubeconfigError {
    KubeconfigError::Field {
        file: file.display().to_string(),
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Largest kubeconfig file read: real ones are kilobytes; this only bounds a mistake
/// such as pointing `--kubeconfig` at a disk image.
const MAX_KUBECONFIG_BYTES: u64 = 4 * 1024 * 1024;

impl Merged {
    fn add_file(&mut self, file: &Path) -> Result<(), KubeconfigError> {
        let read_err = |reason: String| KubeconfigError::Read {
            file: file.display().to_string(),
            reason,
        };
        let limits = palisade_yaml::Limits {
            max_file_bytes: MAX_KUBECONFIG_BYTES,
            max_documents_per_file: 1,
            ..palisade_yaml::Limits::default()
        };
        // Not a Kubernetes object: client-go reads a kubeconfig without apiVersion and kind
        // as `v1` `Config`, so every mapping document is taken as it is.
        let loaded = palisade_yaml::load_mapping_file(file, &limits);
        if let Some(e) = loaded.errors.first() {
            return Err(read_err(e.to_string()));
        }
        let Some(doc) = loaded.documents.into_iter().next() else {
            // An empty file is an empty config (as in client-go).
            return Ok(());
        };
        let root = doc.value;
        if !root.is_object() {
            return Err(field_err(file, "(document)", "is not a mapping"));
        }
        for (key, want) in [("kind", "Config"), ("apiVersion", "v1")] {
            // Left out (or empty) means the default, as client-go decodes it; anything else
            // is not a kubeconfig.
            let got = match root.get(key) {
                None | Some(Value::Null) => continue,
                Some(v) => v.as_str().unwrap_or("(not a string)"),
            };
            if !got.is_empty() && got != want {
                return Err(field_err(
                    file,
                    key,
                    format!("is {got:?}, expected {want:?}"),
                ));
            }
        }
        if let Some(ctx) = root.get("current-context") {
            let Some(ctx) = ctx.as_str() else {
                return Err(field_err(file, "current-context", "is not a string"));
            };
            if !ctx.is_empty() && self.current_context.is_none() {
                self.current_context = Some((file.to_owned(), ctx.to_owned()));
            }
        }
        for (list, inner, map) in [
            ("clusters", "cluster", &mut self.clusters),
            ("users", "user", &mut self.users),
            ("contexts", "context", &mut self.contexts),
        ] {
            let items = match root.get(list) {
                None | Some(Value::Null) => continue,
                Some(Value::Array(items)) => items,
                Some(_) => return Err(field_err(file, list, "is not a list")),
            };
            for (i, item) in items.iter().enumerate() {
                let at = format!("{list}[{i}]");
                let name = item
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| field_err(file, &format!("{at}.name"), "is missing"))?;
                let body = match item.get(inner) {
                    Some(b @ Value::Object(_)) => b.clone(),
                    None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
                    Some(_) => {
                        return Err(field_err(
                            file,
                            &format!("{at}.{inner}"),
                            "is not a mapping",
                        ));
                    }
                };
                // The first file to define a name wins (client-go's merge rule).
                map.entry(name.to_owned()).or_insert(Entry {
                    file: file.to_owned(),
                    field: format!("{at}.{inner}"),
                    body,
                });
            }
        }
        Ok(())
    }
}

impl Entry {
    fn str(&self, key: &str) -> Result<Option<&str>, KubeconfigError> {
        match self.body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.err(key, "is not a string")),
        }
    }

    fn err(&self, key: &str, reason: impl Into<String>) -> KubeconfigError {
        field_err(&self.file, &format!("{}.{key}", self.field), reason)
    }

    /// A path as written, resolved against this entry's kubeconfig directory.
    fn path(&self, key: &str) -> Result<Option<PathBuf>, KubeconfigError> {
        Ok(self.str(key)?.map(|p| {
            let p = PathBuf::from(p);
            if p.is_relative() {
                self.file.parent().unwrap_or(Path::new("")).join(p)
            } else {
                p
            }
        }))
    }

    /// `<key>-data` (base64) or the file named by `<key>`; `-data` wins, as in client-go.
    fn data_or_file(&self, key: &str) -> Result<Option<Vec<u8>>, KubeconfigError> {
        let data_key = format!("{key}-data");
        if let Some(data) = self.str(&data_key)? {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|e| self.err(&data_key, format!("is not valid base64: {e}")))?;
            return Ok(Some(bytes));
        }
        match self.path(key)? {
            None => Ok(None),
            Some(p) => std::fs::read(&p)
                .map(Some)
                .map_err(|e| self.err(key, format!("cannot read {}: {e}", p.display()))),
        }
    }

    fn refuse(&self, key: &str, reason: &str) -> Result<(), KubeconfigError> {
        match self.body.get(key) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(()),
            Some(Value::String(s)) if s.is_empty() => Ok(()),
            Some(_) => Err(self.err(key, reason)),
        }
    }
}

/// The kubeconfig files to read: `explicit` (a `--kubeconfig` flag) or else `$KUBECONFIG`
/// split on `:` (empty parts skipped), in order. `None` when neither is set.
pub fn configured_files(
    explicit: Option<&Path>,
    kubeconfig_env: Option<&str>,
) -> Option<Vec<PathBuf>> {
    if let Some(p) = explicit {
        return Some(vec![p.to_owned()]);
    }
    let files: Vec<PathBuf> = kubeconfig_env?
        .split(':')
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect();
    (!files.is_empty()).then_some(files)
}

/// Loads and merges `files` and resolves the current context. Files of a `$KUBECONFIG`
/// list that do not exist are skipped (as kubectl does) unless none exists; an explicit
/// single file must exist.
pub fn load(files: &[PathBuf]) -> Result<ClusterAccess, KubeconfigError> {
    let mut merged = Merged::default();
    let mut read = Vec::new();
    for f in files {
        if files.len() > 1 && !f.exists() {
            continue;
        }
        merged.add_file(f)?;
        read.push(f.display().to_string());
    }
    let files_text = if read.is_empty() {
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(":")
    } else {
        read.join(":")
    };
    if read.is_empty() {
        return Err(KubeconfigError::Read {
            file: files_text,
            reason: "no such file".into(),
        });
    }
    let ctx_err = |reason: String| KubeconfigError::Context {
        files: files_text.clone(),
        reason,
    };
    let Some((ctx_file, ctx_name)) = merged.current_context.clone() else {
        return Err(ctx_err(
            "current-context is not set (kubectl config use-context NAME)".into(),
        ));
    };
    let context = merged.contexts.get(&ctx_name).ok_or_else(|| {
        field_err(
            &ctx_file,
            "current-context",
            format!("context {ctx_name:?} is not defined under contexts"),
        )
    })?;
    let cluster_name = context
        .str("cluster")?
        .ok_or_else(|| context.err("cluster", "is missing"))?;
    let cluster = merged.clusters.get(cluster_name).ok_or_else(|| {
        context.err(
            "cluster",
            format!("cluster {cluster_name:?} is not defined under clusters"),
        )
    })?;
    let user_name = context.str("user")?;
    let user = match user_name {
        None => None,
        Some(name) => Some(merged.users.get(name).ok_or_else(|| {
            context.err("user", format!("user {name:?} is not defined under users"))
        })?),
    };

    let server = cluster
        .str("server")?
        .ok_or_else(|| cluster.err("server", "is missing"))?
        .to_owned();
    cluster.refuse(
        "insecure-skip-tls-verify",
        "is true: the watch always verifies the API server; set certificate-authority or certificate-authority-data instead",
    )?;
    cluster.refuse(
        "proxy-url",
        "is not supported: the watch connects to the API server directly",
    )?;
    let ca_pem = match cluster.data_or_file("certificate-authority")? {
        Some(ca) => ca,
        None if server.starts_with("http://") => Vec::new(),
        None => {
            return Err(cluster.err(
                "certificate-authority-data",
                "is missing (and so is certificate-authority): the watch trusts only the cluster's CA, never the system store",
            ));
        }
    };
    let tls_server_name = cluster.str("tls-server-name")?.map(str::to_owned);

    let mut client_cert = None;
    let mut token = None;
    if let Some(user) = user {
        for (key, reason) in [
            (
                "exec",
                "exec credential plugins are not supported; use a token, tokenFile or client certificate (for example a service account token: kubectl create token NAME)",
            ),
            (
                "auth-provider",
                "auth-provider plugins are not supported; use a token, tokenFile or client certificate",
            ),
            (
                "username",
                "basic authentication is not supported; use a token, tokenFile or client certificate",
            ),
            (
                "password",
                "basic authentication is not supported; use a token, tokenFile or client certificate",
            ),
            ("as", "impersonation is not supported"),
            ("as-uid", "impersonation is not supported"),
            ("as-groups", "impersonation is not supported"),
            ("as-user-extra", "impersonation is not supported"),
        ] {
            user.refuse(key, reason)?;
        }
        let cert = user.data_or_file("client-certificate")?;
        let key = user.data_or_file("client-key")?;
        client_cert = match (cert, key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(user.err(
                    "client-key-data",
                    "is missing (and so is client-key) but a client certificate is set",
                ));
            }
            (None, Some(_)) => {
                return Err(user.err(
                    "client-certificate-data",
                    "is missing (and so is client-certificate) but a client key is set",
                ));
            }
        };
        // tokenFile wins over token: client-go re-reads the file and prefers what it read.
        token = match (user.path("tokenFile")?, user.str("token")?) {
            (Some(p), _) => Some(TokenSource::File(p)),
            (None, Some(t)) => Some(TokenSource::Fixed(t.to_owned())),
            (None, None) => None,
        };
    }
    Ok(ClusterAccess {
        server,
        ca_pem,
        tls_server_name,
        client_cert,
        token,
        description: format!(
            "context {ctx_name:?} (cluster {cluster_name:?}, user {:?}) from {}",
            user_name.unwrap_or(""),
            files_text
        ),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const HEAD: &str = "apiVersion: v1\nkind: Config\n";
    const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn merges_files_and_resolves_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ca.crt", CA);
        write(dir.path(), "token", "abc\n");
        let first = write(
            dir.path(),
            "a.yaml",
            "apiVersion: v1\nkind: Config\ncurrent-context: dev\ncontexts:\n- name: dev\n  context: {cluster: c, user: u}\n",
        );
        let second = write(
            dir.path(),
            "b.yaml",
            "apiVersion: v1\nkind: Config\ncurrent-context: other\nclusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1:6443\n    certificate-authority: ca.crt\n    tls-server-name: kubernetes\nusers:\n- name: u\n  user:\n    token: fixed\n    tokenFile: token\n- name: u2\n  user: {token: x}\ncontexts:\n- name: dev\n  context: {cluster: nope}\n",
        );
        let env = format!(
            "{}::{}:{}",
            first.display(),
            dir.path().join("missing").display(),
            second.display()
        );
        let files = configured_files(None, Some(&env)).unwrap();
        assert_eq!(files.len(), 3);
        let a = load(&files).unwrap();
        assert_eq!(a.server, "https://10.0.0.1:6443");
        assert_eq!(a.ca_pem, CA.as_bytes());
        assert_eq!(a.tls_server_name.as_deref(), Some("kubernetes"));
        assert_eq!(a.token, Some(TokenSource::File(dir.path().join("token"))));
        assert!(a.client_cert.is_none());
        assert!(
            a.description.contains("context \"dev\""),
            "{}",
            a.description
        );
        // An explicit file wins over $KUBECONFIG.
        assert_eq!(
            configured_files(Some(Path::new("/x")), Some(&env)).unwrap(),
            [PathBuf::from("/x")]
        );
        assert_eq!(configured_files(None, Some("")), None);
        assert_eq!(configured_files(None, None), None);
    }

    #[test]
    fn apiversion_and_kind_may_be_left_out_as_in_client_go() {
        let dir = tempfile::tempdir().unwrap();
        for (i, head) in [
            "",
            "apiVersion: v1\n",
            "kind: Config\n",
            "apiVersion: \"\"\n",
        ]
        .iter()
        .enumerate()
        {
            let f = write(
                dir.path(),
                &format!("k{i}"),
                &format!(
                    "{head}current-context: x\nclusters:\n- name: c\n  cluster: {{server: 'https://k', certificate-authority-data: {}}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\n",
                    b64(CA)
                ),
            );
            let a = load(&[f]).unwrap();
            assert_eq!(a.server, "https://k", "case {i}");
            assert_eq!(
                a.token,
                Some(TokenSource::Fixed("t".to_owned())),
                "case {i}"
            );
        }
        // The same content as JSON, also without apiVersion/kind.
        let f = write(
            dir.path(),
            "k.json",
            &format!(
                r#"{{"current-context":"x","clusters":[{{"name":"c","cluster":{{"server":"https://j","certificate-authority-data":"{}"}}}}],"users":[{{"name":"u","user":{{"token":"t"}}}}],"contexts":[{{"name":"x","context":{{"cluster":"c","user":"u"}}}}]}}"#,
                b64(CA)
            ),
        );
        assert_eq!(load(&[f]).unwrap().server, "https://j");
        // An empty file is an empty configuration, merged with the next.
        let empty = write(dir.path(), "empty", "");
        let rest = dir.path().join("k0");
        assert_eq!(load(&[empty, rest]).unwrap().server, "https://k");
    }

    #[test]
    fn data_fields_win_over_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(
            dir.path(),
            "config",
            &format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: c\n  cluster: {{server: 'https://k', certificate-authority: /nonexistent, certificate-authority-data: {}}}\nusers:\n- name: u\n  user: {{client-certificate-data: {}, client-key-data: {}}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\n",
                b64(CA),
                b64("CERT"),
                b64("KEY")
            ),
        );
        let a = load(&[f]).unwrap();
        assert_eq!(a.ca_pem, CA.as_bytes());
        assert_eq!(a.client_cert, Some((b"CERT".to_vec(), b"KEY".to_vec())));
        assert_eq!(a.token, None);
    }

    #[test]
    fn unsupported_and_broken_configs_name_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let base = |user: &str, cluster: &str| {
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: c\n  cluster: {cluster}\nusers:\n- name: u\n  user: {user}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\n"
            )
        };
        let ok_cluster = format!(
            "{{server: 'https://k', certificate-authority-data: {}}}",
            b64(CA)
        );
        let cases = [
            (
                base("{exec: {command: aws}}", &ok_cluster),
                "users[0].user.exec: exec credential plugins are not supported",
            ),
            (
                base("{auth-provider: {name: gcp}}", &ok_cluster),
                "users[0].user.auth-provider: auth-provider plugins are not supported",
            ),
            (
                base("{username: a, password: b}", &ok_cluster),
                "users[0].user.username: basic authentication is not supported",
            ),
            (
                base("{client-certificate-data: eA==}", &ok_cluster),
                "users[0].user.client-key-data: is missing",
            ),
            (
                base(
                    "{token: t}",
                    "{server: 'https://k', insecure-skip-tls-verify: true}",
                ),
                "clusters[0].cluster.insecure-skip-tls-verify: is true",
            ),
            (
                base("{token: t}", "{server: 'https://k'}"),
                "clusters[0].cluster.certificate-authority-data: is missing",
            ),
            (
                base(
                    "{token: t}",
                    "{server: 'https://k', certificate-authority-data: '%%%'}",
                ),
                "clusters[0].cluster.certificate-authority-data: is not valid base64",
            ),
            (
                base(
                    "{token: t}",
                    "{server: 'https://k', certificate-authority: ca.pem}",
                ),
                "clusters[0].cluster.certificate-authority: cannot read",
            ),
            (
                base("{token: t}", "{certificate-authority-data: eA==}"),
                "clusters[0].cluster.server: is missing",
            ),
            (
                format!("{HEAD}current-context: staging\ncontexts: []\n"),
                "current-context: context \"staging\" is not defined",
            ),
            (
                format!("{HEAD}clusters: []\n"),
                "current-context is not set",
            ),
            (
                "apiVersion: v1\nkind: Pod\n".to_owned(),
                "kind: is \"Pod\", expected \"Config\"",
            ),
            (
                "apiVersion: v2\nkind: Config\n".to_owned(),
                "apiVersion: is \"v2\", expected \"v1\"",
            ),
            // No apiVersion/kind is a kubeconfig (client-go defaults them), here one
            // without a current context.
            ("clusters: []\n".to_owned(), "current-context is not set"),
            (
                "apiVersion: v1\nkind: [Config]\n".to_owned(),
                "kind: is \"(not a string)\", expected \"Config\"",
            ),
            ("- a\n- b\n".to_owned(), "cannot read kubeconfig"),
            (format!("{HEAD}users: {{a: 1}}\n"), "users: is not a list"),
            (
                format!("{HEAD}users:\n- user: {{}}\n"),
                "users[0].name: is missing",
            ),
        ];
        for (i, (text, want)) in cases.iter().enumerate() {
            let f = write(dir.path(), &format!("c{i}"), text);
            let e = load(std::slice::from_ref(&f)).unwrap_err().to_string();
            assert!(e.contains(want), "case {i}: {e}");
            assert!(
                e.contains(&f.display().to_string()),
                "case {i} names the file: {e}"
            );
        }
        let e = load(&[dir.path().join("absent")]).unwrap_err().to_string();
        assert!(e.contains("cannot read kubeconfig"), "{e}");
        let e = load(&[write(dir.path(), "bad", "a: [")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read kubeconfig"), "{e}");
    }
}
