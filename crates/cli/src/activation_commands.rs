//! `caredesk activation public-key` and `caredesk activation verify CODE --public-key
//! FILE`: the public half of the key that signs activation codes, and the check an
//! installed product makes offline.

use std::path::PathBuf;

use caredesk_desk::Desk;
use caredesk_desk::activation_keys::{parse_public_key, public_key_text};
use caredesk_domain::activation::{check_code, read_code};
use clap::Subcommand;

use crate::Failure;

#[derive(Subcommand)]
pub enum ActivationCommand {
    /// Prints the public key that verifies the desk's activation codes (64 hexadecimal
    /// digits), for installers and `activation verify`. Makes the key on first use.
    PublicKey {
        #[arg(long)]
        database: Option<String>,
    },
    /// Checks an activation code offline, as an installed product would: signed by the
    /// desk's key, unchanged, and (when given) for this serial and machine. Exit code 0 and
    /// what the code says, or 2 and why not.
    Verify {
        code: String,
        /// A file holding the public key, as `activation public-key` prints it.
        #[arg(long)]
        public_key: PathBuf,
        #[arg(long)]
        serial: Option<String>,
        #[arg(long)]
        machine_id: Option<String>,
    },
}

pub async fn public_key(desk: &Desk) -> Result<(), Failure> {
    let key = desk
        .activation_keys
        .verifying_key(&desk.store, desk.clock.now())
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?;
    println!("{}", public_key_text(&key));
    Ok(())
}

pub fn verify(
    code: &str,
    public_key: &PathBuf,
    serial: Option<&str>,
    machine_id: Option<&str>,
) -> Result<(), Failure> {
    let text = std::fs::read_to_string(public_key).map_err(|error| {
        Failure::Input(format!("--public-key: {}: {error}", public_key.display()))
    })?;
    let key = parse_public_key(&text).map_err(|reason| {
        Failure::Input(format!("--public-key: {}: {reason}", public_key.display()))
    })?;
    let claims = match (serial, machine_id) {
        (Some(serial), Some(machine_id)) => check_code(code, &key, serial, machine_id),
        (None, None) => read_code(code, &key),
        _ => {
            return Err(Failure::Input(
                "--serial and --machine-id go together (or neither)".into(),
            ));
        }
    }
    .map_err(|refused| Failure::Input(refused.to_string()))?;
    println!("valid activation code");
    println!("serial\t{}", claims.serial);
    println!("product line\t{}", claims.product_line);
    println!("machine\t{}", claims.machine_id);
    println!("highest version\t{}", claims.highest_version);
    println!("issued at\t{}", claims.issued_at);
    Ok(())
}
