//! The `beforeafter` program: parses the command line and hands it to `commands::run`, which
//! returns the exit code (0, 1 or 3; docs/reference.md, "Exit codes").

use clap::Parser;

fn main() {
    let cli = beforeafter::cli::Cli::parse();
    let code = match beforeafter::commands::run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            beforeafter::error::ExitCode::Fatal
        }
    };
    std::process::exit(code.code());
}
