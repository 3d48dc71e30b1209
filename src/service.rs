//! `beforeafter service install INPUT --out OUT` and `service remove`: start the studio
//! (`beforeafter studio INPUT --out OUT`) when the clinic's computer user logs in, so the
//! gallery stays current all day without anyone opening a terminal.
//!
//! - Linux: a systemd user unit, `$XDG_CONFIG_HOME/systemd/user/beforeafter-studio.service`
//!   (`~/.config` without it), enabled and started with `systemctl --user` when a user service
//!   manager is running. Its settings follow `docs/packaging/beforeafter-watch.service` (the
//!   watch's example unit): `Type=exec`, a failure restarted after 30 s, two minutes to stop.
//! - macOS: a LaunchAgent, `~/Library/LaunchAgents/org.beforeafter.studio.plist`, loaded with
//!   `launchctl bootstrap gui/UID`.
//! - Windows: a Task Scheduler task "beforeafter studio" that runs at logon, made with
//!   `schtasks /Create /XML` from a task file kept in `%LOCALAPPDATA%\beforeafter\`.
//!
//! Where no service manager answers (a container, a CI machine, a session without systemd), the
//! file is still written and the command says how to turn it on, and exits 0: the file is the
//! install. `--print` shows the file instead of writing it (`--platform` picks whose: a Mac's
//! plist can be read on Linux), which is also how the tests check all three.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::{Platform, ServiceCommand};
use crate::error::{ExitCode, Fatal};

/// The unit's, agent's and task's name.
pub const UNIT: &str = "beforeafter-studio.service";
pub const AGENT: &str = "org.beforeafter.studio";
pub const TASK: &str = "beforeafter studio";

/// What the service runs: the program, then its arguments.
#[derive(Clone, Debug)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// `service install` and `service remove`.
pub fn run(command: &ServiceCommand) -> Result<ExitCode, Fatal> {
    match command {
        ServiceCommand::Install {
            input,
            out,
            addr,
            print,
            platform,
        } => {
            let platform = platform.unwrap_or_else(Platform::this);
            let launch = launch(input, out, *addr)?;
            let text = file_text(platform, &launch);
            if *print {
                print!("{text}");
                return Ok(ExitCode::Done);
            }
            if platform != Platform::this() {
                return Err(Fatal::Other(format!(
                    "--platform {platform:?} installs nothing on this computer: add --print to see the file"
                )));
            }
            install(platform, &text)
        }
        ServiceCommand::Remove => remove(Platform::this()),
    }
}

/// The studio's command line, with absolute paths (the service starts in another folder).
fn launch(input: &Path, out: &Path, addr: Option<std::net::SocketAddr>) -> Result<Launch, Fatal> {
    let input = std::fs::canonicalize(input).map_err(|e| Fatal::Input {
        path: input.to_owned(),
        message: format!("{e}; give the folder that holds the clinic's photos"),
    })?;
    let out = absolute(out)?;
    crate::disk::check_apart(&input, &out)?;
    let program = std::env::current_exe()
        .map_err(|e| Fatal::Other(format!("cannot tell where beforeafter is installed: {e}")))?;
    let mut args = vec![
        "studio".to_owned(),
        input.display().to_string(),
        "--out".to_owned(),
        out.display().to_string(),
    ];
    if let Some(addr) = addr {
        args.extend(["--addr".to_owned(), addr.to_string()]);
    }
    Ok(Launch { program, args })
}

fn absolute(path: &Path) -> Result<PathBuf, Fatal> {
    if path.is_absolute() {
        return Ok(path.to_owned());
    }
    let here = std::env::current_dir()
        .map_err(|e| Fatal::Other(format!("cannot read the current folder: {e}")))?;
    Ok(here.join(path))
}

/// The service file for `platform`.
#[must_use]
pub fn file_text(platform: Platform, launch: &Launch) -> String {
    match platform {
        Platform::Linux => systemd_unit(launch),
        Platform::Macos => launch_agent(launch),
        Platform::Windows => scheduled_task(launch),
    }
}

/// A systemd user unit. `ExecStart` quotes every word (systemd's C-style quoting), with `%`
/// and `$` doubled so a folder named "50% off" or "$HOME" stays a name.
#[must_use]
pub fn systemd_unit(launch: &Launch) -> String {
    let word = |w: &str| {
        let escaped = w
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('%', "%%")
            .replace('$', "$$");
        format!("\"{escaped}\"")
    };
    let exec: Vec<String> = std::iter::once(launch.program.display().to_string())
        .chain(launch.args.iter().cloned())
        .map(|w| word(&w))
        .collect();
    format!(
        "# Written by `beforeafter service install`; `beforeafter service remove` deletes it.\n\
         # The clinic's studio (the gallery app, which keeps the gallery up to date), from login\n\
         # to logout. What it is doing: journalctl --user -u {UNIT} -f\n\
         \n\
         [Unit]\n\
         Description=beforeafter studio: the clinic's gallery app, kept up to date as photos arrive\n\
         \n\
         [Service]\n\
         Type=exec\n\
         ExecStart={}\n\
         # SIGTERM (systemctl stop, logout) lets the photos in hand finish.\n\
         TimeoutStopSec=2min\n\
         # A fatal error (the port taken, the output folder unwritable) exits 1: try again later.\n\
         Restart=on-failure\n\
         RestartSec=30s\n\
         \n\
         [Install]\n\
         WantedBy=default.target\n",
        exec.join(" ")
    )
}

/// Text for XML, escaped.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A macOS LaunchAgent: run at login, started again after a failure (not after a clean stop),
/// its output in ~/Library/Logs.
#[must_use]
pub fn launch_agent(launch: &Launch) -> String {
    let mut words = String::new();
    for w in std::iter::once(launch.program.display().to_string()).chain(launch.args.clone()) {
        words.push_str(&format!("\t\t<string>{}</string>\n", xml(&w)));
    }
    let log = home().join("Library/Logs/beforeafter-studio.log");
    let log = xml(&log.display().to_string());
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <!-- Written by `beforeafter service install`; `beforeafter service remove` deletes it. -->\n\
         <plist version=\"1.0\">\n\
         <dict>\n\
         \t<key>Label</key>\n\t<string>{AGENT}</string>\n\
         \t<key>ProgramArguments</key>\n\t<array>\n{words}\t</array>\n\
         \t<key>RunAtLoad</key>\n\t<true/>\n\
         \t<key>KeepAlive</key>\n\t<dict>\n\t\t<key>SuccessfulExit</key>\n\t\t<false/>\n\t</dict>\n\
         \t<key>ThrottleInterval</key>\n\t<integer>30</integer>\n\
         \t<key>StandardOutPath</key>\n\t<string>{log}</string>\n\
         \t<key>StandardErrorPath</key>\n\t<string>{log}</string>\n\
         </dict>\n\
         </plist>\n"
    )
}

/// A Windows Task Scheduler task: at this user's logon, no time limit, restarted after a
/// failure, never a second copy.
#[must_use]
pub fn scheduled_task(launch: &Launch) -> String {
    let args: Vec<String> = launch
        .args
        .iter()
        .map(|a| format!("\"{}\"", a.replace('"', "\\\"")))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n\
         <Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\n\
         \x20 <RegistrationInfo>\n\
         \x20   <Description>beforeafter studio: the clinic's gallery app, kept up to date as photos arrive. Written by `beforeafter service install`; `beforeafter service remove` deletes it.</Description>\n\
         \x20 </RegistrationInfo>\n\
         \x20 <Triggers>\n\
         \x20   <LogonTrigger><Enabled>true</Enabled></LogonTrigger>\n\
         \x20 </Triggers>\n\
         \x20 <Principals>\n\
         \x20   <Principal id=\"Author\"><LogonType>InteractiveToken</LogonType><RunLevel>LeastPrivilege</RunLevel></Principal>\n\
         \x20 </Principals>\n\
         \x20 <Settings>\n\
         \x20   <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n\
         \x20   <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n\
         \x20   <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n\
         \x20   <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>\n\
         \x20   <RestartOnFailure><Interval>PT1M</Interval><Count>999</Count></RestartOnFailure>\n\
         \x20 </Settings>\n\
         \x20 <Actions Context=\"Author\">\n\
         \x20   <Exec>\n\
         \x20     <Command>{}</Command>\n\
         \x20     <Arguments>{}</Arguments>\n\
         \x20   </Exec>\n\
         \x20 </Actions>\n\
         </Task>\n",
        xml(&launch.program.display().to_string()),
        xml(&args.join(" "))
    )
}

fn home() -> PathBuf {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    std::env::var_os(var).map_or_else(|| PathBuf::from("."), PathBuf::from)
}

/// Where the service file goes on this computer.
fn location(platform: Platform) -> PathBuf {
    match platform {
        Platform::Linux => {
            let config = std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| home().join(".config"));
            config.join("systemd/user").join(UNIT)
        }
        Platform::Macos => home()
            .join("Library/LaunchAgents")
            .join(format!("{AGENT}.plist")),
        Platform::Windows => std::env::var_os("LOCALAPPDATA")
            .map_or_else(|| home().join("AppData/Local"), PathBuf::from)
            .join("beforeafter/beforeafter-studio.xml"),
    }
}

/// `program args`, quietly: whether it ran and succeeded, and what it said on failure.
fn quietly(program: &str, args: &[&str]) -> Result<(), String> {
    match Command::new(program).args(args).output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_owned()),
        Err(e) => Err(format!("{program}: {e}")),
    }
}

fn install(platform: Platform, text: &str) -> Result<ExitCode, Fatal> {
    let path = location(platform);
    let bytes = match platform {
        // schtasks reads a task file as UTF-16, as Task Scheduler writes them.
        Platform::Windows => std::iter::once(0xFEFF)
            .chain(text.encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect(),
        _ => text.as_bytes().to_vec(),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or(UNIT);
    crate::disk::write_atomic(dir, name, &bytes)?;
    println!("Wrote {}", path.display());
    let shown = path.display().to_string();
    let own = |words: &[&str]| -> Vec<String> { words.iter().map(|w| (*w).to_owned()).collect() };
    let domain = format!("gui/{}", user_id());
    let (enable, how): (Vec<(&str, Vec<String>)>, String) = match platform {
        Platform::Linux => (
            vec![
                ("systemctl", own(&["--user", "daemon-reload"])),
                ("systemctl", own(&["--user", "enable", "--now", UNIT])),
            ],
            format!("systemctl --user daemon-reload && systemctl --user enable --now {UNIT}"),
        ),
        Platform::Macos => (
            vec![("launchctl", own(&["bootstrap", &domain, &shown]))],
            format!("launchctl bootstrap {domain} \"{shown}\""),
        ),
        Platform::Windows => (
            vec![(
                "schtasks",
                own(&["/Create", "/F", "/TN", TASK, "/XML", &shown]),
            )],
            format!("schtasks /Create /F /TN \"{TASK}\" /XML \"{shown}\""),
        ),
    };
    let started = match platform {
        Platform::Linux if quietly("systemctl", &["--user", "show-environment"]).is_err() => {
            Err("no systemd user manager is running in this session".to_owned())
        }
        _ => enable.iter().try_for_each(|(program, args)| {
            quietly(
                program,
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
            )
        }),
    };
    match started {
        Ok(()) => println!("The studio now starts at login, and is running now."),
        Err(why) => {
            println!("Not turned on here ({why}). The file is in place; to turn it on, run:");
            println!("  {how}");
        }
    }
    Ok(ExitCode::Done)
}

/// The user id, for launchctl's `gui/UID` domain.
fn user_id() -> String {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "$(id -u)".into())
}

/// `service remove`: stop and disable it where a manager runs, then delete the file.
fn remove(platform: Platform) -> Result<ExitCode, Fatal> {
    let path = location(platform);
    let shown = path.display().to_string();
    let stopped = match platform {
        Platform::Linux => quietly("systemctl", &["--user", "disable", "--now", UNIT]),
        Platform::Macos => quietly(
            "launchctl",
            &["bootout", &format!("gui/{}", user_id()), &shown],
        ),
        Platform::Windows => quietly("schtasks", &["/Delete", "/F", "/TN", TASK]),
    };
    let existed = path.is_file();
    if existed {
        std::fs::remove_file(&path)
            .map_err(|e| Fatal::Other(format!("{shown}: {e}; delete it by hand")))?;
        println!("Removed {shown}");
    } else {
        println!("{shown} was not there: nothing to remove.");
    }
    if platform == Platform::Linux && stopped.is_ok() {
        let _ = quietly("systemctl", &["--user", "daemon-reload"]);
    }
    match stopped {
        Ok(()) => println!("The studio no longer starts at login."),
        Err(_) if existed => println!(
            "(No service manager answered, so nothing was running from it; the studio will not start at login.)"
        ),
        Err(_) => {}
    }
    Ok(ExitCode::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_folder_names_stay_one_word_each() {
        let launch = Launch {
            program: "/usr/bin/beforeafter".into(),
            args: vec!["studio".into(), "/home/a/50% \"off\" $HOME".into()],
        };
        let unit = systemd_unit(&launch);
        assert!(
            unit.contains(
                r#"ExecStart="/usr/bin/beforeafter" "studio" "/home/a/50%% \"off\" $$HOME""#
            ),
            "{unit}"
        );
        let plist = launch_agent(&launch);
        assert!(
            plist.contains("<string>/home/a/50% &quot;off&quot; $HOME</string>"),
            "{plist}"
        );
    }
}
