//! `--render`: charts and root kustomizations are rendered by the program on PATH and their
//! output is scanned instead of their files (issue 16: "when helm/kubectl is on PATH and
//! --render is given, render and scan the output with locations mapped to the rendered
//! stream"). The renderers here are shell scripts standing in for helm and kubectl.

use palisade_yaml::render::Renderer;
use palisade_yaml::{Limits, Loaded, load_paths};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn chart(root: &Path) {
    fs::create_dir_all(root.join("chart/templates")).unwrap();
    fs::write(
        root.join("chart/Chart.yaml"),
        "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    )
    .unwrap();
    fs::write(root.join("chart/values.yaml"), "privileged: true\n").unwrap();
    fs::write(
        root.join("chart/templates/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n",
    )
    .unwrap();
}

/// What `helm template chart --include-crds` prints for [`chart`]: a ServiceAccount and a
/// privileged Pod, each under its `# Source:` comment.
const HELM_OUT: &str = "---\n# Source: demo/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: demo\n---\n# Source: demo/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: demo\nspec:\n  containers:\n  - name: c\n    image: busybox\n    securityContext:\n      privileged: true\n";

fn limits(helm: Option<PathBuf>, kubectl: Option<PathBuf>, timeout: Duration) -> Limits {
    Limits {
        render: Some(Renderer {
            helm,
            kubectl,
            timeout,
        }),
        ..Limits::default()
    }
}

fn names(l: &Loaded) -> Vec<String> {
    l.documents.iter().map(|d| d.file.to_string()).collect()
}

#[test]
fn a_chart_is_rendered_and_lines_are_those_of_the_output() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    let out = dir.path().join("helm.out");
    fs::write(&out, HELM_OUT).unwrap();
    // The script checks its arguments: template, the chart directory, --include-crds.
    let helm = script(
        dir.path(),
        "helm",
        &format!(
            "[ \"$1\" = template ] && [ \"$3\" = --include-crds ] && [ -f \"$2/Chart.yaml\" ] || exit 9\ncat {}",
            out.display()
        ),
    );
    let root = dir.path().join("chart");
    let l = load_paths(&[&root], &limits(Some(helm), None, Duration::from_secs(10)));
    assert!(l.errors.is_empty(), "{:#?}", l.errors);
    let shown = root.display().to_string();
    assert_eq!(
        names(&l),
        [
            format!("{shown}/templates/sa.yaml (rendered)"),
            format!("{shown}/templates/pod.yaml (rendered)")
        ]
    );
    // privileged: true is line 18 of helm's output, and so of its virtual file.
    let pod = &l.documents[1];
    assert_eq!(
        pod.locate(&palisade_core::FieldPath::parse(
            "spec.containers[0].securityContext.privileged"
        ))
        .line,
        18
    );
    // One note for the chart, none per template file.
    assert_eq!(l.notes.len(), 1, "{:#?}", l.notes);
    assert_eq!(l.notes[0].kind, "rendered");
    assert!(
        l.notes[0].message.contains("helm template"),
        "{}",
        l.notes[0].message
    );
}

#[test]
fn without_render_the_chart_files_stay_notes() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    let l = load_paths(&[dir.path().join("chart")], &Limits::default());
    assert!(l.documents.is_empty());
    assert!(
        l.notes.iter().all(|n| n.kind == "helm-chart"),
        "{:#?}",
        l.notes
    );
}

#[test]
fn a_failing_or_missing_renderer_is_an_error_and_the_files_stay_notes() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    let helm = script(
        dir.path(),
        "helm",
        "echo 'Error: template: boom' >&2\nexit 1",
    );
    let root = dir.path().join("chart");
    let l = load_paths(&[&root], &limits(Some(helm), None, Duration::from_secs(10)));
    assert_eq!(l.errors.len(), 1, "{:#?}", l.errors);
    assert_eq!(l.errors[0].kind, "render");
    assert!(
        l.errors[0].message.contains("template: boom"),
        "{}",
        l.errors[0].message
    );
    assert!(
        l.notes.iter().any(|n| n.kind == "helm-chart"),
        "{:#?}",
        l.notes
    );

    let l = load_paths(&[&root], &limits(None, None, Duration::from_secs(10)));
    assert_eq!(l.errors.len(), 1, "{:#?}", l.errors);
    assert!(
        l.errors[0].message.contains("helm is not on PATH"),
        "{}",
        l.errors[0].message
    );
}

#[test]
fn a_renderer_that_hangs_is_stopped_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    let helm = script(dir.path(), "helm", "sleep 30");
    let started = std::time::Instant::now();
    let l = load_paths(
        &[dir.path().join("chart")],
        &limits(Some(helm), None, Duration::from_millis(300)),
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(l.errors.len(), 1, "{:#?}", l.errors);
    assert!(
        l.errors[0].message.contains("did not finish"),
        "{}",
        l.errors[0].message
    );
}

#[test]
fn renderer_output_over_the_file_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path());
    let helm = script(dir.path(), "helm", "yes 'kind: Pod' | head -c 100000");
    let mut lim = limits(Some(helm), None, Duration::from_secs(10));
    lim.max_file_bytes = 1000;
    let l = load_paths(&[dir.path().join("chart")], &lim);
    assert_eq!(l.errors.len(), 1, "{:#?}", l.errors);
    assert!(
        l.errors[0].message.contains("more than 1000 bytes"),
        "{}",
        l.errors[0].message
    );
}

#[test]
fn only_the_root_kustomization_is_rendered_and_its_files_are_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("base")).unwrap();
    fs::create_dir_all(root.join("overlay")).unwrap();
    fs::write(
        root.join("base/kustomization.yaml"),
        "resources:\n- deploy.yaml\n",
    )
    .unwrap();
    fs::write(
        root.join("base/deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
    )
    .unwrap();
    fs::write(
        root.join("overlay/kustomization.yaml"),
        "resources:\n- ../base\npatches:\n- path: p.yaml\n",
    )
    .unwrap();
    fs::write(
        root.join("overlay/p.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
    )
    .unwrap();
    // A manifest outside any kustomization is scanned as it is.
    fs::write(
        root.join("plain.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    )
    .unwrap();
    let kubectl = script(
        root,
        "kubectl",
        "[ \"$1\" = kustomize ] || exit 9\ncase \"$2\" in */overlay) ;; *) echo \"wrong dir $2\" >&2; exit 8;; esac\nprintf 'apiVersion: apps/v1\\nkind: Deployment\\nmetadata:\\n  name: web\\nspec:\\n  replicas: 3\\n'",
    );
    let l = load_paths(
        &[root],
        &limits(None, Some(kubectl), Duration::from_secs(10)),
    );
    assert!(l.errors.is_empty(), "{:#?}", l.errors);
    let overlay = root.join("overlay").display().to_string();
    assert_eq!(
        names(&l),
        [
            format!("kubectl kustomize {overlay}"),
            root.join("plain.yaml").display().to_string()
        ]
    );
    assert_eq!(l.documents[0].value["spec"]["replicas"], 3);
    assert_eq!(l.notes.len(), 1, "{:#?}", l.notes);
    assert!(
        l.notes[0].message.contains("its 4 file(s)"),
        "{}",
        l.notes[0].message
    );
}
