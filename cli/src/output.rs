//! Output plumbing: JSON documents, tables and money.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::error::{CliError, CliResult};

/// Whether a JSON document or line went to stdout (then an error adds none).
static PRINTED_JSON: AtomicBool = AtomicBool::new(false);

/// Print `value` as one pretty JSON document on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> CliResult {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::other(format!("cannot encode the JSON output: {e}")))?;
    println!("{text}");
    PRINTED_JSON.store(true, Ordering::SeqCst);
    Ok(())
}

/// With `--json`, a command that failed before printing its result prints
/// `{"error": {"exit_code", "kind", "message"}}` on stdout (the line on stderr stays).
pub fn json_error(e: &CliError) {
    if PRINTED_JSON.load(Ordering::SeqCst) {
        return;
    }
    let doc = serde_json::json!({"error": {
        "exit_code": e.exit as u8,
        "kind": e.exit.kind(),
        "message": e.to_string(),
    }});
    println!("{doc}");
}

/// Print `value` as one compact JSON line on stdout (streams: `worker`, `simulate`).
pub fn json_line<T: Serialize + ?Sized>(value: &T) {
    if let Ok(text) = serde_json::to_string(value) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
        PRINTED_JSON.store(true, Ordering::SeqCst);
    }
}

/// Whether stderr is a terminal (live bars) or not (plain lines).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// A plain text table: a header row, then rows, columns padded to their widest cell.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Add a row (as many cells as columns).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The rendered table, lines ending in `\n`, no trailing spaces.
    pub fn render(&self) -> String {
        let cols = self.header.len();
        let mut widths = vec![0usize; cols];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(cols) {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let line = |r: &Vec<String>| {
            let mut s = String::new();
            for (i, w) in widths.iter().enumerate() {
                let c = r.get(i).map(String::as_str).unwrap_or("");
                s.push_str(c);
                if i + 1 < cols {
                    s.push_str(&" ".repeat(w - c.chars().count() + 2));
                }
            }
            s.trim_end().to_string() + "\n"
        };
        let mut out = line(&self.header);
        out.push_str(&line(
            &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
        ));
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }

    /// Print it on stdout.
    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// Cents as dollars: `9700` → `$97.00`.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}${}.{:02}", c / 100, c % 100)
}

/// Dollars as exact cents: `97`, `97.5`, `97.00`, `$97.00` → 9700, 9750, 9700, 9700.
pub fn parse_money(text: &str) -> Result<i64, String> {
    let t = text.trim().trim_start_matches('$');
    let bad = || format!("{text:?} is not an amount in dollars (e.g. 97 or 97.50)");
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_round_trips() {
        assert_eq!(money(9700), "$97.00");
        assert_eq!(money(5), "$0.05");
        assert_eq!(parse_money("97").unwrap(), 9700);
        assert_eq!(parse_money("$97.5").unwrap(), 9750);
        assert_eq!(parse_money("0.05").unwrap(), 5);
        for bad in ["", "-1", "1.234", "abc", "1e3", ".5"] {
            assert!(parse_money(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tables_pad_columns() {
        let mut t = Table::new(["A", "LONGER"]);
        t.row(["xyz", "1"]);
        assert_eq!(t.render(), "A    LONGER\n---  ------\nxyz  1\n");
    }
}
