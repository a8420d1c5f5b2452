//! `caredesk admin …`: staff, API tokens, and imports of customers and what they own.
//!
//! An import reads up to four CSV files (with headers), checks every row against the policy,
//! the other rows and the database, and reports every bad row by file, line and field. Only
//! when all rows are good is anything written, in one transaction.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use caredesk_desk::access::{self, TokenRequest};
use caredesk_desk::activation;
use caredesk_desk::customers::{self, ContactForm};
use caredesk_desk::staff::{self, StaffForm, staff_form_problems};
use caredesk_desk::{Caller, Desk, DeskError, FieldProblem};
use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::Role;
use caredesk_store::{
    ImportBatch, LicenceTerms, NewContact, NewContract, NewCustomer, NewProduct, StaffMember,
    Store, StoreError,
};
use clap::{Args, Subcommand};
use jiff::civil::Date;

use crate::Failure;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Adds a staff member who can sign in with e-mail and password.
    CreateStaff(CreateStaff),
    /// Issues an API token for a staff member and prints it (only once).
    IssueToken {
        #[arg(long)]
        email: String,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// Refused after this many days (1 to 3650); without it, until revoked.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// Issues a customer's one-time activation password and prints it (only once): the
    /// customer signs in with its number and this password at the activation manager. Any
    /// earlier password of the customer stops working.
    IssueActivationPassword {
        /// The customer number.
        #[arg(long)]
        customer: String,
    },
    /// Lists or revokes API tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Shuts a staff member out: their sessions end, their API tokens are revoked, and they
    /// are no longer assigned.
    DeactivateStaff {
        #[arg(long)]
        email: String,
    },
    /// Lets a deactivated staff member sign in again.
    ReactivateStaff {
        #[arg(long)]
        email: String,
    },
    /// Imports customers, contacts, contracts and registered products from CSV files.
    Import(Import),
}

#[derive(Subcommand)]
pub enum TokensCommand {
    /// Lists API tokens, newest first: id, holder, name, issued, expires, state.
    List {
        /// Only this staff member's tokens.
        #[arg(long)]
        email: Option<String>,
    },
    /// Revokes an API token for good (its id, from `tokens list`).
    Revoke { id: i64 },
}

#[derive(Args)]
pub struct CreateStaff {
    #[arg(long)]
    email: String,
    #[arg(long)]
    name: String,
    /// advisor, customer_success_manager, support_manager or admin.
    #[arg(long)]
    role: String,
    #[arg(long)]
    region: Option<String>,
    /// Comma-separated, such as en,fr.
    #[arg(long, default_value = "en")]
    languages: String,
    /// At least 12 characters; or set CAREDESK_NEW_PASSWORD.
    #[arg(long, env = "CAREDESK_NEW_PASSWORD", hide_env_values = true)]
    password: String,
}

#[derive(Args)]
pub struct Import {
    /// number,name,region,language
    #[arg(long)]
    customers: Option<PathBuf>,
    /// customer_number,name,email,phone,language,designated
    #[arg(long)]
    contacts: Option<PathBuf>,
    /// customer_number,program,starts_on,ends_on,eula_accepted
    #[arg(long)]
    contracts: Option<PathBuf>,
    /// customer_number,product_line,version,serial; or with the licence,
    /// customer_number,product_line,version,serial,edition,licensed_version,installations
    /// (an empty licence cell takes the default: no edition, the version, one installation)
    #[arg(long)]
    products: Option<PathBuf>,
}

pub async fn run(command: AdminCommand, desk: &Desk) -> Result<(), Failure> {
    match command {
        AdminCommand::CreateStaff(staff) => create_staff(staff, desk).await,
        AdminCommand::IssueToken {
            email,
            name,
            expires_in_days,
        } => {
            let member = staff_by_email(desk, &email).await?;
            let request = TokenRequest {
                name,
                expires_in_days,
            };
            let (_, secret) = access::issue_token(desk, &Caller::System, member.id, &request)
                .await
                .map_err(refused)?;
            println!("{secret}");
            Ok(())
        }
        AdminCommand::IssueActivationPassword { customer } => {
            let found = desk
                .store
                .customer_by_number(customer.trim())
                .await
                .map_err(|error| match error {
                    caredesk_store::StoreError::NotFound => {
                        Failure::Input(format!("--customer: no customer is numbered {customer}"))
                    }
                    other => Failure::Environment(other.to_string()),
                })?;
            let issued = activation::issue_password(desk, &Caller::System, found.id)
                .await
                .map_err(refused)?;
            println!("{}", issued.password);
            eprintln!(
                "one-time activation password of {} ({}), valid until {}; shown only now",
                found.number, found.name, issued.expires_at
            );
            Ok(())
        }
        AdminCommand::Tokens(TokensCommand::List { email }) => list_tokens(desk, email).await,
        AdminCommand::Tokens(TokensCommand::Revoke { id }) => {
            let token = access::revoke_token(desk, &Caller::System, id)
                .await
                .map_err(|error| match error {
                    DeskError::NotFound => Failure::Input(format!("no token has the id {id}")),
                    DeskError::Conflict { detail, .. } => Failure::Input(detail),
                    other => Failure::Environment(other.to_string()),
                })?;
            println!("token {} ({}) revoked", token.id, token.name);
            Ok(())
        }
        AdminCommand::Import(import) => run_import(import, desk).await,
        AdminCommand::DeactivateStaff { email } => set_active(desk, &email, false).await,
        AdminCommand::ReactivateStaff { email } => set_active(desk, &email, true).await,
    }
}

async fn set_active(desk: &Desk, email: &str, active: bool) -> Result<(), Failure> {
    let member = staff_by_email(desk, email).await?;
    let member = staff::set_active(desk, &Caller::System, member.id, active)
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?;
    if member.active {
        println!("{} may sign in again", member.email);
    } else {
        println!(
            "{} is deactivated: their sessions are ended and their API tokens revoked",
            member.email
        );
    }
    Ok(())
}

async fn staff_by_email(desk: &Desk, email: &str) -> Result<StaffMember, Failure> {
    desk.store
        .staff_by_email(email)
        .await
        .map_err(|error| match error {
            StoreError::NotFound => {
                Failure::Input(format!("no staff member has the e-mail address {email}"))
            }
            other => Failure::Environment(other.to_string()),
        })
}

/// One line per token, tab-separated with a header, so that it reads in a terminal and
/// cuts with `cut -f`.
async fn list_tokens(desk: &Desk, email: Option<String>) -> Result<(), Failure> {
    let only = match email {
        Some(email) => Some(staff_by_email(desk, &email).await?.id),
        None => None,
    };
    let tokens = access::tokens(desk, &Caller::System, only)
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?;
    let staff = desk
        .store
        .staff()
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?;
    let now = desk.clock.now();
    println!("id\tholder\tname\tissued\texpires\tstate");
    for token in tokens {
        let holder = staff
            .iter()
            .find(|member| member.id == token.staff_id)
            .map_or_else(|| token.staff_id.to_string(), |member| member.email.clone());
        let state = if let Some(revoked) = token.revoked_at {
            format!("revoked {revoked}")
        } else if token.is_active(now) {
            "active".to_string()
        } else {
            "expired".to_string()
        };
        let expires = token
            .expires_at
            .map_or_else(|| "never".to_string(), |at| at.to_string());
        println!(
            "{}\t{holder}\t{}\t{}\t{expires}\t{state}",
            token.id, token.name, token.created_at
        );
    }
    Ok(())
}

/// The desk's refusal as the command line says it: each field as its flag.
fn refused(error: DeskError) -> Failure {
    match error {
        DeskError::Invalid(problems) => Failure::Input(flag_problems(&problems).join("\n")),
        DeskError::Conflict { detail, .. } => Failure::Input(format!("--email: {detail}")),
        other => Failure::Environment(other.to_string()),
    }
}

fn flag_problems(problems: &[FieldProblem]) -> Vec<String> {
    problems
        .iter()
        .map(|problem| {
            // The desk names the member by id; the command line by e-mail address.
            let flag = match problem.field.as_str() {
                "staff_id" => "email".to_string(),
                field => field.replace('_', "-"),
            };
            format!("--{flag}: {}", problem.message)
        })
        .collect()
}

async fn create_staff(staff: CreateStaff, desk: &Desk) -> Result<(), Failure> {
    let role = Role::parse(&staff.role).filter(Role::is_staff);
    let form = StaffForm {
        email: staff.email,
        name: staff.name,
        // A role that does not parse is told below; the other fields are checked all the same.
        role: role.unwrap_or(Role::Advisor),
        region: staff.region,
        languages: staff
            .languages
            .split(',')
            .map(|language| language.trim().to_string())
            .filter(|language| !language.is_empty())
            .collect(),
        password: Some(staff.password),
    };
    if role.is_none() {
        let mut problems = vec![
            "--role: use advisor, customer_success_manager, support_manager or admin".to_string(),
        ];
        problems.extend(flag_problems(&staff_form_problems(desk, &form)));
        return Err(Failure::Input(problems.join("\n")));
    }
    let member = staff::add_staff(desk, &Caller::System, form)
        .await
        .map_err(refused)?;
    println!(
        "staff member {} added: {} ({})",
        member.id,
        member.email,
        member.role.as_str()
    );
    Ok(())
}

/// Problems found while reading the files: "contacts.csv:4: email: not an e-mail address".
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, file: &Path, line: u64, field: &str, message: impl std::fmt::Display) {
        self.0
            .push(format!("{}:{line}: {field}: {message}", file.display()));
    }

    fn add_all(&mut self, file: &Path, line: u64, problems: Vec<FieldProblem>) {
        for problem in problems {
            self.add(file, line, &problem.field, problem.message);
        }
    }
}

/// The rows of a CSV file with the expected header, as (line number, fields).
fn rows(
    file: &Path,
    header: &[&str],
    problems: &mut Problems,
) -> Result<Vec<(u64, Vec<String>)>, Failure> {
    rows_of_either(file, &[header], problems)
}

/// The rows of a CSV file whose header is one of `headers`, as (line number, fields): rows
/// of the shorter header come padded with empty fields.
fn rows_of_either(
    file: &Path,
    headers: &[&[&str]],
    problems: &mut Problems,
) -> Result<Vec<(u64, Vec<String>)>, Failure> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(file)
        .map_err(|error| Failure::Input(format!("cannot read {}: {error}", file.display())))?;
    let found: Vec<String> = reader
        .headers()
        .map_err(|error| Failure::Input(format!("{}: {error}", file.display())))?
        .iter()
        .map(str::to_string)
        .collect();
    if !headers.iter().any(|header| found == *header) {
        return Err(Failure::Input(format!(
            "{}:1: the header must be {} (found {})",
            file.display(),
            headers
                .iter()
                .map(|header| header.join(","))
                .collect::<Vec<_>>()
                .join(" or "),
            found.join(",")
        )));
    }
    let widest = headers.iter().map(|header| header.len()).max().unwrap_or(0);
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |position| position.line());
                let mut fields: Vec<String> = record.iter().map(str::to_string).collect();
                fields.resize(widest, String::new());
                rows.push((line, fields));
            }
            Err(error) => {
                let line = error.position().map_or(0, |position| position.line());
                problems.add(file, line, "row", error);
            }
        }
    }
    Ok(rows)
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" | "" => Some(false),
        _ => None,
    }
}

async fn run_import(import: Import, desk: &Desk) -> Result<(), Failure> {
    if import.customers.is_none()
        && import.contacts.is_none()
        && import.contracts.is_none()
        && import.products.is_none()
    {
        return Err(Failure::Input(
            "give at least one of --customers, --contacts, --contracts, --products".into(),
        ));
    }
    let batch = read_import(&import, &desk.store, &desk.policy()).await?;
    let counts = customers::import(desk, &Caller::System, &batch)
        .await
        .map_err(|error| match error {
            DeskError::Conflict { detail, .. } => {
                Failure::Input(format!("nothing was imported: {detail}"))
            }
            other => Failure::Environment(format!("nothing was imported: {other}")),
        })?;
    println!(
        "imported {} customers, {} contacts, {} contracts, {} products",
        counts.customers, counts.contacts, counts.contracts, counts.products
    );
    Ok(())
}

/// Reads the import's files into one batch, or every problem of every row.
async fn read_import(
    import: &Import,
    store: &Store,
    policy: &Policy,
) -> Result<ImportBatch, Failure> {
    let mut reader = ImportReader {
        store,
        policy,
        problems: Problems::default(),
        batch: ImportBatch::default(),
        numbers: HashSet::new(),
    };
    if let Some(file) = &import.customers {
        reader.customers(file).await?;
    }
    if let Some(file) = &import.contacts {
        reader.contacts(file).await?;
    }
    if let Some(file) = &import.contracts {
        reader.contracts(file).await?;
    }
    if let Some(file) = &import.products {
        reader.products(file).await?;
    }
    let ImportReader {
        mut problems,
        batch,
        ..
    } = reader;
    if problems.0.is_empty() {
        Ok(batch)
    } else {
        problems.0.push("nothing was imported".to_string());
        Err(Failure::Input(problems.0.join("\n")))
    }
}

/// The rows read so far, their problems, and the customer numbers they introduce. Each row
/// is checked by the desk's own rules for one record (`customers::customer_problems`, …);
/// the reader adds what only a batch has: rows against each other and against the database.
struct ImportReader<'a> {
    store: &'a Store,
    policy: &'a Policy,
    problems: Problems,
    batch: ImportBatch,
    numbers: HashSet<String>,
}

impl ImportReader<'_> {
    /// customers.csv: number,name,region,language.
    async fn customers(&mut self, file: &Path) -> Result<(), Failure> {
        for (line, row) in rows(
            file,
            &["number", "name", "region", "language"],
            &mut self.problems,
        )? {
            let [number, name, region, language] = [&row[0], &row[1], &row[2], &row[3]];
            let new = NewCustomer {
                number: number.clone(),
                name: name.clone(),
                region: region.clone(),
                language: language.clone(),
            };
            self.problems
                .add_all(file, line, customers::customer_problems(self.policy, &new));
            if number.is_empty() {
                // Told by the rule above.
            } else if !self.numbers.insert(number.clone()) {
                self.problems
                    .add(file, line, "number", format!("\"{number}\" appears twice"));
            } else if exists(self.store.customer_by_number(number).await.map(|_| ()))? {
                self.problems.add(
                    file,
                    line,
                    "number",
                    format!("customer \"{number}\" exists already"),
                );
            }
            self.batch.customers.push(new);
        }
        Ok(())
    }

    /// contacts.csv: customer_number,name,email,phone,language,designated.
    async fn contacts(&mut self, file: &Path) -> Result<(), Failure> {
        let mut emails = HashSet::new();
        for (line, row) in rows(
            file,
            &[
                "customer_number",
                "name",
                "email",
                "phone",
                "language",
                "designated",
            ],
            &mut self.problems,
        )? {
            let [customer, name, email, phone, language, designated] =
                [&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]];
            self.customer_problem(file, line, customer).await?;
            let designated = parse_bool(designated).unwrap_or_else(|| {
                self.problems.add(file, line, "designated", "true or false");
                false
            });
            let form = ContactForm {
                name: name.clone(),
                email: email.to_lowercase(),
                phone: phone.clone(),
                language: language.clone(),
                designated,
                password: None,
            };
            let problems = customers::contact_problems(self.policy, &form);
            let email_is_faulty = problems.iter().any(|problem| problem.field == "email");
            self.problems.add_all(file, line, problems);
            if email_is_faulty {
                // Told by the rule above.
            } else if !emails.insert(form.email.clone()) {
                self.problems
                    .add(file, line, "email", format!("{} appears twice", form.email));
            } else if exists(self.store.contact_by_email(&form.email).await.map(|_| ()))? {
                self.problems.add(
                    file,
                    line,
                    "email",
                    format!("{} belongs to a contact already", form.email),
                );
            }
            self.batch.contacts.push((
                customer.clone(),
                NewContact {
                    customer_id: 0,
                    name: form.name,
                    email: form.email,
                    phone: form.phone,
                    language: form.language,
                    designated,
                    password_hash: None,
                },
            ));
        }
        Ok(())
    }

    /// contracts.csv: customer_number,program,starts_on,ends_on,eula_accepted.
    async fn contracts(&mut self, file: &Path) -> Result<(), Failure> {
        for (line, row) in rows(
            file,
            &[
                "customer_number",
                "program",
                "starts_on",
                "ends_on",
                "eula_accepted",
            ],
            &mut self.problems,
        )? {
            let [customer, program, starts_on, ends_on, eula] =
                [&row[0], &row[1], &row[2], &row[3], &row[4]];
            self.customer_problem(file, line, customer).await?;
            let mut date = |field: &str, text: &str| -> Option<Date> {
                let parsed = text.parse().ok();
                if parsed.is_none() {
                    self.problems.add(
                        file,
                        line,
                        field,
                        format!("\"{text}\" is not a date (YYYY-MM-DD)"),
                    );
                }
                parsed
            };
            let (starts_on, ends_on) = (date("starts_on", starts_on), date("ends_on", ends_on));
            // A date that could not be read is told above, and not compared with the other.
            let (starts_on, ends_on) = match (starts_on, ends_on) {
                (Some(starts), Some(ends)) => (starts, ends),
                (Some(known), None) | (None, Some(known)) => (known, known),
                (None, None) => (Date::MIN, Date::MIN),
            };
            let eula_accepted = parse_bool(eula).unwrap_or_else(|| {
                self.problems
                    .add(file, line, "eula_accepted", "true or false");
                false
            });
            let new = NewContract {
                customer_id: 0,
                program: program.clone(),
                starts_on,
                ends_on,
                eula_accepted,
            };
            self.problems
                .add_all(file, line, customers::contract_problems(self.policy, &new));
            self.batch.contracts.push((customer.clone(), new));
        }
        Ok(())
    }

    /// products.csv: customer_number,product_line,version,serial, and optionally the
    /// licence: edition,licensed_version,installations.
    async fn products(&mut self, file: &Path) -> Result<(), Failure> {
        const PRODUCT: [&str; 4] = ["customer_number", "product_line", "version", "serial"];
        const LICENSED: [&str; 7] = [
            "customer_number",
            "product_line",
            "version",
            "serial",
            "edition",
            "licensed_version",
            "installations",
        ];
        let mut serials = HashSet::new();
        for (line, row) in rows_of_either(file, &[&PRODUCT, &LICENSED], &mut self.problems)? {
            let [customer, product_line, version, serial] = [&row[0], &row[1], &row[2], &row[3]];
            self.customer_problem(file, line, customer).await?;
            let filled = |text: &String| (!text.is_empty()).then(|| text.clone());
            let installations = match filled(&row[6]) {
                None => None,
                Some(text) => match text.parse::<i64>() {
                    Ok(count) => Some(count),
                    Err(_) => {
                        self.problems.add(
                            file,
                            line,
                            "installations",
                            format!("\"{text}\" is not a whole number"),
                        );
                        None
                    }
                },
            };
            let new = NewProduct {
                customer_id: 0,
                product_line: product_line.clone(),
                version: version.clone(),
                serial: serial.clone(),
                licence: LicenceTerms {
                    edition: filled(&row[4]),
                    licensed_version: filled(&row[5]),
                    installations,
                },
            };
            self.problems
                .add_all(file, line, customers::product_problems(self.policy, &new));
            if serial.is_empty() {
                // Told by the rule above.
            } else if !serials.insert(serial.clone()) {
                self.problems
                    .add(file, line, "serial", format!("\"{serial}\" appears twice"));
            } else if exists(self.store.product_by_serial(serial).await.map(|_| ()))? {
                self.problems.add(
                    file,
                    line,
                    "serial",
                    format!("\"{serial}\" is registered already"),
                );
            }
            self.batch.products.push((customer.clone(), new));
        }
        Ok(())
    }

    /// A row may name a customer of this import or one already stored.
    async fn customer_problem(
        &mut self,
        file: &Path,
        line: u64,
        number: &str,
    ) -> Result<(), Failure> {
        let known = self.numbers.contains(number)
            || exists(self.store.customer_by_number(number).await.map(|_| ()))?;
        if !known {
            self.problems.add(
                file,
                line,
                "customer_number",
                format!("no customer \"{number}\""),
            );
        }
        Ok(())
    }
}

/// Whether a lookup found its row (`NotFound`: no), or why it could not say.
fn exists(result: Result<(), StoreError>) -> Result<bool, Failure> {
    match result {
        Ok(()) => Ok(true),
        Err(StoreError::NotFound) => Ok(false),
        Err(other) => Err(Failure::Environment(other.to_string())),
    }
}
