//! Real servers on loopback for the publish tests, started by the test and stopped (by their
//! own process id) when dropped: Debian's OpenSSH `sshd` as an SFTP host (a host key and a
//! client key made for the test, an `ssh` on PATH that reads the test's own client config, as a
//! clinic's `~/.ssh/config` would), an S3-compatible store (moto's server mode, the emulator S3
//! clients test against: a `pip install`, no build), and a static web server
//! (`python3 -m http.server`) for `verify --url`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait until `port` accepts connections (the server is up), at most 20 s.
fn wait_for(port: u16, child: &mut Child, what: &str) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what} did not start"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A server process, killed by its pid when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    /// For SFTP: a folder holding the `ssh` the publish must find first on PATH.
    pub bin: Option<PathBuf>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// PATH with the test's `ssh` first (SFTP), for a spawned publish.
    pub fn path_env(&self) -> String {
        let path = std::env::var("PATH").unwrap_or_default();
        match &self.bin {
            Some(bin) => format!("{}:{path}", bin.display()),
            None => path,
        }
    }
}

fn run(cmd: &mut Command) {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `sshd` on a free loopback port, keys and config in `dir`; None when it is not installed.
pub fn sshd(dir: &Path) -> Option<Server> {
    let sshd = Path::new("/usr/sbin/sshd");
    if !sshd.exists() || !Path::new("/usr/bin/ssh").exists() {
        return None;
    }
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    for key in ["host_key", "client_key"] {
        let k = dir.join(key);
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", ""])
            .arg("-f")
            .arg(&k));
    }
    let _ = std::fs::create_dir_all("/run/sshd");
    let port = free_port();
    let d = dir.display();
    std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
    let config = format!(
        "ListenAddress 127.0.0.1\nPort {port}\nHostKey {d}/host_key\n\
         AuthorizedKeysFile {d}/authorized_keys\nPidFile none\nUsePAM no\nStrictModes no\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
         PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n"
    );
    std::fs::write(dir.join("sshd_config"), config).unwrap();
    let host_key = std::fs::read_to_string(dir.join("host_key.pub")).unwrap();
    let host_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
    std::fs::write(
        dir.join("known_hosts"),
        format!("[127.0.0.1]:{port} {}\n", host_key.join(" ")),
    )
    .unwrap();
    let client = format!(
        "Host *\n  IdentityFile {d}/client_key\n  IdentitiesOnly yes\n  \
         UserKnownHostsFile {d}/known_hosts\n  StrictHostKeyChecking yes\n  BatchMode yes\n"
    );
    std::fs::write(dir.join("ssh_config"), client).unwrap();
    let wrapper = dir.join("bin/ssh");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec /usr/bin/ssh -F {d}/ssh_config \"$@\"\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = Command::new(sshd)
        .args(["-D", "-e", "-f"])
        .arg(dir.join("sshd_config"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(port, &mut child, "sshd");
    Some(Server {
        child,
        port,
        bin: Some(dir.join("bin")),
    })
}

/// moto's S3 server on a free loopback port with the bucket `site`; None when not installed.
pub fn moto() -> Option<Server> {
    let port = free_port();
    let mut child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    wait_for(port, &mut child, "moto_server");
    let reply = super::http::exchange(
        &format!("127.0.0.1:{port}"),
        "PUT /site HTTP/1.1\r\nHost: 127.0.0.1",
        "",
    );
    assert_eq!(reply.status, 200, "creating the bucket: {}", reply.body);
    Some(Server {
        child,
        port,
        bin: None,
    })
}

/// `python3 -m http.server` serving `dir` on a free loopback port.
pub fn static_site(dir: &Path) -> Server {
    let port = free_port();
    let mut child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(port, &mut child, "python3 -m http.server");
    Server {
        child,
        port,
        bin: None,
    }
}
