//! The audit forms evaluated natively beyond the generic CIS shapes: OpenShift's `oc debug
//! node/... -- chroot /host CMD`, the helper scripts the RKE/RKE2 benchmarks call, and the
//! tools they use (`grep -B`, `more`). Each is run with the exact audit strings of the shipped
//! cfgs over a node fixture, and — where the program exists here — compared with what
//! `/bin/sh` (or `bash`, for the helper script) prints over the same files.

use super::fixtures::{dir, proc_entry, put, users};
use palisade_bench::audit::{self, Support};
use palisade_bench::config::CfgTree;
use palisade_bench::node::Node;
use palisade_bench::run::{self, Evaluation, Options, Report, State};
use std::path::Path;
use tempfile::TempDir;

/// `(output, status)` of `script` run by `/bin/sh` with stdout and stderr together, as
/// kube-bench captures them.
fn sh(script: &str) -> (String, i32) {
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("exec 2>&1; {script}"))
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// The host itself as the node (`--root /`): paths in the scripts are the host's, so the
/// native answer and `/bin/sh`'s can be compared on temporary files.
fn host() -> Node {
    Node::load(Path::new("/"), None)
}

fn assert_same_as_sh(script: &str) {
    let node = host();
    assert_eq!(audit::support(script), Support::Native, "{script}");
    let native = audit::run(script, &node);
    assert_eq!(native.unsupported, None, "{script}");
    let (out, status) = sh(script);
    assert_eq!(
        (native.output.as_str(), native.status),
        (out.as_str(), status),
        "native vs sh: {script}"
    );
}

const KUBELET_CONF: &str = r#"{
  "kind": "KubeletConfiguration",
  "apiVersion": "kubelet.config.k8s.io/v1beta1",
  "authentication": {
    "x509": {
      "clientCAFile": "/etc/kubernetes/kubelet-ca.crt"
    },
    "webhook": {
      "enabled": true
    },
    "anonymous": {
      "enabled": false
    }
  },
  "authorization": {
    "mode": "Webhook"
  },
  "rotateCertificates": true
}
"#;

#[test]
fn grep_context_and_more_match_the_shell() {
    let tmp = TempDir::new().unwrap();
    let f = tmp.path().join("kubelet.conf");
    std::fs::write(&f, KUBELET_CONF).unwrap();
    let many = tmp.path().join("many");
    std::fs::write(&many, "a\nx1\nb\nc\nd\ne\nx2\nx3\nf\ng\nh\ni\nx4\n").unwrap();
    let f = f.display();
    let many = many.display();
    for script in [
        format!("grep -B4 -A1 anonymous {f} 2> /dev/null"),
        format!("grep clientCAFile {f} 2> /dev/null"),
        format!("more {f} 2> /dev/null"),
        format!("grep -B1 x {many}"),
        format!("grep -B2 -A1 x {many}"),
        format!("grep -A1 x {many}"),
        format!("grep -B 3 x4 {many}"),
        format!("grep -B4 -A1 nothing {f}"),
        format!("more {f}.missing 2> /dev/null"),
        format!("more {f} {many}"),
    ] {
        assert_same_as_sh(&script);
    }
}

/// Context lengths from the audit text are numbers of any size: `-A` and `-B` near
/// `usize::MAX` together print the whole context, never overflow.
#[test]
fn grep_huge_context_lengths_do_not_overflow() {
    let tmp = TempDir::new().unwrap();
    let many = tmp.path().join("many");
    std::fs::write(&many, "a\nx1\nb\n").unwrap();
    let script = format!("grep -A {} -B 1 x {}", usize::MAX, many.display());
    let r = audit::run(&script, &host());
    assert_eq!((r.output.as_str(), r.status), ("a\nx1\nb\n", 0), "{script}");
}

/// `oc debug node/N -- chroot /host CMD 2> /dev/null` prints what CMD writes to stdout and
/// stderr (the debug pod's log) and exits 1 when CMD fails: compared with CMD under `/bin/sh`
/// with `2>&1`, over the host as the node.
#[test]
fn oc_debug_chroot_matches_the_command() {
    let tmp = TempDir::new().unwrap();
    let f = tmp.path().join("kubelet.conf");
    std::fs::write(&f, KUBELET_CONF).unwrap();
    let f = f.display();
    let node = host();
    for cmd in [
        format!("stat -c \"$NODE_NAME %n permissions=%a\" {f}"),
        format!("stat -c \"$NODE_NAME %n %U:%G\" {f}"),
        format!("stat -c \"$NODE_NAME %n %U:%G\" {f}.missing"),
        format!("grep -B4 -A1 anonymous {f}"),
        format!("grep clientCAFile {f}"),
        format!("grep clientCAFile {f}.missing"),
        format!("grep nothing {f}"),
        format!("more {f}"),
    ] {
        let native =
            format!("NODE_NAME=n1\noc debug node/$NODE_NAME -- chroot /host {cmd} 2> /dev/null");
        assert_eq!(audit::support(&native), Support::Native, "{native}");
        let r = audit::run(&native, &node);
        assert_eq!(r.unsupported, None, "{native}");
        let (out, status) = sh(&format!("NODE_NAME=n1\n{cmd}"));
        assert_eq!(
            (r.output.as_str(), r.status),
            (out.as_str(), i32::from(status != 0)),
            "{cmd}"
        );
    }
}

/// An OpenShift 4 worker's files (the kubelet config is JSON there).
fn openshift_node(hardened: bool) -> TempDir {
    let tmp = TempDir::new().unwrap();
    let root = tmp.path();
    users(root, if hardened { "root" } else { "core" });
    let (file, secret) = if hardened {
        (0o644, 0o600)
    } else {
        (0o666, 0o644)
    };
    put(root, "/etc/hostname", "OCP-Worker-1\n", 0o644);
    put(
        root,
        "/etc/systemd/system/kubelet.service",
        "[Service]\nExecStart=/usr/bin/kubelet --config=/etc/kubernetes/kubelet.conf\n",
        file,
    );
    let conf = if hardened {
        KUBELET_CONF.to_string()
    } else {
        KUBELET_CONF
            .replace("\"enabled\": false", "\"enabled\": true")
            .replace("kubelet-ca.crt", "ca.crt")
            .replace(
                "\"rotateCertificates\": true",
                "\"protectKernelDefaults\": false",
            )
    };
    put(root, "/etc/kubernetes/kubelet.conf", &conf, file);
    put(root, "/etc/kubernetes/kubelet-ca.crt", "CA\n", file);
    put(root, "/etc/kubernetes/kubeconfig", "k\n", secret);
    put(root, "/var/lib/kubelet/kubeconfig", "k\n", secret);
    put(root, "/var/lib/kubelet/config.json", "{}\n", secret);
    tmp
}

fn bench(cfg: &str, targets: &[&str], node: &Node) -> Report {
    let mut o = Options::new(CfgTree::Dir(super::testdata().join("cfg")));
    o.benchmark = Some(cfg.into());
    o.targets = Some(targets.iter().map(|s| s.to_string()).collect());
    run::run(&o, node).unwrap()
}

fn find_by<'a>(
    r: &'a Report,
    what: &str,
    f: impl Fn(&run::CheckResult) -> bool,
) -> &'a run::CheckResult {
    r.controls
        .iter()
        .flat_map(|c| c.groups.iter())
        .flat_map(|g| g.checks.iter())
        .find(|c| f(c))
        .unwrap_or_else(|| panic!("no check {what}"))
}

fn find<'a>(r: &'a Report, id: &str) -> &'a run::CheckResult {
    find_by(r, id, |c| c.id == id)
}

/// rh-1.0's node checks written as `oc debug node/$NODE_NAME -- chroot /host CMD 2> /dev/null`
/// run CMD against the node's root; `$NODE_NAME` is the node's name.
#[test]
fn openshift_debug_chroot_audits_run_against_the_root() {
    let expect: [(&str, State, State); 12] = [
        ("4.1.1", State::PASS, State::FAIL),
        ("4.1.2", State::PASS, State::FAIL),
        ("4.1.5", State::PASS, State::WARN),
        ("4.1.6", State::PASS, State::WARN),
        ("4.1.7", State::PASS, State::FAIL),
        ("4.1.8", State::PASS, State::FAIL),
        ("4.1.9", State::PASS, State::PASS),
        ("4.1.10", State::PASS, State::FAIL),
        // kube-bench's test looks for `enabled: true`, YAML spelling, in a JSON file: it
        // passes whatever the file says (the shell gives the same output).
        ("4.2.1", State::PASS, State::PASS),
        ("4.2.3", State::PASS, State::FAIL),
        // `more` of the kubelet config: protectKernelDefaults must not appear (unscored).
        ("4.2.6", State::PASS, State::WARN),
        // Not native: its `ps -ef` pipeline is oc's with oc's stderr in the output.
        ("4.2.5", State::WARN, State::WARN),
    ];
    for hardened in [true, false] {
        let tmp = openshift_node(hardened);
        let node = Node::load(tmp.path(), None);
        let r = bench("rh-1.0", &["node"], &node);
        for (id, good, bad) in expect {
            let c = find(&r, id);
            let want = if hardened { good } else { bad };
            assert_eq!(c.status, want, "{id} hardened={hardened}: {c:?}");
            let native = id != "4.2.5";
            assert_eq!(
                c.evaluation == Evaluation::Native,
                native,
                "{id}: {:?}",
                c.evaluation
            );
        }
        // The stat lines carry the node's name as the pod's nodeName would.
        assert_eq!(
            find(&r, "4.1.5").actual_value,
            format!(
                "ocp-worker-1 /etc/kubernetes/kubelet.conf permissions={}",
                if hardened { "644" } else { "666" }
            )
        );
        if hardened {
            assert_eq!(
                find(&r, "4.2.1").actual_value,
                KUBELET_CONF
                    .lines()
                    .skip(6)
                    .take(6)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
    // rh-1.8 reads /var/data/kubelet/config.json, absent here: stat fails, so does oc
    // (kube-bench: "failed to run", FAIL for a scored check).
    let tmp = openshift_node(true);
    let node = Node::load(tmp.path(), None);
    let r = bench("rh-1.8", &["node"], &node);
    let c = find(&r, "4.1.9");
    assert_eq!(c.status, State::FAIL);
    assert_eq!(c.evaluation, Evaluation::Native);
    // stat's own message comes back through the debug pod's log.
    assert!(
        c.reason
            .contains("/var/data/kubelet/config.json': No such file or directory")
            && c.reason.ends_with("error: exit status 1"),
        "{}",
        c.reason
    );
}

#[test]
fn oc_forms_that_stay_warn() {
    for a in [
        // oc's own progress lines would be in the output.
        "NODE_NAME=$(oc get pod $HOSTNAME -o=jsonpath='{.spec.nodeName}')\noc debug node/${NODE_NAME} -- chroot /host cat /etc/kubernetes/kubelet.conf | grep RotateKubeletClientCertificate 2> /dev/null",
        // `chroot host` depends on the debug pod's working directory.
        "oc debug node/${NODE_NAME} -- chroot host grep rotate /etc/kubernetes/kubelet.conf 2> /dev/null",
        // The API.
        "oc get scc -o=custom-columns=NAME:.metadata.name,allowHostPID:.allowHostPID",
        "oc debug node/x -- chroot /host kubectl get pods 2> /dev/null",
    ] {
        assert!(
            matches!(audit::support(a), Support::NotNative(_)),
            "{a} should not be native"
        );
    }
    // A debug pod on no node (NODE_NAME never set) is oc's error, not this node's answer.
    let tmp = TempDir::new().unwrap();
    let r = audit::run(
        "oc debug node/$NODE_NAME -- chroot /host stat -c %a /etc 2> /dev/null",
        &Node::load(tmp.path(), None),
    );
    assert!(r.unsupported.is_some(), "{r:?}");
    // Without a name for the node the lookup is not answered.
    let tmp = TempDir::new().unwrap();
    let node = Node::load(tmp.path(), None);
    let r = audit::run(
        "NODE_NAME=$(oc get pod $HOSTNAME -o=jsonpath='{.spec.nodeName}')\necho $NODE_NAME",
        &node,
    );
    assert!(r.unsupported.is_some(), "{r:?}");
}

/// kube-bench's own helper script, run by bash, against the native answer.
#[test]
fn files_owner_in_dir_matches_the_script() {
    let script = super::testdata().join("helper_scripts/check_files_owner_in_dir.sh");
    let bash = Path::new("/bin/bash");
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    // Directories as the host's users own them (root when the tests run as root).
    let ssl = d.join("ssl");
    std::fs::create_dir_all(&ssl).unwrap();
    for f in [
        "kube-ca.pem",
        "kube-etcd-node1.pem",
        "kube-apiserver-key.pem",
    ] {
        std::fs::write(ssl.join(f), "x").unwrap();
    }
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let dirs = [
        ssl.display().to_string(),
        empty.display().to_string(),
        d.join("missing").display().to_string(),
    ];
    let node = host();
    let root_run = nix_is_root();
    for dir in &dirs {
        let a = format!("check_files_owner_in_dir.sh {dir}");
        assert_eq!(audit::support(&a), Support::Native);
        let native = audit::run(&a, &node);
        assert_eq!(native.unsupported, None);
        if bash.exists() {
            let out = std::process::Command::new(bash)
                .arg(&script)
                .arg(dir)
                .output()
                .unwrap();
            let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stdout));
            // The script's stat errors are GNU stat's; its verdict is the last line.
            assert_eq!(
                native.output.lines().last(),
                text.lines().last(),
                "{dir}: native {:?} vs bash {text:?}",
                native.output
            );
            assert_eq!(native.output, text, "{dir}");
        }
        let want = if dir.ends_with("ssl") && root_run {
            "true"
        } else {
            "false"
        };
        assert_eq!(native.output.lines().last(), Some(want), "{dir}");
    }
}

fn nix_is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    let tmp = TempDir::new().unwrap();
    std::fs::metadata(tmp.path()).unwrap().uid() == 0
}

/// Owners named by the node's own passwd/group: `etcd:etcd` is allowed for `kube-etcd-*`.
#[test]
fn files_owner_in_dir_on_a_node_root() {
    use std::os::unix::fs::MetadataExt;
    let tmp = TempDir::new().unwrap();
    let root = tmp.path();
    dir(root, "/etc/kubernetes/ssl", 0o755);
    put(root, "/etc/kubernetes/ssl/kube-ca.pem", "x", 0o644);
    put(root, "/etc/kubernetes/ssl/kube-etcd-1.pem", "x", 0o600);
    let md = std::fs::metadata(root).unwrap();
    let (uid, gid) = (md.uid(), md.gid());
    let a = "check_files_owner_in_dir.sh /etc/kubernetes/ssl";
    for (name, want) in [("root", "true"), ("etcd", "false")] {
        put(
            root,
            "/etc/passwd",
            &format!("{name}:x:{uid}:{gid}::/:/bin/sh\n"),
            0o644,
        );
        put(root, "/etc/group", &format!("{name}:x:{gid}:\n"), 0o644);
        let r = audit::run(a, &Node::load(root, None));
        assert_eq!(r.output, format!("{want}\n"), "owner {name}");
    }
    let r = bench_rke(root);
    assert_eq!(r.status, State::FAIL, "{r:?}");
}

fn bench_rke(root: &Path) -> run::CheckResult {
    let node = Node::load(root, None);
    let r = bench("rke-cis-1.24", &["master"], &node);
    let c = find_by(&r, "check_files_owner_in_dir.sh", |c| {
        c.audit.starts_with("check_files_owner_in_dir.sh")
    })
    .clone();
    assert_eq!(c.evaluation, Evaluation::Native);
    c
}

/// Rancher's `check_cafile_permissions.sh` / `check_cafile_ownership.sh` (rke2 node 4.1.7,
/// 4.1.8): the kubelet's `--client-ca-file` from `ps -ef`, then `stat`.
#[test]
fn cafile_helpers_read_the_kubelet_flag() {
    for (mode, perm_state) in [(0o600, State::PASS), (0o644, State::WARN)] {
        let tmp = TempDir::new().unwrap();
        let root = tmp.path().join("root");
        let proc_dir = tmp.path().join("proc");
        std::fs::create_dir_all(&root).unwrap();
        users(&root, "root");
        put(
            &root,
            "/var/lib/rancher/rke2/agent/client-ca.crt",
            "CA\n",
            mode,
        );
        proc_entry(&proc_dir, 1, &["/sbin/init"], &[]);
        proc_entry(
            &proc_dir,
            300,
            &[
                "kubelet",
                "--volume-plugin-dir=/var/lib/kubelet/volumeplugins",
                "--client-ca-file=/var/lib/rancher/rke2/agent/client-ca.crt",
                "--kubeconfig=/var/lib/rancher/rke2/agent/kubelet.kubeconfig",
            ],
            &[],
        );
        // An apiserver line with the same flag is skipped by the script's `grep -v apiserver`.
        proc_entry(
            &proc_dir,
            301,
            &[
                "kube-apiserver",
                "--client-ca-file=/var/lib/rancher/rke2/server/tls/client-ca.crt",
                "--kubelet-certificate-authority=/x",
            ],
            &[],
        );
        let node = Node::load(&root, Some(&proc_dir));
        let perms = audit::run("check_cafile_permissions.sh", &node);
        assert_eq!(perms.output, format!("permissions={mode:o}\n"));
        assert_eq!(perms.unsupported, None);
        let owner = audit::run("check_cafile_ownership.sh", &node);
        assert_eq!(owner.output, "root:root\n");
        let r = bench("rke2-cis-1.7", &["node"], &node);
        let c = find(&r, "4.1.7");
        assert_eq!(c.audit, "check_cafile_permissions.sh");
        assert_eq!((c.status, c.evaluation), (perm_state, Evaluation::Native));
        let c = find(&r, "4.1.8");
        assert_eq!(c.audit, "check_cafile_ownership.sh");
        assert_eq!(c.status, State::PASS);
    }
    // No kubelet flag: the script would use a `$kubeletcafile` from its environment, which
    // is unknown here — not evaluated natively, WARN with the reason.
    let tmp = TempDir::new().unwrap();
    let node = Node::with_processes(tmp.path(), Vec::new());
    let r = audit::run("check_cafile_permissions.sh", &node);
    assert!(r.unsupported.is_some());
    let r = bench("rke2-cis-1.7", &["node"], &node);
    let c = find(&r, "4.1.7");
    assert_eq!(c.status, State::WARN);
    assert_eq!(c.evaluation, Evaluation::NotEvaluated);
    assert!(c.reason.contains("not evaluated natively"), "{}", c.reason);
}

/// `openssl x509 -in F -subject -issuer -noout` over certificates made for these tests
/// (`testdata/kube-bench/certs`), as OpenSSL 3 prints the names; compared with the
/// `openssl` program when there is one.
#[test]
fn openssl_names_match_openssl() {
    let certs = super::testdata().join("certs");
    let node = host();
    let cases = [
        (
            "master.etcd-ca.crt",
            "issuer=CN = etcd-signer 1600000000\nsubject=CN = etcd-signer 1600000000\n",
        ),
        (
            "leaf.crt",
            "issuer=CN = etcd-signer 1600000000\nsubject=C = US, ST = North Carolina, O = \"Acme, Inc.\", OU = \"#ops\", CN = \"node-1 \", emailAddress = ops example.com\n",
        ),
    ];
    let have_openssl = Path::new("/usr/bin/openssl").exists();
    for (file, want) in cases {
        let path = certs.join(file);
        let a = format!(
            "openssl x509 -in {} -issuer -subject -noout | sed 's/@/ /'",
            path.display()
        );
        assert_eq!(audit::support(&a), Support::Native);
        let r = audit::run(&a, &node);
        assert_eq!((r.output.as_str(), r.status), (want, 0), "{file}");
        if have_openssl {
            assert_same_as_sh(&a);
            assert_same_as_sh(&a.replace("-issuer -subject", "-subject -issuer"));
        }
    }
    // A multi-valued RDN is not answered; a missing file fails as openssl does.
    let multi = certs.join("multi-rdn.crt");
    let r = audit::run(
        &format!("openssl x509 -in {} -subject -noout", multi.display()),
        &node,
    );
    assert!(r.unsupported.is_some(), "{r:?}");
    let r = audit::run("openssl x509 -in /nonexistent.crt -subject -noout", &node);
    assert_eq!((r.status, r.unsupported), (1, None));
    // Other openssl forms are not native.
    let r = audit::run(
        &format!("openssl x509 -in {} -text", multi.display()),
        &node,
    );
    assert!(r.unsupported.is_some());
}

/// rh-0.7's etcd CA check: the upstream test expects OpenSSL 1.0's `issuer= /CN=...`;
/// OpenSSL 3 (kube-bench's image) prints `issuer=CN = ...`, so the check does not pass.
#[test]
fn openshift_3_etcd_ca_issuer() {
    let tmp = TempDir::new().unwrap();
    let root = tmp.path();
    let pem = std::fs::read_to_string(super::testdata().join("certs/master.etcd-ca.crt")).unwrap();
    put(root, "/etc/origin/master/master.etcd-ca.crt", &pem, 0o644);
    let node = Node::load(root, None);
    let r = bench("rh-0.7", &["master"], &node);
    let c = find_by(&r, "openssl x509", |c| c.audit.starts_with("openssl x509"));
    assert_eq!(c.evaluation, Evaluation::Native);
    assert_eq!(
        c.actual_value,
        "subject=CN = etcd-signer 1600000000\nissuer=CN = etcd-signer 1600000000"
    );
    assert_eq!(c.status, State::WARN, "unscored: {c:?}");
}

/// eks-stig's `systemctl is-enabled sshd.service` from the unit files under the root,
/// compared with `systemctl --root=DIR is-enabled` (unit-file state, no running systemd)
/// where systemctl exists. `systemctl show -p ActiveState` is runtime state: not native.
#[test]
fn systemctl_is_enabled_from_unit_files() {
    let audit_text = "/bin/sh -c 'systemctl is-enabled sshd.service'";
    assert_eq!(audit::support(audit_text), Support::Native);
    assert!(matches!(
        audit::support("/bin/sh -c 'systemctl show -p ActiveState sshd'"),
        Support::NotNative(_)
    ));
    let unit = "[Unit]\nDescription=OpenSSH\n[Service]\nExecStart=/usr/sbin/sshd -D\n";
    let install = "[Install]\nWantedBy=multi-user.target\n";
    let link = |root: &Path, at: &str, to: &str| {
        let p = root.join(at.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(to, p).unwrap();
    };
    type Setup = fn(&Path, &dyn Fn(&Path, &str, &str));
    let cases: [(&str, Setup, &str, i32); 6] = [
        (
            "missing",
            |_, _| {},
            "Failed to get unit file state for sshd.service: No such file or directory\n",
            1,
        ),
        ("disabled", |_, _| {}, "disabled\n", 1),
        (
            "enabled",
            |r, l| {
                l(
                    r,
                    "/etc/systemd/system/multi-user.target.wants/sshd.service",
                    "/usr/lib/systemd/system/sshd.service",
                )
            },
            "enabled\n",
            0,
        ),
        (
            "masked",
            |r, l| l(r, "/etc/systemd/system/sshd.service", "/dev/null"),
            "masked\n",
            1,
        ),
        ("static", |_, _| {}, "static\n", 0),
        ("indirect", |_, _| {}, "indirect\n", 0),
    ];
    let systemctl = ["/usr/bin/systemctl", "/bin/systemctl"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    for (name, setup, want, status) in cases {
        let tmp = TempDir::new().unwrap();
        let root = tmp.path();
        if name != "missing" {
            let text = match name {
                "static" => unit.to_string(),
                "indirect" => format!("{unit}[Install]\nAlso=sshd.socket\n"),
                _ => format!("{unit}{install}"),
            };
            put(root, "/usr/lib/systemd/system/sshd.service", &text, 0o644);
        }
        setup(root, &link);
        let node = Node::load(root, None);
        let r = audit::run(audit_text, &node);
        assert_eq!(r.unsupported, None, "{name}");
        assert_eq!((r.output.as_str(), r.status), (want, status), "{name}");
        if let Some(bin) = systemctl {
            let out = std::process::Command::new(bin)
                .arg(format!("--root={}", root.display()))
                .args(["is-enabled", "sshd.service"])
                .output()
                .unwrap();
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            assert_eq!(
                (text.as_str(), out.status.code().unwrap()),
                (want, status),
                "systemctl --root: {name}"
            );
        }
        // eks-stig V-242394 wants `disabled` in the output, but systemctl exits 1 then and
        // kube-bench fails an audit that exits non-zero: the check cannot pass, natively as
        // through the shell.
        let r = bench("eks-stig-kubernetes-v1r6", &["node"], &node);
        let c = find(&r, "V-242394");
        assert_eq!(c.evaluation, Evaluation::Native, "{name}");
        assert_eq!(c.status, State::FAIL, "{name}: {c:?}");
        if status != 0 {
            assert!(c.reason.ends_with("error: exit status 1"), "{}", c.reason);
        }
    }
    // An alias link is not answered natively.
    let tmp = TempDir::new().unwrap();
    put(
        tmp.path(),
        "/usr/lib/systemd/system/ssh.service",
        unit,
        0o644,
    );
    link(
        tmp.path(),
        "/etc/systemd/system/sshd.service",
        "/usr/lib/systemd/system/ssh.service",
    );
    let r = audit::run(audit_text, &Node::load(tmp.path(), None));
    assert!(r.unsupported.is_some(), "{r:?}");
}

/// `(output, status)` of `script` fed to `/bin/sh` on stdin, as kube-bench runs audits.
fn sh_stdin(script: &str) -> (String, i32) {
    use std::io::Write;
    let mut child = std::process::Command::new("/bin/sh")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (text, out.status.code().unwrap_or(-1))
}

/// Two rke2-cis-1.24 audits open with a stray `'`, which makes the whole script one word:
/// a command that does not exist. The shell says "not found" (127); so does the evaluator.
#[test]
fn a_script_quoted_into_one_word_is_not_found() {
    let tmp = TempDir::new().unwrap();
    let node = Node::load(tmp.path(), None);
    let r = bench("rke2-cis-1.24", &["master"], &node);
    for id in ["1.1.10", "1.1.21"] {
        let c = find(&r, id);
        assert!(c.audit.starts_with("'/bin/sh -c "), "{id}: {}", c.audit);
        assert_eq!(
            (c.status, c.evaluation),
            (State::WARN, Evaluation::Native),
            "{id}"
        );
        assert!(c.reason.ends_with("error: exit status 127"), "{}", c.reason);
        let native = audit::run(c.audit.trim(), &node);
        assert_eq!(native.status, 127);
        assert!(
            native.output.ends_with(": not found\n"),
            "{}",
            native.output
        );
        // dash (Debian's /bin/sh) prints exactly this; other shells word it differently.
        let (out, status) = sh_stdin(c.audit.trim());
        assert_eq!(status, 127, "{out}");
        if Path::new("/bin/dash").exists()
            && std::fs::canonicalize("/bin/sh").ok() == std::fs::canonicalize("/bin/dash").ok()
        {
            assert_eq!(native.output, out, "{id}");
        }
    }
}
