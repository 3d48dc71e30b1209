//! What the signing commands print: `keys new` (where the keys went, and where else to publish
//! the public key), `verify --log`, and `check`'s one line about the key. Kept here rather than
//! in `commands` so the words sit beside what they describe.

use std::path::Path;

use super::check::{self, LogCheck};
use super::{PASSWORD_ENV, Protect, SIGNATURE_FILE};
use crate::error::{ExitCode, Fatal};

/// `beforeafter keys new INPUT [--password] [--force]`.
pub fn keys_new(input: &Path, password: bool, force: bool) -> Result<ExitCode, Fatal> {
    if !input.is_dir() {
        return Err(Fatal::Input {
            path: input.to_owned(),
            message: "not a folder: give the folder with the clinic's photos".into(),
        });
    }
    let made = super::new_key(input, Protect::from_flag(password), force)?;
    println!(
        "secret key  {} (keep it private: never upload or share it)",
        made.secret.display()
    );
    println!("public key  {}", made.public.display());
    println!("key id      {}", made.key_id);
    println!();
    print!("{}", made.public_text);
    println!();
    println!(
        "From the next run, every change to the gallery is signed ({SIGNATURE_FILE}) with this \
         key, and the gallery carries its public key as minisign.pub."
    );
    println!(
        "A key beside the files it vouches for proves nothing on its own: publish the public key \
         above somewhere else too, such as a page of your own website and your profile on a \
         professional register, so anyone can see the gallery's key is yours."
    );
    if password {
        println!("Runs read the password from {PASSWORD_ENV}.");
    }
    Ok(ExitCode::Done)
}

/// `check`'s line about signing: the key, or how to make one.
#[must_use]
pub fn key_line(input: &Path) -> String {
    match super::public_key_text(input) {
        Some(text) => {
            let id = text.lines().next().and_then(|l| l.rsplit(' ').next());
            format!(
                "signing: key {} (every run that changes the gallery signs it)",
                id.unwrap_or("?")
            )
        }
        None => format!(
            "signing: no key, so the gallery is not signed; to sign it: beforeafter keys new {}",
            input.display()
        ),
    }
}

/// `beforeafter verify INPUT --out OUT --log [--case ID]`.
pub fn verify_log(
    input: &Path,
    out: &Path,
    case: Option<&str>,
    json: bool,
) -> Result<ExitCode, Fatal> {
    let found = check::log(input, out, case)?;
    let code = ExitCode::attention_if(!found.problems.is_empty());
    if json {
        let text = serde_json::to_string_pretty(&found).map_err(|e| Fatal::Other(e.to_string()))?;
        println!("{text}");
        return Ok(code);
    }
    print_log(&found);
    Ok(code)
}

fn print_log(found: &LogCheck) {
    for line in &found.lines {
        println!("{line}");
    }
    for (path, problem) in &found.problems {
        println!("DIFFERS {path}: {problem}");
    }
    println!(
        "{} log entries ({} unsigned); {} problem(s)",
        found.entries,
        found.unsigned,
        found.problems.len()
    );
    if found.problems.is_empty() {
        println!("The publication log's chain holds and ends at the published manifest.");
    }
}
