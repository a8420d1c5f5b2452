//! Fills a database with a large desk for the benchmarks under `bench/`: a release catalog,
//! customers with a registered product each (serial `SN-{customer id}`, so the full portal
//! intake passes), advisors in every region to route to, an administrator's API token
//! (printed), and COUNT tickets opened over three years, most of
//! them closed, each with a timeline built by the domain's own `decide` and imported with
//! `Store::import_tickets` (clocks computed, breaches recorded). Their subjects, descriptions
//! and messages are words drawn from the demo's English articles (as often as the articles
//! use them), so that searching tickets by their words meets common and rare words as on a
//! real desk. The administrator and the first customer's contact sign in to the pages with
//! the password `caredesk-bench`.
//!
//!     cargo run --release -p caredesk --example seed_tickets -- DATABASE_URL COUNT [OPEN_PERCENT]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "shared/words.rs"]
mod words;

use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::{
    Actor, Command, ContactMedium, CustomerRequest, Resolution, Role, Snapshot, TicketEvent, decide,
};
use caredesk_store::{
    NewContact, NewContract, NewCustomer, NewProduct, NewRelease, NewStaff, NewTicket, Store,
};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const BATCH: usize = 2000;
const PASSWORD: &str = "caredesk-bench";
const REGIONS: [&str; 3] = ["americas", "emea", "apac"];
const PROGRAMS: [&str; 3] = ["standard", "gold", "platinum"];
const SEVERITIES: [&str; 4] = ["P1", "P2", "P3", "P4"];
/// The customers' languages, in turn: English for three in five.
const LANGUAGES: [&str; 5] = ["en", "fr", "en", "de", "en"];

/// Seeded draws: the same desk every run.
struct Dice(StdRng);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0.random_range(0..n)
    }

    /// `count` words drawn from `vocabulary`, as a sentence.
    fn words(&mut self, vocabulary: &[String], count: usize) -> String {
        let words: Vec<&str> = (0..count)
            .map(|_| vocabulary[self.below(vocabulary.len() as u64) as usize].as_str())
            .collect();
        words.join(" ")
    }
}

/// One customer of the bench desk: its ids and what its tickets carry.
#[derive(Clone, Copy)]
struct BenchCustomer {
    customer_id: i64,
    contact_id: i64,
    region: &'static str,
    program: &'static str,
    language: &'static str,
}

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, url, count, rest @ ..] = arguments.as_slice() else {
        eprintln!("usage: seed_tickets DATABASE_URL COUNT [OPEN_PERCENT]");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("COUNT is a number");
    let open_percent: u64 = rest
        .first()
        .map_or(10, |text| text.parse().expect("OPEN_PERCENT is a number"));
    let policy = Policy::built_in().unwrap();
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let now = Timestamp::now();
    let password = caredesk_desk::sessions::hash_password(PASSWORD).unwrap();
    let mut dice = Dice(StdRng::seed_from_u64(7));
    let vocabulary = words::english_words();

    let (token, advisors) = add_staff_and_catalog(&store, &password, now).await;
    let customers = add_customers(&store, &password, now).await;

    let mut made = 0;
    while made < count {
        let size = BATCH.min(count - made);
        let batch: Vec<_> = (0..size)
            .map(|_| {
                let customer = customers[dice.below(customers.len() as u64) as usize];
                let in_region: Vec<i64> = advisors
                    .iter()
                    .filter(|(_, region)| *region == customer.region)
                    .map(|(id, _)| *id)
                    .collect();
                let advisor = in_region[dice.below(in_region.len() as u64) as usize];
                bench_ticket(
                    &mut dice,
                    &vocabulary,
                    customer,
                    advisor,
                    open_percent,
                    &policy,
                    now,
                )
            })
            .collect();
        store.import_tickets(&policy, &batch, now).await.unwrap();
        made += size;
        if made % 100_000 == 0 || made == count {
            eprintln!("{made} tickets");
        }
    }
    store.refresh_statistics().await.unwrap();
    store.close().await;
    println!("{token}");
}

/// The administrator (who signs in with PASSWORD) and its API token, the release catalog and
/// twelve advisors across the regions. Answers the token and the advisors with their regions.
async fn add_staff_and_catalog(
    store: &Store,
    password: &str,
    now: Timestamp,
) -> (String, Vec<(i64, &'static str)>) {
    let admin = store
        .create_staff(
            &NewStaff {
                email: "bench-admin@caredesk.bench".into(),
                name: "Bench".into(),
                role: Role::Admin,
                region: Some("emea".into()),
                languages: vec!["en".into()],
                password_hash: Some(password.into()),
            },
            now,
        )
        .await
        .unwrap();
    let token = format!("cd_bench_{}", now.as_second());
    store
        .add_api_token(admin.id, "bench", &token, now, None)
        .await
        .unwrap();
    for line in ["ol-connect", "planetpress-suite"] {
        for (position, version) in ["2025.1", "2025.2", "2026.1"].into_iter().enumerate() {
            store
                .add_release(&NewRelease {
                    product_line: line.into(),
                    version: version.into(),
                    kind: "major".into(),
                    released_on: date(2025 + position as i16 / 2, 3, 1),
                    download_url: None,
                    sha256: None,
                    notes: Default::default(),
                })
                .await
                .unwrap();
        }
    }
    let mut advisors = Vec::new();
    for (index, region) in REGIONS.iter().cycle().take(12).enumerate() {
        let advisor = store
            .create_staff(
                &NewStaff {
                    email: format!("advisor{index}@caredesk.bench"),
                    name: format!("Bench advisor {index}"),
                    role: Role::Advisor,
                    region: Some((*region).into()),
                    languages: vec!["en".into(), "fr".into(), "de".into()],
                    password_hash: None,
                },
                now,
            )
            .await
            .unwrap();
        advisors.push((advisor.id, *region));
    }
    (token, advisors)
}

/// Sixty customers, every region with every program, speaking English, French or German,
/// each with a designated contact (the first one signs in with PASSWORD), a contract and a
/// registered product.
async fn add_customers(store: &Store, password: &str, now: Timestamp) -> Vec<BenchCustomer> {
    let mut customers = Vec::new();
    for index in 0..60 {
        let region = REGIONS[index % 3];
        let program = PROGRAMS[(index / 3) % 3];
        let language = LANGUAGES[index % LANGUAGES.len()];
        let customer = store
            .create_customer(
                &NewCustomer {
                    number: format!("B-{index:04}"),
                    name: format!("Bench customer {index}"),
                    region: region.into(),
                    language: language.into(),
                },
                now,
            )
            .await
            .unwrap();
        let contact = store
            .create_contact(
                &NewContact {
                    customer_id: customer.id,
                    name: "Bench contact".into(),
                    email: format!("contact{index}@bench.example"),
                    phone: format!("+1 555 01{:02}", index % 100),
                    language: language.into(),
                    designated: true,
                    password_hash: (index == 0).then(|| password.into()),
                },
                now,
            )
            .await
            .unwrap();
        store
            .create_contract(
                &NewContract {
                    customer_id: customer.id,
                    program: program.into(),
                    starts_on: date(2020, 1, 1),
                    ends_on: date(2030, 12, 31),
                    eula_accepted: true,
                },
                now,
            )
            .await
            .unwrap();
        store
            .register_product(
                &NewProduct {
                    customer_id: customer.id,
                    product_line: "ol-connect".into(),
                    version: "2026.1".into(),
                    serial: format!("SN-{}", customer.id),
                    licence: Default::default(),
                },
                now,
            )
            .await
            .unwrap();
        customers.push(BenchCustomer {
            customer_id: customer.id,
            contact_id: contact.id,
            region,
            program,
            language,
        });
    }
    customers
}

/// One ticket and its timeline: open tickets are recent and part-way through their life,
/// closed ones spread over three years and closed with the customer's consent.
fn bench_ticket(
    dice: &mut Dice,
    vocabulary: &[String],
    customer: BenchCustomer,
    advisor: i64,
    open_percent: u64,
    policy: &Policy,
    now: Timestamp,
) -> (NewTicket, Vec<TicketEvent>) {
    const THREE_YEARS_IN_MINUTES: u64 = 3 * 365 * 24 * 60;
    let severity = SEVERITIES[dice.below(4) as usize];
    let channel = if dice.below(2) == 0 {
        "portal"
    } else {
        "phone"
    };
    let is_open = dice.below(100) < open_percent;
    let age = if is_open {
        60 + dice.below(14 * 24 * 60)
    } else {
        30 * 24 * 60 + dice.below(THREE_YEARS_IN_MINUTES)
    };
    let opened = now
        .checked_sub(SignedDuration::from_mins(age as i64))
        .unwrap();
    let contact = Actor::Contact {
        id: customer.contact_id,
    };
    let opened = Timestamp::from_second(opened.as_second()).unwrap();
    let mut events = vec![
        TicketEvent {
            seq: 1,
            at: opened,
            actor: contact,
            data: caredesk_domain::ticket::EventData::Created {
                severity: severity.into(),
                channel: channel.into(),
            },
        },
        // Routed at once to an advisor of the customer's region.
        TicketEvent {
            seq: 2,
            at: opened,
            actor: Actor::System,
            data: caredesk_domain::ticket::EventData::Assigned {
                advisor: Some(advisor),
                reason: Some("the lightest load".into()),
                overridden: None,
            },
        },
    ];
    let advisor = Actor::Staff {
        id: advisor,
        role: Role::Advisor,
    };
    let stage = if is_open { dice.below(4) } else { 4 };
    let mut at = opened;
    let messages = [(); 4].map(|()| dice.words(vocabulary, 8));
    for (actor, command) in life_up_to(stage, severity, advisor, contact, messages) {
        at = at
            .checked_add(SignedDuration::from_mins(30 + dice.below(600) as i64))
            .unwrap()
            .min(now);
        let snapshot = Snapshot::of(&events).unwrap();
        for data in decide(&snapshot, actor.role().unwrap(), command, policy).unwrap() {
            let seq = events.len() as u32 + 1;
            events.push(TicketEvent {
                seq,
                at: Timestamp::from_second(at.as_second()).unwrap(),
                actor,
                data,
            });
        }
    }
    let new = NewTicket {
        customer_id: customer.customer_id,
        contact_id: Some(customer.contact_id),
        product_id: None,
        product_line: if dice.below(3) == 0 {
            "planetpress-suite"
        } else {
            "ol-connect"
        }
        .into(),
        version: "2026.1".into(),
        serial: format!("SN-{}", customer.customer_id),
        program: customer.program.into(),
        region: customer.region.into(),
        language: customer.language.into(),
        channel: channel.into(),
        subject: dice.words(vocabulary, 4),
        description: dice.words(vocabulary, 20),
        details: serde_json::json!({ "business_impact": "benchmark" }),
        severity: severity.into(),
        actor: contact,
        created_by: "bench".into(),
        idempotency_key: None,
        request_hash: None,
        intake: None,
    };
    (new, events)
}

/// A ticket's life after its creation, cut at `stage`: 0 nothing yet, 1 the first reply,
/// 2 a request for logs, 3 the customer's answer, 4 a solution proposed and accepted; with
/// the texts of the reply, the request, the answer and the proposal.
fn life_up_to(
    stage: u64,
    severity: &str,
    advisor: Actor,
    contact: Actor,
    [reply, request, answer, proposal]: [String; 4],
) -> Vec<(Actor, Command)> {
    let resolution = if severity == "P4" {
        Resolution::PlannedForRelease {
            release: "2027.1".into(),
        }
    } else {
        Resolution::Workaround
    };
    let life = [
        (
            advisor,
            Command::Reply {
                body: reply,
                via: ContactMedium::Reply,
            },
        ),
        (
            advisor,
            Command::RequestFromCustomer {
                request: CustomerRequest::Information,
                body: request,
            },
        ),
        (contact, Command::CustomerMessage { body: answer }),
        (
            advisor,
            Command::ProposeSolution {
                resolution,
                body: proposal,
            },
        ),
        (
            contact,
            Command::AcceptSolution {
                note: String::new(),
            },
        ),
    ];
    // Stage 4 is the last two steps together: a solution is only proposed to be accepted.
    let steps = match stage {
        0..=3 => stage as usize,
        _ => life.len(),
    };
    life.into_iter().take(steps).collect()
}
