//! Compile-time guarantees of the generated API, and proc-macro errors on bad specs.

#[test]
fn compile_failures() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile_fail/*.rs");
    // The builder forms a Rust user expects: one file per form.
    t.pass("tests/compile_pass/*.rs");
}
