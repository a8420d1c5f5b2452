//! An article's Markdown as HTML for a page: CommonMark with tables and strikethrough,
//! then sanitised, so that no HTML a writer typed (a `<script>`, an `onclick`, a
//! `javascript:` link) ever reaches a reader. Links and images keep http, https and mailto
//! addresses (and addresses on the desk itself) only; links open with `noopener noreferrer`.

use pulldown_cmark::{Options, Parser, html};

/// `markdown` as safe HTML.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer"))
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html_and_what_a_writer_smuggles_in_does_not() {
        let html = to_html(
            "## Restart\n\nRun `net stop spooler`, then **start** it.\n\n\
             | Step | What |\n|---|---|\n| 1 | Stop |\n\n\
             [docs](https://docs.example/a) [bad](javascript:alert(1))\n\n\
             <script>alert(1)</script><img src=x onerror=alert(1)>\n\n\
             <a href=\"https://x.example\" onclick=\"steal()\">x</a>",
        );
        assert!(html.contains("<h2>Restart</h2>"), "{html}");
        assert!(html.contains("<code>net stop spooler</code>"));
        assert!(html.contains("<strong>start</strong>"));
        assert!(html.contains("<table>"));
        assert!(
            html.contains(r#"<a href="https://docs.example/a" rel="noopener noreferrer">docs</a>"#)
        );
        for smuggled in ["<script", "javascript:", "onerror", "onclick"] {
            assert!(!html.contains(smuggled), "{smuggled} in {html}");
        }
    }
}
