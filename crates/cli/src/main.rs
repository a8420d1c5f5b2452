//! `caredesk`: the one binary of the support desk; its commands are in the library.

fn main() -> std::process::ExitCode {
    caredesk_cli::main()
}
