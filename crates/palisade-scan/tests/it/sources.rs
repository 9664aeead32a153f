//! The same objects read from files and handed over as values give the same findings.

use crate::{objects, scan_objects};
use palisade_core::Finding;
use palisade_scan::{Options, Scan, Source};
use std::path::PathBuf;

fn corpus() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/corpus"
    ))
}

/// A finding without where it was read from. RBAC messages say where a duplicated workload
/// was defined (`defined in 2 files` / `defined 2 times in one file`): location too. Cluster
/// objects reach the cross-object rules sorted by name, files in input order, so what
/// depends on that order is compared loosely: enumerations in RBAC messages as a bag of
/// words (a list cut at five, `... and 4 more`, by its head and length), and the workload a
/// namespace-level NetworkPolicy finding (NETPOL003/004) is shown on (the first read there).
fn essence(f: &Finding) -> String {
    let message = match f.message.find(" (defined ") {
        Some(i) => f.message.get(..i).unwrap_or_default(),
        None => &f.message,
    };
    let cut = message
        .rsplit_once(" and ")
        .and_then(|(_, t)| t.strip_suffix(" more")?.parse::<usize>().ok());
    let message = match cut {
        Some(n) => {
            let head = message.split("; ").next().unwrap_or(message);
            let head = head.split(", which ").next().unwrap_or(head);
            format!("{head} [and {n} more]")
        }
        None => message.to_owned(),
    };
    let mut words: Vec<&str> = message
        .split_whitespace()
        .map(|w| w.trim_end_matches(','))
        .collect();
    words.sort_unstable();
    let object = if ["NETPOL003", "NETPOL004"].contains(&f.rule.as_str()) {
        String::new()
    } else {
        format!("{:?} {} {:?}", f.object, f.field, f.fields)
    };
    format!(
        "{} {} {object} {:?} {}",
        f.rule,
        f.severity,
        f.paths,
        words.join(" ")
    )
}

#[test]
fn corpus_as_files_and_as_values_gives_the_same_findings() {
    let everything = Options {
        select: vec!["all".to_owned()],
        // Compared as they are: no owner deduplication on either side.
        dedup_owned: Some(false),
        ..Options::default()
    };
    let from_files = Scan::new(everything.clone())
        .unwrap()
        .run([Source::Paths(vec![corpus()])]);
    assert!(
        from_files.errors.is_empty(),
        "{:?}",
        from_files.errors.first()
    );
    assert!(
        from_files.findings.len() > 1000,
        "{}",
        from_files.findings.len()
    );

    // Every object the loader read, as a lister would hand it over.
    let loaded = palisade_yaml::load_paths(&[corpus()], &palisade_yaml::Limits::default());
    let named = |v: &serde_json::Value| {
        v.pointer("/metadata/name")
            .and_then(|n| n.as_str())
            .is_some()
    };
    let unnamed: Vec<_> = loaded
        .documents
        .iter()
        .filter(|d| !named(&d.value))
        .collect();
    let values: Vec<_> = loaded.documents.iter().map(|d| d.value.clone()).collect();
    let from_values = scan_objects(everything, values);

    // Objects without a name cannot come from an API server: they are input errors there.
    assert_eq!(from_values.errors.len(), unnamed.len());
    assert!(from_values.errors.iter().all(|e| e.kind == "not-object"));
    // An object defined twice (the corpus has a few, a cluster cannot): which copy the
    // cross-object rules pair with which depends on reading order, and cluster objects are
    // read grouped by kind. Their findings are left out of the comparison.
    let mut copies: std::collections::HashMap<palisade_core::ObjectRef, usize> =
        std::collections::HashMap::new();
    for d in &loaded.documents {
        *copies
            .entry(palisade_core::ObjectRef::of(&d.value))
            .or_default() += 1;
    }
    let skip = |f: &&Finding| {
        let namespace_level = ["NETPOL003", "NETPOL004"].contains(&f.rule.as_str());
        f.object.name.is_some()
            && (namespace_level || copies.get(&f.object).copied().unwrap_or(0) < 2)
    };
    let mut a: Vec<String> = from_files
        .findings
        .iter()
        .filter(skip)
        .map(essence)
        .collect();
    let mut b: Vec<String> = from_values
        .findings
        .iter()
        .filter(skip)
        .map(essence)
        .collect();
    a.sort();
    b.sort();
    let only_files: Vec<_> = a.iter().filter(|x| !b.contains(x)).take(5).collect();
    let only_values: Vec<_> = b.iter().filter(|x| !a.contains(x)).take(5).collect();
    assert!(
        only_files.is_empty() && only_values.is_empty() && a.len() == b.len(),
        "{} against {}\nonly from files: {only_files:#?}\nonly from values: {only_values:#?}",
        a.len(),
        b.len()
    );
    assert_eq!(
        from_values.summary.objects + unnamed.len(),
        from_files.summary.objects
    );

    // Locations: files give file:line, values their cluster:// name, no position, and origin.
    assert!(
        from_files
            .findings
            .iter()
            .all(|f| f.origin.is_none() && f.line > 0)
    );
    for f in &from_values.findings {
        let o = f.origin.as_ref().expect("origin on every cluster finding");
        assert_eq!(o.context, "test");
        assert_eq!(o.kind, f.object.kind);
        assert_eq!(Some(&o.name), f.object.name.as_ref());
        let expected = palisade_scan::cluster_uri("test", &o.kind, o.namespace.as_deref(), &o.name);
        assert_eq!(f.file, expected);
        assert_eq!((f.line, f.column, f.document), (0, 0, 0));
    }
    // The cross-object families ran on the values too.
    for family in ["rbac", "netpol", "pss", "hardening"] {
        assert!(
            from_values.findings.iter().any(|f| f.family == family),
            "{family}"
        );
    }
}

#[test]
fn pages_are_checked_as_they_arrive_with_progress() {
    let loaded = palisade_yaml::load_paths(&[corpus()], &palisade_yaml::Limits::default());
    let values: Vec<_> = loaded
        .documents
        .iter()
        .map(|d| d.value.clone())
        .filter(|v| v.pointer("/metadata/name").is_some())
        .collect();
    let n = values.len();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut scan = Scan::new(Options::default()).unwrap();
    let s = seen.clone();
    scan.on_progress(move |p| s.lock().unwrap().push(p.objects));
    // Pages of 100, as a paginated list returns them.
    let mut it = values.into_iter().peekable();
    while it.peek().is_some() {
        let page: Vec<_> = it.by_ref().take(100).collect();
        scan.add_objects(objects("c", page));
    }
    let out = scan.finish();
    let seen = seen.lock().unwrap();
    assert!(
        seen.len() >= n / 100,
        "one report per page at least: {}",
        seen.len()
    );
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(seen.last().copied(), Some(n));
    assert_eq!(out.summary.objects, n);
}

#[test]
fn a_bad_object_is_an_input_error_and_the_rest_is_scanned() {
    let out = scan_objects(
        Options::default(),
        vec![
            serde_json::json!({"kind": "Pod", "metadata": {"name": "x"}}),
            serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "y", "namespace": "a"},
                "spec": {"containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]}}),
        ],
    );
    assert_eq!(out.errors.len(), 1);
    assert!(
        out.errors[0].message.contains("apiVersion"),
        "{}",
        out.errors[0].message
    );
    assert_eq!(out.exit_status(), 2);
    assert!(
        out.findings
            .iter()
            .any(|f| f.file == "cluster://test/a/Pod/y")
    );
}

#[test]
fn a_scan_can_move_to_a_worker_thread_and_take_pages_and_notes() {
    fn send<T: Send>(_: &T) {}
    let mut scan = Scan::new(Options::default()).unwrap();
    send(&scan);
    let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "n", "uid": "u"},
        "spec": {"containers": [{"name": "c", "image": "i"}]}});
    let handle = std::thread::spawn(move || {
        scan.add_page("ctx", vec![pod]);
        scan.add_note(palisade_core::InputError {
            file: "cluster://ctx".into(),
            document: None,
            line: None,
            column: None,
            kind: "forbidden".into(),
            message: "list secrets: forbidden".into(),
        });
        scan.finish()
    });
    let out = handle.join().unwrap();
    assert!(out.notes.iter().any(|n| n.kind == "forbidden"));
    assert!(!out.findings.is_empty());
    assert!(
        out.findings
            .iter()
            .all(|f| f.file == "cluster://ctx/n/Pod/p"
                && f.origin.as_ref().unwrap().uid.as_deref() == Some("u"))
    );
    assert_eq!(out.summary.notes, out.notes.len());
}

/// A cluster's kinds are listed concurrently, so pages arrive in any order: the report must
/// not depend on it (RBAC messages enumerate bindings in the order objects are read).
#[test]
fn cluster_objects_in_any_order_give_the_same_report() {
    let loaded = palisade_yaml::load_paths(&[corpus()], &palisade_yaml::Limits::default());
    // One object per kind, namespace and name, as in a cluster.
    let mut seen = std::collections::BTreeSet::new();
    let values: Vec<serde_json::Value> = loaded
        .documents
        .into_iter()
        .map(|d| d.value)
        .filter(|v| {
            let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).map(str::to_owned);
            let name = s("/metadata/name");
            name.is_some() && seen.insert((s("/kind"), s("/metadata/namespace"), name))
        })
        .collect();
    let options = Options {
        select: vec!["rbac".to_owned(), "netpol".to_owned()],
        collect_checked: true,
        ..Options::default()
    };
    // Two listings: kinds one after another in opposite orders, each kind's objects in the
    // order the server lists them (as concurrent lists may deliver them).
    let mut by_kind: std::collections::BTreeMap<String, Vec<serde_json::Value>> =
        std::collections::BTreeMap::new();
    for v in values {
        let kind = v["kind"].as_str().unwrap_or_default().to_owned();
        by_kind.entry(kind).or_default().push(v);
    }
    let forward: Vec<_> = by_kind.values().flatten().cloned().collect();
    let backward: Vec<_> = by_kind.values().rev().flatten().cloned().collect();
    let forward = scan_objects(options.clone(), forward);
    let backward = scan_objects(options, backward);
    assert!(forward.findings.len() > 100, "{}", forward.findings.len());
    let text = |o: &palisade_scan::Outcome| {
        o.findings
            .iter()
            .map(|f| format!("{} {} {}", f.rule, f.file, f.message))
            .collect::<Vec<_>>()
    };
    let (a, b) = (text(&forward), text(&backward));
    let differ: Vec<_> = a.iter().zip(&b).filter(|(x, y)| x != y).take(3).collect();
    assert!(differ.is_empty() && a.len() == b.len(), "{differ:#?}");
    // The objects checked (PolicyReport `pass` results) come in one order too.
    let objects = |o: &palisade_scan::Outcome| {
        o.checked
            .iter()
            .map(|c| c.object.to_string())
            .collect::<Vec<_>>()
    };
    assert!(forward.checked.len() > 100, "{}", forward.checked.len());
    assert_eq!(objects(&forward), objects(&backward));
}
