//! The kernel registry: the references plus every kernel of every discovered `kernel-*` crate.

use mandel_core::MandelKernel;

mod discovered {
    include!(concat!(env!("OUT_DIR"), "/discovered.rs"));
}

pub use discovered::{kernels_by_crate, KERNEL_CRATES};

/// Every kernel, references first, then the discovered crates in rung order.
pub fn all_kernels() -> Vec<Box<dyn MandelKernel>> {
    kernels_with_crates().into_iter().map(|(_, kernel)| kernel).collect()
}

/// Every kernel with the crate it comes from (`mandel-core` for the references), in the
/// order of [`all_kernels`].
pub fn kernels_with_crates() -> Vec<(&'static str, Box<dyn MandelKernel>)> {
    let mut kernels: Vec<_> =
        mandel_core::reference_kernels().into_iter().map(|kernel| ("mandel-core", kernel)).collect();
    kernels.extend(discovered_kernels());
    kernels
}

/// The kernels of the discovered `kernel-*` crates only (no references), in rung order.
pub fn discovered_kernels() -> Vec<(&'static str, Box<dyn MandelKernel>)> {
    kernels_by_crate()
        .into_iter()
        .flat_map(|(crate_name, kernels)| kernels.into_iter().map(move |kernel| (crate_name, kernel)))
        .collect()
}

/// Why the kernels of `crate_name` cannot run in this build whatever the machine has (an
/// optional rung built without its feature), or `None` where the build includes them. Tests
/// that insist on every kernel (`MANDEL_REQUIRE_ALL`) excuse these, and test them in the build
/// that has the feature.
pub fn left_out_of_this_build(crate_name: &str) -> Option<&'static str> {
    match crate_name {
        "kernel-mpi" if !kernel_mpi::BUILT => Some("built without `--features mpi`"),
        _ => None,
    }
}

/// Why a kernel name was not found: the message lists the valid ones.
#[derive(Debug, thiserror::Error)]
#[error("unknown kernel `{name}`; the kernels are: {known}")]
pub struct UnknownKernel {
    /// The name asked for.
    pub name: String,
    /// Every valid name, comma-separated.
    pub known: String,
}

/// The kernel called `name`.
pub fn find_kernel(name: &str) -> Result<Box<dyn MandelKernel>, UnknownKernel> {
    let kernels = all_kernels();
    let known = kernels.iter().map(|k| k.name().to_string()).collect::<Vec<_>>().join(", ");
    kernels
        .into_iter()
        .find(|kernel| kernel.name() == name)
        .ok_or_else(|| UnknownKernel { name: name.to_string(), known })
}

/// Which kernels a race runs, as a person asked for them.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Exact names (`--kernels a,b`); any kernel, the references included.
    pub names: Vec<String>,
    /// Substrings (positional filters): every kernel whose name contains one.
    pub filters: Vec<String>,
    /// Exact names to leave out (`--skip`).
    pub skip: Vec<String>,
    /// The kernel speedups are measured against; raced even if not selected, unless skipped.
    pub baseline: String,
}

/// Why a selection cannot be raced.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    /// A name that is no kernel.
    #[error(transparent)]
    Unknown(#[from] UnknownKernel),
    /// A filter that matches nothing.
    #[error("no kernel name contains `{filter}`; the kernels are: {known}")]
    NoMatch {
        /// The filter.
        filter: String,
        /// Every valid name.
        known: String,
    },
    /// Everything was skipped.
    #[error("nothing left to race after --skip")]
    Empty,
}

/// Applies `selection` to `kernels` (in rung order), keeping that order. With no names and no
/// filters, every discovered kernel is selected (the references only when asked for). An empty
/// baseline means none.
pub fn select<K>(
    kernels: Vec<(&'static str, K)>,
    name_of: impl Fn(&K) -> &str,
    selection: &Selection,
) -> Result<Chosen<K>, SelectionError> {
    let known = kernels.iter().map(|(_, k)| name_of(k).to_string()).collect::<Vec<_>>();
    let unknown = |name: &String| UnknownKernel { name: name.clone(), known: known.join(", ") };
    let baseline = Some(&selection.baseline).filter(|name| !name.is_empty());
    for name in selection.names.iter().chain(&selection.skip).chain(baseline) {
        if !known.contains(name) {
            return Err(unknown(name).into());
        }
    }
    if let Some(filter) =
        selection.filters.iter().find(|f| !known.iter().any(|name| name.contains(f.as_str())))
    {
        return Err(SelectionError::NoMatch { filter: filter.clone(), known: known.join(", ") });
    }
    let everything = selection.names.is_empty() && selection.filters.is_empty();
    let wanted = |crate_name: &str, name: &str| {
        if everything {
            crate_name != "mandel-core"
        } else {
            selection.names.iter().any(|n| n == name)
                || selection.filters.iter().any(|f| name.contains(f.as_str()))
        }
    };
    let skipped = |name: &str| selection.skip.iter().any(|s| s == name);
    let mut baseline_added = false;
    let chosen: Vec<_> = kernels
        .into_iter()
        .filter(|(crate_name, kernel)| {
            let name = name_of(kernel);
            if skipped(name) {
                return false;
            }
            if wanted(crate_name, name) {
                return true;
            }
            let is_baseline = name == selection.baseline;
            baseline_added |= is_baseline;
            is_baseline
        })
        .collect();
    if chosen.is_empty() || (baseline_added && chosen.len() == 1) {
        return Err(SelectionError::Empty);
    }
    Ok(Chosen { kernels: chosen, baseline_added })
}

/// The outcome of [`select`].
#[derive(Debug)]
pub struct Chosen<K> {
    /// The kernels to race, each with its crate, in rung order.
    pub kernels: Vec<(&'static str, K)>,
    /// Whether the baseline is there only because it is the baseline.
    pub baseline_added: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(selection: Selection) -> Result<(Vec<&'static str>, bool), String> {
        let kernels = vec![
            ("mandel-core", "reference"),
            ("mandel-core", "reference-f32"),
            ("kernel-naive", "naive"),
            ("kernel-hoisted", "hoisted"),
            ("kernel-simd", "simd-f64x4"),
            ("kernel-simd", "simd-f32x16"),
        ];
        let baseline =
            if selection.baseline.is_empty() { "naive".into() } else { selection.baseline.clone() };
        select(kernels, |k| k, &Selection { baseline, ..selection })
            .map(|chosen| (chosen.kernels.into_iter().map(|(_, k)| k).collect(), chosen.baseline_added))
            .map_err(|e| e.to_string())
    }

    /// `--kernels`, positional filters and `--skip`, with the default baseline.
    fn s(names: &[&str], filters: &[&str], skip: &[&str]) -> Selection {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        Selection { names: owned(names), filters: owned(filters), skip: owned(skip), baseline: String::new() }
    }

    #[test]
    fn by_default_every_discovered_kernel_in_rung_order() {
        let all = pick(Selection::default()).unwrap();
        assert_eq!(all, (vec!["naive", "hoisted", "simd-f64x4", "simd-f32x16"], false));
    }

    #[test]
    fn names_and_filters_add_up_and_the_baseline_comes_along() {
        assert_eq!(pick(s(&[], &["simd"], &[])).unwrap(), (vec!["naive", "simd-f64x4", "simd-f32x16"], true));
        assert_eq!(
            pick(s(&["reference"], &["f32"], &[])).unwrap().0,
            ["reference", "reference-f32", "naive", "simd-f32x16"]
        );
        assert_eq!(pick(s(&["hoisted"], &[], &["naive"])).unwrap(), (vec!["hoisted"], false));
        assert_eq!(pick(s(&[], &[], &["simd-f32x16"])).unwrap().0, ["naive", "hoisted", "simd-f64x4"]);
    }

    #[test]
    fn typos_and_empty_selections_are_errors_that_list_the_kernels() {
        let err = pick(s(&["hoisterd"], &[], &[])).unwrap_err();
        assert!(err.contains("unknown kernel `hoisterd`") && err.contains("hoisted"), "{err}");
        assert!(pick(s(&[], &[], &["nope"])).unwrap_err().contains("`nope`"));
        assert!(pick(s(&[], &["gpu"], &[])).unwrap_err().contains("no kernel name contains `gpu`"));
        let err = pick(s(&["naive"], &[], &["naive"])).unwrap_err();
        assert!(err.contains("nothing left"), "{err}");
        let err = pick(Selection { baseline: "nope".into(), ..Selection::default() });
        assert!(err.is_err());
    }
}
