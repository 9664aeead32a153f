//! The table cases of kube-bench's `check/test_test.go` (at a73ce378), rewritten in Rust with
//! the same inputs and expected strings: `TestTestExecute` (37), `TestTestExecuteExceptions` (5),
//! `TestTestUnmarshal` (3), `TestExecuteJSONPath` (3), `TestAllElementsValid` (6),
//! `TestSplitAndRemoveLastSeparator` (5), `TestCompareOp` (70), `TestToNumeric` (3),
//! `TestExecuteJSONPathOnEncryptionConfig` (6): 138 cases; and of `check/check_test.go`:
//! `TestCheck_Run` (10), `TestCheckAuditEnv` (7), `TestCheckAuditConfig` (17), `Test_runAudit`
//! (3): 37 cases (175 in all). The checks come from kube-bench's `check/data`, loaded with
//! `$user` substituted as the Go test does.

use palisade_bench::jsonpath::{self, Numbers};
use palisade_bench::model::{self, Check, Controls};
use palisade_bench::semantics::{self, Outputs};
use serde_json::json;

fn controls() -> Controls {
    let path = super::testdata().join("check/data");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replace("$user", "root");
    model::parse_controls("check/data", &text).unwrap()
}

fn check(c: &Controls, i: usize) -> &Check {
    &c.groups[0].checks[i]
}

fn execute(c: &Check, audit: &str, config: &str, env: &str) -> semantics::Final {
    let outputs = Outputs {
        audit: audit.into(),
        audit_config: config.into(),
        audit_env: env.into(),
    };
    semantics::execute_check(
        c.tests.as_ref().unwrap(),
        !c.audit_config.is_empty(),
        c.is_multiple,
        &outputs,
    )
}

/// (check index, audit output, audit_config output, expected_result, audit_env output)
const EXECUTE: &[(usize, &str, &str, &str, &str)] = &[
    (
        0,
        "2:45 ../kubernetes/kube-apiserver --allow-privileged=false --option1=20,30,40",
        "",
        "'--allow-privileged' is present",
        "",
    ),
    (
        1,
        "2:45 ../kubernetes/kube-apiserver --allow-privileged=false",
        "",
        "'--basic-auth' is not present",
        "",
    ),
    (
        2,
        "niinai   13617  2635 99 19:26 pts/20   00:03:08 ./kube-apiserver --insecure-port=0 --anonymous-auth",
        "",
        "'--insecure-port' is equal to '0'",
        "",
    ),
    (
        3,
        "2:45 ../kubernetes/kube-apiserver --secure-port=0 --audit-log-maxage=40 --option",
        "",
        "'--audit-log-maxage' is greater or equal to 30",
        "",
    ),
    (
        4,
        "2:45 ../kubernetes/kube-apiserver --max-backlog=20 --secure-port=0 --audit-log-maxage=40 --option",
        "",
        "'--max-backlog' is lower than 30",
        "",
    ),
    (
        5,
        "2:45 ../kubernetes/kube-apiserver --option --admission-control=WebHook,RBAC ---audit-log-maxage=40",
        "",
        "'--admission-control' does not have 'AlwaysAdmit'",
        "",
    ),
    (
        6,
        "2:45 .. --kubelet-clientkey=foo --kubelet-client-certificate=bar --admission-control=Webhook,RBAC",
        "",
        "'--kubelet-client-certificate' is present AND '--kubelet-clientkey' is present",
        "",
    ),
    (
        7,
        "2:45 ..  --secure-port=0 --kubelet-client-certificate=bar --admission-control=Webhook,RBAC",
        "",
        "'--secure-port' is equal to '0' OR '--secure-port' is not present",
        "",
    ),
    (
        8,
        "permissions=SomeValue",
        "",
        "'permissions' is equal to 'SomeValue'",
        "",
    ),
    (
        9,
        "permissions=640",
        "",
        "permissions has permissions 640, expected 644 or more restrictive",
        "",
    ),
    (
        9,
        "permissions=600",
        "",
        "permissions has permissions 600, expected 644 or more restrictive",
        "",
    ),
    (
        10,
        "2:45 ../kubernetes/kube-apiserver --option --admission-control=WebHook,RBAC ---audit-log-maxage=40",
        "",
        "'--admission-control' has 'RBAC'",
        "",
    ),
    (
        11,
        "2:45 ../kubernetes/kube-apiserver --option --admission-control=WebHook,RBAC ---audit-log-maxage=40",
        "",
        "'--admission-control' has 'WebHook'",
        "",
    ),
    (
        12,
        "2:45 ../kubernetes/kube-apiserver --option --admission-control=WebHook,Something,RBAC ---audit-log-maxage=40",
        "",
        "'--admission-control' has 'Something'",
        "",
    ),
    (
        13,
        "2:45 ../kubernetes/kube-apiserver --option --admission-control=Something ---audit-log-maxage=40",
        "",
        "'--admission-control' has 'Something'",
        "",
    ),
    (
        14,
        "2:45 kube-apiserver some-arg: some-val --admission-control=Something ---audit-log-maxage=40",
        "",
        "'some-arg' is equal to 'some-val'",
        "",
    ),
    (
        14,
        "2:45 kube-apiserver some-arg:some-val --admission-control=Something ---audit-log-maxage=40",
        "",
        "'some-arg' is equal to 'some-val'",
        "",
    ),
    (
        15,
        "",
        "{\"readOnlyPort\": 15000}",
        "'{.readOnlyPort}' is equal to '15000' OR '{.readOnlyPort}' is greater or equal to 15000 OR '{.readOnlyPort}' is lower or equal to 15000",
        "",
    ),
    (
        16,
        "",
        "{\"stringValue\": \"WebHook,Something,RBAC\"}",
        "'{.stringValue}' is not equal to 'None' AND '{.stringValue}' is not equal to 'webhook,Something,RBAC' AND '{.stringValue}' is equal to 'WebHook,Something,RBAC'",
        "",
    ),
    (
        17,
        "",
        "{\"trueValue\": true}",
        "'{.trueValue}' is not equal to 'somethingElse' AND '{.trueValue}' is not equal to 'false' AND '{.trueValue}' is equal to 'true'",
        "",
    ),
    (
        18,
        "",
        "{\"readOnlyPort\": 15000}",
        "'{.notARealField}' is not present",
        "",
    ),
    (
        19,
        "",
        "{\"authentication\": { \"anonymous\": {\"enabled\": false}}}",
        "'{.authentication.anonymous.enabled}' is equal to 'false'",
        "",
    ),
    (
        20,
        "",
        "readOnlyPort: 15000",
        "'{.readOnlyPort}' is greater than 14999",
        "",
    ),
    (
        21,
        "",
        "readOnlyPort: 15000",
        "'{.fieldThatIsUnset}' is not present",
        "",
    ),
    (
        22,
        "",
        "authentication:\n  anonymous:\n    enabled: false",
        "'{.authentication.anonymous.enabled}' is equal to 'false'",
        "",
    ),
    (
        26,
        "",
        "currentMasterVersion: 1.12.7",
        "'{.currentMasterVersion}' matched by regex expression '^1\\.12.*$'",
        "",
    ),
    (
        27,
        "--peer-client-cert-auth",
        "",
        "'--peer-client-cert-auth' is equal to 'true'",
        "",
    ),
    (
        27,
        "--abc=true --peer-client-cert-auth --efg=false",
        "",
        "'--peer-client-cert-auth' is equal to 'true'",
        "",
    ),
    (
        27,
        "--abc --peer-client-cert-auth --efg",
        "",
        "'--peer-client-cert-auth' is equal to 'true'",
        "",
    ),
    (
        27,
        "--peer-client-cert-auth=true",
        "",
        "'--peer-client-cert-auth' is equal to 'true'",
        "",
    ),
    (
        27,
        "--abc --peer-client-cert-auth=true --efg",
        "",
        "'--peer-client-cert-auth' is equal to 'true'",
        "",
    ),
    (
        28,
        "--abc --peer-client-cert-auth=false --efg",
        "",
        "'--peer-client-cert-auth' is equal to 'false'",
        "",
    ),
    (
        29,
        "2:45 ../kubernetes/kube-apiserver --option1=20,30,40",
        "",
        "'ALLOW_PRIVILEGED' is present",
        "SOME_OTHER_ENV=true\nALLOW_PRIVILEGED=false",
    ),
    (
        30,
        "2:45 ../kubernetes/kube-apiserver --option1=20,30,40",
        "",
        "'BASIC_AUTH' is not present",
        "",
    ),
    (
        31,
        "2:45 ../kubernetes/kube-apiserver --option1=20,30,40",
        "",
        "'INSECURE_PORT' is equal to '0'",
        "INSECURE_PORT=0",
    ),
    (
        32,
        "2:45 ../kubernetes/kube-apiserver --option1=20,30,40",
        "",
        "'AUDIT_LOG_MAXAGE' is greater or equal to 30",
        "AUDIT_LOG_MAXAGE=40",
    ),
    (
        33,
        "2:45 ../kubernetes/kube-apiserver --option1=20,30,40",
        "",
        "'MAX_BACKLOG' is lower than 30",
        "MAX_BACKLOG=20",
    ),
];

#[test]
fn test_execute() {
    let c = controls();
    assert_eq!(EXECUTE.len(), 37);
    for (i, audit, config, expected, env) in EXECUTE {
        let chk = check(&c, *i);
        let res = execute(chk, audit, config, env);
        assert!(res.error.is_none(), "check {i}: {:?}", res.error);
        assert!(
            res.test_result,
            "check {i} ({}) on {audit:?}/{config:?}: {res:?}",
            chk.text
        );
        assert_eq!(res.expected_result, *expected, "check {i}");
    }
}

#[test]
fn test_execute_exceptions() {
    let c = controls();
    let cases: &[(usize, &str)] = &[
        (23, "this is not valid json {} at all"),
        (24, "{\"key\": \"value\"}"),
        (25, "broken } yaml\nenabled: true"),
        (26, "currentMasterVersion: 1.11"),
        (26, "currentMasterVersion: "),
    ];
    for (i, config) in cases {
        let res = execute(check(&c, *i), "", config, "");
        assert!(
            !res.test_result,
            "check {i} on {config:?} must fail: {res:?}"
        );
    }
}

#[test]
fn test_unmarshal() {
    let ok1 = "{\n\t\t\t\"kind\": \"KubeletConfiguration\",\n\t\t\t\"apiVersion\": \"kubelet.config.k8s.io/v1beta1\",\n\t\t\t\"address\": \"0.0.0.0\"\n\t\t\t}\n\t\t\t";
    let ok2 = "\nkind: KubeletConfiguration\naddress: 0.0.0.0\napiVersion: kubelet.config.k8s.io/v1beta1\nauthentication:\n  anonymous:\n    enabled: false\n  webhook:\n    cacheTTL: 2m0s\n  enabled: true\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\ntlsCipherSuites:\n  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n  - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n";
    let bad = "\nkind: ddress: 0.0.0.0\napiVersion: kubelet.config.k8s.io/v1beta\n";
    assert!(semantics::unmarshal(ok1).is_ok());
    assert!(semantics::unmarshal(ok2).is_ok());
    assert!(semantics::unmarshal(bad).is_err());
}

fn kubelet_config() -> serde_json::Value {
    json!({"Kind": "KubeletConfiguration", "ApiVersion": "kubelet.config.k8s.io/v1beta1", "Address": "127.0.0.0"})
}

#[test]
fn test_execute_jsonpath() {
    let d = kubelet_config();
    // "JSONPath parse works, results don't match"
    assert_ne!(
        jsonpath::execute("{.resourcesproviders.aescbc}", &d, Numbers::Json).unwrap(),
        "blah"
    );
    // "JSONPath parse works, results match"
    assert_eq!(
        jsonpath::execute("{.Kind}", &d, Numbers::Json).unwrap(),
        "KubeletConfiguration"
    );
    // "JSONPath parse fails"
    assert!(jsonpath::execute("{.ApiVersion", &d, Numbers::Json).is_err());
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const CIPHERS: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
];

#[test]
fn test_all_elements_valid() {
    let cases: Vec<(Vec<String>, Vec<String>, bool)> = vec![
        (vec![], vec![], true),
        (strings(&["blah"]), vec![], false),
        (vec![], strings(CIPHERS), false),
        (
            strings(&[
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            ]),
            strings(CIPHERS),
            true,
        ),
        (strings(&["blah"]), strings(CIPHERS), false),
        (
            strings(&["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "blah"]),
            strings(CIPHERS),
            false,
        ),
    ];
    assert_eq!(cases.len(), 6);
    for (s, t, valid) in cases {
        // Stronger than upstream (which only checks the valid cases): both directions.
        assert_eq!(
            semantics::all_elements_valid(&s, &t),
            valid,
            "{s:?} in {t:?}"
        );
    }
}

#[test]
fn test_split_and_remove_last_separator() {
    let cases = [
        (CIPHERS.join(","), 8),
        (
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
                .to_string(),
            2,
        ),
        (
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
                .to_string(),
            2,
        ),
        (
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "
                .to_string(),
            2,
        ),
        (
            " TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
                .to_string(),
            2,
        ),
    ];
    for (s, n) in cases {
        let v = semantics::split_remove_last_separator(&s, ",");
        assert_eq!(v.len(), n, "{s:?}: {v:?}");
        assert!(v.iter().all(|e| !e.is_empty() && e.trim() == e), "{v:?}");
    }
}

/// (label, op, flagVal, compareValue, expectedResultPattern, flagName, testResult)
const COMPARE: &[(&str, &str, &str, &str, &str, &str, bool)] = &[
    ("empty - op", "", "", "", "", "", false),
    ("op=blah", "blah", "foo", "bar", "", "", false),
    (
        "op=eq, both empty",
        "eq",
        "",
        "",
        "'' is equal to ''",
        "",
        true,
    ),
    (
        "op=eq, true==true",
        "eq",
        "true",
        "true",
        "'parameterTrue' is equal to 'true'",
        "parameterTrue",
        true,
    ),
    (
        "op=eq, false==false",
        "eq",
        "false",
        "false",
        "'parameterFalse' is equal to 'false'",
        "parameterFalse",
        true,
    ),
    (
        "op=eq, false==true",
        "eq",
        "false",
        "true",
        "'parameterFalse' is equal to 'true'",
        "parameterFalse",
        false,
    ),
    (
        "op=eq, strings match",
        "eq",
        "KubeletConfiguration",
        "KubeletConfiguration",
        "'--FlagNameKubeletConf' is equal to 'KubeletConfiguration'",
        "--FlagNameKubeletConf",
        true,
    ),
    (
        "op=eq, flagVal=empty",
        "eq",
        "",
        "KubeletConfiguration",
        "'--FlagNameKubeletConf' is equal to 'KubeletConfiguration'",
        "--FlagNameKubeletConf",
        false,
    ),
    (
        "op=eq, compareValue=empty",
        "eq",
        "KubeletConfiguration",
        "",
        "'--FlagNameKubeletConf' is equal to ''",
        "--FlagNameKubeletConf",
        false,
    ),
    (
        "op=noteq, both empty",
        "noteq",
        "",
        "",
        "'parameter' is not equal to ''",
        "parameter",
        false,
    ),
    (
        "op=noteq, true!=true",
        "noteq",
        "true",
        "true",
        "'parameterTrue' is not equal to 'true'",
        "parameterTrue",
        false,
    ),
    (
        "op=noteq, false!=false",
        "noteq",
        "false",
        "false",
        "'parameterFalse' is not equal to 'false'",
        "parameterFalse",
        false,
    ),
    (
        "op=noteq, false!=true",
        "noteq",
        "false",
        "true",
        "'parameterFalse' is not equal to 'true'",
        "parameterFalse",
        true,
    ),
    (
        "op=noteq, strings match",
        "noteq",
        "KubeletConfiguration",
        "KubeletConfiguration",
        "'--FlagNameKubeletConf' is not equal to 'KubeletConfiguration'",
        "--FlagNameKubeletConf",
        false,
    ),
    (
        "op=noteq, flagVal=empty",
        "noteq",
        "",
        "KubeletConfiguration",
        "'--FlagNameKubeletConf' is not equal to 'KubeletConfiguration'",
        "--FlagNameKubeletConf",
        true,
    ),
    (
        "op=noteq, compareValue=empty",
        "noteq",
        "KubeletConfiguration",
        "",
        "'--FlagNameKubeletConf' is not equal to ''",
        "--FlagNameKubeletConf",
        true,
    ),
    (
        "op=gt, both empty",
        "gt",
        "",
        "",
        "Invalid Number(s) used for comparison: '' ''",
        "flagName",
        false,
    ),
    (
        "op=gt, 0 > 0",
        "gt",
        "0",
        "0",
        "'flagName' is greater than 0",
        "flagName",
        false,
    ),
    (
        "op=gt, 4 > 5",
        "gt",
        "4",
        "5",
        "'flagName' is greater than 5",
        "flagName",
        false,
    ),
    (
        "op=gt, 5 > 4",
        "gt",
        "5",
        "4",
        "'flagName' is greater than 4",
        "flagName",
        true,
    ),
    (
        "op=gt, 5 > 5",
        "gt",
        "5",
        "5",
        "'flagName' is greater than 5",
        "flagName",
        false,
    ),
    (
        "op=gt, Pikachu > 5",
        "gt",
        "Pikachu",
        "5",
        "Invalid Number(s) used for comparison: 'Pikachu' '5'",
        "flagName",
        false,
    ),
    (
        "op=gt, 5 > Bulbasaur",
        "gt",
        "5",
        "Bulbasaur",
        "Invalid Number(s) used for comparison: '5' 'Bulbasaur'",
        "flagName",
        false,
    ),
    (
        "op=lt, both empty",
        "lt",
        "",
        "",
        "Invalid Number(s) used for comparison: '' ''",
        "flagName",
        false,
    ),
    (
        "op=lt, 0 < 0",
        "lt",
        "0",
        "0",
        "'flagName' is lower than 0",
        "flagName",
        false,
    ),
    (
        "op=lt, 4 < 5",
        "lt",
        "4",
        "5",
        "'flagName' is lower than 5",
        "flagName",
        true,
    ),
    (
        "op=lt, 5 < 4",
        "lt",
        "5",
        "4",
        "'flagName' is lower than 4",
        "flagName",
        false,
    ),
    (
        "op=lt, 5 < 5",
        "lt",
        "5",
        "5",
        "'flagName' is lower than 5",
        "flagName",
        false,
    ),
    (
        "op=lt, Charmander < 5",
        "lt",
        "Charmander",
        "5",
        "Invalid Number(s) used for comparison: 'Charmander' '5'",
        "flagName",
        false,
    ),
    (
        "op=lt, 5 < Charmeleon",
        "lt",
        "5",
        "Charmeleon",
        "Invalid Number(s) used for comparison: '5' 'Charmeleon'",
        "flagName",
        false,
    ),
    (
        "op=gte, both empty",
        "gte",
        "",
        "",
        "Invalid Number(s) used for comparison: '' ''",
        "flagName",
        false,
    ),
    (
        "op=gte, 0 >= 0",
        "gte",
        "0",
        "0",
        "'flagName' is greater or equal to 0",
        "flagName",
        true,
    ),
    (
        "op=gte, 4 >= 5",
        "gte",
        "4",
        "5",
        "'flagName' is greater or equal to 5",
        "flagName",
        false,
    ),
    (
        "op=gte, 5 >= 4",
        "gte",
        "5",
        "4",
        "'flagName' is greater or equal to 4",
        "flagName",
        true,
    ),
    (
        "op=gte, 5 >= 5",
        "gte",
        "5",
        "5",
        "'flagName' is greater or equal to 5",
        "flagName",
        true,
    ),
    (
        "op=gte, Ekans >= 5",
        "gte",
        "Ekans",
        "5",
        "Invalid Number(s) used for comparison: 'Ekans' '5'",
        "flagName",
        false,
    ),
    (
        "op=gte, 4 >= Zubat",
        "gte",
        "4",
        "Zubat",
        "Invalid Number(s) used for comparison: '4' 'Zubat'",
        "flagName",
        false,
    ),
    (
        "op=lte, both empty",
        "lte",
        "",
        "",
        "Invalid Number(s) used for comparison: '' ''",
        "flagName",
        false,
    ),
    (
        "op=lte, 0 <= 0",
        "lte",
        "0",
        "0",
        "'flagName' is lower or equal to 0",
        "flagName",
        true,
    ),
    (
        "op=lte, 4 <= 5",
        "lte",
        "4",
        "5",
        "'flagName' is lower or equal to 5",
        "flagName",
        true,
    ),
    (
        "op=lte, 5 <= 4",
        "lte",
        "5",
        "4",
        "'flagName' is lower or equal to 4",
        "flagName",
        false,
    ),
    (
        "op=lte, 5 <= 5",
        "lte",
        "5",
        "5",
        "'flagName' is lower or equal to 5",
        "flagName",
        true,
    ),
    (
        "op=lte, Venomoth <= 4",
        "lte",
        "Venomoth",
        "4",
        "Invalid Number(s) used for comparison: 'Venomoth' '4'",
        "flagName",
        false,
    ),
    (
        "op=lte, 5 <= Meowth",
        "lte",
        "5",
        "Meowth",
        "Invalid Number(s) used for comparison: '5' 'Meowth'",
        "flagName",
        false,
    ),
    (
        "op=has, both empty",
        "has",
        "",
        "",
        "'flagName' has ''",
        "flagName",
        true,
    ),
    (
        "op=has, flagVal=empty",
        "has",
        "",
        "blah",
        "'flagName' has 'blah'",
        "flagName",
        false,
    ),
    (
        "op=has, compareValue=empty",
        "has",
        "blah",
        "",
        "'flagName-blah' has ''",
        "flagName-blah",
        true,
    ),
    (
        "op=has, 'blah' has 'la'",
        "has",
        "blah",
        "la",
        "'flagName-blah' has 'la'",
        "flagName-blah",
        true,
    ),
    (
        "op=has, 'blah' has 'LA'",
        "has",
        "blah",
        "LA",
        "'flagName-blah' has 'LA'",
        "flagName-blah",
        false,
    ),
    (
        "op=has, 'blah' has 'lo'",
        "has",
        "blah",
        "lo",
        "'flagName-blah' has 'lo'",
        "flagName-blah",
        false,
    ),
    (
        "op=nothave, both empty",
        "nothave",
        "",
        "",
        "'flagName' does not have ''",
        "flagName",
        false,
    ),
    (
        "op=nothave, flagVal=empty",
        "nothave",
        "",
        "blah",
        "'flagName' does not have 'blah'",
        "flagName",
        true,
    ),
    (
        "op=nothave, compareValue=empty",
        "nothave",
        "blah",
        "",
        "'flagName-blah' does not have ''",
        "flagName-blah",
        false,
    ),
    (
        "op=nothave, 'blah' not have 'la'",
        "nothave",
        "blah",
        "la",
        "'flagName-blah' does not have 'la'",
        "flagName-blah",
        false,
    ),
    (
        "op=nothave, 'blah' not have 'LA'",
        "nothave",
        "blah",
        "LA",
        "'flagName-blah' does not have 'LA'",
        "flagName-blah",
        true,
    ),
    (
        "op=nothave, 'blah' not have 'lo'",
        "nothave",
        "blah",
        "lo",
        "'flagName-blah' does not have 'lo'",
        "flagName-blah",
        true,
    ),
    (
        "op=regex, both empty",
        "regex",
        "",
        "",
        "'flagName' matched by regex expression ''",
        "flagName",
        true,
    ),
    (
        "op=regex, flagVal=empty",
        "regex",
        "",
        "blah",
        "'flagName' matched by regex expression 'blah'",
        "flagName",
        false,
    ),
    (
        "op=valid_elements, valid_elements both empty",
        "valid_elements",
        "",
        "",
        "'flagWithMultipleElements' contains valid elements from ''",
        "flagWithMultipleElements",
        true,
    ),
    (
        "op=valid_elements, valid_elements flagVal empty",
        "valid_elements",
        "",
        "a,b",
        "'flagWithMultipleElements' contains valid elements from 'a,b'",
        "flagWithMultipleElements",
        false,
    ),
    (
        "op=valid_elements, valid_elements compareValue empty",
        "valid_elements",
        "a,b",
        "",
        "'flagWithMultipleElements' contains valid elements from ''",
        "flagWithMultipleElements",
        false,
    ),
    (
        "op=valid_elements, valid_elements two list equals",
        "valid_elements",
        "a,b,c",
        "a,b,c",
        "'flagWithMultipleElements' contains valid elements from 'a,b,c'",
        "flagWithMultipleElements",
        true,
    ),
    (
        "op=valid_elements, valid_elements partial flagVal valid",
        "valid_elements",
        "a,c",
        "a,b,c",
        "'flagWithMultipleElements' contains valid elements from 'a,b,c'",
        "flagWithMultipleElements",
        true,
    ),
    (
        "op=valid_elements, valid_elements partial compareValue valid",
        "valid_elements",
        "a,b,c",
        "a,c",
        "'flagWithMultipleElements' contains valid elements from 'a,c'",
        "flagWithMultipleElements",
        false,
    ),
    (
        "op=bitmask, 644 AND 640",
        "bitmask",
        "640",
        "644",
        "etc/fileExamplePermission640 has permissions 640, expected 644 or more restrictive",
        "etc/fileExamplePermission640",
        true,
    ),
    (
        "op=bitmask, 644 AND 777",
        "bitmask",
        "777",
        "644",
        "etc/fileExamplePermission777 has permissions 777, expected 644 or more restrictive",
        "etc/fileExamplePermission777",
        false,
    ),
    (
        "op=bitmask, 644 AND 444",
        "bitmask",
        "444",
        "644",
        "etc/fileExamplePermission444 has permissions 444, expected 644 or more restrictive",
        "etc/fileExamplePermission444",
        true,
    ),
    (
        "op=bitmask, 644 AND 211",
        "bitmask",
        "211",
        "644",
        "etc/fileExamplePermission211 has permissions 211, expected 644 or more restrictive",
        "etc/fileExamplePermission211",
        false,
    ),
    (
        "op=bitmask, Harry AND 211",
        "bitmask",
        "Harry",
        "644",
        "Not numeric value - flag: Harry",
        "etc/fileExample",
        false,
    ),
    (
        "op=bitmask, 644 AND Potter",
        "bitmask",
        "211",
        "Potter",
        "Not numeric value - flag: Potter",
        "etc/fileExample",
        false,
    ),
];

#[test]
fn test_compare_op() {
    assert_eq!(COMPARE.len(), 70);
    for (label, op, flag_val, value, expected, name, result) in COMPARE {
        let (text, r) = semantics::compare_op(op, flag_val, value, name);
        assert_eq!(text, *expected, "{label}");
        assert_eq!(r, *result, "{label}");
    }
}

#[test]
fn test_to_numeric() {
    // kube-bench's toNumeric (strconv.Atoi after TrimSpace) is what gt/gte/lt/lte use: a
    // conversion failure shows as the "Invalid Number(s)" text.
    for (a, b, fails) in [("a", "b", true), ("5", "b", true), ("5", "6", false)] {
        let (text, r) = semantics::compare_op("lt", a, b, "x");
        assert_eq!(text.starts_with("Invalid Number(s)"), fails, "{a} {b}");
        if !fails {
            assert!(r, "5 < 6");
        }
    }
}

#[test]
fn test_execute_jsonpath_on_encryption_config() {
    let cfg = |provider: &str, keys: serde_json::Value| {
        json!({"kind": "EncryptionConfig", "apiVersion": "v1",
               "resources": [{"resources": ["secrets"], "providers": [{provider: {"keys": keys}}]}]})
    };
    let one = json!([{"secret": "secret1", "name": "name1"}]);
    let two =
        json!([{"secret": "secret1", "name": "name1"}, {"secret": "secret2", "name": "name2"}]);
    let cases = [
        (
            "{.resources[*].providers[*].aescbc.keys[*].secret}",
            cfg("aescbc", one.clone()),
            Some("secret1"),
        ),
        (
            "{.resources[*].providers[*].aescbc.keys[*].name}",
            cfg("aescbc", one.clone()),
            Some("name1"),
        ),
        (
            "{.resources[*].providers[*].aescbc.keys[*].secret}",
            cfg("aesgcm", one.clone()),
            None,
        ),
        (
            "{.resources[*].providers[*].aesgcm.keys[*].secret}",
            cfg("aesgcm", one.clone()),
            Some("secret1"),
        ),
        (
            "{.resources[*].providers[*].secretbox.keys[*].secret}",
            cfg("secretbox", one),
            Some("secret1"),
        ),
        (
            "{.resources[*].providers[*].aescbc.keys[*].secret}",
            cfg("aescbc", two),
            Some("secret1 secret2"),
        ),
    ];
    for (path, data, expected) in cases {
        let got = jsonpath::execute(path, &data, Numbers::Json).unwrap();
        match expected {
            Some(e) => assert_eq!(got, e, "{path}"),
            // "results don't match": upstream expects "secret1" not to come out.
            None => assert_ne!(got, "secret1", "{path}"),
        }
    }
}

// ---- check/check_test.go (at a73ce378): TestCheck_Run (10), TestCheckAuditEnv (7),
// TestCheckAuditConfig (17), Test_runAudit (3) — 37 more cases, run through `run_check`
// with the shell allowed (kube-bench always has one) and, for the ones whose audits are
// native, without it as well.

use palisade_bench::model::{TestItem, Tests};
use palisade_bench::node::Node;
use palisade_bench::run::{self, State};

fn empty_node() -> (tempfile::TempDir, Node) {
    let dir = tempfile::TempDir::new().unwrap();
    let node = Node::with_processes(dir.path(), Vec::new());
    (dir, node)
}

fn item(flag: &str, set: bool) -> TestItem {
    TestItem {
        flag: flag.into(),
        set,
        ..Default::default()
    }
}

#[test]
fn check_run() {
    let (_d, node) = empty_node();
    let tests = |items: Vec<TestItem>| {
        Some(Tests {
            bin_op: String::new(),
            test_items: items,
        })
    };
    let cases: Vec<(&str, Check, State)> = vec![
        (
            "Manual check should WARN",
            Check {
                kind: "manual".into(),
                ..Default::default()
            },
            State::WARN,
        ),
        (
            "Skip check should INFO",
            Check {
                kind: "skip".into(),
                ..Default::default()
            },
            State::INFO,
        ),
        (
            "Unscored check (with no type) should WARN on failure",
            Check::default(),
            State::WARN,
        ),
        (
            "Unscored check that pass should PASS",
            Check {
                audit: "echo hello".into(),
                tests: tests(vec![item("hello", true)]),
                ..Default::default()
            },
            State::PASS,
        ),
        (
            "Check with no tests should WARN",
            Check {
                scored: true,
                ..Default::default()
            },
            State::WARN,
        ),
        (
            "Scored check with empty tests should FAIL",
            Check {
                scored: true,
                tests: tests(vec![]),
                ..Default::default()
            },
            State::FAIL,
        ),
        (
            "Scored check that doesn't pass should FAIL",
            Check {
                scored: true,
                audit: "echo hello".into(),
                tests: tests(vec![item("hello", false)]),
                ..Default::default()
            },
            State::FAIL,
        ),
        (
            "Scored checks that pass should PASS",
            Check {
                scored: true,
                audit: "echo hello".into(),
                tests: tests(vec![item("hello", true)]),
                ..Default::default()
            },
            State::PASS,
        ),
        (
            "Scored checks that pass should PASS when config file is not present",
            Check {
                scored: true,
                audit: "echo hello".into(),
                audit_config: "/test/config.yaml".into(),
                tests: tests(vec![item("hello", true)]),
                ..Default::default()
            },
            State::PASS,
        ),
        (
            "Scored checks that pass should FAIL when config file is not present",
            Check {
                scored: true,
                audit_config: "/test/config.yaml".into(),
                tests: tests(vec![item("hello", true)]),
                ..Default::default()
            },
            State::FAIL,
        ),
    ];
    assert_eq!(cases.len(), 10);
    for (name, check, want) in cases {
        assert_eq!(run::run_check(&check, &node, true).status, want, "{name}");
    }
}

fn run_group(group: usize, pass: &[usize], fail: &[usize]) {
    let c = controls();
    let (_d, node) = empty_node();
    for (ids, want) in [(pass, State::PASS), (fail, State::FAIL)] {
        for &i in ids {
            let check = &c.groups[group].checks[i];
            for allow_shell in [true, false] {
                let r = run::run_check(check, &node, allow_shell);
                assert_eq!(
                    r.status, want,
                    "group {group} check {i} ({}), shell {allow_shell}: {r:?}",
                    check.text
                );
                if !allow_shell {
                    assert_eq!(r.evaluation, run::Evaluation::Native, "{}", check.text);
                }
            }
        }
    }
}

#[test]
fn check_audit_env() {
    run_group(2, &[0, 2, 3, 4], &[1, 5, 6]);
}

#[test]
fn check_audit_config() {
    run_group(
        1,
        &[0, 3, 5, 7, 9, 15],
        &[1, 2, 4, 6, 8, 10, 11, 12, 13, 14, 16],
    );
}

#[test]
fn run_audit() {
    let (_d, node) = empty_node();
    assert_eq!(
        run::run_audit("echo 'hello world'", &node, false).unwrap(),
        "hello world\n"
    );
    let script = "\nhello() {\n  echo \"hello world\"\n}\n\nhello\n";
    // A shell function: not native; through the shell as kube-bench runs it.
    assert!(
        run::run_audit(script, &node, false)
            .unwrap_err()
            .contains("not evaluated natively")
    );
    assert_eq!(
        run::run_audit(script, &node, true).unwrap(),
        "hello world\n"
    );
    let err = run::run_audit("unknown_command", &node, true).unwrap_err();
    assert!(
        err.starts_with("failed to run: \"unknown_command\", output: \"/bin/sh: "),
        "{err}"
    );
    assert!(err.contains("not found"), "{err}");
}
