//! A PostgreSQL server of a test's own: a throwaway cluster made with `initdb` in a temporary
//! folder and run with `pg_ctl` on a free loopback port, so that a test may stop, kill and
//! restart it without touching the machine's server. PostgreSQL refuses to run as root: when
//! the test runs as root, the cluster belongs to the `postgres` account (`runuser`).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A running throwaway cluster; dropped, it is stopped at once and its folder removed.
pub struct ThrowawayPostgres {
    folder: tempfile::TempDir,
    binaries: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl ThrowawayPostgres {
    /// Makes and starts a cluster with a `caredesk` database, trust authentication for the
    /// `postgres` user on loopback.
    pub fn start() -> ThrowawayPostgres {
        let binaries = binaries();
        let folder = tempfile::tempdir().unwrap();
        let as_postgres = running_as_root();
        if as_postgres {
            let chowned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(folder.path())
                .status()
                .unwrap();
            assert!(
                chowned.success(),
                "could not give the cluster's folder to postgres"
            );
        }
        let port = free_port();
        let cluster = ThrowawayPostgres {
            folder,
            binaries,
            port,
            as_postgres,
        };
        let made = cluster.run(
            "initdb",
            &[
                "--pgdata",
                &cluster.data().display().to_string(),
                "--username",
                "postgres",
                "--auth",
                "trust",
                "--no-sync",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
            ],
        );
        assert!(made.status.success(), "initdb failed: {}", text(&made));
        cluster.start_server();
        let created = cluster.run(
            "createdb",
            &[
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--username",
                "postgres",
                "caredesk",
            ],
        );
        assert!(
            created.status.success(),
            "createdb failed: {}",
            text(&created)
        );
        cluster
    }

    /// The `caredesk` database's URL.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/caredesk", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start_server(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories='{}' \
             -c fsync=on -c max_connections=100",
            self.port,
            self.folder.path().display()
        );
        let started = self.run(
            "pg_ctl",
            &[
                "start",
                "--pgdata",
                &self.data().display().to_string(),
                "--wait",
                "--timeout",
                "60",
                "--log",
                &self.folder.path().join("server.log").display().to_string(),
                "-o",
                &options,
            ],
        );
        assert!(
            started.status.success(),
            "the throwaway PostgreSQL did not start: {} {}",
            text(&started),
            std::fs::read_to_string(self.folder.path().join("server.log")).unwrap_or_default()
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "PostgreSQL never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server at once, as a crash would: connections are cut, nothing is flushed
    /// beyond what was committed (the next start replays the write-ahead log).
    pub fn stop_immediately(&self) {
        let stopped = self.run(
            "pg_ctl",
            &[
                "stop",
                "--pgdata",
                &self.data().display().to_string(),
                "--mode",
                "immediate",
                "--wait",
            ],
        );
        assert!(
            stopped.status.success(),
            "pg_ctl stop failed: {}",
            text(&stopped)
        );
    }

    fn data(&self) -> PathBuf {
        self.folder.path().join("data")
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        self.command(program, args)
            .output()
            .unwrap_or_else(|error| panic!("{program} could not run: {error}"))
    }

    /// `program` of the cluster's binaries with `args`, as the cluster's owner.
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let program = self.binaries.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        command.args(args).current_dir(self.folder.path());
        command
    }
}

impl Drop for ThrowawayPostgres {
    /// Stops the server, never panicking (a test may be unwinding already).
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let _ = self
            .command(
                "pg_ctl",
                &["stop", "--pgdata", &data, "--mode", "immediate"],
            )
            .output();
    }
}

/// Where `initdb` and `pg_ctl` are: beside `pg_config --bindir`, else Debian's newest
/// `/usr/lib/postgresql/N/bin`.
fn binaries() -> PathBuf {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        let folder = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if folder.join("initdb").exists() {
            return folder;
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, folder)| folder.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, folder)| folder)
        .unwrap_or_else(|| panic!("PostgreSQL's initdb is needed: install postgresql"))
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
