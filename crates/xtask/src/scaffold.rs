//! `cargo xtask new-kernel NAME`: a new kernel crate from the templates in `templates/`, wired
//! into the workspace so that the harness discovers it, with its one-line conformance test and
//! a docs page. Nothing is written unless every check passes first.

use std::path::{Path, PathBuf};

/// The names of the kernels already in the workspace (`mandel-harness`'s registry), so a new
/// one cannot shadow them.
pub fn existing_kernel_names() -> Vec<String> {
    let mut names: Vec<String> =
        mandel_harness::registry::all_kernels().iter().map(|k| k.name().to_string()).collect();
    names.extend(["reference".to_string(), "reference-f32".to_string()]);
    names
}

/// Rust keywords: a kernel named after one would give its test module a name that cannot compile.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "do", "dyn", "else", "enum",
    "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match",
    "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self", "static", "struct", "super",
    "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual", "where", "while",
    "yield",
];

/// Why `name` cannot be a new kernel, if it cannot.
pub fn check_name(name: &str, root: &Path, existing: &[String]) -> Result<(), String> {
    if !mandel_core::is_valid_kernel_name(name) {
        return Err(format!(
            "{name:?} is not a kernel name: use lowercase letters and digits in words joined by '-', starting with a letter (e.g. `interleave` or `my-simd`)"
        ));
    }
    if name.len() > 40 {
        return Err(format!("{name:?} is {} characters long; keep a kernel name under 40", name.len()));
    }
    let module = name.replace('-', "_");
    if KEYWORDS.contains(&module.as_str()) {
        return Err(format!(
            "{name:?} is a Rust keyword, which cannot name the crate's test module; pick another"
        ));
    }
    let dir = root.join("crates").join(format!("kernel-{name}"));
    if dir.exists() {
        return Err(format!("crates/kernel-{name} already exists; pick another name or remove it first"));
    }
    if let Some(clash) = existing
        .iter()
        .find(|k| *k == name || k.starts_with(&format!("{name}-")) || name.starts_with(&format!("{k}-")))
    {
        return Err(format!(
            "{name:?} clashes with the existing kernel `{clash}` (race filters and names must stay unambiguous); pick another"
        ));
    }
    Ok(())
}

/// `my-simd` → `MySimd`.
fn type_name(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The line `entry` inserted after the last `kernel-*` key of `[section]` in a manifest's text,
/// checked to parse with the new dependency in place.
fn add_dependency(manifest: &str, section: &str, crate_name: &str, entry: &str) -> Result<String, String> {
    let lines: Vec<&str> = manifest.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == format!("[{section}]"))
        .ok_or(format!("no [{section}] table"))?;
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |n| start + 1 + n);
    let last_kernel = (start + 1..end)
        .rev()
        .find(|&n| lines[n].trim_start().starts_with("kernel-"))
        .ok_or(format!("no kernel-* entry in [{section}]"))?;
    let mut out: Vec<&str> = lines.clone();
    out.insert(last_kernel + 1, entry);
    let text = out.join("\n") + "\n";
    let parsed: toml::Table = text.parse().map_err(|e| format!("the edited manifest does not parse: {e}"))?;
    let table =
        section.split('.').try_fold(&parsed, |table, key| table.get(key).and_then(toml::Value::as_table));
    if table.and_then(|t| t.get(crate_name)).is_none() {
        return Err(format!("{crate_name} did not land in [{section}]"));
    }
    Ok(text)
}

/// What `new_kernel` wrote.
#[derive(Debug)]
pub struct Scaffold {
    /// Files created, relative to the root.
    pub created: Vec<PathBuf>,
    /// Manifests edited, relative to the root.
    pub edited: Vec<PathBuf>,
}

/// Creates `crates/kernel-NAME`, its test and docs page, and registers it in the workspace's
/// and the harness's manifests.
pub fn new_kernel(name: &str, root: &Path, existing: &[String]) -> Result<Scaffold, String> {
    check_name(name, root, existing)?;
    let module = name.replace('-', "_");
    let crate_name = format!("kernel-{name}");
    let fill = |template: &str| {
        template
            .replace("{name}", name)
            .replace("{module}", &module)
            .replace("{type_name}", &type_name(name))
            .replace("{title}", &format!("Kernel {name}"))
    };
    let files: [(PathBuf, String); 4] = [
        (
            PathBuf::from(format!("crates/{crate_name}/Cargo.toml")),
            fill(include_str!("../templates/Cargo.toml.tmpl")),
        ),
        (
            PathBuf::from(format!("crates/{crate_name}/src/lib.rs")),
            fill(include_str!("../templates/lib.rs.tmpl")),
        ),
        (
            PathBuf::from(format!("crates/{crate_name}/tests/conformance.rs")),
            fill(include_str!("../templates/conformance.rs.tmpl")),
        ),
        (PathBuf::from(format!("docs/kernels/{name}.md")), fill(include_str!("../templates/page.md.tmpl"))),
    ];
    if let Some((path, _)) = files.iter().find(|(path, _)| root.join(path).exists()) {
        return Err(format!("{} already exists; remove it first", path.display()));
    }

    // Both manifest edits are computed before anything is written.
    let workspace_manifest = PathBuf::from("Cargo.toml");
    let harness_manifest = PathBuf::from("crates/mandel-harness/Cargo.toml");
    let read = |path: &Path| {
        std::fs::read_to_string(root.join(path)).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let workspace = add_dependency(
        &read(&workspace_manifest)?,
        "workspace.dependencies",
        &crate_name,
        &format!("{crate_name} = {{ path = \"crates/{crate_name}\" }}"),
    )
    .map_err(|e| format!("Cargo.toml: {e}"))?;
    let harness = add_dependency(
        &read(&harness_manifest)?,
        "dependencies",
        &crate_name,
        &format!("{crate_name}.workspace = true"),
    )
    .map_err(|e| format!("crates/mandel-harness/Cargo.toml: {e}"))?;

    for (path, text) in &files {
        let full = root.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&full, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    for (path, text) in [(&workspace_manifest, workspace), (&harness_manifest, harness)] {
        std::fs::write(root.join(path), text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(Scaffold {
        created: files.into_iter().map(|(path, _)| path).collect(),
        edited: vec![workspace_manifest, harness_manifest],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn existing() -> Vec<String> {
        ["naive", "hoisted", "simd-f64x8", "gpu-f32", "reference"].map(String::from).to_vec()
    }

    #[test]
    fn bad_and_clashing_names_are_refused_with_a_reason() {
        let root = Path::new("/nonexistent");
        for (name, says) in [
            ("", "not a kernel name"),
            ("My-Kernel", "not a kernel name"),
            ("my_kernel", "not a kernel name"),
            ("9lives", "not a kernel name"),
            ("a--b", "not a kernel name"),
            ("../evil", "not a kernel name"),
            ("type", "Rust keyword"),
            ("hoisted", "clashes with the existing kernel `hoisted`"),
            ("simd", "clashes with the existing kernel `simd-f64x8`"),
            ("naive-fast", "clashes with the existing kernel `naive`"),
            ("reference", "clashes"),
            (&"x".repeat(41), "under 40"),
        ] {
            let why = check_name(name, root, &existing()).unwrap_err();
            assert!(why.contains(says), "{name}: {why}");
        }
        assert_eq!(check_name("interleave", root, &existing()), Ok(()));
        assert_eq!(type_name("my-simd2"), "MySimd2");
    }

    #[test]
    fn dependencies_go_after_the_last_kernel_line_and_keep_comments() {
        let manifest = "[package]\nname = \"h\"\n\n[dependencies]\n# kernels:\nkernel-a.workspace = true\nkernel-b.workspace = true\n# Not kernels:\nserde = \"1\"\n\n[dev-dependencies]\nkernel-z = \"1\"\n";
        let out =
            add_dependency(manifest, "dependencies", "kernel-new", "kernel-new.workspace = true").unwrap();
        assert_eq!(
            out,
            "[package]\nname = \"h\"\n\n[dependencies]\n# kernels:\nkernel-a.workspace = true\nkernel-b.workspace = true\nkernel-new.workspace = true\n# Not kernels:\nserde = \"1\"\n\n[dev-dependencies]\nkernel-z = \"1\"\n"
        );
        assert!(add_dependency(
            "[dependencies]\nserde = \"1\"\n",
            "dependencies",
            "kernel-x",
            "kernel-x = \"1\""
        )
        .unwrap_err()
        .contains("no kernel-* entry"));
    }

    #[test]
    fn a_scaffold_is_written_whole_and_never_twice() {
        let root = std::env::temp_dir().join(format!("xtask-scaffold-{}", std::process::id()));
        std::fs::create_dir_all(root.join("crates/mandel-harness")).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace.dependencies]\nkernel-naive = { path = \"crates/kernel-naive\" }\n",
        )
        .unwrap();
        std::fs::write(
            root.join("crates/mandel-harness/Cargo.toml"),
            "[dependencies]\nkernel-naive.workspace = true\n",
        )
        .unwrap();
        let made = new_kernel("my-kernel", &root, &existing()).unwrap();
        assert_eq!(made.created.len(), 4);
        let lib = std::fs::read_to_string(root.join("crates/kernel-my-kernel/src/lib.rs")).unwrap();
        assert!(lib.contains("pub struct MyKernel;") && lib.contains("\"my-kernel\""), "{lib}");
        let test =
            std::fs::read_to_string(root.join("crates/kernel-my-kernel/tests/conformance.rs")).unwrap();
        assert!(test.contains("conformance!(my_kernel => kernel_my_kernel::MyKernel)"), "{test}");
        let harness = std::fs::read_to_string(root.join("crates/mandel-harness/Cargo.toml")).unwrap();
        assert!(harness.contains("kernel-my-kernel.workspace = true"), "{harness}");
        let again = new_kernel("my-kernel", &root, &existing()).unwrap_err();
        assert!(again.contains("already exists"), "{again}");
        // A manifest the scaffold cannot edit leaves no files behind.
        std::fs::write(root.join("crates/mandel-harness/Cargo.toml"), "[dependencies]\n").unwrap();
        assert!(new_kernel("other", &root, &existing()).is_err());
        assert!(!root.join("crates/kernel-other").exists());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
