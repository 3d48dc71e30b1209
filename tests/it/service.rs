//! `beforeafter service install` / `remove`, run as a user would on this Linux machine (no
//! systemd user manager answers in a container or CI: the unit is written, the command to turn
//! it on is printed, the exit code is 0), the unit checked by `systemd-analyze verify`; and the
//! macOS LaunchAgent and Windows task files (`--print --platform`) read by real parsers
//! (Python's plistlib and its XML parser).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::env::TestEnv;
use crate::support::sample::skip_or_fail;

/// `beforeafter ARGS` with its config and runtime folders in `home`: no user manager is reached
/// and nothing of the real user's is touched.
fn service(home: &Path, args: &[&str]) -> Output {
    let runtime = home.join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    Command::new(env!("CARGO_BIN_EXE_beforeafter"))
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .unwrap()
}

fn python(code: &str, input: &[u8]) -> Option<Output> {
    let mut child = match Command::new("python3")
        .args(["-c", code])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(_) => {
            skip_or_fail("service: python3 not found: the plist and task checks SKIPPED");
            return None;
        }
    };
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input).unwrap();
    Some(child.wait_with_output().unwrap())
}

#[test]
fn install_writes_a_unit_systemd_accepts_says_how_to_enable_it_and_remove_deletes_it() {
    let env = TestEnv::new();
    let home = tempfile::tempdir().unwrap();
    let (input, out) = (env.input(), env.out());
    let args = [
        "service",
        "install",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let done = service(home.path(), &args);
    let said = String::from_utf8_lossy(&done.stdout);
    assert_eq!(
        done.status.code(),
        Some(0),
        "{said} {}",
        String::from_utf8_lossy(&done.stderr)
    );
    let unit = home
        .path()
        .join("config/systemd/user/beforeafter-studio.service");
    assert!(
        said.contains(&format!("Wrote {}", unit.display())),
        "{said}"
    );
    assert!(
        said.contains("systemctl --user enable --now beforeafter-studio.service"),
        "{said}"
    );
    let text = std::fs::read_to_string(&unit).unwrap();
    let exe = env!("CARGO_BIN_EXE_beforeafter");
    let input = std::fs::canonicalize(&input).unwrap();
    let exec = format!(
        "ExecStart=\"{exe}\" \"studio\" \"{}\" \"--out\" \"{}\"",
        input.display(),
        out.display()
    );
    assert!(text.contains(&exec), "{text}");
    // The same service settings as the watch's example unit.
    let example = include_str!("../../docs/packaging/beforeafter-watch.service");
    for line in [
        "Type=exec",
        "TimeoutStopSec=2min",
        "Restart=on-failure",
        "RestartSec=30s",
        "WantedBy=default.target",
    ] {
        assert!(text.contains(line) && example.contains(line), "{line}");
    }
    match Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
    {
        Ok(v) => assert!(
            v.status.success(),
            "systemd-analyze verify: {}",
            String::from_utf8_lossy(&v.stderr)
        ),
        Err(_) => skip_or_fail("service: systemd-analyze not found (apt-get install systemd)"),
    }
    let removed = service(home.path(), &["service", "remove"]);
    assert_eq!(removed.status.code(), Some(0));
    assert!(!unit.exists());
    let again = service(home.path(), &["service", "remove"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to remove"));
}

#[test]
fn the_mac_and_windows_files_parse_and_start_the_studio() {
    let env = TestEnv::new();
    let home = tempfile::tempdir().unwrap();
    let (input, out) = (env.input(), env.out());
    let print = |platform: &str| {
        let args = [
            "service",
            "install",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--print",
            "--platform",
            platform,
        ];
        let done = service(home.path(), &args);
        assert_eq!(
            done.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        done.stdout
    };
    let plist = print("macos");
    let code = "import plistlib, sys, json; p = plistlib.loads(sys.stdin.buffer.read()); \
                print(json.dumps([p['Label'], p['ProgramArguments'], p['RunAtLoad']]))";
    let Some(read) = python(code, &plist) else {
        return;
    };
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    let input = std::fs::canonicalize(&input).unwrap();
    let words = [
        env!("CARGO_BIN_EXE_beforeafter"),
        "studio",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    assert_eq!(
        read,
        serde_json::json!(["org.beforeafter.studio", words, true])
    );
    // The task file as install writes it (UTF-16), read by an XML parser.
    let task = print("windows");
    let code = "import sys, json, xml.etree.ElementTree as T; \
                r = T.fromstring(sys.stdin.buffer.read().decode('utf-8').encode('utf-16')); \
                n = {'t': 'http://schemas.microsoft.com/windows/2004/02/mit/task'}; \
                print(json.dumps([r.find('t:Actions/t:Exec/t:Command', n).text, \
                r.find('t:Actions/t:Exec/t:Arguments', n).text, \
                r.find('t:Triggers/t:LogonTrigger/t:Enabled', n).text]))";
    let read = python(code, &task).unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    let args = format!(
        "\"studio\" \"{}\" \"--out\" \"{}\"",
        input.display(),
        out.display()
    );
    assert_eq!(
        read,
        serde_json::json!([env!("CARGO_BIN_EXE_beforeafter"), args, "true"])
    );
    // Writing another system's file here is refused, pointing at --print.
    let args = [
        "service",
        "install",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--platform",
        "macos",
    ];
    let refused = service(home.path(), &args);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--print"));
}
