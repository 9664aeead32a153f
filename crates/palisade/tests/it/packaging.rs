//! What people install Palisade from: the container image (Dockerfile), the GitHub Action, the
//! pre-commit hooks, the krew manifest and the release workflow. None of them can run here (no
//! registry, no GitHub), so this checks what can be checked offline: each file parses, every
//! base image and action is pinned by digest, they agree with each other and with deploy/, and
//! the commands they run are real `palisade` commands that behave as they expect.

use crate::root;
use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A YAML mapping document through the project's own loader.
fn yaml(name: &str, text: &str) -> Value {
    let loaded =
        palisade_yaml::load_mapping_bytes(name, text.as_bytes(), &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{name}: {:#?}", loaded.errors);
    assert_eq!(loaded.documents.len(), 1, "{name}");
    loaded.documents[0].value.clone()
}

const IMAGE: &str = "ghcr.io/palisade-dev/palisade";

/// Dockerfile instructions: (keyword, arguments), continuation lines joined, comments dropped.
fn dockerfile() -> Vec<(String, String)> {
    let text = read("Dockerfile");
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let t = line.trim();
        if current.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        if let Some(head) = t.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(t);
        let (kw, args) = current.split_once(char::is_whitespace).unwrap();
        out.push((kw.to_ascii_uppercase(), args.trim().to_owned()));
        current.clear();
    }
    assert!(
        current.is_empty(),
        "Dockerfile ends inside a continued line"
    );
    out
}

fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[test]
fn dockerfile_is_pinned_multi_stage_and_non_root() {
    const KNOWN: [&str; 18] = [
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
        "MAINTAINER",
    ];
    let ins = dockerfile();
    for (kw, args) in &ins {
        assert!(
            KNOWN.contains(&kw.as_str()),
            "unknown instruction {kw} {args}"
        );
    }
    let froms: Vec<&String> = ins
        .iter()
        .filter(|(k, _)| k == "FROM")
        .map(|(_, a)| a)
        .collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    for from in &froms {
        let image = from.split_whitespace().next().unwrap();
        let (_, digest) = image
            .split_once('@')
            .unwrap_or_else(|| panic!("FROM {image} is not pinned by digest"));
        assert!(is_digest(digest), "FROM {image}");
    }
    // The last stage: distroless, a non-root user, palisade as the entrypoint.
    let last_from = ins.iter().rposition(|(k, _)| k == "FROM").unwrap();
    let final_stage = &ins[last_from..];
    assert!(
        final_stage[0].1.contains("distroless"),
        "{:?}",
        final_stage[0]
    );
    let user = final_stage
        .iter()
        .rev()
        .find(|(k, _)| k == "USER")
        .map(|(_, a)| a.as_str())
        .expect("the final stage sets USER");
    let uid = user.split(':').next().unwrap();
    assert!(uid != "0" && uid != "root", "USER {user}");
    let entry = final_stage
        .iter()
        .find(|(k, _)| k == "ENTRYPOINT")
        .map(|(_, a)| a.as_str())
        .unwrap();
    let entry: Vec<String> = serde_json::from_str(entry).unwrap();
    assert_eq!(entry, ["/usr/local/bin/palisade"]);
    // The image runs as the user the deploy manifests ask for, with a read-only root FS.
    for deploy in [
        "deploy/admit/50-deployment.yaml",
        "deploy/feed/40-deployment.yaml",
        "deploy/audit/40-deployment.yaml",
    ] {
        let text = read(deploy);
        assert!(text.contains(&format!("image: {IMAGE}:")), "{deploy}");
        assert!(text.contains(&format!("runAsUser: {uid}")), "{deploy}");
        assert!(text.contains("readOnlyRootFilesystem: true"), "{deploy}");
    }
    let ignore = read(".dockerignore");
    for entry in [".git", "target"] {
        assert!(
            ignore.lines().any(|l| l.trim() == entry),
            ".dockerignore lacks {entry}"
        );
    }
}

/// Every `uses:` in a workflow or action names a full commit SHA (a tag can be moved).
fn assert_uses_pinned(name: &str, text: &str) {
    let mut seen = 0;
    for line in text.lines() {
        let t = line.trim().trim_start_matches("- ");
        if let Some(uses) = t.strip_prefix("uses:") {
            let uses = uses.split('#').next().unwrap().trim();
            let (_, rev) = uses.split_once('@').unwrap();
            assert!(
                rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()),
                "{name}: {uses} is not pinned to a commit"
            );
            seen += 1;
        }
    }
    assert!(seen > 0, "{name}");
}

#[test]
fn github_action_is_consistent_and_safe() {
    let text = read("action.yml");
    let action = yaml("action.yml", &text);
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action["inputs"].as_object().unwrap();
    // Every input the steps use is declared.
    for part in text.split("inputs.").skip(1) {
        let name: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        assert!(
            inputs.contains_key(&name),
            "action.yml uses undeclared input {name}"
        );
    }
    // Inputs reach scripts through the environment only, never spliced into the script text.
    for step in action["runs"]["steps"].as_array().unwrap() {
        if let Some(run) = step["run"].as_str() {
            assert!(
                !run.contains("${{ inputs."),
                "input spliced into a script: {run}"
            );
        }
    }
    assert_eq!(inputs["version"]["default"], env!("CARGO_PKG_VERSION"));
    assert!(text.contains(&format!("{IMAGE}:")));
    assert!(text.contains("scan --format sarif"));
    assert_uses_pinned("action.yml", &text);
}

#[test]
fn pre_commit_hooks_run_real_scans() {
    let text = read(".pre-commit-hooks.yaml");
    // A YAML list: read it as the value of one key, with the project's loader.
    let wrapped: String = std::iter::once("hooks:".to_owned())
        .chain(text.lines().map(|l| format!("  {l}")))
        .collect::<Vec<_>>()
        .join("\n");
    let hooks = yaml(".pre-commit-hooks.yaml", &wrapped);
    let hooks = hooks["hooks"].as_array().unwrap();
    assert!(hooks.len() >= 2);
    for hook in hooks {
        for key in ["id", "name", "entry", "language", "files"] {
            assert!(hook[key].is_string(), "hook lacks {key}: {hook}");
        }
    }
    let native = hooks.iter().find(|h| h["language"] == "rust").unwrap();
    let entry: Vec<&str> = native["entry"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(entry[0], "palisade");
    let docker = hooks
        .iter()
        .find(|h| h["language"] == "docker_image")
        .unwrap();
    let docker_entry = docker["entry"].as_str().unwrap();
    assert!(
        docker_entry.starts_with(&format!("{IMAGE}:{} ", env!("CARGO_PKG_VERSION"))),
        "{docker_entry}"
    );
    assert_eq!(
        docker_entry.split_whitespace().skip(1).collect::<Vec<_>>(),
        entry[1..],
        "both hooks run the same command"
    );
    // pre-commit appends the changed files to the entry: a clean one passes, a privileged
    // DaemonSet fails the commit.
    let run = |file: &str| {
        Command::cargo_bin("palisade")
            .unwrap()
            .current_dir(root())
            .args(&entry[1..])
            .args(["--color", "never", file])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(run("examples/good-deployment.yaml"), Some(0));
    assert_eq!(run("examples/privileged-daemonset.yaml"), Some(1));
}

#[test]
fn release_workflow_and_krew_manifest_agree() {
    let workflow = read(".github/workflows/release.yml");
    let wf = yaml("release.yml", &workflow);
    let targets: Vec<&str> = wf["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["target"].as_str().unwrap())
        .collect();
    for t in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(targets.contains(&t), "release builds no {t}");
    }
    assert!(workflow.contains("sha256sum") && workflow.contains("cyclonedx"));
    assert_uses_pinned("release.yml", &workflow);

    // The krew template, with krew-release-bot's actions filled in as it would.
    let krew = read(".krew.yaml");
    let mut filled = String::new();
    for line in krew.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("{{addURIAndSha \"") {
            let indent = &line[..line.len() - t.len()];
            let url = rest
                .split('"')
                .next()
                .unwrap()
                .replace("{{ .TagName }}", "v0.1.0");
            let archive = url.rsplit('/').next().unwrap();
            let target = archive
                .trim_start_matches("palisade-v0.1.0-")
                .trim_end_matches(".tar.gz")
                .trim_end_matches(".zip");
            assert!(
                targets.contains(&target),
                "krew names {target}, not released"
            );
            filled.push_str(&format!(
                "{indent}uri: {url}\n{indent}sha256: {}\n",
                "0".repeat(64)
            ));
        } else {
            filled.push_str(&line.replace("{{ .TagName }}", "v0.1.0"));
            filled.push('\n');
        }
    }
    let plugin = yaml(".krew.yaml", &filled);
    assert_eq!(plugin["kind"], "Plugin");
    assert_eq!(plugin["metadata"]["name"], "palisade");
    let platforms = plugin["spec"]["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 5);
    for p in platforms {
        let bin = p["bin"].as_str().unwrap();
        assert!(bin == "palisade" || bin == "palisade.exe", "{p}");
        assert!(p["uri"].as_str().unwrap().starts_with("https://"), "{p}");
    }
}

/// `cargo install palisade` from crates.io needs every workspace crate publishable: a
/// description, license, repository, README and keywords each, and every dependency on a
/// sibling crate with a version as well as a path (cargo refuses to publish a bare path).
#[test]
fn every_crate_has_the_metadata_crates_io_needs() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    assert!(packages.len() >= 11, "{} packages", packages.len());
    for p in packages {
        let name = p["name"].as_str().unwrap();
        for key in ["description", "license", "repository", "homepage"] {
            assert!(
                p[key].as_str().is_some_and(|s| !s.is_empty()),
                "{name}: no {key}"
            );
        }
        let readme = p["readme"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no readme"));
        let dir = Path::new(p["manifest_path"].as_str().unwrap())
            .parent()
            .unwrap();
        assert!(
            dir.join(readme).is_file(),
            "{name}: readme {readme} missing"
        );
        assert!(
            p["keywords"]
                .as_array()
                .is_some_and(|k| !k.is_empty() && k.len() <= 5),
            "{name}: keywords (1 to 5)"
        );
        for dep in p["dependencies"].as_array().unwrap() {
            let dname = dep["name"].as_str().unwrap();
            // Dev-dependencies are not published; normal and build ones must carry a version.
            if dname.starts_with("palisade") && dep["kind"].is_null() {
                assert_ne!(
                    dep["req"].as_str(),
                    Some("*"),
                    "{name} depends on {dname} by path only"
                );
            }
        }
    }
}
