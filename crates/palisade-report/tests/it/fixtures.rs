//! A realistic scan result: findings from PSS and hardening rules in several files (one path
//! with a space, one `List` item without a namespace), input errors with and without a line,
//! and a skipped non-Kubernetes document; plus a clean scan.

use palisade_core::{
    Finding, InputError, ObjectRef, Reference, RuleMeta, Severity, SuppressedFinding, Suppression,
};
use palisade_report::{Compliance, ControlInput, Report, Summary};

pub static RULES: &[RuleMeta] = &[
    RuleMeta {
        id: "PSS001",
        name: "host-namespaces",
        family: "pss",
        title: "Host namespaces must not be shared",
        severity: Severity::Critical,
        rationale: "Sharing the host's network, PID or IPC namespace lets a container see and reach host processes and interfaces.",
        remediation: "Remove spec.hostNetwork, spec.hostPID and spec.hostIPC or set them to false.",
        references: &[
            Reference {
                source: "pss",
                id: "Host Namespaces",
                url: "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            },
            Reference {
                source: "trivy",
                id: "KSV-0009",
                url: "",
            },
        ],
        help_uri: "https://example.invalid/palisade/rules/PSS001",
    },
    RuleMeta {
        id: "PSS002",
        name: "privileged",
        family: "pss",
        title: "Privileged containers are disallowed",
        severity: Severity::High,
        rationale: "A privileged container has every capability and access to all host devices.",
        remediation: "Remove securityContext.privileged or set it to false.",
        references: &[Reference {
            source: "checkov",
            id: "CKV_K8S_16",
            url: "",
        }],
        help_uri: "",
    },
    RuleMeta {
        id: "PSS013",
        name: "allow-privilege-escalation",
        family: "pss",
        title: "Privilege escalation must be disallowed",
        severity: Severity::Medium,
        rationale: "Without allowPrivilegeEscalation=false a process can gain more privileges than its parent through setuid binaries.",
        remediation: "Set securityContext.allowPrivilegeEscalation to false in every container.",
        references: &[],
        help_uri: "",
    },
    RuleMeta {
        id: "PSS016",
        name: "seccomp",
        family: "pss",
        title: "A seccomp profile must be set",
        severity: Severity::Low,
        rationale: "The default seccomp profile blocks system calls that containers do not need.",
        remediation: "Set securityContext.seccompProfile.type to RuntimeDefault or Localhost.",
        references: &[],
        help_uri: "",
    },
    RuleMeta {
        id: "HRD003",
        name: "latest-tag",
        family: "hardening",
        title: "Images should be pinned",
        severity: Severity::Info,
        rationale: "A mutable tag can change what runs without any change to the manifest.",
        remediation: "Pin the image by digest or by an immutable version tag.",
        references: &[],
        help_uri: "",
    },
];

fn obj(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
    ObjectRef {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        namespace: namespace.map(str::to_owned),
        name: Some(name.to_owned()),
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    rule: &str,
    severity: Severity,
    file: &str,
    (line, column): (u32, u32),
    document: usize,
    object: ObjectRef,
    field: &str,
    fields: &[&str],
    message: &str,
) -> Finding {
    Finding {
        rule: rule.to_owned(),
        family: if rule.starts_with("PSS") {
            "pss"
        } else {
            "hardening"
        }
        .to_owned(),
        severity,
        message: message.to_owned(),
        file: file.to_owned(),
        line,
        column,
        document,
        object,
        field: field.to_owned(),
        fields: fields.iter().map(|s| (*s).to_owned()).collect(),
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
    vec![
        finding(
            "PSS001",
            Severity::Critical,
            "examples/bad/deployment.yaml",
            (18, 7),
            0,
            web.clone(),
            "spec.template.spec.hostNetwork",
            &[],
            "violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)",
        ),
        finding(
            "PSS002",
            Severity::High,
            "examples/bad/deployment.yaml",
            (27, 13),
            0,
            web.clone(),
            "spec.template.spec.containers[0].securityContext.privileged",
            &[],
            "violates PodSecurity \"baseline:latest\": privileged (container \"nginx\" must not set securityContext.privileged=true)",
        ),
        finding(
            "PSS013",
            Severity::Medium,
            "examples/bad/deployment.yaml",
            (27, 13),
            0,
            web,
            "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
            &[
                "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
                "spec.template.spec.initContainers[0].securityContext.allowPrivilegeEscalation",
            ],
            "violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (containers \"init\", \"nginx\" must set securityContext.allowPrivilegeEscalation=false)",
        ),
        finding(
            "PSS016",
            Severity::Low,
            "examples/bad/pod list.yaml",
            (9, 5),
            0,
            debug.clone(),
            "spec",
            &[],
            "violates PodSecurity \"restricted:latest\": seccompProfile (pod or container \"shell\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
        ),
        finding(
            "HRD003",
            Severity::Info,
            "examples/bad/pod list.yaml",
            (12, 16),
            0,
            debug,
            "spec.containers[0].image",
            &[],
            "container \"shell\" uses image \"busybox:latest\" with a mutable tag",
        ),
        finding(
            "PSS002",
            Severity::High,
            "./charts/backup/cronjob.yaml",
            (40, 19),
            1,
            job,
            "spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged",
            &[],
            "violates PodSecurity \"baseline:latest\": privileged (container \"backup\" must not set securityContext.privileged=true)",
        ),
    ]
}

pub fn errors() -> Vec<InputError> {
    vec![
        InputError {
            file: "examples/bad/broken.yaml".to_owned(),
            document: Some(1),
            line: Some(7),
            column: Some(3),
            kind: "syntax".to_owned(),
            message: "mapping values are not allowed in this context".to_owned(),
        },
        InputError {
            file: "examples/huge.yaml".to_owned(),
            document: None,
            line: None,
            column: None,
            kind: "limit".to_owned(),
            message: "file is 104857600 bytes, over the 67108864-byte limit; raise it with --max-file-size".to_owned(),
        },
    ]
}

pub fn notes() -> Vec<InputError> {
    vec![InputError {
        file: "examples/kustomization.yaml".to_owned(),
        document: Some(0),
        line: Some(1),
        column: Some(1),
        kind: "not-kubernetes".to_owned(),
        message: "document has no apiVersion/kind; skipped".to_owned(),
    }]
}

pub fn suppressed() -> Vec<SuppressedFinding> {
    let agent = obj("apps/v1", "DaemonSet", Some("kube-system"), "node-agent");
    vec![
        SuppressedFinding {
            finding: finding(
                "HRD003",
                Severity::Info,
                "deploy/agent.yaml",
                (30, 11),
                0,
                agent.clone(),
                "spec.template.spec.containers[0].image",
                &[],
                "container \"agent\" uses image \"agent:latest\" with the mutable tag \"latest\"",
            ),
            suppression: Suppression {
                kind: "annotation".to_owned(),
                reason: "vendor publishes only latest; pinned by admission policy".to_owned(),
                source: "metadata.annotations[\"palisade.dev/ignore\"]".to_owned(),
                expires: None,
            },
        },
        SuppressedFinding {
            finding: finding(
                "PSS001",
                Severity::Critical,
                "deploy/agent.yaml",
                (21, 7),
                0,
                agent,
                "spec.template.spec.hostNetwork",
                &[],
                "violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)",
            ),
            suppression: Suppression {
                kind: "config".to_owned(),
                reason: "CNI agent needs the host network".to_owned(),
                source: ".palisade.yaml:9".to_owned(),
                expires: Some("2999-12-31".to_owned()),
            },
        },
    ]
}

/// A two-framework summary over the realistic findings.
pub fn compliance(findings: &[Finding]) -> Compliance {
    let controls = vec![
        ControlInput {
            framework: "pss-baseline",
            framework_title: "Pod Security Standards: Baseline",
            id: "Host Namespaces",
            title: "Host Namespaces",
            rules: vec!["PSS001"],
            ran: vec!["PSS001"],
            field_filters: vec![],
        },
        ControlInput {
            framework: "pss-baseline",
            framework_title: "Pod Security Standards: Baseline",
            id: "Privileged Containers",
            title: "Privileged Containers",
            rules: vec!["PSS002"],
            ran: vec!["PSS002"],
            field_filters: vec![],
        },
        ControlInput {
            framework: "pss-baseline",
            framework_title: "Pod Security Standards: Baseline",
            id: "Volume Types",
            title: "Volume Types",
            rules: vec!["PSS016"],
            ran: vec![],
            field_filters: vec![],
        },
        ControlInput {
            framework: "cis",
            framework_title: "CIS Kubernetes Benchmark v1.12 (section 5, policies)",
            id: "5.2.6",
            title: "Minimize the admission of containers with allowPrivilegeEscalation",
            rules: vec!["PSS013"],
            ran: vec!["PSS013"],
            field_filters: vec![],
        },
        ControlInput {
            framework: "cis",
            framework_title: "CIS Kubernetes Benchmark v1.12 (section 5, policies)",
            id: "5.6.2",
            title: "Ensure that the seccomp profile is set to docker/default in your Pod definitions",
            rules: vec!["PSS019"],
            ran: vec!["PSS019"],
            field_filters: vec![("PSS019", "seccompProfile.type")],
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
        fail_on: Severity::Low,
        failed: findings.iter().any(|f| f.severity >= Severity::Low),
    }
}

/// Owns the data a [`Report`] borrows.
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
        Data {
            findings: Vec::new(),
            suppressed: Vec::new(),
            compliance: None,
            errors: Vec::new(),
            notes: Vec::new(),
        }
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
    palisade_report::render(
        format,
        report,
        palisade_report::Style { color: false },
        &mut out,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}
