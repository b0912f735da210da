//! Where the installed server programs are, for the two places that start
//! private PostgreSQL and NATS servers: `hellowork up` when none answers,
//! and the tests that stop and restart one. One finder for both, so a
//! machine with PostgreSQL 16 or 17, or one built from source, works for
//! the tests exactly when it works for `up`. A crate of its own because the
//! command must not depend on the test support, nor the test support on the
//! command.

use std::{
    ffi::OsStr,
    path::{Path, PathBuf},
    process::Command,
};

/// Where Debian and Ubuntu install PostgreSQL's server programs, one folder
/// per major version.
const PG_VERSIONS: &str = "/usr/lib/postgresql";

/// Where the Debian package installs `nats-server`.
const PACKAGED_NATS: &str = "/usr/sbin/nats-server";

/// The programs a private cluster needs.
const PG_PROGRAMS: [&str; 3] = ["initdb", "postgres", "pg_ctl"];

/// The folder holding `initdb`, `postgres` and `pg_ctl`: the newest major
/// version under /usr/lib/postgresql, else `pg_config --bindir`, else the
/// `PATH`'s `initdb`'s folder.
pub fn postgres_bindir() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    postgres_bindir_in(Path::new(PG_VERSIONS), &path)
}

/// [`postgres_bindir`] with the versions' folder and the `PATH` given.
fn postgres_bindir_in(versions: &Path, path: &OsStr) -> Option<PathBuf> {
    newest_first(versions)
        .into_iter()
        .chain(pg_config_bindir(path))
        .chain(on_path(path, "initdb").and_then(|p| p.parent().map(Path::to_path_buf)))
        .find(|bin| PG_PROGRAMS.iter().all(|p| bin.join(p).is_file()))
}

/// `VERSION/bin` of every numbered folder under `versions`, the highest
/// version first (16 before 9.6, which sorts after it as text).
fn newest_first(versions: &Path) -> Vec<PathBuf> {
    let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(versions)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = name
                .split('.')
                .map(str::parse)
                .collect::<Result<Vec<u32>, _>>()
                .ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    found.sort();
    found.into_iter().rev().map(|(_, bin)| bin).collect()
}

/// What the `PATH`'s `pg_config` says the server programs' folder is (a
/// build from source, or a distribution with another layout).
fn pg_config_bindir(path: &OsStr) -> Option<PathBuf> {
    let output = Command::new(on_path(path, "pg_config")?)
        .arg("--bindir")
        .output()
        .ok()?;
    let bindir = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !bindir.trim().is_empty()).then(|| PathBuf::from(bindir.trim()))
}

/// `nats-server`: the packaged one, else the `PATH`'s.
pub fn nats_server() -> Option<PathBuf> {
    let packaged = PathBuf::from(PACKAGED_NATS);
    if packaged.is_file() {
        return Some(packaged);
    }
    on_path(&std::env::var_os("PATH")?, "nats-server")
}

fn on_path(path: &OsStr, program: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder with the server programs (empty files: only their presence
    /// is looked at).
    fn bindir(dir: &Path, programs: &[&str]) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        for program in programs {
            std::fs::write(dir.join(program), b"").unwrap();
        }
        dir.to_path_buf()
    }

    #[test]
    fn the_highest_complete_version_wins_numerically() {
        let root = tempfile::tempdir().unwrap();
        let versions = root.path().join("postgresql");
        bindir(&versions.join("9.6/bin"), &PG_PROGRAMS);
        bindir(&versions.join("15/bin"), &PG_PROGRAMS);
        bindir(&versions.join("16/bin"), &PG_PROGRAMS);
        // A newer version with only its client programs installed.
        bindir(&versions.join("17/bin"), &["psql"]);
        std::fs::create_dir_all(versions.join("common")).unwrap();
        assert_eq!(
            postgres_bindir_in(&versions, OsStr::new("")),
            Some(versions.join("16/bin"))
        );
    }

    #[test]
    fn without_packaged_versions_the_paths_initdb_folder_is_used() {
        let root = tempfile::tempdir().unwrap();
        let local = bindir(&root.path().join("local/bin"), &PG_PROGRAMS);
        let elsewhere = bindir(&root.path().join("elsewhere"), &["psql"]);
        let path = std::env::join_paths([elsewhere, local.clone()]).unwrap();
        assert_eq!(
            postgres_bindir_in(&root.path().join("none"), &path),
            Some(local)
        );
        assert_eq!(
            postgres_bindir_in(&root.path().join("none"), OsStr::new("")),
            None
        );
    }

    #[cfg(unix)]
    #[test]
    fn pg_config_names_the_folder_when_initdb_is_not_on_the_path() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let server = bindir(&root.path().join("server/bin"), &PG_PROGRAMS);
        let tools = root.path().join("tools");
        std::fs::create_dir_all(&tools).unwrap();
        let pg_config = tools.join("pg_config");
        std::fs::write(
            &pg_config,
            format!("#!/bin/sh\necho {}\n", server.display()),
        )
        .unwrap();
        std::fs::set_permissions(&pg_config, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            postgres_bindir_in(&root.path().join("none"), tools.as_os_str()),
            Some(server)
        );
    }
}
