//! `sftp://user@host[:port]/path`: the system OpenSSH `sftp` client in batch mode (`-b -`), one
//! session per step (read the record, a batch of uploads with the record after them, the
//! deletions). It runs `ssh` from PATH, so the user's keys, agent, `~/.ssh/config` and known
//! hosts apply, and host keys are checked strictly. Each file is `put` under
//! `.beforeafter/incoming/` and `rename`d into place (OpenSSH's rename replaces the old file
//! in one step). A batch stops at its first failing command, which names the file.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Failed, Put, Store, incoming_name, parents};

pub struct Sftp {
    user: Option<String>,
    host: String,
    port: Option<u16>,
    root: String,
    /// Folders made (or found) in an earlier session of this publish.
    made: BTreeSet<String>,
}

/// One batch command; `path` is the gallery file it concerns, `missing_ok` lets an `rm` of a
/// file already gone pass.
struct Cmd {
    line: String,
    path: Option<String>,
    missing_ok: bool,
}

impl Cmd {
    fn new(line: String, path: Option<&str>) -> Cmd {
        Cmd {
            line,
            path: path.map(str::to_owned),
            missing_ok: false,
        }
    }
}

/// A path quoted for sftp's batch parser.
fn quote(path: &str) -> String {
    format!("\"{}\"", path.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Sftp {
    pub fn new(user: Option<&str>, host: &str, port: Option<u16>, root: &str) -> Sftp {
        Sftp {
            user: user.map(str::to_owned),
            host: host.to_owned(),
            port,
            root: root.trim_end_matches('/').to_owned(),
            made: BTreeSet::new(),
        }
    }

    fn remote(&self, path: &str) -> String {
        quote(&format!("{}/{path}", self.root))
    }

    /// Run `cmds` in one session, carrying on past an `rm` of a file already gone; stdout.
    fn run(&self, cmds: &[Cmd]) -> Result<String, Failed> {
        let mut start = 0;
        let mut out = String::new();
        while start < cmds.len() {
            let (ok, stdout, stderr) = self.session(&cmds[start..])?;
            out.push_str(&stdout);
            if ok {
                break;
            }
            let echoed = stdout.lines().filter(|l| l.starts_with("sftp> ")).count();
            let Some(at) = echoed.checked_sub(1).map(|i| start + i) else {
                return Err(Failed::whole(self.why_not_connected(&stderr)));
            };
            let gone = stderr.contains("No such file") || stderr.contains("not found");
            if !(cmds[at].missing_ok && gone) {
                return Err(Failed {
                    path: cmds[at].path.clone(),
                    cause: cause(&stderr),
                });
            }
            start = at + 1;
        }
        Ok(out)
    }

    /// One `sftp -b -` session: (succeeded, stdout, stderr).
    fn session(&self, cmds: &[Cmd]) -> Result<(bool, String, String), Failed> {
        let dest = match &self.user {
            Some(u) => format!("{u}@{}", self.host),
            None => self.host.clone(),
        };
        let mut command = Command::new("sftp");
        command.args(["-b", "-", "-S", "ssh"]);
        if let Some(port) = self.port {
            command.args(["-P", &port.to_string()]);
        }
        let options = [
            "BatchMode=yes",
            "StrictHostKeyChecking=yes",
            "ConnectTimeout=30",
            "ServerAliveInterval=15",
            "ServerAliveCountMax=4",
        ];
        for o in options {
            command.args(["-o", o]);
        }
        command.arg(dest);
        let mut child = (command.stdin(Stdio::piped()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                Failed::whole(format!(
                    "cannot start the system sftp client ({e}): install OpenSSH's client \
                     (Debian and Ubuntu: openssh-client; macOS and Windows 10 and later have it)"
                ))
            })?;
        let script: String = cmds.iter().map(|c| format!("{}\n", c.line)).collect();
        if let Some(mut stdin) = child.stdin.take() {
            // A session that ends early (no connection) closes its end: its stderr says why.
            let _ = stdin.write_all(script.as_bytes());
        }
        let o = (child.wait_with_output()).map_err(|e| Failed::whole(format!("sftp: {e}")))?;
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        Ok((o.status.success(), text(&o.stdout), text(&o.stderr)))
    }

    /// Why ssh did not connect, in words with the fix.
    fn why_not_connected(&self, stderr: &str) -> String {
        let who = match &self.user {
            Some(u) => format!("{u}@{}", self.host),
            None => self.host.clone(),
        };
        let port = self.port.map_or(String::new(), |p| format!(" -p {p}"));
        let fix = if stderr.contains("Permission denied") {
            format!(
                "the host did not accept your SSH key: add your public key to the host \
                 (ssh-copy-id{port} {who}) or load it into your agent (ssh-add), then check \
                 that `ssh{port} {who}` signs in without a password"
            )
        } else if stderr.contains("Host key verification failed") {
            format!(
                "the host's key is not in your known_hosts (or it changed): connect once \
                 with `ssh{port} {who}`, check the key with the host and accept it"
            )
        } else if stderr.contains("Could not resolve") {
            format!(
                "the host name {} is not known: check the address",
                self.host
            )
        } else {
            "no SFTP session: check the address and that the host is up".to_owned()
        };
        format!("{fix} ({})", cause(stderr))
    }

    /// `-mkdir` for every folder `paths` need that this publish has not made yet.
    fn mkdirs<'a>(&mut self, paths: impl Iterator<Item = &'a str>, cmds: &mut Vec<Cmd>) {
        let root = self.root.clone();
        let mut wanted: Vec<String> = parents(&root[1..]).map(|p| format!("/{p}")).collect();
        wanted.push(root.clone());
        for path in paths {
            wanted.extend(parents(path).map(|p| format!("{root}/{p}")));
        }
        for dir in wanted {
            if self.made.insert(dir.clone()) {
                cmds.push(Cmd::new(format!("-mkdir {}", quote(&dir)), None));
            }
        }
    }

    /// Commands writing `files` (each put beside, then renamed), with the local copies in `dir`.
    fn puts(&mut self, files: &[&Put], dir: &Path) -> Result<Vec<Cmd>, Failed> {
        let mut cmds = Vec::new();
        let temps = files.iter().map(|p| incoming_name(&p.path));
        let temps: Vec<String> = temps.collect();
        let all = files
            .iter()
            .map(|p| p.path.as_str())
            .chain(temps.iter().map(String::as_str));
        self.mkdirs(all, &mut cmds);
        for (i, (put, temp)) in files.iter().zip(&temps).enumerate() {
            let local = dir.join(i.to_string());
            std::fs::write(&local, &put.bytes)
                .map_err(|e| Failed::whole(format!("cannot write {}: {e}", local.display())))?;
            let local = quote(&local.to_string_lossy());
            let (temp, dest) = (self.remote(temp), self.remote(&put.path));
            cmds.push(Cmd::new(format!("put {local} {temp}"), Some(&put.path)));
            cmds.push(Cmd::new(format!("rename {temp} {dest}"), Some(&put.path)));
        }
        Ok(cmds)
    }
}

/// The lines of sftp's stderr that say what went wrong (not the folders that already existed).
fn cause(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("remote mkdir") && *l != "Connection closed")
        .collect();
    let tail = &lines[lines.len().saturating_sub(3)..];
    if tail.is_empty() {
        "sftp stopped without saying why".to_owned()
    } else {
        tail.join("; ")
    }
}

impl Store for Sftp {
    fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, Failed> {
        let dir = LocalDir::new()?;
        let local = dir.0.join("read");
        let local_q = quote(&local.to_string_lossy());
        let line = format!("-get {} {local_q}", self.remote(path));
        self.run(&[Cmd::new(line, Some(path))])?;
        match std::fs::read(&local) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(_) => Ok(None),
        }
    }

    fn list(&mut self) -> Result<Vec<String>, Failed> {
        let prefix = format!("{}/", self.root);
        let (mut files, mut level) = (Vec::new(), vec![self.root.clone()]);
        while !level.is_empty() {
            let cmds: Vec<Cmd> = (level.iter())
                .map(|d| Cmd::new(format!("-ls -la {}", quote(d)), None))
                .collect();
            let out = self.run(&cmds)?;
            level.clear();
            for line in out.lines().filter(|l| !l.starts_with("sftp> ")) {
                let Some(name) = listed_name(line) else {
                    continue;
                };
                let Some(rel) = name.strip_prefix(&prefix) else {
                    continue;
                };
                if rel.ends_with("/.") || rel.ends_with("/..") || rel == "." || rel == ".." {
                    continue;
                }
                if line.starts_with('d') {
                    level.push(name.to_owned());
                } else {
                    files.push(rel.to_owned());
                }
            }
        }
        Ok(files)
    }

    fn batch(&self) -> usize {
        super::super::CHECKPOINT
    }

    fn put(&mut self, files: &[Put], then: Option<&Put>) -> Result<(), Failed> {
        let dir = LocalDir::new()?;
        let all: Vec<&Put> = files.iter().chain(then).collect();
        let cmds = self.puts(&all, &dir.0)?;
        self.run(&cmds).map(|_| ())
    }

    fn delete(
        &mut self,
        paths: &[String],
        folders: &[String],
        then: Option<&Put>,
    ) -> Result<(), Failed> {
        let dir = LocalDir::new()?;
        let mut cmds: Vec<Cmd> = (paths.iter())
            .map(|p| Cmd {
                line: format!("rm {}", self.remote(p)),
                path: Some(p.clone()),
                missing_ok: true,
            })
            .collect();
        // Not empty (someone else's file), already gone, or refused: the folder stays.
        let rmdirs = folders.iter().map(|f| format!("-rmdir {}", self.remote(f)));
        cmds.extend(rmdirs.map(|line| Cmd::new(line, None)));
        cmds.extend(self.puts(&then.into_iter().collect::<Vec<_>>(), &dir.0)?);
        self.run(&cmds).map(|_| ())
    }
}

/// The name in one line of `ls -la` (the ninth field on), or None for another line.
fn listed_name(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    for _ in 0..8 {
        rest = rest[rest.find(char::is_whitespace)?..].trim_start();
    }
    (!rest.is_empty()).then_some(rest)
}

/// A private local folder for the files a session sends or fetches, removed when dropped.
struct LocalDir(PathBuf);

impl LocalDir {
    fn new() -> Result<LocalDir, Failed> {
        let token = crate::http::new_token().map_err(Failed::whole)?;
        let dir = std::env::temp_dir().join(format!("beforeafter-sftp-{token}"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failed::whole(format!("cannot make {}: {e}", dir.display())))?;
        Ok(LocalDir(dir))
    }
}

impl Drop for LocalDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_lines_and_quoting() {
        let line = "-rw-r--r--    ? root     root          198 Dec  6 19:04 /srv/g/a b.txt";
        assert_eq!(listed_name(line), Some("/srv/g/a b.txt"));
        assert_eq!(listed_name("Can't ls"), None);
        assert_eq!(quote(r#"/a "b"\c"#), r#""/a \"b\"\\c""#);
        let err = "remote mkdir \"/tmp\": Failure\nremote rename \"x\" to \"y\": Failure\n";
        assert_eq!(cause(err), "remote rename \"x\" to \"y\": Failure");
    }
}
