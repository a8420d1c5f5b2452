//! Fills a database with a large desk for the benchmarks under `bench/`: a release catalog,
//! customers with a registered product each (serial `SN-{customer id}`, so the full portal
//! intake passes), advisors in every region to route to, an administrator's API token
//! (printed), and COUNT tickets opened over three years, most of
//! them closed, each with a timeline built by the domain's own `decide` and imported with
//! `Store::import_tickets` (clocks computed, breaches recorded). The administrator and the
//! first customer's contact sign in to the pages with the password `caredesk-bench`.
//!
//!     cargo run --release -p caredesk --example seed_tickets -- DATABASE_URL COUNT [OPEN_PERCENT]
#![allow(clippy::unwrap_used, clippy::expect_used)]

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

/// Seeded draws: the same desk every run.
struct Dice(StdRng);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0.random_range(0..n)
    }
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

    let admin = store
        .create_staff(
            &NewStaff {
                email: "bench-admin@caredesk.bench".into(),
                name: "Bench".into(),
                role: Role::Admin,
                region: Some("emea".into()),
                languages: vec!["en".into()],
                password_hash: Some(password.clone()),
            },
            now,
        )
        .await
        .unwrap();
    let token = format!("cd_bench_{}", now.as_second());
    store
        .add_api_token(admin.id, "bench", &token, now)
        .await
        .unwrap();
    for line in ["ol-connect", "planetpress-suite"] {
        for (position, version) in ["2025.1", "2025.2", "2026.1"].into_iter().enumerate() {
            store
                .add_release(&NewRelease {
                    product_line: line.into(),
                    version: version.into(),
                    position: position as i64 + 1,
                    kind: "major".into(),
                    released_on: date(2025 + position as i16 / 2, 3, 1),
                })
                .await
                .unwrap();
        }
    }
    for (index, region) in REGIONS.iter().cycle().take(12).enumerate() {
        store
            .create_staff(
                &NewStaff {
                    email: format!("advisor{index}@caredesk.bench"),
                    name: format!("Bench advisor {index}"),
                    role: Role::Advisor,
                    region: Some((*region).into()),
                    languages: vec!["en".into(), "fr".into()],
                    password_hash: None,
                },
                now,
            )
            .await
            .unwrap();
    }
    let advisor = Actor::Staff {
        id: admin.id,
        role: Role::Advisor,
    };

    let mut customers = Vec::new();
    for index in 0..60 {
        let region = REGIONS[index % 3];
        let program = PROGRAMS[(index / 3) % 3];
        let customer = store
            .create_customer(
                &NewCustomer {
                    number: format!("B-{index:04}"),
                    name: format!("Bench customer {index}"),
                    region: region.into(),
                    language: "en".into(),
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
                    language: "en".into(),
                    designated: true,
                    password_hash: (index == 0).then(|| password.clone()),
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
                },
                now,
            )
            .await
            .unwrap();
        customers.push((customer.id, contact.id, region, program));
    }

    let three_years = 3 * 365 * 24 * 60;
    let mut made = 0;
    while made < count {
        let size = BATCH.min(count - made);
        let mut batch = Vec::with_capacity(size);
        for _ in 0..size {
            let (customer_id, contact_id, region, program) =
                customers[dice.below(customers.len() as u64) as usize];
            let severity = SEVERITIES[dice.below(4) as usize];
            let channel = if dice.below(2) == 0 {
                "portal"
            } else {
                "phone"
            };
            let is_open = dice.below(100) < open_percent;
            // Open tickets are recent; closed ones spread over three years.
            let age = if is_open {
                60 + dice.below(14 * 24 * 60)
            } else {
                30 * 24 * 60 + dice.below(three_years)
            };
            let opened = now
                .checked_sub(SignedDuration::from_mins(age as i64))
                .unwrap();
            let contact = Actor::Contact { id: contact_id };
            let mut events = vec![TicketEvent {
                seq: 1,
                at: Timestamp::from_second(opened.as_second()).unwrap(),
                actor: contact,
                data: caredesk_domain::ticket::EventData::Created {
                    severity: severity.into(),
                    channel: channel.into(),
                },
            }];
            let reply = Command::Reply {
                body: "Looking into it.".into(),
                via: ContactMedium::Reply,
            };
            let mut steps: Vec<(Actor, Command)> = Vec::new();
            let stage = if is_open { dice.below(4) } else { 4 };
            if stage >= 1 {
                steps.push((advisor, reply));
            }
            if stage >= 2 {
                steps.push((
                    advisor,
                    Command::RequestFromCustomer {
                        request: CustomerRequest::Information,
                        body: "Logs, please.".into(),
                    },
                ));
            }
            if stage >= 3 {
                steps.push((
                    contact,
                    Command::CustomerMessage {
                        body: "Attached.".into(),
                    },
                ));
            }
            if stage >= 4 {
                let resolution = if severity == "P4" {
                    Resolution::PlannedForRelease {
                        release: "next".into(),
                    }
                } else {
                    Resolution::Workaround
                };
                steps.push((
                    advisor,
                    Command::ProposeSolution {
                        resolution,
                        body: "Try this.".into(),
                    },
                ));
                steps.push((
                    contact,
                    Command::AcceptSolution {
                        note: String::new(),
                    },
                ));
            }
            let mut at = opened;
            for (actor, command) in steps {
                at = at
                    .checked_add(SignedDuration::from_mins(30 + dice.below(600) as i64))
                    .unwrap()
                    .min(now);
                let snapshot = Snapshot::of(&events).unwrap();
                for data in decide(&snapshot, actor.role().unwrap(), command, &policy).unwrap() {
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
                customer_id,
                contact_id: Some(contact_id),
                product_id: None,
                product_line: if dice.below(3) == 0 {
                    "planetpress-suite"
                } else {
                    "ol-connect"
                }
                .into(),
                version: "2026.1".into(),
                serial: format!("SN-{customer_id}"),
                program: program.into(),
                region: region.into(),
                language: "en".into(),
                channel: channel.into(),
                subject: "Benchmark ticket".into(),
                description: "Made by bench/seed_tickets.".into(),
                details: serde_json::json!({ "business_impact": "benchmark" }),
                severity: severity.into(),
                actor: contact,
                created_by: "bench".into(),
                idempotency_key: None,
                request_hash: None,
                intake: None,
            };
            batch.push((new, events));
        }
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
