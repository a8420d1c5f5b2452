//! The update manager's load (bench/update_check.sh):
//!
//! - `seed DATABASE_URL COUNT CSV`: a desk with COUNT licences: OL Connect's catalog (five
//!   releases over two major versions, notes in English and French), COUNT / 100 customers
//!   over the three regions (every other one's OL Care lapsed in June 2026), 100 registered
//!   products each, every product activated on one machine through the store with a code
//!   signed by the desk's key. Writes `serial,version,code` per licence into CSV, for the
//!   load generator.
//! - `direct DATABASE_URL CSV SECONDS CONNECTIONS`: the baseline: the rows an update check
//!   reads (the product by its serial, its active activation, the customer and its
//!   contracts, the line's releases and their notes) read straight through the store by
//!   CONNECTIONS tasks for SECONDS, each task a licence at a time, without HTTP, signature,
//!   entitlement or JSON; prints the reads per second.
//!
//!     cargo run --release -p caredesk --example bench_updates -- seed sqlite://u.db 100000 u.csv
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "shared/desk.rs"]
mod desk;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use caredesk_domain::activation::{ActivationClaims, issue_code};
use caredesk_store::{
    Activated, LicenceTerms, NewActivation, NewContract, NewCustomer, NewProduct, NewRelease, Store,
};
use jiff::Timestamp;
use jiff::civil::date;

const PER_CUSTOMER: usize = 100;
const REGIONS: [&str; 3] = ["americas", "emea", "apac"];
/// OL Connect's catalog: (version, kind).
const RELEASES: [(&str, &str); 5] = [
    ("2025.1", "major"),
    ("2025.2", "minor"),
    ("2026.1", "minor"),
    ("2026.2", "minor"),
    ("2027.1", "major"),
];
/// The versions installations run, in turn.
const INSTALLED: [&str; 4] = ["2025.2", "2026.1", "2026.2", "2027.1"];

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    match arguments
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [_, "seed", url, count, csv] => seed(url, count.parse().unwrap(), csv).await,
        [_, "direct", url, csv, seconds, connections] => {
            direct(
                url,
                csv,
                seconds.parse().unwrap(),
                connections.parse().unwrap(),
            )
            .await;
        }
        _ => {
            eprintln!(
                "usage: bench_updates seed DATABASE_URL COUNT CSV\n       \
                 bench_updates direct DATABASE_URL CSV SECONDS CONNECTIONS"
            );
            std::process::exit(2);
        }
    }
}

async fn seed(url: &str, count: usize, csv: &str) {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let desk = desk::bench_desk(&store);
    let now = Timestamp::now();
    let started = Instant::now();
    for (version, kind) in RELEASES {
        store
            .add_release(&NewRelease {
                product_line: "ol-connect".into(),
                version: version.into(),
                kind: kind.into(),
                released_on: date(2026, 1, 1),
                download_url: Some(format!(
                    "https://downloads.example/ol-connect-{version}.zip"
                )),
                sha256: Some("ab".repeat(32)),
                notes: [
                    ("en".to_string(), format!("What is new in {version}.")),
                    ("fr".to_string(), format!("Les nouveautés de {version}.")),
                ]
                .into(),
            })
            .await
            .unwrap();
    }
    let key = desk
        .activation_keys
        .signing_key(&store, now)
        .await
        .unwrap()
        .clone();
    let mut out = std::io::BufWriter::new(std::fs::File::create(csv).unwrap());
    writeln!(out, "serial,version,code").unwrap();
    let customers = count.div_ceil(PER_CUSTOMER);
    let mut licence = 0;
    for index in 0..customers {
        let customer = store
            .create_customer(
                &NewCustomer {
                    number: format!("L-{index:05}"),
                    name: format!("Licensee {index}"),
                    region: REGIONS[index % REGIONS.len()].into(),
                    language: if index % 2 == 0 { "en" } else { "fr" }.into(),
                },
                now,
            )
            .await
            .unwrap();
        let lapsed = index % 2 == 1;
        store
            .create_contract(
                &NewContract {
                    customer_id: customer.id,
                    program: "gold".into(),
                    starts_on: date(2025, 7, 1),
                    ends_on: if lapsed {
                        date(2026, 6, 30)
                    } else {
                        date(2027, 12, 31)
                    },
                    eula_accepted: true,
                },
                now,
            )
            .await
            .unwrap();
        for _ in 0..PER_CUSTOMER.min(count - licence) {
            let serial = format!("OLC-{licence:06}");
            let installed = INSTALLED[licence % INSTALLED.len()];
            let product = store
                .register_product(
                    &NewProduct {
                        customer_id: customer.id,
                        product_line: "ol-connect".into(),
                        version: installed.into(),
                        serial: serial.clone(),
                        licence: LicenceTerms {
                            edition: None,
                            licensed_version: Some(installed.into()),
                            installations: Some(2),
                        },
                    },
                    now,
                )
                .await
                .unwrap();
            let machine_id = format!("MACHINE-{licence:08}");
            let code = issue_code(
                &ActivationClaims {
                    serial: serial.clone(),
                    product_line: "ol-connect".into(),
                    machine_id: machine_id.clone(),
                    highest_version: "2027.1".into(),
                    issued_at: now,
                },
                &key,
            );
            let recorded = store
                .activate(
                    &NewActivation {
                        product_id: product.id,
                        machine_id,
                        code: code.clone(),
                        highest_version: "2027.1".into(),
                        by: "staff:1".into(),
                        from: String::new(),
                    },
                    now,
                )
                .await
                .unwrap();
            assert!(matches!(recorded, Activated::New(_)));
            writeln!(out, "{serial},{installed},{code}").unwrap();
            licence += 1;
        }
    }
    out.flush().unwrap();
    store.refresh_statistics().await.unwrap();
    println!(
        "{licence} licences of {customers} customers, activated, in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

async fn direct(url: &str, csv: &str, seconds: u64, connections: usize) {
    let store = Store::connect(url).await.unwrap();
    let serials: Arc<Vec<(String, String)>> = Arc::new(
        std::fs::read_to_string(csv)
            .unwrap()
            .lines()
            .skip(1)
            .map(|line| {
                // The seeder numbered machines as it numbered serials.
                let serial = line.split(',').next().unwrap().to_string();
                let number: u64 = serial.trim_start_matches("OLC-").parse().unwrap();
                (serial, format!("MACHINE-{number:08}"))
            })
            .collect(),
    );
    let reads = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|task| {
            let store = store.clone();
            let serials = Arc::clone(&serials);
            let reads = Arc::clone(&reads);
            tokio::spawn(async move {
                let mut next = task * 7919;
                while Instant::now() < deadline {
                    let (serial, machine) = &serials[next % serials.len()];
                    next += connections * 104_729;
                    let product = store.product_by_serial(serial).await.unwrap();
                    let active = store.active_activation(product.id, machine).await.unwrap();
                    assert!(active.is_some());
                    store.customer(product.customer_id).await.unwrap();
                    store.contracts_of(product.customer_id).await.unwrap();
                    store.releases_of(&product.product_line).await.unwrap();
                    store
                        .release_notes(Some(&product.product_line))
                        .await
                        .unwrap();
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let started = Instant::now();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{{\"reads\": {}, \"seconds\": {elapsed:.2}, \"per_second\": {:.0}}}",
        reads.load(Ordering::Relaxed),
        reads.load(Ordering::Relaxed) as f64 / elapsed
    );
}
