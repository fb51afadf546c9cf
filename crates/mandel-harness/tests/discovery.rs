//! Discovery: every kernel crate in `crates/` is registered, and every kernel is well named.

use std::collections::HashSet;
use std::path::Path;

use mandel_harness::registry::{all_kernels, find_kernel, kernels_by_crate, KERNEL_CRATES};

/// A `crates/kernel-*` directory that the harness does not depend on would silently be left
/// out of `mandel list` and the race. Fail loudly instead.
#[test]
fn every_kernel_crate_in_the_workspace_is_discovered() {
    let crates_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut on_disk: Vec<String> = std::fs::read_dir(&crates_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("kernel-") && crates_dir.join(name).join("Cargo.toml").is_file())
        .collect();
    on_disk.sort();
    assert!(on_disk.len() >= 2, "expected at least kernel-naive and kernel-hoisted, found {on_disk:?}");
    for name in &on_disk {
        assert!(
            KERNEL_CRATES.contains(&name.as_str()),
            "crates/{name} is not discovered: add `{name}.workspace = true` to the [dependencies] of \
             crates/mandel-harness/Cargo.toml (and `{name} = {{ path = \"crates/{name}\" }}` to the \
             workspace's [workspace.dependencies])"
        );
    }
}

#[test]
fn every_crate_exports_kernels_named_after_its_rung() {
    for (krate, kernels) in kernels_by_crate() {
        let rung = krate.strip_prefix("kernel-").unwrap();
        assert!(!kernels.is_empty(), "{krate}::kernels() returns no kernel");
        for kernel in kernels {
            let name = kernel.name();
            assert!(
                name == rung || name.starts_with(&format!("{rung}-")),
                "kernel `{name}` from {krate} must be named `{rung}` or `{rung}-<variant>`"
            );
        }
    }
}

#[test]
fn kernel_names_are_unique_valid_and_findable() {
    let kernels = all_kernels();
    let mut seen = HashSet::new();
    for kernel in &kernels {
        assert!(mandel_core::is_valid_kernel_name(kernel.name()), "{}", kernel.name());
        assert!(seen.insert(kernel.name().to_string()), "duplicate kernel name {}", kernel.name());
        assert_eq!(find_kernel(kernel.name()).unwrap().name(), kernel.name());
    }
    for expected in ["reference", "reference-f32", "naive", "hoisted"] {
        assert!(seen.contains(expected), "{expected} missing");
    }
    let Err(err) = find_kernel("nope") else { panic!("`nope` was found") };
    let err = err.to_string();
    assert!(err.contains("nope") && err.contains("hoisted"), "{err}");
}
