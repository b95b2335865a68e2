//! Renders the OpenAPI document (JSON and YAML) at build time with the core
//! compiled natively, so the Worker serves texts instead of carrying the
//! document builder and the YAML writer (core feature `prerendered-openapi`).
//! The texts are byte for byte what the native host serves.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (yaml, name) in [(false, "openapi.json"), (true, "openapi.yaml")] {
        let resp = gatehouse_core::openapi::rendered_response(yaml);
        assert!(resp.status().is_success(), "{name}: {}", resp.status());
        std::fs::write(out.join(name), resp.body()).expect("write the OpenAPI text");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
