//! Compile-time behaviour of the attribute macros: what compiles, and the error each mistake gives.
//! Bless changed messages with `TRYBUILD=overwrite cargo test --test ui`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
