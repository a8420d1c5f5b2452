//! Times the resource center's search and the new-ticket form's suggestions on a large
//! center: fills the database up to ARTICLES entries (each one language of the six, its words
//! drawn from the demo desk's articles of that language, written through `caredesk kb
//! import`'s path), then runs each query as the pages do, in-process (the server's time
//! without HTTP), and prints the median and the 99th percentile of each kind against a
//! baseline measured in the same run: reading one entry by its number.
//!
//!     cargo run --release -p caredesk --example bench_resource_search -- DATABASE_URL ARTICLES [QUERIES]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "shared/desk.rs"]
mod desk;

#[path = "shared/timing.rs"]
mod timing;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use caredesk_desk::Caller;
use caredesk_desk::community::{QuestionQuery, search_questions};
use caredesk_desk::resources::{ResourceQuery, search};
use caredesk_store::Store;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const LANGUAGES: [&str; 6] = ["en", "fr", "es", "de", "nl", "ja"];
const BATCH: usize = 2_000;

#[derive(serde::Deserialize)]
struct RankingSet {
    query: Vec<RankedQuery>,
}

#[derive(serde::Deserialize)]
struct RankedQuery {
    q: String,
    language: String,
}

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, url, articles, rest @ ..] = arguments.as_slice() else {
        eprintln!("usage: bench_resource_search DATABASE_URL ARTICLES [QUERIES]");
        std::process::exit(2);
    };
    let articles: usize = articles.parse().expect("ARTICLES is a number");
    let rounds: usize = rest.first().map_or(400, |text| text.parse().unwrap());
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let desk = desk::bench_desk(&store);
    // The demo's entries need its release catalog: on a desk seeded with a catalog of its
    // own (examples/seed_tickets), only made-up entries are written.
    if store.all_entries().await.unwrap().is_empty()
        && store.releases_of("ol-connect").await.unwrap().is_empty()
    {
        caredesk_cli::demo::load_resource_center(&desk)
            .await
            .map_err(|failure| format!("{failure:?}"))
            .unwrap();
    }
    let vocabulary = vocabulary();
    let mut dice = StdRng::seed_from_u64(2026);
    let have = store.all_entries().await.unwrap().len();
    let started = Instant::now();
    let mut next = have;
    while next < articles {
        let mut files = Vec::with_capacity(BATCH);
        for number in next..(next + BATCH).min(articles) {
            files.push(article(number, &vocabulary, &mut dice));
        }
        next += files.len();
        caredesk_desk::resource_files::import_files(&desk, &Caller::System, &files)
            .await
            .unwrap()
            .unwrap();
        eprint!("\r{next} entries");
    }
    if next > have {
        eprintln!(
            "\nwrote {} entries in {:.0} s",
            next - have,
            started.elapsed().as_secs_f64()
        );
    }
    store.refresh_statistics().await.unwrap();

    let ranking: RankingSet = toml::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../bench/ranking/queries.toml"
        ))
        .unwrap(),
    )
    .unwrap();
    let reader = Caller::Contact {
        id: 0,
        customer_id: 0,
    };
    let ids: Vec<i64> = store
        .all_entries()
        .await
        .unwrap()
        .iter()
        .map(|entry| entry.id)
        .collect();
    let mut timings: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    for round in 0..rounds {
        // A query of the ranking set, or two to three words drawn from one language.
        let (words, language) = if round % 4 == 0 {
            let query = &ranking.query[(round / 4) % ranking.query.len()];
            (query.q.clone(), query.language.clone())
        } else {
            let language = LANGUAGES[dice.random_range(0..LANGUAGES.len())];
            let count = dice.random_range(2..4);
            (
                words_of(&vocabulary[language], count, &mut dice),
                language.to_string(),
            )
        };
        let time = Instant::now();
        search(
            &desk,
            Some(&reader),
            &ResourceQuery {
                text: words.clone(),
                one_per_entry_in: Some(language.clone()),
                limit: 30,
                ..ResourceQuery::default()
            },
        )
        .await
        .unwrap();
        timings
            .entry("search (page, 30 results)")
            .or_default()
            .push(time.elapsed());

        // What the new-ticket form sends as the customer types: the subject twice and a
        // description, for five entries and three answered questions.
        let description = words_of(&vocabulary[language.as_str()], 15, &mut dice);
        let typed = format!("{words} {words} {description}");
        let time = Instant::now();
        search(
            &desk,
            Some(&reader),
            &ResourceQuery {
                text: typed.clone(),
                one_per_entry_in: Some(language.clone()),
                limit: 5,
                ..ResourceQuery::default()
            },
        )
        .await
        .unwrap();
        search_questions(
            &desk,
            Some(&reader),
            &QuestionQuery {
                text: typed,
                solved_only: true,
                limit: 3,
                ..QuestionQuery::default()
            },
        )
        .await
        .unwrap();
        timings
            .entry("suggestions (typing)")
            .or_default()
            .push(time.elapsed());

        let id = ids[dice.random_range(0..ids.len())];
        let time = Instant::now();
        store.entry(id).await.unwrap();
        timings
            .entry("baseline: one entry by number")
            .or_default()
            .push(time.elapsed());
    }
    let baseline = timing::percentile(timings["baseline: one entry by number"].clone(), 50);
    println!("{} entries, {rounds} rounds", ids.len());
    println!("| what | p50 | p99 | p50 / baseline p50 |");
    println!("|---|---|---|---|");
    for (what, durations) in timings {
        let median = timing::percentile(durations.clone(), 50);
        let high = timing::percentile(durations, 99);
        println!(
            "| {what} | {:.2} ms | {:.2} ms | {:.1}× |",
            median.as_secs_f64() * 1e3,
            high.as_secs_f64() * 1e3,
            median.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}

/// The words of the demo desk's articles, per language.
fn vocabulary() -> BTreeMap<&'static str, Vec<String>> {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/resources");
    let mut words: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for file in std::fs::read_dir(folder).unwrap() {
        let path = file.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Some(language) = LANGUAGES
            .iter()
            .find(|language| name.ends_with(&format!(".{language}.md")))
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let body = text.splitn(3, "+++").nth(2).unwrap_or_default();
        let found = words.entry(language).or_default();
        if *language == "ja" {
            // No spaces: pieces of two to four characters.
            let characters: Vec<char> = body.chars().filter(|c| c.is_alphanumeric()).collect();
            for window in characters.chunks(3) {
                found.push(window.iter().collect());
            }
        } else {
            found.extend(
                body.split_whitespace()
                    .map(|word| {
                        word.trim_matches(|c: char| !c.is_alphanumeric())
                            .to_string()
                    })
                    .filter(|word| {
                        word.chars().count() > 1
                            && word
                                .chars()
                                .all(|c| c.is_alphanumeric() || c == '-' || c == '\'')
                    }),
            );
        }
    }
    words
}

fn words_of(vocabulary: &[String], count: usize, dice: &mut StdRng) -> String {
    (0..count)
        .map(|_| vocabulary[dice.random_range(0..vocabulary.len())].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A made-up article: one language, a title of 5 to 9 words, a text of 80 to 200.
fn article(
    number: usize,
    vocabulary: &BTreeMap<&'static str, Vec<String>>,
    dice: &mut StdRng,
) -> (String, String) {
    let language = LANGUAGES[number % LANGUAGES.len()];
    let words = &vocabulary[language];
    let title = words_of(words, dice.random_range(5..10), dice).replace('"', "");
    let body = words_of(words, dice.random_range(80..200), dice);
    // Drawn apart from the language (every sixth entry is in a language): numbered alike,
    // every Spanish and Japanese entry was internal, and a customer found none.
    let line = ["ol-connect", "planetpress-suite"][(number / LANGUAGES.len()) % 2];
    let visibility = ["public", "customers", "internal"][(number / LANGUAGES.len()) % 3];
    let key = format!("bench-{number:07}");
    (
        format!("{key}.{language}.md"),
        format!(
            "+++\nkey = \"{key}\"\nlanguage = \"{language}\"\ntitle = \"{title}\"\n\
             kind = \"article\"\nproduct_line = \"{line}\"\nvisibility = \"{visibility}\"\n\
             tags = [\"bench\"]\nstate = \"published\"\n+++\n{body}\n"
        ),
    )
}
