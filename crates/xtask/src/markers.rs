//! The book's generated regions: tables, facts and code excerpts written between HTML-comment
//! markers in markdown, and the lint that keeps hand-typed figures out of the prose.
//!
//! ```text
//! <!-- mandel:table docs/race/classic.json kernels=naive,hoisted -->
//! <!-- /mandel:table -->
//! hoisting gains <!-- mandel:fact docs/race/classic.json hoisted.vs.naive -->1.30×<!-- /mandel:fact -->
//! <!-- mandel:excerpt crates/kernel-hoisted/src/lib.rs#hot-loop -->
//! <!-- /mandel:excerpt -->
//! ```
//!
//! Paths are relative to the repository root. Markers inside fenced code blocks are text, not
//! markers, so a chapter can show them.

use std::collections::BTreeMap;
use std::path::Path;

use crate::data::Data;

/// A problem found in one file, at one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong, in one line.
    pub message: String,
}

/// Loads each data file once per run.
pub struct Sources<'a> {
    root: &'a Path,
    data: BTreeMap<String, Result<Data, String>>,
}

impl<'a> Sources<'a> {
    /// Sources under the repository `root`.
    pub fn new(root: &'a Path) -> Self {
        Sources { root, data: BTreeMap::new() }
    }

    fn data(&mut self, file: &str) -> Result<&Data, String> {
        let root = self.root;
        self.data
            .entry(file.to_string())
            .or_insert_with(|| {
                let full = root.join(file);
                Data::load(&full).map_err(|e| e.replace(&full.display().to_string(), file))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    fn fact(&mut self, file: &str, key: &str) -> Result<String, String> {
        let facts = self.data(file)?.facts();
        facts.get(key).cloned().ok_or_else(|| {
            let near: Vec<&String> =
                facts.keys().filter(|k| k.split('.').next() == key.split('.').next()).take(8).collect();
            let hint = if near.is_empty() {
                format!("`cargo xtask facts {file}` lists them")
            } else {
                format!("similar: {}", near.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))
            };
            format!("{file} has no fact {key:?} ({hint})")
        })
    }

    fn excerpt(&self, target: &str) -> Result<String, String> {
        let (file, anchor) = target.split_once('#').ok_or("an excerpt is PATH#ANCHOR")?;
        let text =
            std::fs::read_to_string(self.root.join(file)).map_err(|e| format!("cannot read {file}: {e}"))?;
        let lines: Vec<&str> = text.lines().collect();
        let is = |line: &str, tag: &str| {
            let trimmed = line.trim();
            trimmed.strip_prefix("// ").map(str::trim_start) == Some(&format!("{tag}: {anchor}")[..])
        };
        let start = lines
            .iter()
            .position(|l| is(l, "ANCHOR"))
            .ok_or(format!("{file} has no `// ANCHOR: {anchor}`"))?;
        let end = lines[start..]
            .iter()
            .position(|l| is(l, "ANCHOR_END"))
            .map(|n| start + n)
            .ok_or(format!("{file} has no `// ANCHOR_END: {anchor}` after its ANCHOR"))?;
        let body: Vec<&str> = lines[start + 1..end]
            .iter()
            .copied()
            .filter(|l| {
                !l.trim_start().starts_with("// ANCHOR:") && !l.trim_start().starts_with("// ANCHOR_END:")
            })
            .collect();
        if body.iter().all(|l| l.trim().is_empty()) {
            return Err(format!("{file}#{anchor} is empty"));
        }
        let indent = body
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        let language = match Path::new(file).extension().and_then(|e| e.to_str()) {
            Some("rs") => "rust",
            Some("wgsl") => "wgsl",
            Some("toml") => "toml",
            _ => "text",
        };
        let mut out = format!("```{language}\n");
        for line in body {
            out.push_str(line.get(indent..).unwrap_or("").trim_end());
            out.push('\n');
        }
        out.push_str("```\n");
        Ok(out)
    }
}

/// The kinds of block marker.
const BLOCKS: [&str; 2] = ["table", "excerpt"];

/// `markdown` with every generated region rewritten from `sources`, and the problems found
/// (unknown files, keys or anchors; unclosed markers; hand-typed figures).
pub fn render(markdown: &str, sources: &mut Sources) -> (String, Vec<Problem>) {
    let mut out = String::with_capacity(markdown.len());
    let mut problems = Vec::new();
    let mut lines = markdown.split_inclusive('\n').enumerate().peekable();
    let mut fence: Option<String> = None;
    while let Some((index, line)) = lines.next() {
        let number = index + 1;
        let trimmed = line.trim();
        if let Some(open) = &fence {
            if trimmed.starts_with(open.as_str()) && trimmed.trim_start_matches(['`', '~']).is_empty() {
                fence = None;
            }
            out.push_str(line);
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(trimmed.chars().take_while(|c| *c == '`' || *c == '~').collect());
            out.push_str(line);
            continue;
        }
        if let Some((kind, args)) = block_marker(trimmed) {
            out.push_str(line);
            let close = format!("<!-- /mandel:{kind} -->");
            let mut old = String::new();
            let mut closed = false;
            for (_, inner) in lines.by_ref() {
                if inner.trim() == close {
                    closed = true;
                    let generated = match kind {
                        "table" => table(args, sources).map(|t| t + "\n"),
                        _ => sources.excerpt(args.trim()),
                    };
                    match generated {
                        Ok(text) => out.push_str(&text),
                        Err(message) => {
                            problems.push(Problem { line: number, message });
                            out.push_str(&old);
                        }
                    }
                    out.push_str(inner);
                    break;
                }
                old.push_str(inner);
            }
            if !closed {
                problems.push(Problem {
                    line: number,
                    message: format!("`<!-- mandel:{kind} ... -->` has no `{close}`"),
                });
                out.push_str(&old);
            }
            continue;
        }
        let (rewritten, line_problems) = facts_in_line(line, sources);
        problems.extend(line_problems.into_iter().map(|message| Problem { line: number, message }));
        for message in hand_typed_figures(&rewritten) {
            problems.push(Problem { line: number, message });
        }
        out.push_str(&rewritten);
    }
    (out, problems)
}

/// `("table", "docs/race/x.json kernels=a")` for a block marker's opening line.
fn block_marker(trimmed: &str) -> Option<(&'static str, &str)> {
    let inner = trimmed.strip_prefix("<!-- mandel:")?.strip_suffix("-->")?;
    BLOCKS.iter().find_map(|kind| {
        inner.strip_prefix(kind).filter(|rest| rest.starts_with(' ')).map(|rest| (*kind, rest))
    })
}

fn table(args: &str, sources: &mut Sources) -> Result<String, String> {
    let mut words = args.split_whitespace();
    let file = words.next().ok_or("a table marker names its data file")?;
    let mut options = BTreeMap::new();
    for word in words {
        let (key, value) = word.split_once('=').ok_or(format!("table option {word:?} is not key=value"))?;
        options.insert(key.to_string(), value.to_string());
    }
    let data = sources.data(file)?;
    data.table(&options).map_err(|why| format!("{file}: {why}"))
}

const FACT_OPEN: &str = "<!-- mandel:fact ";
const FACT_CLOSE: &str = "<!-- /mandel:fact -->";

/// The line with each fact marker's value rewritten.
fn facts_in_line(line: &str, sources: &mut Sources) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut problems = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(FACT_OPEN) {
        out.push_str(&rest[..at]);
        let after_open = &rest[at + FACT_OPEN.len()..];
        let Some(end_of_open) = after_open.find("-->") else {
            problems.push("a fact marker is not closed with `-->` on its line".into());
            out.push_str(&rest[at..]);
            return (out, problems);
        };
        let args = after_open[..end_of_open].trim();
        let after = &after_open[end_of_open + 3..];
        let Some(value_end) = after.find(FACT_CLOSE) else {
            problems.push(format!("fact `{args}` has no `{FACT_CLOSE}` on its line"));
            out.push_str(&rest[at..]);
            return (out, problems);
        };
        out.push_str(&rest[at..at + FACT_OPEN.len() + end_of_open + 3]);
        let value = match args.split_once(' ') {
            Some((file, key)) => sources.fact(file, key.trim()),
            None => Err(format!("fact `{args}` needs a file and a key")),
        };
        match value {
            Ok(value) => out.push_str(&value),
            Err(message) => {
                problems.push(message);
                out.push_str(&after[..value_end]);
            }
        }
        out.push_str(FACT_CLOSE);
        rest = &after[value_end + FACT_CLOSE.len()..];
    }
    out.push_str(rest);
    (out, problems)
}

/// Figures typed into prose by hand: a decimal followed by a unit of time, a ratio, a rate or a
/// percent sign, a signed percentage, and any number of milli-, micro- or nanoseconds. Text
/// inside fact markers and inline code is exempt (`--warmup 0.25`).
pub fn hand_typed_figures(line: &str) -> Vec<String> {
    let prose = strip_exempt(line);
    let chars: Vec<char> = prose.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_number = chars[i].is_ascii_digit()
            && (i == 0
                || !(chars[i - 1].is_alphanumeric() || matches!(chars[i - 1], '.' | '_' | '-' | '/' | '^')));
        if !starts_number {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == ',') {
            i += 1;
        }
        let mut decimal = false;
        if i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit() {
            decimal = true;
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
        }
        let mut j = i;
        if j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        let unit_here: String = chars[j..chars.len().min(j + 4)].iter().collect();
        let word_ends = |len: usize| chars.get(j + len).is_none_or(|c| !c.is_alphanumeric());
        let unit = ["ms", "µs", "ns", "G/s", "GHz", "s"]
            .into_iter()
            .find(|u| unit_here.starts_with(u) && word_ends(u.chars().count()));
        let figure = match unit {
            Some("ms" | "µs" | "ns") => true,
            Some(_) => decimal,
            None => match chars.get(j) {
                Some('×') => decimal,
                // A decimal or signed percentage is a measurement (`97.2%`, `+27%`); a whole one
                // is usually a definition or a threshold (`the busiest 20%`, `over 5%`).
                Some('%') => decimal || (start > 0 && matches!(chars[start - 1], '+' | '−')),
                _ => false,
            },
        };
        if figure {
            let shown: String = chars[start..chars.len().min(j + 4)].iter().collect();
            found.push(format!(
                "hand-typed figure {:?}: take it from the data with `<!-- mandel:fact FILE KEY -->`",
                shown.trim_end()
            ));
        }
    }
    found
}

/// The line without fact markers' values and inline code spans.
fn strip_exempt(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(FACT_OPEN) {
        out.push_str(&rest[..at]);
        match rest[at..].find(FACT_CLOSE) {
            Some(end) => {
                out.push(' ');
                rest = &rest[at + end + FACT_CLOSE.len()..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    // Inline code: `...` spans are commands and identifiers, not claims.
    let mut plain = String::new();
    for (n, part) in out.split('`').enumerate() {
        if n % 2 == 0 {
            plain.push_str(part);
        } else {
            plain.push(' ');
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_typed_figures_are_found_and_theory_is_not() {
        for bad in [
            "it took 558.0 ms",
            "about 3.39× faster",
            "97.2% of the work",
            "at 4.71 G/s",
            "12 ms",
            "a +27% cost",
            "in 1.5 s.",
        ] {
            assert_eq!(hand_typed_figures(bad).len(), 1, "{bad}");
        }
        for fine in [
            "8 lanes, 2 cores, ideal 2×",
            "100% means perfect, a spread over 5% is noisy, the busiest 20% of pixels",
            "f64x8 and x86_64",
            "`--warmup 0.25 s`",
            "<!-- mandel:fact a.json k -->1.30×<!-- /mandel:fact --> over naive",
            "version 1.89 of Rust",
            "10 cycles",
            "4 seconds or so",
        ] {
            assert!(hand_typed_figures(fine).is_empty(), "{fine}: {:?}", hand_typed_figures(fine));
        }
    }

    #[test]
    fn markers_in_code_fences_are_text_and_unclosed_markers_are_reported() {
        let root = Path::new("/nonexistent");
        let mut sources = Sources::new(root);
        let fenced = "```\n<!-- mandel:table docs/race/x.json -->\n```\n";
        assert_eq!(render(fenced, &mut sources), (fenced.to_string(), vec![]));
        let (_, problems) = render("<!-- mandel:table docs/race/x.json -->\nold\n", &mut sources);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("has no `<!-- /mandel:table -->`"), "{problems:?}");
        let (kept, problems) =
            render("<!-- mandel:table docs/race/x.json -->\nold\n<!-- /mandel:table -->\n", &mut sources);
        assert!(kept.contains("old"), "a failed table keeps the old text: {kept}");
        assert!(problems[0].message.contains("cannot read docs/race/x.json"), "{problems:?}");
    }

    #[test]
    fn excerpts_are_dedented_and_lose_nested_anchor_lines() {
        let dir = std::env::temp_dir().join(format!("xtask-excerpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("a.rs"),
            "fn f() {\n    // ANCHOR: body\n    let x = 1;\n    // ANCHOR: inner\n        x + 1;\n    // ANCHOR_END: inner\n    // ANCHOR_END: body\n}\n",
        )
        .unwrap();
        let mut sources = Sources::new(&dir);
        let (out, problems) =
            render("<!-- mandel:excerpt a.rs#body -->\n<!-- /mandel:excerpt -->\n", &mut sources);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(out, "<!-- mandel:excerpt a.rs#body -->\n```rust\nlet x = 1;\n    x + 1;\n```\n<!-- /mandel:excerpt -->\n");
        let (_, problems) =
            render("<!-- mandel:excerpt a.rs#nowhere -->\n<!-- /mandel:excerpt -->\n", &mut sources);
        assert!(problems[0].message.contains("no `// ANCHOR: nowhere`"), "{problems:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
