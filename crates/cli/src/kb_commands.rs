//! `caredesk kb import DIR` and `caredesk kb export DIR`: the resource center as Markdown
//! files with a TOML header, one per entry and language (see
//! `caredesk_desk::resource_files` for the format).

use std::path::{Path, PathBuf};

use caredesk_desk::resource_files::{export_files, import_files};
use caredesk_desk::{Caller, Desk};
use clap::Subcommand;

use crate::Failure;

#[derive(Subcommand)]
pub enum KbCommand {
    /// Reads every *.md file under DIR and writes them all, or nothing when a file is wrong
    /// (each mistake told by file, line and field). Entries are found again by their key.
    Import {
        dir: PathBuf,
        #[arg(long)]
        database: Option<String>,
    },
    /// Writes every entry in every language to DIR as KEY.LANGUAGE.md (made if missing;
    /// files of the same names are replaced, others left).
    Export {
        dir: PathBuf,
        #[arg(long)]
        database: Option<String>,
    },
}

pub async fn import(desk: &Desk, dir: &Path) -> Result<(), Failure> {
    let mut files = Vec::new();
    read_markdown(dir, dir, &mut files)?;
    if files.is_empty() {
        return Err(Failure::Input(format!(
            "there is no .md file under {}",
            dir.display()
        )));
    }
    files.sort();
    let imported = import_files(desk, &Caller::System, &files)
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?;
    match imported {
        Ok(done) => {
            println!(
                "read {} files: {} entries new, {} updated; {} languages written, {} unchanged",
                files.len(),
                done.entries_created,
                done.entries_updated,
                done.translations_written,
                done.translations_unchanged
            );
            Ok(())
        }
        Err(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            Err(Failure::Input(format!(
                "{} problems in {} files; nothing was imported",
                problems.len(),
                files.len()
            )))
        }
    }
}

pub async fn export(desk: &Desk, dir: &Path) -> Result<(), Failure> {
    let files = export_files(desk, &Caller::System)
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?;
    std::fs::create_dir_all(dir)?;
    for (name, text) in &files {
        std::fs::write(dir.join(name), text)?;
    }
    println!("exported {} files to {}", files.len(), dir.display());
    Ok(())
}

/// Every `.md` file under `dir`, named by its path from `root`.
fn read_markdown(root: &Path, dir: &Path, into: &mut Vec<(String, String)>) -> Result<(), Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| Failure::Input(format!("cannot read {}: {error}", dir.display())))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            read_markdown(root, &path, into)?;
        } else if path.extension().is_some_and(|extension| extension == "md") {
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            let bytes = std::fs::read(&path)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| Failure::Input(format!("{name}:1: the file is not UTF-8 text")))?;
            into.push((name, text));
        }
    }
    Ok(())
}
