#![cfg(not(target_arch = "wasm32"))]
//! Every code the page translates has its English and its Chinese: Rust's problem codes
//! (`Problem::new("code", ...)`, or a `let code = ...` chosen just before), the notebook
//! bundle's hints (`"bundle_hint_..."`), the "break the backward" mistakes and the
//! optimisers (`bug_{code}_name`, `opt_{code}`), and the keys the page's own JavaScript
//! and HTML look up by a literal name (`t("key"`, `say("key"`, `code: "key"`,
//! `data-i18n="key"`). The tables are `www/js/i18n/en.js` and `zh.js`, which must also
//! have the same keys, each once. A missing string is listed with the file that needs it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Every file under `dir` whose name ends with `extension`.
fn files(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, extension, out);
        } else if path.to_string_lossy().ends_with(extension) {
            out.push(path);
        }
    }
}

fn is_code(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The string literal at the start of `text` (after whitespace), when it is a code.
fn leading_code(text: &str) -> Option<&str> {
    let rest = text.trim_start().strip_prefix('"')?;
    let literal = &rest[..rest.find('"')?];
    is_code(literal).then_some(literal)
}

/// The identifier at the start of `text` (after whitespace).
fn leading_ident(text: &str) -> &str {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// Every literal in `text` that is a code.
fn codes_in(text: &str) -> Vec<&str> {
    text.split('"').skip(1).step_by(2).filter(|s| is_code(s)).collect()
}

/// The codes after each `before` in `text`, up to the next `after`; `before` starts a
/// word (`t("` is not the end of `createElement("`).
fn literals_between<'a>(text: &'a str, before: &str, after: char) -> Vec<&'a str> {
    text.match_indices(before)
        .filter(|(at, _)| !text[..*at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .filter_map(|(at, _)| {
            let rest = &text[at + before.len()..];
            let literal = &rest[..rest.find(after)?];
            is_code(literal).then_some(literal)
        })
        .collect()
}

/// What Rust hands the page to translate, with the file each came from.
fn rust_codes(root: &Path) -> Vec<(String, String)> {
    let mut sources = Vec::new();
    files(&root.join("src"), ".rs", &mut sources);
    assert!(sources.len() > 10, "src/ has the crate's files");
    let mut found = Vec::new();
    for path in &sources {
        let text = fs::read_to_string(path).expect("a source file");
        let file = path.strip_prefix(root).unwrap_or(path).display().to_string();
        let mut add = |code: String| found.push((code, file.clone()));
        for (at, call) in text.match_indices("Problem::new(") {
            let args = &text[at + call.len()..];
            if let Some(code) = leading_code(args) {
                add(code.to_string());
                continue;
            }
            // A code chosen just before: `let code = if ... { "a" } else { "b" };`.
            let name = leading_ident(args);
            let binding = format!("let {name} =");
            let Some(start) = text[..at].rfind(&binding) else {
                panic!("{file}: Problem::new({name}, ...) with no `{binding}` before it");
            };
            let statement = &text[start..start + text[start..].find(';').expect("a statement")];
            let codes = codes_in(statement);
            assert!(!codes.is_empty(), "{file}: `{binding}` chooses no code");
            codes.into_iter().for_each(|c| add(c.to_string()));
        }
        // The session's refusals that quote nothing: `refused("field", "code")`.
        for (at, call) in text.match_indices("refused(\"") {
            let args = &text[at + call.len() - 1..];
            let args = &args[..args.find(')').expect("a call")];
            codes_in(args).into_iter().skip(1).for_each(|c| add(c.to_string()));
        }
        for hint in literals_between(&text, "\"bundle_hint_", '"') {
            add(format!("bundle_hint_{hint}"));
        }
        for bug in arms(&text, "Bug::") {
            add(format!("bug_{bug}_name"));
            if bug != "none" {
                add(format!("bug_{bug}_note"));
            }
        }
        for optimiser in arms(&text, "OptimizerKind::") {
            add(format!("opt_{optimiser}"));
        }
    }
    found
}

/// The codes of `enum_prefix` match arms that name a string: `Bug::BiasMean => "bias_mean"`.
fn arms<'a>(text: &'a str, enum_prefix: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let (pattern, value) = line.split_once("=> ")?;
            if !pattern.starts_with(enum_prefix) {
                return None;
            }
            leading_code(value.trim_end_matches(',')).filter(|_| value.trim_end_matches(',').trim().ends_with('"'))
        })
        .collect()
}

/// The keys the page's own scripts and HTML look up by name.
fn page_codes(root: &Path) -> Vec<(String, String)> {
    let mut sources = Vec::new();
    files(&root.join("www/js"), ".js", &mut sources);
    sources.retain(|p| !p.starts_with(root.join("www/js/i18n")));
    sources.push(root.join("www/index.html"));
    let mut found = Vec::new();
    for path in &sources {
        let text = fs::read_to_string(path).expect("a page file");
        let file = path.strip_prefix(root).unwrap_or(path).display().to_string();
        let patterns = [
            ("t(\"", '"'),
            ("say(\"", '"'),
            ("code: \"", '"'),
            ("key: \"", '"'),
            ("DataError(\"", '"'),
            ("data-i18n=\"", '"'),
            ("data-i18n-label=\"", '"'),
            // The lesson's steps (www/js/lesson/steps.js) name their strings by these fields.
            ("title: \"", '"'),
            ("question: \"", '"'),
            ("text: \"", '"'),
            ("feedback: \"", '"'),
        ];
        for (before, after) in patterns {
            for code in literals_between(&text, before, after) {
                found.push((code.to_string(), file.clone()));
            }
        }
    }
    found
}

/// The keys of a string table, in order: `  key: "..."` lines of `export const xx = {`.
fn table_keys(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body = text
        .split_once(" = {\n")
        .unwrap_or_else(|| panic!("{}: no `export const xx = {{`", path.display()))
        .1;
    body.lines()
        .take_while(|line| *line != "};")
        .filter_map(|line| {
            let entry = line.strip_prefix("  ")?;
            let key = leading_ident(entry);
            (!key.is_empty() && entry[key.len()..].starts_with(':')).then(|| key.to_string())
        })
        .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn english_and_chinese_have_the_same_keys_each_once() {
    let mut report = Vec::new();
    let mut tables = Vec::new();
    for lang in ["en", "zh"] {
        let keys = table_keys(&root().join(format!("www/js/i18n/{lang}.js")));
        assert!(keys.len() > 100, "{lang}.js: only {} keys read", keys.len());
        let mut seen = BTreeSet::new();
        for key in &keys {
            if !seen.insert(key.clone()) {
                report.push(format!("{lang}.js has {key} twice (the last one wins)"));
            }
        }
        tables.push(seen);
    }
    for key in tables[0].difference(&tables[1]) {
        report.push(format!("{key}: in en.js, missing from zh.js"));
    }
    for key in tables[1].difference(&tables[0]) {
        report.push(format!("{key}: in zh.js, missing from en.js"));
    }
    assert!(report.is_empty(), "\n{}\n", report.join("\n"));
}

#[test]
fn every_code_the_page_translates_has_english_and_chinese() {
    let rust = rust_codes(&root());
    // The scan sees what it should: a few codes every version of the page has.
    for known in [
        "required",
        "not_number",
        "bundle_hint_missing",
        "bug_bias_mean_name",
        "opt_adam",
        "data_bad_magic",
        "st_keys_missing",
    ] {
        assert!(rust.iter().any(|(c, _)| c == known), "the scan of src/ missed {known}");
    }
    let page = page_codes(&root());
    assert!(
        page.iter().any(|(c, _)| c == "gc_running"),
        "the scan of www/ missed gc_running"
    );
    let mut report = BTreeSet::new();
    for lang in ["en", "zh"] {
        let keys: BTreeSet<String> = table_keys(&root().join(format!("www/js/i18n/{lang}.js")))
            .into_iter()
            .collect();
        for (code, file) in rust.iter().chain(&page) {
            if !keys.contains(code) {
                report.insert(format!("{code} (from {file}): missing from {lang}.js"));
            }
        }
    }
    println!(
        "{} codes from src/, {} keys from www/ checked",
        rust.iter().map(|(c, _)| c).collect::<BTreeSet<_>>().len(),
        page.iter().map(|(c, _)| c).collect::<BTreeSet<_>>().len()
    );
    assert!(
        report.is_empty(),
        "\n{}\n",
        report.into_iter().collect::<Vec<_>>().join("\n")
    );
}
