//! A realistic scan result: findings from PSS and hardening rules in several files (one path
//! with a space, one `List` item without a namespace), input errors with and without a line,
//! and a skipped non-Kubernetes document; plus a clean scan.

use palisade_core::{
    Finding, InputError, ObjectRef, Reference, RuleFamily, RuleMeta, Severity, SuppressedFinding,
    Suppression,
};
use palisade_report::{Compliance, ControlInput, Report, Summary};

const PSS: RuleFamily = RuleFamily::new("pss", "");
const HARDENING: RuleFamily = RuleFamily::new("hardening", "");

pub static RULES: &[RuleMeta] = &[
    PSS.rule(
        "PSS001",
        "host-namespaces",
        "Host namespaces must not be shared",
        Severity::Critical,
        "Sharing the host's network, PID or IPC namespace lets a container see and reach host processes and interfaces.",
        "Remove spec.hostNetwork, spec.hostPID and spec.hostIPC or set them to false.",
        &[
            Reference::new("pss", "Host Namespaces").with_url(
                "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            ),
            Reference::new("trivy", "KSV-0009"),
        ],
    )
    .with_help_uri("https://example.invalid/palisade/rules/PSS001"),
    PSS.rule(
        "PSS002",
        "privileged",
        "Privileged containers are disallowed",
        Severity::High,
        "A privileged container has every capability and access to all host devices.",
        "Remove securityContext.privileged or set it to false.",
        &[Reference::new("checkov", "CKV_K8S_16")],
    ),
    PSS.rule(
        "PSS013",
        "allow-privilege-escalation",
        "Privilege escalation must be disallowed",
        Severity::Medium,
        "Without allowPrivilegeEscalation=false a process can gain more privileges than its parent through setuid binaries.",
        "Set securityContext.allowPrivilegeEscalation to false in every container.",
        &[],
    ),
    PSS.rule(
        "PSS016",
        "seccomp",
        "A seccomp profile must be set",
        Severity::Low,
        "The default seccomp profile blocks system calls that containers do not need.",
        "Set securityContext.seccompProfile.type to RuntimeDefault or Localhost.",
        &[],
    ),
    HARDENING.rule(
        "HRD003",
        "latest-tag",
        "Images should be pinned",
        Severity::Info,
        "A mutable tag can change what runs without any change to the manifest.",
        "Pin the image by digest or by an immutable version tag.",
        &[],
    ),
];

fn obj(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
    ObjectRef {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        namespace: namespace.map(str::to_owned),
        name: Some(name.to_owned()),
    }
}

/// One object in one file: the findings on it share file, document and object.
struct At<'a> {
    file: &'a str,
    document: usize,
    object: &'a ObjectRef,
}

impl At<'_> {
    /// A finding of `rule` (family and severity as in [`RULES`], as a scan reports them).
    fn finding(
        &self,
        rule: &str,
        (line, column): (u32, u32),
        field: &str,
        fields: &[&str],
        message: &str,
    ) -> Finding {
        let meta = RULES.iter().find(|r| r.id == rule).unwrap();
        Finding {
            rule: rule.to_owned(),
            family: meta.family.to_owned(),
            severity: meta.severity,
            message: message.to_owned(),
            file: self.file.to_owned(),
            line,
            column,
            document: self.document,
            object: self.object.clone(),
            field: field.to_owned(),
            fields: fields.iter().map(|s| (*s).to_owned()).collect(),
            paths: Vec::new(),
            origin: None,
            action: None,
        }
    }
}

pub fn findings() -> Vec<Finding> {
    let web = obj("apps/v1", "Deployment", Some("shop"), "web");
    let debug = obj("v1", "Pod", None, "debug-shell");
    let job = obj(
        "batch/v1",
        "CronJob",
        Some("ops"),
        "nightly-backup-with-a-rather-long-name",
    );
    let web = At {
        file: "examples/bad/deployment.yaml",
        document: 0,
        object: &web,
    };
    let debug = At {
        file: "examples/bad/pod list.yaml",
        document: 0,
        object: &debug,
    };
    let job = At {
        file: "./charts/backup/cronjob.yaml",
        document: 1,
        object: &job,
    };
    vec![
        web.finding(
            "PSS001",
            (18, 7),
            "spec.template.spec.hostNetwork",
            &[],
            "violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)",
        ),
        web.finding(
            "PSS002",
            (27, 13),
            "spec.template.spec.containers[0].securityContext.privileged",
            &[],
            "violates PodSecurity \"baseline:latest\": privileged (container \"nginx\" must not set securityContext.privileged=true)",
        ),
        web.finding(
            "PSS013",
            (27, 13),
            "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
            &[
                "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
                "spec.template.spec.initContainers[0].securityContext.allowPrivilegeEscalation",
            ],
            "violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (containers \"init\", \"nginx\" must set securityContext.allowPrivilegeEscalation=false)",
        ),
        debug.finding(
            "PSS016",
            (9, 5),
            "spec",
            &[],
            "violates PodSecurity \"restricted:latest\": seccompProfile (pod or container \"shell\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
        ),
        debug.finding(
            "HRD003",
            (12, 16),
            "spec.containers[0].image",
            &[],
            "container \"shell\" uses image \"busybox:latest\" with a mutable tag",
        ),
        job.finding(
            "PSS002",
            (40, 19),
            "spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged",
            &[],
            "violates PodSecurity \"baseline:latest\": privileged (container \"backup\" must not set securityContext.privileged=true)",
        ),
    ]
}

/// An input error or note; `at` is `(document, line, column)` when it has a place in the file.
fn input_error(file: &str, at: Option<(usize, u32, u32)>, kind: &str, message: &str) -> InputError {
    InputError {
        file: file.to_owned(),
        document: at.map(|(d, _, _)| d),
        line: at.map(|(_, l, _)| l),
        column: at.map(|(_, _, c)| c),
        kind: kind.to_owned(),
        message: message.to_owned(),
    }
}

pub fn errors() -> Vec<InputError> {
    vec![
        input_error(
            "examples/bad/broken.yaml",
            Some((1, 7, 3)),
            "syntax",
            "mapping values are not allowed in this context",
        ),
        input_error(
            "examples/huge.yaml",
            None,
            "limit",
            "file is 104857600 bytes, over the 67108864-byte limit; raise it with --max-file-size",
        ),
    ]
}

pub fn notes() -> Vec<InputError> {
    vec![input_error(
        "examples/kustomization.yaml",
        Some((0, 1, 1)),
        "not-kubernetes",
        "document has no apiVersion/kind; skipped",
    )]
}

fn waived(
    finding: Finding,
    kind: &str,
    reason: &str,
    source: &str,
    expires: Option<&str>,
) -> SuppressedFinding {
    SuppressedFinding {
        finding,
        suppression: Suppression {
            kind: kind.to_owned(),
            reason: reason.to_owned(),
            source: source.to_owned(),
            expires: expires.map(str::to_owned),
        },
    }
}

pub fn suppressed() -> Vec<SuppressedFinding> {
    let agent = obj("apps/v1", "DaemonSet", Some("kube-system"), "node-agent");
    let agent = At {
        file: "deploy/agent.yaml",
        document: 0,
        object: &agent,
    };
    vec![
        waived(
            agent.finding(
                "HRD003",
                (30, 11),
                "spec.template.spec.containers[0].image",
                &[],
                "container \"agent\" uses image \"agent:latest\" with the mutable tag \"latest\"",
            ),
            "annotation",
            "vendor publishes only latest; pinned by admission policy",
            "metadata.annotations[\"palisade.dev/ignore\"]",
            None,
        ),
        waived(
            agent.finding(
                "PSS001",
                (21, 7),
                "spec.template.spec.hostNetwork",
                &[],
                "violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)",
            ),
            "config",
            "CNI agent needs the host network",
            ".palisade.yaml:9",
            Some("2999-12-31"),
        ),
    ]
}

const BASELINE: (&str, &str) = ("pss-baseline", "Pod Security Standards: Baseline");
const CIS: (&str, &str) = (
    "cis",
    "CIS Kubernetes Benchmark v1.12 (section 5, policies)",
);

fn control<'a>(
    (framework, framework_title): (&'a str, &'a str),
    id: &'a str,
    title: &'a str,
    rule: &'a str,
    ran: bool,
) -> ControlInput<'a> {
    ControlInput {
        framework,
        framework_title,
        id,
        title,
        rules: vec![rule],
        ran: if ran { vec![rule] } else { vec![] },
        field_filters: vec![],
    }
}

/// A two-framework summary over the realistic findings.
pub fn compliance(findings: &[Finding]) -> Compliance {
    let controls = vec![
        control(
            BASELINE,
            "Host Namespaces",
            "Host Namespaces",
            "PSS001",
            true,
        ),
        control(
            BASELINE,
            "Privileged Containers",
            "Privileged Containers",
            "PSS002",
            true,
        ),
        control(BASELINE, "Volume Types", "Volume Types", "PSS016", false),
        control(
            CIS,
            "5.2.6",
            "Minimize the admission of containers with allowPrivilegeEscalation",
            "PSS013",
            true,
        ),
        ControlInput {
            field_filters: vec![("PSS019", "seccompProfile.type")],
            ..control(
                CIS,
                "5.6.2",
                "Ensure that the seccomp profile is set to docker/default in your Pod definitions",
                "PSS019",
                true,
            )
        },
    ];
    palisade_report::compliance(&controls, findings)
}

pub fn summary(findings: &[Finding], errors: usize, notes: usize) -> Summary {
    Summary {
        files: 6,
        documents: 5,
        objects: 7,
        findings: findings.len(),
        suppressed: 0,
        expired_waivers: 0,
        by_severity: Summary::count_by_severity(findings),
        errors,
        notes,
        pss_level: "restricted".to_owned(),
        pss_version: "latest".to_owned(),
        framework: None,
        fail_on: palisade_report::FailOn::At(Severity::Low),
        failed: findings.iter().any(|f| f.severity >= Severity::Low),
    }
}

/// Owns the data a [`Report`] borrows.
#[derive(Default)]
pub struct Data {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<SuppressedFinding>,
    pub compliance: Option<Compliance>,
    pub errors: Vec<InputError>,
    pub notes: Vec<InputError>,
}

impl Data {
    pub fn realistic() -> Data {
        let findings = findings();
        Data {
            compliance: Some(compliance(&findings)),
            findings,
            suppressed: suppressed(),
            errors: errors(),
            notes: notes(),
        }
    }

    pub fn clean() -> Data {
        Data::default()
    }

    pub fn report(&self) -> Report<'_> {
        let mut summary = summary(&self.findings, self.errors.len(), self.notes.len());
        summary.suppressed = self.suppressed.len();
        if self.compliance.is_some() {
            summary.framework = Some("all".to_owned());
        }
        Report {
            findings: &self.findings,
            suppressed: &self.suppressed,
            compliance: self.compliance.as_ref(),
            errors: &self.errors,
            notes: &self.notes,
            rules: RULES,
            summary,
            tool_name: "palisade",
            tool_version: env!("CARGO_PKG_VERSION"),
        }
    }
}

pub fn render_to_string(format: palisade_report::Format, report: &Report<'_>) -> String {
    let mut out = Vec::new();
    palisade_report::render(format, report, palisade_report::Style::default(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Reports that reach every branch of the printers: the realistic and clean ones, only waived
/// findings, input errors without findings, notes alone, and findings with rules the catalog
/// does not know, an object without apiVersion, namespace or name, and text with characters
/// XML and JSON escape, ANSI escapes and control characters.
pub fn variants() -> Vec<(&'static str, Data)> {
    let mut odd = Data::realistic();
    let special = "a <b> & \"c\" 'd' ]]> \u{1b}[31mred\u{1b}[0m \u{7}bell\ttab ü \u{2028}";
    odd.findings[0].rule = "XYZ999".into();
    odd.findings[1].message = special.into();
    odd.findings[1].file = "dir/<odd> & \"name\".yaml".into();
    odd.findings[2].object = ObjectRef {
        api_version: String::new(),
        kind: "Thing".to_owned(),
        namespace: None,
        name: None,
    };
    odd.findings[2].fields = vec!["a".into(), "b[\"x.y\"]".into(), "c".into()];
    odd.suppressed[0].finding.rule = "ABC001".into();
    odd.suppressed[1].suppression.reason = special.into();
    odd.errors[0].message = special.into();
    odd.notes[0].file = "<stdin>".into();
    vec![
        ("realistic", Data::realistic()),
        ("clean", Data::clean()),
        (
            "only waived",
            Data {
                suppressed: suppressed(),
                ..Data::default()
            },
        ),
        (
            "input errors only",
            Data {
                errors: errors(),
                notes: notes(),
                ..Data::default()
            },
        ),
        (
            "notes only",
            Data {
                notes: notes(),
                ..Data::default()
            },
        ),
        ("odd", odd),
    ]
}
