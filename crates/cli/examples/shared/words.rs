//! The words the benchmarks' tickets are written with.

/// The words of the demo's English articles, each as often as the articles use it.
pub fn english_words() -> Vec<String> {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/resources");
    let mut words = Vec::new();
    for file in std::fs::read_dir(folder).unwrap() {
        let path = file.unwrap().path();
        if !path.to_string_lossy().ends_with(".en.md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let body = text.splitn(3, "+++").nth(2).unwrap_or_default();
        words.extend(
            body.split_whitespace()
                .map(|word| word.trim_matches(|c: char| !c.is_alphanumeric()))
                .filter(|word| word.chars().count() > 1)
                .map(str::to_string),
        );
    }
    assert!(!words.is_empty(), "the demo's English articles in {folder}");
    words
}
