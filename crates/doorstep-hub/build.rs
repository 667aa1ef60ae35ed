//! Embeds the NHS.UK frontend stylesheet the partner pages use, so the hub is one binary that
//! serves its own CSS. `cargo xtask test` / `run` / `ui` write `ui/dist/nhsuk.css` from the
//! nhsuk-frontend npm package first; a hub built without it serves its pages unstyled (they
//! still work: plain HTML forms and links) and says so in a build warning.

use std::path::Path;

fn main() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/dist/nhsuk.css");
    println!("cargo::rerun-if-changed={}", source.display());
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("nhsuk.css");
    let css = std::fs::read_to_string(&source).unwrap_or_else(|_| {
        println!(
            "cargo::warning=ui/dist/nhsuk.css is missing: the partner pages will be unstyled (run `cargo xtask ui` first)"
        );
        String::new()
    });
    std::fs::write(&out, css).expect("OUT_DIR is writable");
}
