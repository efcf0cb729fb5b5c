//! Builds and runs the libstdc++ side, `cpp/stop_token_bench.cpp`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The C++ source, in this package.
pub const SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cpp/stop_token_bench.cpp");

/// Why the C++ side could not be measured.
#[derive(Debug)]
pub enum CppError {
    /// `g++` is not on the `PATH`.
    NoCompiler,
    /// `g++` or the built program failed; the text says how.
    Failed(String),
}

impl fmt::Display for CppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CppError::NoCompiler => write!(
                f,
                "g++ was not found on the PATH: the libstdc++ column needs g++ with C++20 \
                 support (g++ >= 10; on Debian/Ubuntu: `apt-get install g++`)"
            ),
            CppError::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for CppError {}

/// The first line of `g++ --version`.
pub fn compiler_version() -> Result<String, CppError> {
    let output = Command::new("g++")
        .arg("--version")
        .output()
        .map_err(|_| CppError::NoCompiler)?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .lines()
        .next()
        .unwrap_or("g++ (unknown version)")
        .to_owned())
}

/// Compiles the C++ program with `g++ -O2 -std=c++20 -pthread` into `out_dir`
/// and returns the path of the executable.
pub fn build(out_dir: &Path) -> Result<PathBuf, CppError> {
    compiler_version()?;
    let exe = out_dir.join("stop_token_bench_cpp");
    let output = Command::new("g++")
        .args(["-O2", "-std=c++20", "-pthread", SOURCE, "-o"])
        .arg(&exe)
        .output()
        .map_err(|_| CppError::NoCompiler)?;
    if !output.status.success() {
        return Err(CppError::Failed(format!(
            "g++ could not compile {SOURCE}:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(exe)
}

/// Runs the built program and parses its `key value` lines (ns).
pub fn run(exe: &Path) -> Result<HashMap<String, f64>, CppError> {
    let output = Command::new(exe)
        .output()
        .map_err(|e| CppError::Failed(format!("could not run {}: {e}", exe.display())))?;
    if !output.status.success() {
        return Err(CppError::Failed(format!(
            "{} failed ({}):\n{}",
            exe.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let mut results = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let mut parts = line.split_whitespace();
        if let (Some(key), Some(value), None) = (parts.next(), parts.next(), parts.next()) {
            let value = value
                .parse()
                .map_err(|_| CppError::Failed(format!("unparsable C++ output line: {line}")))?;
            results.insert(key.to_owned(), value);
        }
    }
    Ok(results)
}
