//! What Pod Security Admission's own conformance fixtures expect of a denial, so every
//! harness that replays them (the evaluator's, the admission webhook's) checks the same
//! thing. PSA's `test/fixtures_*.go` generators name each fixture `<generator><N>.yaml`
//! (e.g. `hostnamespaces3.yaml`) and PSA's test asserts that a failing fixture's error
//! message contains the substring below for its generator.

/// `(generator, substring PSA's test expects in the denial message)`, one per generator in
/// `test/fixtures_*.go`.
pub const EXPECTED_SUBSTRINGS: &[(&str, &str)] = &[
    ("apparmorprofile", "forbidden AppArmor profile"),
    ("capabilities_baseline", "capabilities"),
    ("capabilities_restricted", "unrestricted capabilities"),
    ("hostnamespaces", "host namespaces"),
    ("hostpathvolumes", "hostPath"),
    ("hostports", "hostPort"),
    ("hostprobesandhostlifecycle", "probe or lifecycle host"),
    ("procmount", "procMount"),
    ("procmount_restricted", "procMount"),
    ("restrictedvolumes", "restricted volume types"),
    ("selinuxoptions", "seLinuxOptions"),
    ("seccompprofile_baseline", "seccompProfile"),
    ("seccompprofile_restricted", "seccompProfile"),
    ("sysctls", "forbidden sysctl"),
    ("windowshostprocess", "hostProcess"),
    ("allowprivilegeescalation", "allowPrivilegeEscalation"),
    ("privileged", "privileged"),
    ("runasnonroot", "runAsNonRoot"),
    ("runasuser", "runAsUser"),
];

/// The substring PSA's test expects in the denial of the fixture whose file stem is
/// `fixture_stem` (`hostnamespaces3`: the generator name plus a number); `None` for a stem
/// no PSA generator produces.
pub fn expected_substring(fixture_stem: &str) -> Option<&'static str> {
    let generator = fixture_stem.trim_end_matches(|c: char| c.is_ascii_digit());
    EXPECTED_SUBSTRINGS
        .iter()
        .find(|(g, _)| *g == generator)
        .map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_map_through_their_generator() {
        assert_eq!(
            expected_substring("hostnamespaces3"),
            Some("host namespaces")
        );
        assert_eq!(
            expected_substring("procmount_restricted0"),
            Some("procMount")
        );
        assert_eq!(expected_substring("runasuser"), Some("runAsUser"));
        assert_eq!(expected_substring("hostnamespace3"), None);
        assert_eq!(expected_substring(""), None);
    }
}
