//! Rules that report the same field or condition. A waiver names rule IDs, so waiving one
//! condition (a hostPath the workload really needs, say) takes every rule of its group; the
//! rule pages and `palisade rules explain` list the group. Each group is checked by a test
//! (tests/it/overlaps.rs) that one object fires every rule of it, at the level given.

/// Rules that fire on one condition of one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlap {
    /// What the rules have in common.
    pub topic: &'static str,
    /// Rule IDs, in catalog order.
    pub rules: &'static [&'static str],
    /// How they relate (which level reports which).
    pub note: &'static str,
}

/// Every group.
pub const OVERLAPS: &[Overlap] = &[
    Overlap {
        topic: "hostPath volumes",
        rules: &["PSS004", "PSS016", "HRD013", "HRD014"],
        note: "PSS004 reports a hostPath at baseline; at restricted PSS016 (restricted volume types) reports it instead. HRD013 adds sensitive paths, HRD014 writable mounts.",
    },
    Overlap {
        topic: "Linux capabilities",
        rules: &["PSS002", "PSS014", "HRD011", "HRD012"],
        note: "PSS002 (baseline) reports added capabilities beyond the default set; PSS014 (restricted) also requires drop ALL. HRD011 reports NET_RAW kept, HRD012 dangerous capabilities added.",
    },
    Overlap {
        topic: "/proc mount type",
        rules: &["PSS008", "PSS015"],
        note: "PSS008 (baseline) allows any procMount in a user namespace from v1.35; PSS015 (restricted) does not.",
    },
    Overlap {
        topic: "seccomp profile",
        rules: &["PSS010", "PSS019"],
        note: "PSS010 (baseline) reports an Unconfined profile; PSS019 (restricted) reports it and a missing one.",
    },
    Overlap {
        topic: "running as root",
        rules: &["PSS017", "PSS018", "HRD015"],
        note: "runAsUser: 0 fails PSS018 and HRD015 (UID not above 10000); without runAsNonRoot: true PSS017 fails too.",
    },
    Overlap {
        topic: "secrets in environment variables",
        rules: &["HRD018", "HRD019"],
        note: "HRD018 reports a secret written as a plain value, HRD019 a Secret passed as a variable.",
    },
    Overlap {
        topic: "image reference",
        rules: &["HRD006", "HRD007"],
        note: "A :latest or untagged image fails HRD006, and any image without a digest fails HRD007.",
    },
    Overlap {
        topic: "ingress-nginx annotations",
        rules: &["HRD026", "HRD029"],
        note: "HRD026 reports snippet annotations, HRD029 annotation values with characters that break out of nginx.conf.",
    },
];

/// The groups `id` belongs to.
pub fn overlaps(id: &str) -> impl Iterator<Item = &'static Overlap> + '_ {
    OVERLAPS.iter().filter(move |o| o.rules.contains(&id))
}
