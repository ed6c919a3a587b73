//! h2proto-conformance: checkers and (later) the conformance runner.
fn main() {
    eprintln!("usage: h2proto-conformance hpack [--encode] FILE...");
    std::process::exit(2);
}
