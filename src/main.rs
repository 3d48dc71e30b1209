use clap::Parser;

fn main() {
    let cli = beforeafter::cli::Cli::parse();
    let code = match beforeafter::commands::run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    std::process::exit(code);
}
