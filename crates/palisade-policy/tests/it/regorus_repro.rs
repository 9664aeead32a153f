//! Minimal reproduction of the regorus behaviour behind `general/horizontalpodautoscaler`
//! `example-disallowed-hpa-replicas`: its message has six `%v` verbs and five arguments. OPA
//! (Go's fmt) writes `%!v(MISSING)` for the sixth and reports the violation; regorus 0.14.1's
//! `sprintf` fails instead, so the message, and with it the violation, is undefined. `not f(x)`
//! is evaluated correctly on both regorus engines. palisade-policy rewrites such calls
//! (`rego::sprintf_missing_arguments`); this test runs regorus directly, without the rewrite,
//! and fails once regorus prints OPA's marker itself.
#![allow(clippy::unwrap_used)] // test helpers
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::RegoVM;

const SRC: &str = r#"package p
v[m] {
  not lim(input.x)
  m := sprintf("%v %v", [input.x])
}
w[m] {
  not lim(input.x)
  m := sprintf("%v", [input.x])
}
lim(x) {
  x > 5
}
"#;

fn engine() -> regorus::Engine {
    let mut e = regorus::Engine::new();
    e.set_rego_v0(true);
    // As palisade-policy runs templates (OPA's default).
    e.set_strict_builtin_errors(false);
    e.add_policy("p.rego".into(), SRC.into()).unwrap();
    e.set_input(regorus::Value::from_json_str(r#"{"x": 1}"#).unwrap());
    e
}

fn json(v: regorus::Value) -> String {
    v.to_json_str().unwrap().split_whitespace().collect()
}

fn vm(rule: &str) -> String {
    let mut e = engine();
    let compiled = e.compile_with_entrypoint(&rule.into()).unwrap();
    let program = Compiler::compile_from_policy(&compiled, &[rule]).unwrap();
    let mut vm = RegoVM::new();
    vm.load_program(program);
    vm.set_strict_builtin_errors(false);
    vm.set_input(regorus::Value::from_json_str(r#"{"x": 1}"#).unwrap());
    json(vm.execute().unwrap())
}

#[test]
fn sprintf_with_fewer_arguments_than_verbs_is_not_opas_missing_marker() {
    // With as many arguments as verbs, `not lim(x)` holds on both engines.
    let want = r#"["1"]"#;
    assert_eq!(json(engine().eval_rule("data.p.w".into()).unwrap()), want);
    assert_eq!(vm("data.p.w"), want);
    // OPA: ["1 %!v(MISSING)"]. regorus's sprintf fails ("no argument specified for format
    // verb 1", an error when builtin errors are strict), so the message is undefined and the
    // rule has no element, on the interpreter and on the VM alike.
    assert_eq!(json(engine().eval_rule("data.p.v".into()).unwrap()), "[]");
    assert_eq!(vm("data.p.v"), "[]");
}
