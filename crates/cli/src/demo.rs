//! A realistic demo desk: customers in the three regions on the three programs, staff with
//! their languages, a release catalog, six weeks of current work in every state (some
//! paused, at risk, breached, escalated) and five months of closed tickets before it for
//! the reports, dedicated CSMs for gold and
//! platinum customers, an on-call rota, and professional-services requests, all made
//! through the same store and domain calls as real work, so every clock is computed, not
//! invented.

use std::collections::BTreeMap;

use caredesk_desk::activation::{ActivationForm, Activator, activate, deactivate, issue_password};
use caredesk_desk::community;
use caredesk_desk::intake::{Intake, Opened, record};
use caredesk_desk::services;
use caredesk_desk::sessions::{hash_password, new_token};
use caredesk_desk::sweep::sweep_tickets;
use caredesk_desk::tickets::act;
use caredesk_desk::{Caller, Clock, Desk};
use caredesk_domain::intake::{choose_language, coverage_window};
use caredesk_domain::policy::{Policy, TicketProfile};
use caredesk_domain::resources::community::QuestionFields;
use caredesk_domain::services::ServiceCommand;
use caredesk_domain::ticket::{Command, ContactMedium, CustomerRequest, Resolution, Role};
use caredesk_store::{
    IntakeRecord, LicenceTerms, NewContact, NewContract, NewCustomer, NewProduct, NewRelease,
    NewServiceRequest, NewStaff, NewTicket, StaffMember, Store, StoreError,
};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sha2::{Digest, Sha256};

use crate::Failure;

/// Every demo account signs in with this password.
pub const DEMO_PASSWORD: &str = "caredesk-demo-2026";
const TICKETS: usize = 300;
/// Closed tickets of the five months before the current work, for the reports.
const HISTORY_TICKETS: usize = 300;
const CUSTOMERS: usize = 30;

/// Loads the demo unless the database already has customers; prints how to sign in.
pub async fn load_if_empty(desk: &Desk) -> Result<(), Failure> {
    let store = &desk.store;
    let now = desk.clock.now();
    if !store.customers().await.map_err(environment)?.is_empty() {
        println!("The database already holds customers; the demo data was not loaded again.");
        print_accounts(store, None).await?;
        return Ok(());
    }
    // The demo acts at moments of the past weeks: on a clock of its own.
    let past = Desk {
        clock: Clock::manual(now),
        ..desk.clone()
    };
    let token = load(&past, now).await?;
    // The demo's weeks of history happened before it was loaded: their notices went out
    // then, and are not sent now to the demo's made-up addresses.
    let settled = store
        .mark_notices_sent_before(now)
        .await
        .map_err(environment)?;
    tracing::info!(
        notices = settled,
        "the demo's past notices are recorded as sent"
    );
    print_accounts(store, Some(&token)).await
}

fn environment(error: StoreError) -> Failure {
    Failure::Environment(error.to_string())
}

/// A seeded generator with the few draws the demo needs: the same demo every time.
struct Dice(StdRng);

impl Dice {
    fn new(seed: u64) -> Self {
        Dice(StdRng::seed_from_u64(seed))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0.random_range(0..n.max(1))
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Minutes, as a duration.
    fn minutes(&mut self, low: i64, high: i64) -> SignedDuration {
        SignedDuration::from_mins(low + self.below((high - low).max(1) as u64) as i64)
    }
}

struct Office {
    region: &'static str,
    languages: &'static [&'static str],
    advisors: &'static [(&'static str, &'static [&'static str])],
}

const OFFICES: [Office; 3] = [
    Office {
        region: "americas",
        languages: &["en", "fr", "es"],
        advisors: &[
            ("Olivia Tremblay", &["en", "fr"]),
            ("Mateo García", &["en", "es"]),
            ("Jacob Miller", &["en"]),
        ],
    },
    Office {
        region: "emea",
        languages: &["en", "de", "fr", "nl"],
        advisors: &[
            ("Anna de Vries", &["en", "nl", "de"]),
            ("Lukas Becker", &["en", "de"]),
            ("Camille Martin", &["en", "fr"]),
        ],
    },
    Office {
        region: "apac",
        languages: &["en", "ja"],
        advisors: &[("Hiro Tanaka", &["en", "ja"]), ("Chloe Nguyen", &["en"])],
    },
];

const COMPANIES: [&str; CUSTOMERS] = [
    "Northwind Logistics",
    "Laurentide Assurances",
    "Pampas Seguros",
    "Maple Leaf Utilities",
    "Sierra Print Works",
    "Boreal Health",
    "Quebec Mutual",
    "Andes Telecom",
    "Hudson Freight",
    "Cascade Credit Union",
    "Rijnmond Energie",
    "Bavaria Versicherung",
    "Lumière Banque",
    "Hanseatic Shipping",
    "Alpine Pharma",
    "Zeeland Water",
    "Provence Mutuelle",
    "Thames Billing",
    "Nordic Post",
    "Iberia Telecom",
    "Sakura Insurance",
    "Harbour City Bank",
    "Kansai Logistics",
    "Southern Cross Energy",
    "Tasman Health",
    "Fuji Print Services",
    "Coral Coast Council",
    "Osaka Trust",
    "Outback Freight",
    "Yarra Utilities",
];

const SUBJECTS: [&str; 10] = [
    "Invoices stopped printing after the update",
    "Workflow hangs on PDF output",
    "Activation fails on the new server",
    "Data mapping misses a field",
    "E-mail output rejected by the SMTP server",
    "Designer closes when opening a template",
    "Merging large batches has become slow",
    "Barcode renders at the wrong size",
    "Which upgrade path to the newest release?",
    "Scheduled process did not start overnight",
];

/// Product line, version, major or minor, release date, and its notes by language.
type CatalogEntry = (
    &'static str,
    &'static str,
    &'static str,
    (i16, i8, i8),
    &'static [(&'static str, &'static str)],
);

const CATALOG: [CatalogEntry; 9] = [
    (
        "ol-connect",
        "2024.1",
        "major",
        (2024, 3, 12),
        &[
            (
                "en",
                "New Designer layout engine; PDF/A-3 output; Workflow runs on Windows Server 2022.",
            ),
            (
                "fr",
                "Nouveau moteur de mise en page du Designer ; sortie PDF/A-3 ; Workflow sur Windows Server 2022.",
            ),
        ],
    ),
    (
        "ol-connect",
        "2024.2",
        "minor",
        (2024, 9, 17),
        &[
            (
                "en",
                "Faster merging of large batches; fixes for barcodes in landscape sections.",
            ),
            (
                "fr",
                "Fusion plus rapide des gros lots ; corrections des codes-barres dans les sections paysage.",
            ),
        ],
    ),
    (
        "ol-connect",
        "2025.1",
        "major",
        (2025, 3, 18),
        &[
            (
                "en",
                "Cloud connectors for e-mail output; the server runs on PostgreSQL 16.",
            ),
            (
                "fr",
                "Connecteurs cloud pour la sortie e-mail ; le serveur fonctionne sur PostgreSQL 16.",
            ),
        ],
    ),
    (
        "ol-connect",
        "2025.2",
        "minor",
        (2025, 9, 23),
        &[
            (
                "en",
                "Scheduled processes resume after a restart; security fixes.",
            ),
            (
                "fr",
                "Les processus planifiés reprennent après un redémarrage ; correctifs de sécurité.",
            ),
        ],
    ),
    (
        "ol-connect",
        "2026.1",
        "major",
        (2026, 3, 17),
        &[
            (
                "en",
                "Accessible PDF (PDF/UA) output; a new data-mapping editor; security fixes.",
            ),
            (
                "fr",
                "Sortie PDF accessible (PDF/UA) ; nouvel éditeur de mappage de données ; correctifs de sécurité.",
            ),
            (
                "es",
                "Salida PDF accesible (PDF/UA); nuevo editor de asignación de datos; correcciones de seguridad.",
            ),
            (
                "de",
                "Barrierefreie PDF-Ausgabe (PDF/UA); neuer Daten-Mapping-Editor; Sicherheitskorrekturen.",
            ),
            (
                "nl",
                "Toegankelijke PDF-uitvoer (PDF/UA); nieuwe editor voor datamapping; beveiligingsoplossingen.",
            ),
            (
                "ja",
                "アクセシブルPDF（PDF/UA）出力、新しいデータマッピングエディター、セキュリティ修正。",
            ),
        ],
    ),
    (
        "planetpress-suite",
        "7.6",
        "minor",
        (2023, 5, 2),
        &[
            ("en", "Last release of the 7 series; Windows 11 support."),
            (
                "fr",
                "Dernière version de la série 7 ; prise en charge de Windows 11.",
            ),
        ],
    ),
    (
        "planetpress-suite",
        "8.0",
        "major",
        (2024, 6, 4),
        &[
            ("en", "New capture module; 64-bit Workflow service."),
            (
                "fr",
                "Nouveau module de capture ; service Workflow 64 bits.",
            ),
        ],
    ),
    (
        "planetpress-suite",
        "8.1",
        "minor",
        (2025, 4, 8),
        &[
            (
                "en",
                "Fixes for printing to network queues; faster PDF input.",
            ),
            (
                "fr",
                "Corrections de l'impression vers les files réseau ; lecture PDF plus rapide.",
            ),
        ],
    ),
    (
        "planetpress-suite",
        "8.2",
        "minor",
        (2026, 2, 10),
        &[
            (
                "en",
                "Fixes for barcodes at the wrong size; TLS 1.3 for e-mail input.",
            ),
            (
                "fr",
                "Correction des codes-barres de mauvaise taille ; TLS 1.3 pour l'entrée e-mail.",
            ),
            (
                "es",
                "Corrección de códigos de barras con tamaño incorrecto; TLS 1.3 para la entrada de correo.",
            ),
            (
                "de",
                "Korrektur falsch skalierter Barcodes; TLS 1.3 für den E-Mail-Eingang.",
            ),
            (
                "nl",
                "Oplossing voor barcodes met de verkeerde grootte; TLS 1.3 voor e-mailinvoer.",
            ),
            (
                "ja",
                "バーコードのサイズ誤りを修正、メール入力でTLS 1.3に対応。",
            ),
        ],
    ),
];

struct DemoCustomer {
    id: i64,
    program: &'static str,
    region: &'static str,
    /// The language its designated contact speaks.
    language: &'static str,
    contacts: Vec<(i64, String)>,
    products: Vec<(String, String, String)>,
    covered: bool,
}

/// Loads everything; returns the secret of an administrator's API token.
async fn load(desk: &Desk, now: Timestamp) -> Result<String, Failure> {
    println!("Loading the demo desk…");
    let store = &desk.store;
    let mut dice = Dice::new(2026);
    // One hash for every demo account: they share a password anyway.
    let password_hash = tokio::task::spawn_blocking(|| hash_password(DEMO_PASSWORD))
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?
        .map_err(|error| Failure::Environment(error.to_string()))?;
    let team = hire_staff(store, &password_hash, now).await?;
    add_catalog(store).await?;
    let mut customers = Vec::new();
    for (index, company) in COMPANIES.iter().enumerate() {
        let csm = team.csm.id;
        customers
            .push(add_customer(desk, &mut dice, index, company, &password_hash, csm, now).await?);
    }
    // Dice of their own: the rest of the demo stays as it was before activations.
    let activations = activate_products(desk, &mut Dice::new(9), &customers, &team, now).await?;
    open_tickets(desk, &mut dice, &customers, &team, now).await?;
    put_on_call(store, &team.advisors, now).await?;
    desk.clock.set(now);
    professional_services(desk, &customers, &team.advisors, now).await?;
    let articles = add_resources(desk).await?;
    let questions = add_community(desk, &customers, &team, now).await?;
    desk.clock.set(now);
    // Clocks that ran out while nobody acted are recorded too.
    while sweep_tickets(desk, 1000)
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?
        .recorded
        > 0
    {}
    println!(
        "Demo desk loaded: {CUSTOMERS} customers, {} staff, {} tickets, {articles} \
         resource-center pages (/resources), {questions} community questions (/community), \
         {activations} product activations (/activate).",
        team.advisors.len() + 3,
        TICKETS + HISTORY_TICKETS
    );
    let first = customers.first().map_or(0, |customer| customer.id);
    let issued = issue_password(desk, &Caller::System, first)
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?;
    println!(
        "Activation manager (/activate): customer number C-1001, one-time password {} \
         (it works once; `caredesk admin issue-activation-password --customer C-1001` \
         gives another).",
        issued.password
    );
    Ok(team.token)
}

/// The demo's staff: an administrator (with an API token), a support manager, a customer
/// success manager and each office's advisors.
struct Team {
    token: String,
    manager: StaffMember,
    csm: StaffMember,
    advisors: Vec<StaffMember>,
}

async fn hire_staff(store: &Store, password_hash: &str, now: Timestamp) -> Result<Team, Failure> {
    let staff =
        |email: &str, name: &str, role: Role, region: Option<&str>, languages: &[&str]| NewStaff {
            email: email.to_string(),
            name: name.to_string(),
            role,
            region: region.map(str::to_string),
            languages: languages
                .iter()
                .map(|language| language.to_string())
                .collect(),
            password_hash: Some(password_hash.to_string()),
        };
    let admin = store
        .create_staff(
            &staff(
                "admin@caredesk.demo",
                "Desk Administrator",
                Role::Admin,
                None,
                &["en"],
            ),
            now,
        )
        .await
        .map_err(environment)?;
    let token = new_token();
    store
        .add_api_token(admin.id, "demo", &token, now, None)
        .await
        .map_err(environment)?;
    let manager = store
        .create_staff(
            &staff(
                "manager@caredesk.demo",
                "Sofia Lindqvist",
                Role::SupportManager,
                Some("emea"),
                &["en", "fr", "de"],
            ),
            now,
        )
        .await
        .map_err(environment)?;
    let csm = store
        .create_staff(
            &staff(
                "csm@caredesk.demo",
                "Chris Okafor",
                Role::CustomerSuccessManager,
                Some("americas"),
                &["en", "fr"],
            ),
            now,
        )
        .await
        .map_err(environment)?;
    let mut advisors: Vec<StaffMember> = Vec::new();
    for office in &OFFICES {
        for (name, languages) in office.advisors {
            let email = format!(
                "{}@caredesk.demo",
                name.split(' ').next().unwrap_or("advisor").to_lowercase()
            );
            advisors.push(
                store
                    .create_staff(
                        &staff(&email, name, Role::Advisor, Some(office.region), languages),
                        now,
                    )
                    .await
                    .map_err(environment)?,
            );
        }
    }

    Ok(Team {
        token,
        manager,
        csm,
        advisors,
    })
}

/// The release catalog: the versions of each product line, each with its notes, where it
/// is downloaded and the download's checksum.
async fn add_catalog(store: &Store) -> Result<(), Failure> {
    for (line, version, kind, (year, month, day), notes) in CATALOG {
        let notes: BTreeMap<String, String> = notes
            .iter()
            .map(|(language, text)| (language.to_string(), text.to_string()))
            .collect();
        let file = format!("{line}-{version}-setup.exe");
        store
            .add_release(&NewRelease {
                product_line: line.into(),
                version: version.into(),
                kind: kind.into(),
                released_on: date(year, month, day),
                download_url: Some(format!(
                    "https://downloads.example.com/{line}/{version}/{file}"
                )),
                // The demo's installers do not exist: the checksum is that of the file name.
                sha256: Some(hex::encode(Sha256::digest(file.as_bytes()))),
                notes,
            })
            .await
            .map_err(environment)?;
    }
    Ok(())
}

/// One customer of the demo: its contacts, its contract, its products and, for the programs
/// that have one, its customer success manager.
#[allow(clippy::too_many_arguments)]
async fn add_customer(
    desk: &Desk,
    dice: &mut Dice,
    index: usize,
    company: &str,
    password_hash: &str,
    csm: i64,
    now: Timestamp,
) -> Result<DemoCustomer, Failure> {
    let store = &desk.store;
    let policy: &Policy = &desk.policy();
    let office = &OFFICES[index / 10];
    let program = match index % 10 {
        0..=4 => "standard",
        5..=7 => "gold",
        _ => "platinum",
    };
    let language = *dice.pick(office.languages);
    let customer = store
        .create_customer(
            &NewCustomer {
                number: format!("C-{}", 1001 + index),
                name: company.to_string(),
                region: office.region.into(),
                language: language.into(),
            },
            now,
        )
        .await
        .map_err(environment)?;
    let contacts = add_contacts(
        store,
        dice,
        DemoCompany {
            id: customer.id,
            index,
            name: company,
            language,
        },
        password_hash,
        now,
    )
    .await?;
    // Two customers lapsed: one contract ended, one licence never accepted.
    let (ends_on, eula_accepted) = match index {
        13 => (date(2026, 6, 30), true),
        27 => (date(2027, 12, 31), false),
        _ => (date(2027, 12, 31), true),
    };
    store
        .create_contract(
            &NewContract {
                customer_id: customer.id,
                program: program.into(),
                starts_on: date(2025, 7, 1),
                ends_on,
                eula_accepted,
            },
            now,
        )
        .await
        .map_err(environment)?;
    let products = register_products(store, dice, customer.id, index, now).await?;
    if policy
        .program(program)
        .is_ok_and(|found| found.dedicated_csm)
    {
        store
            .set_csm(customer.id, Some(csm))
            .await
            .map_err(environment)?;
    }
    Ok(DemoCustomer {
        id: customer.id,
        program,
        region: office.region,
        language,
        contacts,
        products,
        covered: index != 13 && index != 27,
    })
}

/// A demo customer as its contacts are made from it.
#[derive(Clone, Copy)]
struct DemoCompany<'a> {
    id: i64,
    index: usize,
    name: &'a str,
    language: &'a str,
}

/// One or two contacts, the first designated and speaking the customer's language, each
/// signing in with the demo's password. Answers their ids and e-mail addresses.
async fn add_contacts(
    store: &Store,
    dice: &mut Dice,
    company: DemoCompany<'_>,
    password_hash: &str,
    now: Timestamp,
) -> Result<Vec<(i64, String)>, Failure> {
    let office = &OFFICES[company.index / 10];
    let domain: String = company
        .name
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-");
    let mut contacts = Vec::new();
    for (number, first_name) in ["alex", "sam"]
        .iter()
        .enumerate()
        .take(1 + dice.below(2) as usize)
    {
        let email = format!("{first_name}@{domain}.example");
        let contact = store
            .create_contact(
                &NewContact {
                    customer_id: company.id,
                    name: format!(
                        "{} {}",
                        capitalised(first_name),
                        company.name.split(' ').next().unwrap_or("")
                    ),
                    email: email.clone(),
                    phone: format!("+1 555 01{:02}", company.index),
                    language: if number == 0 {
                        company.language.into()
                    } else {
                        (*dice.pick(office.languages)).into()
                    },
                    designated: number == 0,
                    password_hash: Some(password_hash.to_string()),
                },
                now,
            )
            .await
            .map_err(environment)?;
        contacts.push((contact.id, email));
    }
    Ok(contacts)
}

/// One to three products of the catalog, with serials the demo's tickets quote. Answers
/// each product's line, version and serial.
async fn register_products(
    store: &Store,
    dice: &mut Dice,
    customer_id: i64,
    index: usize,
    now: Timestamp,
) -> Result<Vec<(String, String, String)>, Failure> {
    let mut products = Vec::new();
    for product in 0..1 + dice.below(3) {
        let (line, version, ..) = *dice.pick(&CATALOG);
        let serial = format!(
            "{}-{:05}",
            if line == "ol-connect" { "OLC" } else { "PPS" },
            index * 10 + product as usize
        );
        // Sold as one of the line's editions, for the version installed or (one in three) a
        // newer release bought since, for one to three installations.
        let editions: &[&str] = if line == "ol-connect" {
            &["Designer", "Print", "Mail", "Send"]
        } else {
            &["Watch", "Office", "Production"]
        };
        let bought = CATALOG
            .iter()
            .filter(|(other, ..)| *other == line)
            .map(|(_, version, ..)| *version)
            .next_back()
            .filter(|_| dice.below(3) == 0)
            .unwrap_or(version);
        store
            .register_product(
                &NewProduct {
                    customer_id,
                    product_line: line.into(),
                    version: version.into(),
                    serial: serial.clone(),
                    licence: LicenceTerms {
                        edition: Some((*dice.pick(editions)).to_string()),
                        licensed_version: Some(bought.to_string()),
                        installations: Some(*dice.pick(&[1, 2, 3])),
                    },
                },
                now,
            )
            .await
            .map_err(environment)?;
        products.push((line.to_string(), version.to_string(), serial));
    }
    Ok(products)
}

/// Activates the demo's products as their customers would have: each on a machine some
/// weeks ago, by a contact or by the desk, some on a second machine where the licence
/// allows it, and one in ten moved to a new machine since (the old one deactivated).
/// Answers how many installations are active.
async fn activate_products(
    desk: &Desk,
    dice: &mut Dice,
    customers: &[DemoCustomer],
    team: &Team,
    now: Timestamp,
) -> Result<usize, Failure> {
    let failed = |error: caredesk_desk::DeskError| Failure::Environment(error.to_string());
    let mut active = 0;
    for customer in customers {
        for (_, _, serial) in &customer.products {
            let activator = match customer.contacts.first() {
                Some((id, _)) if dice.chance(70) => Activator::Caller(Caller::Contact {
                    id: *id,
                    customer_id: customer.id,
                }),
                _ => Activator::Caller(Caller::Staff {
                    id: team.manager.id,
                    role: team.manager.role,
                }),
            };
            let product = desk
                .store
                .product_by_serial(serial)
                .await
                .map_err(environment)?;
            let machines = if product.licence.installations > 1 && dice.chance(40) {
                2
            } else {
                1
            };
            for machine in 0..machines {
                desk.clock
                    .set(now - dice.minutes(60 * 24 * 20, 60 * 24 * 90));
                let granted = activate(
                    desk,
                    &activator,
                    ActivationForm {
                        serial: serial.clone(),
                        machine_id: machine_id(dice),
                    },
                )
                .await
                .map_err(failed)?;
                active += 1;
                if machine == 0 && dice.chance(10) {
                    // The machine was replaced a few days ago.
                    desk.clock
                        .set(now - dice.minutes(60 * 24 * 2, 60 * 24 * 15));
                    deactivate(desk, &activator, granted.activation.id)
                        .await
                        .map_err(failed)?;
                    activate(
                        desk,
                        &activator,
                        ActivationForm {
                            serial: serial.clone(),
                            machine_id: machine_id(dice),
                        },
                    )
                    .await
                    .map_err(failed)?;
                }
            }
        }
    }
    desk.clock.set(now);
    Ok(active)
}

/// A machine identifier as installations show them: a hardware UUID.
fn machine_id(dice: &mut Dice) -> String {
    let hex = |dice: &mut Dice, digits: u32| {
        format!(
            "{:0width$X}",
            dice.below(16u64.pow(digits)),
            width = digits as usize
        )
    };
    format!(
        "{}-{}-{}-{}-{}",
        hex(dice, 8),
        hex(dice, 4),
        hex(dice, 4),
        hex(dice, 4),
        hex(dice, 8) + &hex(dice, 4)
    )
}

/// The demo's tickets: the desk's current work, opened by covered customers in the last six
/// weeks and at every stage, and before it five months of history, every ticket worked to
/// its closing, so that reports have months to compare. Each is worked by an advisor of its
/// region.
async fn open_tickets(
    desk: &Desk,
    dice: &mut Dice,
    customers: &[DemoCustomer],
    team: &Team,
    now: Timestamp,
) -> Result<(), Failure> {
    let covered: Vec<&DemoCustomer> = customers
        .iter()
        .filter(|customer| customer.covered)
        .collect();
    for number in 0..TICKETS + HISTORY_TICKETS {
        let customer = *dice.pick(&covered);
        let history = number >= TICKETS;
        let age = if history {
            dice.minutes(42 * 24 * 60, 28 * 7 * 24 * 60)
        } else {
            dice.minutes(60, 42 * 24 * 60)
        };
        let opened = now
            .checked_sub(age)
            .map_err(|error| Failure::Environment(error.to_string()))?;
        let regional: Vec<&StaffMember> = team
            .advisors
            .iter()
            .filter(|advisor| advisor.region.as_deref() == Some(customer.region))
            .collect();
        let advisor = *dice.pick(&regional);
        let people = People {
            advisor,
            manager: &team.manager,
        };
        let stage = history.then_some(Stage::Closed);
        open_and_work(desk, dice, customer, people, number, opened, now, stage).await?;
    }
    Ok(())
}

/// Each office has an advisor on call after hours this week.
async fn put_on_call(
    store: &Store,
    advisors: &[StaffMember],
    now: Timestamp,
) -> Result<(), Failure> {
    for office in &OFFICES {
        if let Some(advisor) = advisors
            .iter()
            .find(|advisor| advisor.region.as_deref() == Some(office.region))
        {
            let week = now
                .checked_add(SignedDuration::from_hours(7 * 24))
                .map_err(|error| Failure::Environment(error.to_string()))?;
            store
                .add_on_call_shift(office.region, advisor.id, now, week)
                .await
                .map_err(environment)?;
        }
    }
    Ok(())
}

/// Two requests for custom programming outside the native languages: one waiting for a
/// quote, one quoted and waiting for the customer.
async fn professional_services(
    desk: &Desk,
    customers: &[DemoCustomer],
    advisors: &[StaffMember],
    now: Timestamp,
) -> Result<(), Failure> {
    let store = &desk.store;
    let native = desk.policy().scope.native_programming_languages.join(", ");
    let requests = [
        (
            "Python",
            "Post invoices to our ERP from a Python script",
            None,
        ),
        (
            "C#",
            "A C# plug-in that archives every output to SharePoint",
            Some(
                "4 days of development and testing, 3,200 EUR, delivered within 3 weeks of the order",
            ),
        ),
    ];
    for ((language, subject, quote), customer) in requests.into_iter().zip(customers.iter().skip(2))
    {
        let Some((line, version, _)) = customer.products.first() else {
            continue;
        };
        let (contact_id, _) = &customer.contacts[0];
        let recorded = store
            .create_service_request(
                &NewServiceRequest {
                    customer_id: customer.id,
                    contact_id: Some(*contact_id),
                    product_line: line.clone(),
                    version: version.clone(),
                    programming_language: language.into(),
                    subject: subject.into(),
                    description: format!("We would like {subject}, written in {language}."),
                    reason: format!(
                        "custom programming in {language} is a professional-services request: support covers {native} only"
                    ),
                    created_by: format!("contact:{contact_id}"),
                    idempotency_key: None,
                    request_hash: None,
                    source: None,
                },
                now,
            )
            .await
            .map_err(environment)?;
        if let (Some(quote), Some(advisor)) = (quote, advisors.first()) {
            let staff = Caller::Staff {
                id: advisor.id,
                role: Role::Advisor,
            };
            let quote = ServiceCommand::Quote {
                quote: quote.into(),
            };
            services::act(desk, &staff, recorded.request.id, quote, None)
                .await
                .map_err(|error| Failure::Environment(error.to_string()))?;
        }
    }
    Ok(())
}

fn capitalised(word: &str) -> String {
    let mut letters = word.chars();
    letters
        .next()
        .map(|first| first.to_uppercase().chain(letters).collect())
        .unwrap_or_default()
}

/// The stage a demo ticket is taken to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    New,
    InProgress,
    Waiting,
    Proposed,
    Closed,
}

/// The staff who work a demo ticket.
struct People<'a> {
    advisor: &'a StaffMember,
    manager: &'a StaffMember,
}

#[allow(clippy::too_many_arguments)]
/// Opens one demo ticket at `opened` and works it through the steps of the stage it reaches,
/// each some time after the one before; time stops at `now`.
async fn open_and_work(
    desk: &Desk,
    dice: &mut Dice,
    customer: &DemoCustomer,
    people: People<'_>,
    number: usize,
    opened: Timestamp,
    now: Timestamp,
    stage: Option<Stage>,
) -> Result<(), Failure> {
    let ticket = open_demo_ticket(desk, dice, customer, &people, number, opened).await?;
    let steps = demo_steps(dice, &ticket, stage);
    let mut at = opened;
    for (after, caller, command) in steps {
        at = at.checked_add(after).unwrap_or(at);
        if at >= now {
            break;
        }
        desk.clock.set(at);
        if let Err(error) = act(desk, &caller, ticket.id, command, None, &[]).await {
            // A step the ticket's state no longer allows (it went another way) is skipped.
            tracing::debug!(ticket = ticket.id, %error, "demo step skipped");
        }
    }
    Ok(())
}

/// A demo ticket as opened, and who works on it.
#[derive(Clone, Copy)]
struct DemoTicket {
    id: i64,
    severity: &'static str,
    /// The next release of its line, not yet in the catalog: what a P4 fix is planned for.
    next_release: &'static str,
    advisor_id: i64,
    staff: Caller,
    contact: Caller,
    manager: Caller,
}

/// Opens a ticket of `customer` at `opened`, with the intake record a real one gets (its
/// coverage window and language, with reasons); the advisor takes it among its first steps.
async fn open_demo_ticket(
    desk: &Desk,
    dice: &mut Dice,
    customer: &DemoCustomer,
    people: &People<'_>,
    number: usize,
    opened: Timestamp,
) -> Result<DemoTicket, Failure> {
    let severity = match dice.below(100) {
        0..=9 => "P1",
        10..=34 => "P2",
        35..=79 => "P3",
        _ => "P4",
    };
    let channel = if dice.chance(60) { "portal" } else { "phone" };
    let (contact_id, _) = dice.pick(&customer.contacts).clone();
    let (line, version, serial) = dice.pick(&customer.products).clone();
    let subject = *dice.pick(&SUBJECTS);
    let policy: &Policy = &desk.policy();
    let advisor = people.advisor;
    let manager = Caller::Staff {
        id: people.manager.id,
        role: people.manager.role,
    };
    let contact = Caller::Contact {
        id: contact_id,
        customer_id: customer.id,
    };
    let staff = Caller::Staff {
        id: advisor.id,
        role: advisor.role,
    };
    // The intake record a real ticket gets: its coverage window and language, with reasons.
    let profile = TicketProfile {
        program: customer.program,
        region: customer.region,
        product_line: &line,
        severity,
        channel,
    };
    let coverage = coverage_window(policy, &profile, opened)
        .map_err(|error| Failure::Environment(error.to_string()))?;
    // The customer's language when its advisor speaks it (the demo's dispatcher gives each
    // customer one advisor), else English.
    let preferred = if advisor
        .languages
        .iter()
        .any(|spoken| spoken == customer.language)
    {
        customer.language.to_string()
    } else {
        "en".to_string()
    };
    let language = choose_language(
        policy,
        customer.region,
        &preferred,
        coverage.after_hours_language.as_deref(),
    )?;
    let new = NewTicket {
        customer_id: customer.id,
        contact_id: Some(contact_id),
        product_id: None,
        product_line: line.clone(),
        version,
        serial,
        program: customer.program.into(),
        region: customer.region.into(),
        language: language.language.clone(),
        channel: channel.into(),
        subject: subject.into(),
        description: format!("{subject}. Reported as demo ticket {}.", number + 1),
        details: serde_json::json!({ "business_impact": "Documents reach customers late" }),
        severity: severity.into(),
        actor: if channel == "portal" {
            contact.actor()
        } else {
            staff.actor()
        },
        created_by: format!("demo:{number}"),
        idempotency_key: None,
        request_hash: None,
        intake: Some(IntakeRecord {
            flags: Vec::new(),
            language,
            coverage,
            // The demo's dispatcher assigns it among the first steps below.
            assignment: None,
            office_language: None,
        }),
    };
    let Opened::Ticket(created) = record(desk, Intake::Ticket(Box::new(new)), opened)
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?
    else {
        return Err(Failure::Environment(
            "a demo ticket was recorded as something else".into(),
        ));
    };
    let ticket = created.ticket;
    Ok(DemoTicket {
        id: ticket.id,
        severity,
        next_release: if line == "planetpress-suite" {
            "8.3"
        } else {
            "2026.2"
        },
        advisor_id: advisor.id,
        staff,
        contact,
        manager,
    })
}

/// The steps of `ticket` up to `stage` (by default one the dice choose, as a desk's work
/// spreads), each with its delay after the one before.
fn demo_steps(
    dice: &mut Dice,
    ticket: &DemoTicket,
    stage: Option<Stage>,
) -> Vec<(SignedDuration, Caller, Command)> {
    let DemoTicket {
        severity,
        advisor_id,
        staff,
        contact,
        manager,
        ..
    } = *ticket;
    let drawn = match dice.below(100) {
        0..=9 => Stage::New,
        10..=34 => Stage::InProgress,
        35..=49 => Stage::Waiting,
        50..=59 => Stage::Proposed,
        _ => Stage::Closed,
    };
    let stage = stage.unwrap_or(drawn);
    // Steps up to the stage, each some time after the one before; time stops at `now`.
    let late_first_response = dice.chance(10);
    let mut steps: Vec<(SignedDuration, Caller, Command)> = Vec::new();
    steps.push((
        dice.minutes(1, 20),
        staff,
        Command::Assign {
            advisor: Some(advisor_id),
            reason: Some("assigned by the demo's dispatcher".into()),
        },
    ));
    if stage != Stage::New {
        let delay = if late_first_response {
            dice.minutes(600, 3000)
        } else {
            dice.minutes(15, 150)
        };
        steps.push((
            delay,
            staff,
            Command::Reply {
                body: "Thank you, we are looking into it.".into(),
                via: ContactMedium::Reply,
            },
        ));
        if dice.chance(25) {
            steps.push((
                dice.minutes(60, 600),
                staff,
                Command::Note {
                    body: "Reproduced on the lab server.".into(),
                },
            ));
        }
        if dice.chance(8) && severity != "P1" {
            steps.push((
                dice.minutes(30, 300),
                staff,
                Command::ChangeSeverity {
                    severity: "P1".into(),
                    reason: "Production stopped at the customer".into(),
                },
            ));
        }
        if dice.chance(10) {
            steps.push((
                dice.minutes(60, 900),
                contact,
                Command::RequestEscalation {
                    reason: "We need this fixed before the month-end run".into(),
                },
            ));
            if dice.chance(60) {
                steps.push((
                    dice.minutes(20, 240),
                    manager,
                    Command::AnswerEscalation {
                        answer: "A senior advisor joins the ticket today.".into(),
                    },
                ));
            }
        }
    }
    steps.extend(closing_steps(dice, stage, ticket));
    steps
}

/// The steps of a ticket past its first answers: a request to the customer, their answer, a
/// proposed solution and its acceptance, as far as `stage` goes.
fn closing_steps(
    dice: &mut Dice,
    stage: Stage,
    ticket: &DemoTicket,
) -> Vec<(SignedDuration, Caller, Command)> {
    let DemoTicket {
        severity,
        next_release,
        staff,
        contact,
        ..
    } = *ticket;
    let mut steps = Vec::new();
    if matches!(stage, Stage::Waiting | Stage::Proposed | Stage::Closed) {
        let request = *dice.pick(&[
            CustomerRequest::Information,
            CustomerRequest::RemoteAccess,
            CustomerRequest::TestInDevelopment,
        ]);
        steps.push((
            dice.minutes(60, 1200),
            staff,
            Command::RequestFromCustomer {
                request,
                body: "Could you send the job log and the template?".into(),
            },
        ));
    }
    if matches!(stage, Stage::Proposed | Stage::Closed) {
        steps.push((
            dice.minutes(120, 2400),
            contact,
            Command::CustomerMessage {
                body: "Here are the files.".into(),
            },
        ));
        let resolution = if severity == "P4" {
            Resolution::PlannedForRelease {
                release: next_release.into(),
            }
        } else {
            dice.pick(&[
                Resolution::PermanentFix,
                Resolution::Workaround,
                Resolution::ActionPlan,
                Resolution::Recommendations,
            ])
            .clone()
        };
        // One proposal in six fails at the customer's and is rejected; the next one holds.
        if dice.chance(16) {
            steps.push((
                dice.minutes(120, 2400),
                staff,
                Command::ProposeSolution {
                    resolution: resolution.clone(),
                    body: "Please try this setting first.".into(),
                },
            ));
            steps.push((
                dice.minutes(60, 1200),
                contact,
                Command::RejectSolution {
                    reason: "The job still stops at the same page.".into(),
                },
            ));
        }
        steps.push((
            dice.minutes(120, 2400),
            staff,
            Command::ProposeSolution {
                resolution,
                body: "Please apply the attached configuration change.".into(),
            },
        ));
    }
    if stage == Stage::Closed {
        steps.push((
            dice.minutes(60, 2400),
            contact,
            Command::AcceptSolution {
                note: "Works, thank you.".into(),
            },
        ));
    }
    steps
}

/// The demo's release catalog and resource center alone, for the benchmarks under `bench/`:
/// the number of resource files loaded.
pub async fn load_resource_center(desk: &Desk) -> Result<usize, Failure> {
    add_catalog(&desk.store).await?;
    add_resources(desk).await
}

/// The demo's resource center: articles and external resources in six languages, written
/// for this project (crates/cli/demo/resources), imported as `caredesk kb import` would.
static DEMO_RESOURCES: include_dir::Dir<'_> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/demo/resources");

async fn add_resources(desk: &Desk) -> Result<usize, Failure> {
    let files: Vec<(String, String)> = DEMO_RESOURCES
        .files()
        .filter_map(|file| {
            Some((
                file.path().display().to_string(),
                file.contents_utf8()?.to_string(),
            ))
        })
        .collect();
    let imported = caredesk_desk::resource_files::import_files(desk, &Caller::System, &files)
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?;
    match imported {
        Ok(_) => Ok(files.len()),
        Err(problems) => Err(Failure::Environment(format!(
            "the demo's resource files are wrong: {}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ))),
    }
}

/// The demo's community: questions and answers written for this project
/// (crates/cli/demo/community.toml), asked and answered through the desk as people would,
/// on the days they name.
const DEMO_COMMUNITY: &str = include_str!("../demo/community.toml");

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoCommunity {
    question: Vec<DemoQuestion>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoQuestion {
    asker: usize,
    days_ago: i64,
    language: String,
    product_line: String,
    #[serde(default)]
    release: Option<String>,
    title: String,
    body: String,
    #[serde(default)]
    answer: Vec<DemoAnswer>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoAnswer {
    #[serde(default)]
    customer: Option<usize>,
    #[serde(default)]
    advisor: Option<String>,
    hours_later: i64,
    #[serde(default)]
    accepted: bool,
    #[serde(default)]
    verified_by: Option<String>,
    body: String,
}

async fn add_community(
    desk: &Desk,
    customers: &[DemoCustomer],
    team: &Team,
    now: Timestamp,
) -> Result<usize, Failure> {
    let community: DemoCommunity = toml::from_str(DEMO_COMMUNITY).map_err(|error| {
        Failure::Environment(format!("the demo's community file is wrong: {error}"))
    })?;
    let wrong = |what: String| Failure::Environment(format!("the demo's community: {what}"));
    let contact_of = |index: usize| -> Result<Caller, Failure> {
        let customer = customers
            .get(index)
            .ok_or_else(|| wrong(format!("no customer {index}")))?;
        let (id, _) = customer
            .contacts
            .first()
            .ok_or_else(|| wrong(format!("customer {index} has no contact")))?;
        Ok(Caller::Contact {
            id: *id,
            customer_id: customer.id,
        })
    };
    let staff_named = |name: &str| -> Result<Caller, Failure> {
        team.advisors
            .iter()
            .chain([&team.manager, &team.csm])
            .find(|member| member.name == name)
            .map(|member| Caller::Staff {
                id: member.id,
                role: member.role,
            })
            .ok_or_else(|| wrong(format!("no member of staff named {name}")))
    };
    let failed = |error: caredesk_desk::DeskError| wrong(error.to_string());
    for question in &community.question {
        let asked_at = now - SignedDuration::from_hours(24 * question.days_ago);
        desk.clock.set(asked_at);
        let asker = contact_of(question.asker)?;
        let asked = community::ask(
            desk,
            &asker,
            QuestionFields {
                title: question.title.clone(),
                body: question.body.clone(),
                product_line: Some(question.product_line.clone()),
                release: question.release.clone(),
                language: question.language.clone(),
            },
        )
        .await
        .map_err(failed)?;
        for answer in &question.answer {
            desk.clock
                .set(asked_at + SignedDuration::from_hours(answer.hours_later));
            let author = match (answer.customer, &answer.advisor) {
                (Some(index), None) => contact_of(index)?,
                (None, Some(name)) => staff_named(name)?,
                _ => return Err(wrong("an answer needs a customer or an advisor".into())),
            };
            let written = community::answer(desk, &author, asked.id, &answer.body)
                .await
                .map_err(failed)?;
            let answer_id = written
                .answers
                .last()
                .map(|written| written.id)
                .ok_or_else(|| wrong("an answer was not kept".into()))?;
            if let Some(name) = &answer.verified_by {
                community::verify(desk, &staff_named(name)?, asked.id, answer_id)
                    .await
                    .map_err(failed)?;
            }
            if answer.accepted {
                community::accept(desk, &asker, asked.id, answer_id)
                    .await
                    .map_err(failed)?;
            }
        }
    }
    Ok(community.question.len())
}

async fn print_accounts(store: &Store, token: Option<&str>) -> Result<(), Failure> {
    let customers = store.customers().await.map_err(environment)?;
    let contact = match customers.first() {
        Some(customer) => store
            .contacts_of(customer.id)
            .await
            .map_err(environment)?
            .into_iter()
            .next(),
        None => None,
    };
    println!("Demo accounts (password {DEMO_PASSWORD}):");
    println!("  advisor           anna@caredesk.demo");
    println!("  support manager   manager@caredesk.demo");
    println!("  administrator     admin@caredesk.demo");
    if let Some(contact) = contact {
        println!("  customer contact  {}", contact.email);
    }
    if let Some(token) = token {
        println!("Administrator API token: {token}");
    }
    println!("Sign in over the API: POST /api/v1/sessions {{\"email\": …, \"password\": …}}");
    Ok(())
}
