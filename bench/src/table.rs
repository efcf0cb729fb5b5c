//! The comparison table and the targets, rendered as markdown.

use std::fmt::Write;

/// One operation, in ns (per op unless the name says otherwise), for each
/// implementation that has it.
#[derive(Clone, Debug)]
pub struct Row {
    /// The operation, as in `README.md`, with qualifiers.
    pub op: String,
    /// stoptoken, if it has the operation.
    pub stoptoken: Option<f64>,
    /// libstdc++ `<stop_token>`, if it has the operation.
    pub libstdcxx: Option<f64>,
    /// tokio-util `CancellationToken`, if it has the operation.
    pub tokio: Option<f64>,
}

impl Row {
    /// A row from its parts.
    pub fn new(
        op: impl Into<String>,
        stoptoken: Option<f64>,
        libstdcxx: Option<f64>,
        tokio: Option<f64>,
    ) -> Self {
        Row {
            op: op.into(),
            stoptoken,
            libstdcxx,
            tokio,
        }
    }
}

/// `a / b` when both are there.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn ns(value: Option<f64>) -> String {
    match value {
        None => "n/a".to_owned(),
        Some(v) if v < 10.0 => format!("{v:.2}"),
        Some(v) if v < 1000.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.0}"),
    }
}

fn times(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}x"))
}

/// The markdown table: values in ns, then the two ratios.
pub fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| operation | stoptoken (ns) | libstdc++ (ns) | tokio-util (ns) | stoptoken/libstdc++ | stoptoken/tokio-util |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            row.op,
            ns(row.stoptoken),
            ns(row.libstdcxx),
            ns(row.tokio),
            times(ratio(row.stoptoken, row.libstdcxx)),
            times(ratio(row.stoptoken, row.tokio)),
        );
    }
    out
}

/// A goal of the issue: `ratio <= goal`.
#[derive(Clone, Debug)]
pub struct Target {
    /// What is compared with what.
    pub what: String,
    /// The measured ratio, if both sides exist.
    pub ratio: Option<f64>,
    /// The largest ratio that meets the goal.
    pub goal: f64,
}

/// The targets as a markdown list, each marked met, missed or n/a.
pub fn render_targets(targets: &[Target]) -> String {
    let mut out = String::new();
    for target in targets {
        let verdict = match target.ratio {
            None => "n/a (one side is not measured)".to_owned(),
            Some(r) if r <= target.goal => format!("{r:.3}x: **met**"),
            Some(r) if r <= target.goal * 1.05 => {
                format!("{r:.3}x: **missed**, by less than the 5% noise of this machine")
            }
            Some(r) => format!("{r:.3}x: **missed**"),
        };
        let _ = writeln!(out, "- {} <= {:.2}x: {verdict}", target.what, target.goal);
    }
    out
}
