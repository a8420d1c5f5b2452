//! `caredesk release publish|retire|list`: the release catalog from the command line, with
//! the same checks as the API and the console (`caredesk_desk::catalog`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use caredesk_desk::catalog::{self, CatalogEntry, ReleaseForm};
use caredesk_desk::{Caller, Desk, DeskError};
use clap::{Args, Subcommand};
use jiff::civil::Date;

use crate::Failure;

#[derive(Subcommand)]
pub enum ReleaseCommand {
    /// Publishes a release of a product line; its place among the line's releases follows
    /// from its version ("8.10" after "8.9").
    Publish(Publish),
    /// Retires a release: it stays in the catalog, out of support scope and no longer
    /// offered as an update.
    Retire {
        #[arg(long)]
        product_line: String,
        #[arg(long)]
        version: String,
        #[arg(long)]
        database: Option<String>,
    },
    /// Lists the catalog, newest first, with what is in support scope.
    List {
        #[arg(long)]
        product_line: Option<String>,
        #[arg(long)]
        database: Option<String>,
    },
}

#[derive(Args)]
pub struct Publish {
    #[arg(long)]
    product_line: String,
    #[arg(long)]
    version: String,
    /// major (an upgrade) or minor (an update).
    #[arg(long)]
    kind: String,
    /// YYYY-MM-DD; today when absent.
    #[arg(long)]
    released_on: Option<Date>,
    /// Where the release is downloaded (http or https); requires --sha256.
    #[arg(long)]
    download_url: Option<String>,
    /// The download's SHA-256 checksum, 64 hexadecimal digits.
    #[arg(long)]
    sha256: Option<String>,
    /// Release notes in a language: LANGUAGE=TEXT (repeat for each language).
    #[arg(long = "notes", value_name = "LANGUAGE=TEXT")]
    notes: Vec<String>,
    /// Release notes read from a file: LANGUAGE=FILE (repeat for each language).
    #[arg(long = "notes-file", value_name = "LANGUAGE=FILE")]
    notes_files: Vec<String>,
    /// A ticket planned for this release whose fix is not in it after all (repeat for
    /// each): it goes back to its advisor. Every other ticket planned for the release gets
    /// its fix proposed to the customer.
    #[arg(long = "without-fix", value_name = "TICKET")]
    without_fix: Vec<i64>,
    #[arg(long)]
    database: Option<String>,
}

impl ReleaseCommand {
    pub fn database(&self) -> Option<&String> {
        match self {
            ReleaseCommand::Publish(publish) => publish.database.as_ref(),
            ReleaseCommand::Retire { database, .. } | ReleaseCommand::List { database, .. } => {
                database.as_ref()
            }
        }
    }
}

pub async fn run(command: ReleaseCommand, desk: &Desk) -> Result<(), Failure> {
    match command {
        ReleaseCommand::Publish(publish) => {
            let form = ReleaseForm {
                notes: notes_of(&publish.notes, &publish.notes_files)?,
                product_line: publish.product_line,
                version: publish.version,
                kind: publish.kind,
                released_on: publish.released_on,
                download_url: publish.download_url,
                sha256: publish.sha256,
                without_fix: publish.without_fix,
            };
            let published = catalog::publish(desk, &Caller::System, form)
                .await
                .map_err(refused)?;
            let entry = &published.entry;
            println!(
                "published {} {} ({}, {})",
                entry.release.product_line,
                entry.release.version,
                entry.release.kind,
                entry.release.released_on
            );
            for planned in &published.planned_tickets {
                println!(
                    "ticket {}: {}",
                    planned.ticket_id,
                    if planned.fixed {
                        "the fix is proposed to the customer"
                    } else {
                        "published without its fix; back with its advisor"
                    }
                );
            }
            print_catalog(
                &catalog::catalog(desk, Some(&entry.release.product_line))
                    .await
                    .map_err(refused)?,
            );
            Ok(())
        }
        ReleaseCommand::Retire {
            product_line,
            version,
            ..
        } => {
            let release = catalog::find(desk, &product_line, &version)
                .await
                .map_err(refused)?;
            catalog::retire(desk, &Caller::System, release.id)
                .await
                .map_err(refused)?;
            println!("retired {product_line} {version}");
            print_catalog(
                &catalog::catalog(desk, Some(&product_line))
                    .await
                    .map_err(refused)?,
            );
            Ok(())
        }
        ReleaseCommand::List { product_line, .. } => {
            let entries = catalog::catalog(desk, product_line.as_deref())
                .await
                .map_err(refused)?;
            if entries.is_empty() {
                println!("the catalog holds no release yet: `caredesk release publish` adds one");
            } else {
                print_catalog(&entries);
            }
            Ok(())
        }
    }
}

/// One release a line: line, version, kind, date, scope, notes' languages, download.
fn print_catalog(entries: &[CatalogEntry]) {
    println!("product line\tversion\tkind\treleased on\tsupport\tnotes\tdownload");
    for entry in entries {
        let release = &entry.release;
        let support = if release.is_retired() {
            "retired"
        } else if entry.in_support_scope {
            "in scope"
        } else {
            "out of scope"
        };
        let languages: Vec<&str> = entry.notes.keys().map(String::as_str).collect();
        println!(
            "{}\t{}\t{}\t{}\t{support}\t{}\t{}",
            release.product_line,
            release.version,
            release.kind,
            release.released_on,
            if languages.is_empty() {
                "-".to_string()
            } else {
                languages.join(",")
            },
            release.download_url.as_deref().unwrap_or("-")
        );
    }
}

/// `LANGUAGE=TEXT` and `LANGUAGE=FILE` pairs as notes by language; a language given twice
/// is refused.
fn notes_of(texts: &[String], files: &[String]) -> Result<BTreeMap<String, String>, Failure> {
    let mut notes = BTreeMap::new();
    let mut add = |flag: &str, language: &str, text: String| {
        if notes.insert(language.to_string(), text).is_some() {
            return Err(Failure::Input(format!(
                "--{flag}: notes in {language} are given twice"
            )));
        }
        Ok(())
    };
    for pair in texts {
        let (language, text) = split_pair("notes", pair, "TEXT")?;
        add("notes", language, text.to_string())?;
    }
    for pair in files {
        let (language, file) = split_pair("notes-file", pair, "FILE")?;
        let path = PathBuf::from(file);
        let text = std::fs::read_to_string(&path).map_err(|error| {
            Failure::Input(format!("--notes-file: {}: {error}", path.display()))
        })?;
        add("notes-file", language, text)?;
    }
    Ok(notes)
}

fn split_pair<'a>(flag: &str, pair: &'a str, what: &str) -> Result<(&'a str, &'a str), Failure> {
    pair.split_once('=')
        .filter(|(language, _)| !language.trim().is_empty())
        .map(|(language, rest)| (language.trim(), rest))
        .ok_or_else(|| Failure::Input(format!("--{flag}: \"{pair}\" is not LANGUAGE={what}")))
}

/// The desk's refusal as the command line says it: each field as its flag.
pub(crate) fn refused(error: DeskError) -> Failure {
    match error {
        DeskError::Invalid(problems) => Failure::Input(
            problems
                .iter()
                .map(|problem| {
                    let flag = match problem.field.split_once('.') {
                        Some(("notes", language)) => format!("notes {language}"),
                        _ => problem.field.replace('_', "-"),
                    };
                    format!("--{flag}: {}", problem.message)
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        DeskError::Conflict { detail, .. } => Failure::Input(detail),
        other => Failure::Environment(other.to_string()),
    }
}
