//! The test SMTP server as a program, for load scripts (`bench/mail_latency.sh`): listens on
//! 127.0.0.1 (the port given, or any), prints `listening on PORT`, and appends one line per
//! message received to the file given, tab-separated: receipt time (Unix nanoseconds), the
//! X-Caredesk-Ticket header, the Message-ID, the first recipient, the subject.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use caredesk_testkit::smtp::SmtpSink;

fn main() {
    let mut arguments = std::env::args().skip(1);
    let port: u16 = arguments
        .next()
        .map(|port| port.parse().expect("a port number"))
        .unwrap_or(0);
    let output = arguments.next().expect("usage: smtp_sink PORT FILE");
    let sink = SmtpSink::start_on(port);
    println!("listening on {}", sink.port());
    std::io::stdout().flush().unwrap();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&output)
        .expect("the output file");
    let mut written = 0;
    loop {
        let messages = sink.messages();
        for message in &messages[written..] {
            let received = message
                .received_at
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let field = |name: &str| message.header(name).unwrap_or_default().replace('\t', " ");
            writeln!(
                file,
                "{received}\t{}\t{}\t{}\t{}",
                field("X-Caredesk-Ticket"),
                field("Message-ID"),
                message.to.first().cloned().unwrap_or_default(),
                field("Subject"),
            )
            .unwrap();
        }
        written = messages.len();
        file.flush().unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
}
