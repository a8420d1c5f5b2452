//! The desk's Ed25519 key that signs activation codes (POLICY.md §9). It is made on first
//! use and kept in the database, where every instance on it finds the same one; or, when
//! the configuration names a file, kept in that file (made there, readable by its owner
//! only, when it does not exist yet). Once read, it stays in memory for the process: the
//! update check verifies a code on every call.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use caredesk_store::{Store, StoredKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jiff::Timestamp;
use tokio::sync::OnceCell;

use crate::DeskError;

/// Where the signing key lives, and the key once read.
#[derive(Clone, Debug, Default)]
pub struct ActivationKeys {
    file: Option<PathBuf>,
    key: Arc<OnceCell<SigningKey>>,
}

impl ActivationKeys {
    /// The key kept in the database (the default).
    pub fn in_database() -> Self {
        Self::default()
    }

    /// The key kept in `file`: 64 hexadecimal digits, made there when the file is missing.
    pub fn in_file(file: PathBuf) -> Self {
        ActivationKeys {
            file: Some(file),
            key: Arc::default(),
        }
    }

    /// The signing key, read (or made) once.
    pub async fn signing_key(
        &self,
        store: &Store,
        now: Timestamp,
    ) -> Result<&SigningKey, DeskError> {
        self.key
            .get_or_try_init(|| async {
                match &self.file {
                    Some(file) => key_from_file(file, store).await,
                    None => key_from_database(store, now).await,
                }
            })
            .await
    }

    /// The public half, which installed products verify codes with.
    pub async fn verifying_key(
        &self,
        store: &Store,
        now: Timestamp,
    ) -> Result<VerifyingKey, DeskError> {
        Ok(self.signing_key(store, now).await?.verifying_key())
    }
}

/// The public key as `caredesk activation public-key` prints it and `activation verify
/// --public-key FILE` reads it: 64 hexadecimal digits.
pub fn public_key_text(key: &VerifyingKey) -> String {
    hex::encode(key.to_bytes())
}

/// A public key as [`public_key_text`] writes it (blanks and `#` comment lines ignored).
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let hex_digits: String = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    let bytes = hex::decode(&hex_digits)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or("a public key is 64 hexadecimal digits")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not an Ed25519 public key".to_string())
}

fn new_key() -> SigningKey {
    let mut secret = [0u8; 32];
    rand::fill(&mut secret);
    SigningKey::from_bytes(&secret)
}

async fn key_from_database(store: &Store, now: Timestamp) -> Result<SigningKey, DeskError> {
    let candidate = new_key();
    let stored = store
        .activation_key(
            &StoredKey {
                public_key: hex::encode(candidate.verifying_key().to_bytes()),
                private_key: hex::encode(candidate.to_bytes()),
            },
            now,
        )
        .await?;
    let key = signing_key_of(&stored.private_key)
        .map_err(|reason| DeskError::Unexpected(format!("the stored activation key: {reason}")))?;
    if hex::encode(key.verifying_key().to_bytes()) != stored.public_key {
        return Err(DeskError::Unexpected(
            "the stored activation key's halves do not match".into(),
        ));
    }
    Ok(key)
}

/// The key in `file`, or a new one written there. A missing file is made only while no
/// activation exists: past that, codes were signed with a key that is lost (a mistyped
/// path, a volume not mounted), and a new one would quietly stop them verifying.
async fn key_from_file(file: &Path, store: &Store) -> Result<SigningKey, DeskError> {
    let unreadable = |reason: String| {
        DeskError::Unexpected(format!("activation key file {}: {reason}", file.display()))
    };
    match std::fs::read_to_string(file) {
        Ok(text) => signing_key_of(text.trim()).map_err(unreadable),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if store.any_activation().await? {
                return Err(unreadable(
                    "missing, but activation codes were signed before: restore the file \
                     that signed them"
                        .into(),
                ));
            }
            let key = new_key();
            match write_private(file, &hex::encode(key.to_bytes())) {
                Ok(()) => {
                    tracing::info!(file = %file.display(), "made a new activation key");
                    Ok(key)
                }
                // Another instance made it meanwhile: its key is the one.
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(file)
                        .map_err(|error| unreadable(error.to_string()))?;
                    signing_key_of(text.trim()).map_err(unreadable)
                }
                Err(error) => Err(unreadable(error.to_string())),
            }
        }
        Err(error) => Err(unreadable(error.to_string())),
    }
}

fn signing_key_of(hex_digits: &str) -> Result<SigningKey, String> {
    hex::decode(hex_digits)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .map(|secret| SigningKey::from_bytes(&secret))
        .ok_or_else(|| "not 64 hexadecimal digits".to_string())
}

/// Writes a new file readable by its owner only, whole or not at all (written aside, then
/// linked into place); never over an existing one.
fn write_private(file: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let aside = file.with_extension(format!("new-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&aside).and_then(|mut handle| {
        handle.write_all(text.as_bytes())?;
        handle.write_all(b"\n")?;
        handle.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&aside, file));
    let _ = std::fs::remove_file(&aside);
    linked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_key_reads_back_as_written() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let text = format!(
            "# caredesk activation public key\n{}\n",
            public_key_text(&key)
        );
        assert_eq!(parse_public_key(&text), Ok(key));
        assert!(parse_public_key("abc").is_err());
        assert!(parse_public_key(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn a_key_file_is_written_whole_once_and_private() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let file = folder.path().join("activation.key");
        write_private(&file, &"07".repeat(32)).expect("written");
        let again = write_private(&file, &"08".repeat(32));
        assert_eq!(
            again.map_err(|error| error.kind()),
            Err(std::io::ErrorKind::AlreadyExists)
        );
        let read = std::fs::read_to_string(&file).expect("read");
        let made = signing_key_of(read.trim()).expect("a key");
        assert_eq!(made.to_bytes(), [7; 32]);
        assert_eq!(
            std::fs::read_dir(folder.path()).expect("listed").count(),
            1,
            "nothing left aside"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(signing_key_of("not a key").is_err());
    }
}
