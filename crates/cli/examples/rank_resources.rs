//! Judges the resource center's ranking on the set under `bench/ranking/queries.toml`: each
//! query is searched as a customer's resource-center page searches it (the words analysed in
//! every language of the policy, one result per entry in the reader's language), and the
//! entry that should come first is looked for among the first three. Loads the demo desk's
//! resource center (crates/cli/demo/resources) into the database first if it has none.
//!
//!     cargo run --release -p caredesk --example rank_resources -- DATABASE_URL QUERIES_FILE
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "shared/desk.rs"]
mod desk;

use caredesk_desk::Caller;
use caredesk_desk::resources::{ResourceQuery, search};
use caredesk_store::Store;

#[derive(serde::Deserialize)]
struct RankingSet {
    query: Vec<RankedQuery>,
}

#[derive(serde::Deserialize)]
struct RankedQuery {
    q: String,
    language: String,
    expect: String,
}

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, url, queries] = arguments.as_slice() else {
        eprintln!("usage: rank_resources DATABASE_URL QUERIES_FILE");
        std::process::exit(2);
    };
    let set: RankingSet =
        toml::from_str(&std::fs::read_to_string(queries).expect("the queries file")).unwrap();
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let desk = desk::bench_desk(&store);
    if store.all_entries().await.unwrap().is_empty() {
        caredesk_cli::demo::load_resource_center(&desk)
            .await
            .map_err(|failure| format!("{failure:?}"))
            .unwrap();
    }
    // A customer's contact reads public and customers' entries, published ones.
    let reader = Caller::Contact {
        id: 0,
        customer_id: 0,
    };
    let (mut first, mut top_three) = (0, 0);
    for query in &set.query {
        let found = search(
            &desk,
            Some(&reader),
            &ResourceQuery {
                text: query.q.clone(),
                one_per_entry_in: Some(query.language.clone()),
                limit: 3,
                ..ResourceQuery::default()
            },
        )
        .await
        .unwrap();
        let mut keys = Vec::new();
        for hit in &found {
            let entry = store.entry(hit.hit.entry_id).await.unwrap();
            keys.push(entry.key.unwrap_or_else(|| format!("entry-{}", entry.id)));
        }
        let place = keys.iter().position(|key| *key == query.expect);
        match place {
            Some(0) => {
                first += 1;
                top_three += 1;
            }
            Some(_) => top_three += 1,
            None => {}
        }
        println!(
            "{:<6} [{}] {} → {}",
            match place {
                Some(index) => format!("#{}", index + 1),
                None => "miss".to_string(),
            },
            query.language,
            query.q,
            keys.join(", ")
        );
    }
    let total = set.query.len();
    println!(
        "first: {first} of {total} ({:.0} %); among the first three: {top_three} of {total} ({:.0} %)",
        100.0 * first as f64 / total as f64,
        100.0 * top_three as f64 / total as f64
    );
}
