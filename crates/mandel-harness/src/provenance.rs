//! Where a measurement came from: the machine, the build, the SIMD features compiled in and
//! available, the date and the commit. A number without this cannot be compared with another.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The facts that make a race's numbers interpretable; every export carries them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// When the race ran (RFC 3339, UTC).
    pub date: String,
    /// The `mandel` version.
    pub mandel_version: String,
    /// The commit the binary was built from (`unknown` outside a git checkout).
    pub commit: String,
    /// Operating system and architecture (`linux x86_64`).
    pub platform: String,
    /// The CPU's model name.
    pub cpu: String,
    /// The CPU's family and model numbers (`family 25, model 17` on x86 Linux), which tell
    /// apart CPUs that a virtual machine gives one name (a Zen 4 and a Zen 5 are both "AMD
    /// EPYC"); empty where the OS does not say, and in files written before it was recorded.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cpu_id: String,
    /// Logical cores the process may use.
    pub logical_cores: usize,
    /// Threads in rayon's pool, which parallel kernels use.
    pub threads: usize,
    /// SIMD features the binary was compiled to use (`wide` picks its instructions from these).
    pub compiled_features: Vec<String>,
    /// SIMD features this CPU has, of the same list.
    pub cpu_features: Vec<String>,
    /// The compiler (`rustc -V`).
    pub rustc: String,
    /// Cargo profile and optimisation level (`release, opt-level 3`).
    pub profile: String,
    /// Whether debug assertions were compiled in (timings of such a build mislead).
    pub debug_assertions: bool,
    /// The rustflags of the build (`-C target-cpu=native`).
    pub rustflags: String,
    /// Accelerators used by the raced kernels (name, backend, driver); empty when none.
    pub devices: Vec<String>,
}

impl Provenance {
    /// Collects everything about this process and build; `devices` comes from the kernels,
    /// the thread count from rayon's global pool.
    pub fn collect(devices: Vec<String>) -> Provenance {
        Provenance::collect_for_pool(devices, rayon::current_num_threads())
    }

    /// [`Provenance::collect`] for a race run on pools other than the global one (a scaling
    /// run gives its largest), without starting the global pool.
    pub fn collect_for_pool(devices: Vec<String>, threads: usize) -> Provenance {
        let profile = env!("MANDEL_BUILD_PROFILE");
        Provenance {
            date: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            mandel_version: env!("CARGO_PKG_VERSION").to_string(),
            commit: env!("MANDEL_BUILD_COMMIT").to_string(),
            platform: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            cpu: cpu_model(),
            cpu_id: cpu_id(),
            logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            threads,
            compiled_features: compiled_features(),
            cpu_features: cpu_features(),
            rustc: env!("MANDEL_BUILD_RUSTC").to_string(),
            profile: format!("{profile}, opt-level {}", env!("MANDEL_BUILD_OPT_LEVEL")),
            debug_assertions: cfg!(debug_assertions),
            rustflags: env!("MANDEL_BUILD_RUSTFLAGS").to_string(),
            devices,
        }
    }

    /// The CPU as captions and headers name it: its model name, and its family and model
    /// numbers where known (`AMD EPYC (family 25, model 17)`).
    pub fn cpu_named(&self) -> String {
        if self.cpu_id.is_empty() {
            self.cpu.clone()
        } else {
            format!("{} ({})", self.cpu, self.cpu_id)
        }
    }

    /// The widest vector instruction set compiled in (`avx512f`, `avx2`, `neon`), or `none`.
    pub fn widest_simd(&self) -> &str {
        const WIDEST_FIRST: &[&str] =
            &["avx512f", "avx2", "avx", "sse4.2", "sse4.1", "sse2", "sve2", "sve", "neon"];
        WIDEST_FIRST
            .iter()
            .find(|f| self.compiled_features.iter().any(|c| c == *f))
            .copied()
            .unwrap_or("none")
    }

    /// Features the CPU has that the binary was not compiled to use: each one is speed left on
    /// the table by the SIMD kernels (see the README on `target-cpu=native`).
    pub fn unused_cpu_features(&self) -> Vec<String> {
        self.cpu_features.iter().filter(|f| !self.compiled_features.contains(f)).cloned().collect()
    }
}

/// Declares the SIMD features the race reports, with one expression each for "compiled in"
/// and "present on this CPU" (`cfg!` needs a literal, hence the macro).
macro_rules! simd_features {
    ($detect:ident: $($feature:tt),* $(,)?) => {
        fn compiled_features() -> Vec<String> {
            let mut features = Vec::new();
            $(if cfg!(target_feature = $feature) { features.push($feature.to_string()); })*
            features
        }
        fn cpu_features() -> Vec<String> {
            let mut features = Vec::new();
            $(if std::arch::$detect!($feature) { features.push($feature.to_string()); })*
            features
        }
    };
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
simd_features!(is_x86_feature_detected:
    "sse2", "sse4.1", "sse4.2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl");

#[cfg(target_arch = "aarch64")]
simd_features!(is_aarch64_feature_detected: "neon", "sve", "sve2");

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
fn compiled_features() -> Vec<String> {
    Vec::new()
}

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
fn cpu_features() -> Vec<String> {
    Vec::new()
}

/// `family F, model M` from Linux's `/proc/cpuinfo` (x86), or empty.
fn cpu_id() -> String {
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else { return String::new() };
    let field = |name: &str| {
        info.lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(key, _)| key.trim() == name)
            .map(|(_, value)| value.trim().to_string())
    };
    match (field("cpu family"), field("model")) {
        (Some(family), Some(model)) => format!("family {family}, model {model}"),
        _ => String::new(),
    }
}

/// The CPU's marketing name, from wherever this OS keeps it.
fn cpu_model() -> String {
    let from_os = if cfg!(target_os = "linux") {
        std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|info| {
            info.lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(key, _)| matches!(key.trim(), "model name" | "Model" | "cpu model"))
                .map(|(_, value)| value.trim().to_string())
        })
    } else if cfg!(target_os = "macos") {
        std::process::Command::new("sysctl")
            .args(["-n", "machdep.cpu.brand_string"])
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .map(|text| text.trim().to_string())
    } else {
        std::env::var("PROCESSOR_IDENTIFIER").ok()
    };
    from_os.filter(|name| !name.is_empty()).unwrap_or_else(|| "unknown CPU".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provenance_of_this_test_binary_is_complete() {
        let p = Provenance::collect(vec!["a GPU".into()]);
        assert!(p.date.ends_with('Z') && p.date.len() == 20, "{}", p.date);
        assert!(p.rustc.starts_with("rustc "), "{}", p.rustc);
        assert!(p.logical_cores >= 1 && p.threads >= 1);
        assert!(!p.cpu.is_empty() && !p.commit.is_empty() && p.profile.contains("opt-level"));
        assert_eq!(p.devices, ["a GPU"]);
        let unused = p.unused_cpu_features();
        assert!(unused.iter().all(|f| p.cpu_features.contains(f) && !p.compiled_features.contains(f)));
        assert_eq!(unused.len() + p.compiled_features.len(), p.cpu_features.len());
        // Whatever was compiled in must be something the CPU running it has.
        for feature in &p.compiled_features {
            assert!(p.cpu_features.contains(feature), "compiled for {feature}, which this CPU lacks");
        }
        #[cfg(target_arch = "x86_64")]
        assert!(p.compiled_features.contains(&"sse2".to_string()), "x86-64 always has sse2");
    }

    #[test]
    fn the_cpu_is_named_with_its_family_and_model_and_old_files_still_read() {
        let p = Provenance::collect(Vec::new());
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        assert!(p.cpu_id.starts_with("family ") && p.cpu_id.contains(", model "), "{}", p.cpu_id);
        assert!(p.cpu_named().starts_with(&p.cpu));
        let named = Provenance { cpu: "AMD EPYC".into(), cpu_id: "family 25, model 17".into(), ..p.clone() };
        assert_eq!(named.cpu_named(), "AMD EPYC (family 25, model 17)");
        // A file written before `cpu_id` existed reads with it empty, and names the CPU as before.
        let mut old = serde_json::to_value(&named).unwrap();
        old.as_object_mut().unwrap().remove("cpu_id");
        let old: Provenance = serde_json::from_value(old).unwrap();
        assert_eq!(old.cpu_named(), "AMD EPYC");
    }
}
