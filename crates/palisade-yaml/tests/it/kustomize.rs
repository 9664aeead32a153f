//! Kustomize trees: kustomization files and the patch files they list are notes, not input
//! errors and not complete objects (issue: every scan of a Kustomize tree exited 2).

use palisade_yaml::{Limits, load_paths, load_str};
use std::fs;
use std::path::Path;

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.25
";

/// base/ with a Deployment; overlay/ patching it three ways, plus a real object of its own.
fn tree(root: &Path) {
    fs::create_dir_all(root.join("base")).unwrap();
    fs::create_dir_all(root.join("overlay/patches")).unwrap();
    fs::write(
        root.join("base/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deploy.yaml\n",
    )
    .unwrap();
    fs::write(root.join("base/deploy.yaml"), DEPLOYMENT).unwrap();
    fs::write(
        root.join("overlay/kustomization.yml"),
        "resources:\n- ../base\n- extra.yaml\npatchesStrategicMerge:\n- replicas.yaml\n- |-\n  apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: web}\npatchesJson6902:\n- target: {group: apps, version: v1, kind: Deployment, name: web}\n  path: patches/ops.yaml\npatches:\n- path: ./patches/privileged.yaml\n  target: {kind: Deployment}\n",
    )
    .unwrap();
    fs::write(
        root.join("overlay/replicas.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
    )
    .unwrap();
    fs::write(
        root.join("overlay/patches/ops.yaml"),
        "- op: replace\n  path: /spec/replicas\n  value: 2\n",
    )
    .unwrap();
    fs::write(
        root.join("overlay/patches/privileged.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        securityContext:\n          privileged: true\n",
    )
    .unwrap();
    fs::write(
        root.join("overlay/extra.yaml"),
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: extra\n",
    )
    .unwrap();
}

#[test]
fn kustomize_tree_scans_without_errors_and_notes_every_patch() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let l = load_paths(&[dir.path()], &Limits::default());
    assert!(l.errors.is_empty(), "{:#?}", l.errors);
    assert_eq!(l.files, 7);
    // Only the two real objects are objects; the kustomization with apiVersion/kind is not.
    let kinds: Vec<&str> = l
        .documents
        .iter()
        .map(|d| d.value["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Deployment", "ServiceAccount"]);
    assert!(l.documents[0].file.ends_with("base/deploy.yaml"));
    let note = |suffix: &str| {
        l.notes
            .iter()
            .find(|n| n.file.ends_with(suffix))
            .unwrap_or_else(|| panic!("no note for {suffix}: {:#?}", l.notes))
    };
    for (file, field) in [
        ("overlay/replicas.yaml", "patchesStrategicMerge"),
        ("overlay/patches/ops.yaml", "patchesJson6902"),
        ("overlay/patches/privileged.yaml", "patches"),
    ] {
        let n = note(file);
        assert_eq!(n.kind, "kustomize-patch", "{n:?}");
        assert!(n.message.contains(field), "{n:?}");
        assert!(n.message.contains("overlay/kustomization.yml"), "{n:?}");
        assert!(n.message.contains("kubectl kustomize"), "{n:?}");
    }
    for file in ["base/kustomization.yaml", "overlay/kustomization.yml"] {
        let n = note(file);
        assert_eq!(n.kind, "kustomization", "{n:?}");
        assert!(n.message.contains("kubectl kustomize"), "{n:?}");
    }
    assert_eq!(l.notes.len(), 5, "{:#?}", l.notes);
}

#[test]
fn a_patch_named_on_its_own_is_recognized_from_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let patch = dir.path().join("overlay/patches/privileged.yaml");
    let l = load_paths(&[&patch], &Limits::default());
    assert!(l.errors.is_empty() && l.documents.is_empty(), "{l:#?}");
    let ops = dir.path().join("overlay/patches/ops.yaml");
    let l = load_paths(&[&ops], &Limits::default());
    assert!(l.errors.is_empty() && l.documents.is_empty(), "{l:#?}");
    assert_eq!(l.notes[0].kind, "kustomize-patch");
    let replicas = dir.path().join("overlay/replicas.yaml");
    let l = load_paths(&[&replicas], &Limits::default());
    assert!(l.documents.is_empty(), "{l:#?}");
    assert!(
        l.notes[0].message.contains("patchesStrategicMerge"),
        "{l:#?}"
    );
}

#[test]
fn json_patch_documents_are_notes_other_sequences_stay_errors() {
    let l = load_str(
        "ops.yaml",
        "- op: add\n  path: /metadata/labels/a\n  value: b\n- {op: remove, path: /spec/x}\n",
        &Limits::default(),
    );
    assert!(l.errors.is_empty(), "{l:#?}");
    assert_eq!(l.notes.len(), 1);
    assert_eq!(l.notes[0].kind, "kustomize-patch");
    assert_eq!(l.notes[0].line, Some(1));
    let l = load_str("list.yaml", "- a\n- b\n", &Limits::default());
    assert_eq!(l.errors.len(), 1);
    assert_eq!(l.errors[0].kind, "not-object");
}

/// A Helm chart: templates are Go template text, not YAML; Chart.yaml and values are not
/// objects. All are notes naming the chart and `helm template`; `crds/` are real manifests.
#[test]
fn helm_chart_files_are_notes_with_the_render_command() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("mychart");
    fs::create_dir_all(chart.join("templates")).unwrap();
    fs::create_dir_all(chart.join("crds")).unwrap();
    fs::create_dir_all(chart.join("charts/sub/templates")).unwrap();
    fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: mychart\nversion: 0.1.0\n",
    )
    .unwrap();
    fs::write(
        chart.join("values.yaml"),
        "replicaCount: 1\nimage:\n  tag: \"\"\n",
    )
    .unwrap();
    fs::write(
        chart.join("templates/deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"mychart.fullname\" . }}\nspec:\n  template:\n    spec:\n      containers:\n        {{- toYaml .Values.containers | nindent 8 }}\n",
    )
    .unwrap();
    fs::write(
        chart.join("crds/widget.yaml"),
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n",
    )
    .unwrap();
    fs::write(
        chart.join("charts/sub/Chart.yaml"),
        "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
    )
    .unwrap();
    fs::write(
        chart.join("charts/sub/templates/svc.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-sub\n",
    )
    .unwrap();
    let l = load_paths(&[dir.path()], &Limits::default());
    assert!(l.errors.is_empty(), "{:#?}", l.errors);
    let kinds: Vec<&str> = l
        .documents
        .iter()
        .map(|d| d.value["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["CustomResourceDefinition"]);
    assert_eq!(l.notes.len(), 5, "{:#?}", l.notes);
    for n in &l.notes {
        assert_eq!(n.kind, "helm-chart", "{n:?}");
        assert!(n.message.contains("helm template"), "{n:?}");
    }
    let note = |suffix: &str| l.notes.iter().find(|n| n.file.ends_with(suffix)).unwrap();
    assert!(
        note("templates/deployment.yaml")
            .message
            .contains("template")
    );
    assert!(note("values.yaml").message.contains("values"));
    // The subchart's template names the subchart.
    assert!(
        note("charts/sub/templates/svc.yaml")
            .message
            .contains("mychart/charts/sub |")
    );
}
