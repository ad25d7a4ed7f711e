//! The README's callback example is the compiled `examples/moderation.rs`.

#[test]
fn readme_shows_the_compiled_moderation_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("../README.md")).unwrap();
    let example = std::fs::read_to_string(root.join("examples/moderation.rs")).unwrap();
    let code = &example[example.find("use tim_runtime").expect("example starts with its imports")..];
    assert!(
        readme.contains(code.trim_end()),
        "README's `Receiving with axum` block differs from runtime/examples/moderation.rs"
    );
}
