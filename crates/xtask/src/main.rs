//! The workspace's own tools, in Rust so they run wherever cargo does (`cargo xtask ...`):
//! the book's generated tables, facts and excerpts (`docs-tables`, `facts`), and the add-a-kernel
//! scaffold (`new-kernel`).

mod data;
mod markers;
mod scaffold;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The workspace's tools.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The repository's root (default: the one this tool was built from).
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Write every generated table, fact and excerpt in README.md and docs/ from docs/race/*.json
    /// and the sources; with --check, change nothing and fail if anything is stale.
    DocsTables {
        /// Fail (exit 1) if any generated region differs from what the data gives.
        #[arg(long)]
        check: bool,
    },
    /// List every fact a data file offers, with its value.
    Facts {
        /// A JSON file under docs/race/.
        file: PathBuf,
    },
    /// Create crates/kernel-NAME: a working kernel, its conformance test, its docs page, and
    /// the dependency lines that make the harness discover it.
    NewKernel {
        /// The kernel's name: lowercase words and digits joined by '-'.
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = cli.root.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    // `/repo`, not `/repo/crates/xtask/../..`, in messages.
    let root = root.canonicalize().unwrap_or(root);
    let result = match cli.command {
        Command::DocsTables { check } => docs_tables(&root, check),
        Command::Facts { file } => facts(&root, &file),
        Command::NewKernel { name } => new_kernel(&root, &name),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// README.md and every markdown file under docs/, sorted.
fn book_files(root: &Path) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, found)?;
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
        Ok(())
    }
    let mut found = vec![root.join("README.md")];
    walk(&root.join("docs"), &mut found).map_err(|e| format!("cannot list docs/: {e}"))?;
    found.sort();
    Ok(found)
}

fn docs_tables(root: &Path, check: bool) -> Result<(), String> {
    let mut sources = markers::Sources::new(root);
    let (mut problems, mut stale, mut written) = (0, Vec::new(), 0);
    for path in book_files(root)? {
        let shown = path.strip_prefix(root).unwrap_or(&path).display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let (rendered, found) = markers::render(&text, &mut sources);
        for problem in &found {
            eprintln!("{shown}:{}: {}", problem.line, problem.message);
        }
        problems += found.len();
        if rendered != text {
            if check {
                let line = text.lines().zip(rendered.lines()).position(|(a, b)| a != b).map_or(1, |n| n + 1);
                stale.push(format!("{shown}:{line}"));
            } else {
                std::fs::write(&path, rendered).map_err(|e| format!("cannot write {shown}: {e}"))?;
                written += 1;
            }
        }
    }
    if !check {
        println!("docs-tables: {written} file(s) rewritten from docs/race/*.json and the sources");
    }
    match (problems, stale.is_empty()) {
        (0, true) => {
            if check {
                println!("docs-tables: every generated table, fact and excerpt matches its source");
            }
            Ok(())
        }
        (0, false) => Err(format!(
            "stale generated text at {} (the data or the code changed): run `cargo xtask docs-tables` and commit",
            stale.join(", ")
        )),
        (n, _) => Err(format!("{n} problem(s) in the docs (listed above)")),
    }
}

fn facts(root: &Path, file: &Path) -> Result<(), String> {
    let full = if file.is_absolute() || file.exists() { file.to_path_buf() } else { root.join(file) };
    let data = data::Data::load(&full)?;
    for (key, value) in data.facts() {
        println!("{key:<48} {value}");
    }
    Ok(())
}

fn new_kernel(root: &Path, name: &str) -> Result<(), String> {
    let made = scaffold::new_kernel(name, root, &scaffold::existing_kernel_names())?;
    for path in &made.created {
        println!("created  {}", path.display());
    }
    for path in &made.edited {
        println!("edited   {} (registered kernel-{name})", path.display());
    }
    let steps = [
        (format!("cargo test -p kernel-{name}"), "the conformance kit"),
        (format!("cargo race --kernels hoisted,{name}"), "verified, then raced"),
        ("docs/new-kernel.md".to_string(), "how to make it faster"),
    ];
    let width = steps.iter().map(|(step, _)| step.len()).max().unwrap_or(0);
    println!("\nnext:");
    for (step, why) in steps {
        println!("  {step:<width$}   # {why}");
    }
    Ok(())
}
