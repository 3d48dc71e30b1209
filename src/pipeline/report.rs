//! Progress while a run goes: a bar on a terminal, one plain line per case otherwise (logs,
//! CI, a service). Both go to stderr so stdout stays clean for `--json`.

use std::io::IsTerminal;
use std::sync::OnceLock;

use indicatif::{ProgressBar, ProgressStyle};

use super::{CaseReport, Outcome};
use crate::flags::Severity;

pub struct Reporter {
    bar: OnceLock<ProgressBar>,
    terminal: bool,
    quiet: bool,
}

impl Reporter {
    /// A bar when stderr is a terminal, plain lines otherwise; `quiet` prints neither.
    pub fn new(quiet: bool) -> Reporter {
        Reporter {
            bar: OnceLock::new(),
            terminal: std::io::stderr().is_terminal(),
            quiet,
        }
    }

    pub fn start(&self, cases: usize) {
        if self.terminal && !self.quiet && cases > 0 {
            let bar = ProgressBar::new(cases as u64);
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} cases {elapsed}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            let _ = self.bar.set(bar);
        }
    }

    pub fn case_done(&self, report: &CaseReport) {
        if self.quiet {
            return;
        }
        let line = line(report);
        match self.bar.get() {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

fn line(report: &CaseReport) -> String {
    let word = match report.outcome {
        Outcome::Published => "published",
        Outcome::UpToDate => "up to date",
        Outcome::Failed => "FAILED",
        Outcome::Review => "NEEDS REVIEW",
        Outcome::NoConsent => "not published (no consent)",
        Outcome::Waiting => "waiting",
    };
    let mut s = format!("{word:>12}  {}", report.id);
    for r in &report.reasons {
        s.push_str(&format!("\n{:>12}  - {r}", ""));
    }
    for f in report
        .flags
        .iter()
        .filter(|f| f.severity == Severity::Warning)
    {
        s.push_str(&format!(
            "\n{:>12}  - warning: {} {}: {}",
            "", f.code, f.stage, f.message
        ));
    }
    s
}
