//! Real findings: the vendored manifest corpus loaded and checked with the default rules, as a
//! file scan does; every seventh finding waived so that waived results are real ones too.

use palisade_core::{Finding, InputError, SuppressedFinding, Suppression};
use palisade_report::{FailOn, Report, Summary};
use std::path::PathBuf;

pub fn corpus_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/corpus"
    ))
}

pub struct Scanned {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<SuppressedFinding>,
    pub errors: Vec<InputError>,
    pub notes: Vec<InputError>,
    pub objects: usize,
    pub files: usize,
}

pub fn scan() -> Scanned {
    let loaded = palisade_yaml::load_paths(&[corpus_dir()], &palisade_yaml::Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors.first());
    let opts = palisade_rules::ScanOptions::default();
    let all = palisade_rules::check_documents(&loaded.documents, &opts);
    let mut findings = Vec::new();
    let mut suppressed = Vec::new();
    for (i, f) in all.into_iter().enumerate() {
        if i % 7 == 3 {
            suppressed.push(SuppressedFinding {
                finding: f,
                suppression: Suppression {
                    kind: "config".into(),
                    reason: "accepted for the test".into(),
                    source: ".palisade.yaml:3".into(),
                    expires: Some("2999-01-01".into()),
                },
            });
        } else {
            findings.push(f);
        }
    }
    Scanned {
        findings,
        suppressed,
        errors: loaded.errors,
        notes: loaded.notes,
        objects: loaded.documents.len(),
        files: loaded.files,
    }
}

impl Scanned {
    pub fn report(&self) -> Report<'_> {
        Report {
            findings: &self.findings,
            suppressed: &self.suppressed,
            compliance: None,
            errors: &self.errors,
            notes: &self.notes,
            rules: palisade_rules::catalog(),
            summary: Summary {
                files: self.files,
                documents: self.objects,
                objects: self.objects,
                findings: self.findings.len(),
                suppressed: self.suppressed.len(),
                expired_waivers: 0,
                by_severity: Summary::count_by_severity(&self.findings),
                errors: self.errors.len(),
                notes: self.notes.len(),
                pss_level: "restricted".into(),
                pss_version: "latest".into(),
                framework: None,
                fail_on: FailOn::Never,
                failed: false,
            },
            tool_name: "palisade",
            tool_version: "test",
        }
    }
}
