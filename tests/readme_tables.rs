//! The README's "C++ to Rust" table stays complete as the crate grows: every
//! item re-exported at the crate root and every public module is named in it.
//! A new public item without a row fails this test.

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
