//! The documents stay true to the code as the crate grows: the README's "C++
//! to Rust" table names every item re-exported at the crate root and every
//! public module (a new public item without a row fails), and every check
//! that GUARANTEES.md cites (`file::test_name`) exists.

use std::path::Path;

const README: &str = include_str!("../README.md");
const LIB: &str = include_str!("../src/lib.rs");

/// The text of the README section that starts with the heading `title` and
/// ends at the next `## ` heading.
fn section(title: &str) -> &'static str {
    let start = README
        .find(title)
        .unwrap_or_else(|| panic!("the README has no {title:?} section"));
    let body = &README[start + title.len()..];
    &body[..body.find("\n## ").unwrap_or(body.len())]
}

/// The names `src/lib.rs` makes public at the root: `pub use a::{B, C};`,
/// `pub use a::B;` and `pub mod m;`.
fn public_names() -> Vec<String> {
    let mut names = Vec::new();
    for line in LIB.lines().map(str::trim) {
        if let Some(module) = line.strip_prefix("pub mod ") {
            names.push(module.trim_end_matches(';').to_string());
        } else if let Some(path) = line.strip_prefix("pub use ") {
            let path = path.trim_end_matches(';');
            let list = match path.find('{') {
                Some(open) => &path[open + 1..path.rfind('}').expect("a closed `pub use` list")],
                None => &path[path.rfind("::").map_or(0, |at| at + 2)..],
            };
            names.extend(list.split(',').map(|name| name.trim().to_string()));
        }
    }
    names.retain(|name| !name.is_empty());
    names
}

/// Whether `word` occurs in `text` as a whole identifier.
fn names(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[test]
fn every_public_item_has_a_row_in_the_cpp_table() {
    let table = section("## C++ to Rust");
    let names_found = public_names();
    // The parse itself is checked, so that a change of lib.rs's layout
    // cannot make this test pass by finding nothing.
    for expected in ["StopSource", "StopToken", "JThread", "task", "thread"] {
        assert!(
            names_found.iter().any(|name| name == expected),
            "lib.rs parse missed {expected}: {names_found:?}"
        );
    }
    let missing: Vec<&String> = names_found
        .iter()
        .filter(|name| !names(table, name))
        .collect();
    assert!(
        missing.is_empty(),
        "the README's \"C++ to Rust\" table names no row for {missing:?}"
    );
}

#[test]
fn the_word_match_is_whole_words_only() {
    assert!(names("`StopToken::default()`", "StopToken"));
    assert!(!names("`InplaceStopToken`", "StopToken"));
    assert!(!names("`StopTokens`", "StopToken"));
}

const GUARANTEES: &str = include_str!("../GUARANTEES.md");

/// The checks GUARANTEES.md cites: `` `tests/x.rs::name` `` (also `src/`,
/// `examples/`, `bench/`), as (file, test name).
fn cited_checks() -> Vec<(&'static str, &'static str)> {
    let mut cited = Vec::new();
    for quoted in GUARANTEES.split('`').skip(1).step_by(2) {
        let Some((file, name)) = quoted.split_once(".rs::") else {
            continue;
        };
        if ["tests/", "src/", "examples/", "bench/"]
            .iter()
            .any(|dir| file.starts_with(dir))
        {
            let name = name.rsplit("::").next().unwrap_or(name);
            cited.push((&quoted[..file.len() + 3], name));
        }
    }
    cited
}

/// Whether `source` defines the test `name`: `fn name`, or a macro-made name
/// (`free_fn_` + `fn returns_true...`): a prefix of `name` that the file
/// spells out, followed by `_` and a `fn` it defines.
/// A name ending in `*` stands for every test whose name starts with it.
fn defines(source: &str, name: &str) -> bool {
    if let Some(prefix) = name.strip_suffix('*') {
        return !prefix.is_empty() && source.contains(prefix);
    }
    if names(source, &format!("fn {name}")) {
        return true;
    }
    name.match_indices('_').any(|(at, _)| {
        let (prefix, rest) = (&name[..at], &name[at + 1..]);
        names(source, prefix) && names(source, &format!("fn {rest}"))
    })
}

#[test]
fn every_check_that_guarantees_md_cites_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cited = cited_checks();
    assert!(
        cited.len() > 100,
        "the GUARANTEES.md parse found only {} checks",
        cited.len()
    );
    let missing: Vec<String> = cited
        .iter()
        .filter(|(file, name)| {
            std::fs::read_to_string(root.join(file)).map_or(true, |source| !defines(&source, name))
        })
        .map(|(file, name)| format!("{file}::{name}"))
        .collect();
    assert!(
        missing.is_empty(),
        "GUARANTEES.md cites checks that do not exist: {missing:?}"
    );
}

#[test]
fn a_macro_made_name_is_found_through_its_prefix() {
    let source = "macro_rules! both { (free_fn) => {} }\nfn returns_true() {}";
    assert!(defines(source, "free_fn_returns_true"));
    assert!(defines(source, "returns_true"));
    assert!(!defines(source, "free_fn_returns_false"));
    assert!(!defines(source, "other_returns_true"));
    assert!(defines(source, "returns_*"));
    assert!(!defines(source, "missing_*"));
}
