//! Encrypting fields and files at rest (S-CR-3) with XChaCha20-Poly1305 under the key ring's
//! active data key. A sealed field is text: `enc:v1:<key id>:<base64 of nonce ‖ ciphertext>`,
//! so it fits the column it replaces and names the key that opens it. The field's name is the
//! associated data: a ciphertext moved to another column does not open.
//!
//! Values written before encryption was introduced are read as they are; `sunbridge keys
//! rotate` encrypts them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use rand::rngs::OsRng;
use sea_orm::ConnectionTrait;

use super::keys;

const PREFIX: &str = "enc:v1:";
const FILE_MAGIC: &[u8; 4] = b"SBE1";

/// What is encrypted: the associated data of each field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    SiteAddress,
    /// A gate code is as private as the address it opens.
    SiteAccessNotes,
    UserPhone,
    JobNote,
    TotpSecret,
    Photo,
    WebhookSecret,
    /// A queued message's text: verification, reset and invitation links carry raw tokens.
    MailBody,
    /// A device's push endpoint and auth secret: either lets anyone push to the device.
    PushEndpoint,
    PushAuth,
}

impl Field {
    fn aad(self) -> &'static [u8] {
        match self {
            Field::SiteAddress => b"sites.address",
            Field::SiteAccessNotes => b"sites.access_notes",
            Field::UserPhone => b"users.phone",
            Field::JobNote => b"job_events.note",
            Field::TotpSecret => b"mfa_totp.secret_base32",
            Field::Photo => b"job_photos.file",
            Field::WebhookSecret => b"webhook_endpoints.secret",
            Field::MailBody => b"mail_outbox.body_text",
            Field::PushEndpoint => b"push_subscriptions.endpoint",
            Field::PushAuth => b"push_subscriptions.auth",
        }
    }
}

fn encrypt(key: &keys::Key, field: Field, plain: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut nonce);
    let sealed = XChaCha20Poly1305::new((&**key).into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: field.aad(),
            },
        )
        .map_err(|_| anyhow::anyhow!("encryption failed"))?;
    Ok([nonce.as_slice(), &sealed].concat())
}

fn decrypt(key: &keys::Key, field: Field, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(sealed.len() > 24, "a sealed value is too short");
    let (nonce, body) = sealed.split_at(24);
    XChaCha20Poly1305::new((&**key).into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: field.aad(),
            },
        )
        .map_err(|_| anyhow::anyhow!("a sealed value does not open: wrong key or altered"))
}

/// Is `stored` sealed, and under which key?
pub fn key_of(stored: &str) -> Option<&str> {
    stored.strip_prefix(PREFIX)?.split(':').next()
}

/// Encrypts `plain` for `field` under the active key.
pub async fn seal<C: ConnectionTrait>(conn: &C, field: Field, plain: &str) -> anyhow::Result<String> {
    let (id, key) = keys::active(conn).await?;
    seal_with(&id, &key, field, plain)
}

pub(crate) fn seal_with(id: &str, key: &keys::Key, field: Field, plain: &str) -> anyhow::Result<String> {
    Ok(format!(
        "{PREFIX}{id}:{}",
        B64.encode(encrypt(key, field, plain.as_bytes())?)
    ))
}

/// Decrypts a stored value of `field` (a value stored before encryption comes back as is).
pub async fn open<C: ConnectionTrait>(conn: &C, field: Field, stored: &str) -> anyhow::Result<String> {
    let Some(rest) = stored.strip_prefix(PREFIX) else {
        return Ok(stored.to_owned());
    };
    let (id, body) = rest
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("a sealed value is malformed"))?;
    let key = keys::key(conn, id).await?;
    let sealed = B64
        .decode(body)
        .map_err(|_| anyhow::anyhow!("a sealed value is not base64"))?;
    String::from_utf8(decrypt(&key, field, &sealed)?)
        .map_err(|_| anyhow::anyhow!("a sealed value is not text"))
}

pub async fn seal_opt<C: ConnectionTrait>(
    conn: &C,
    field: Field,
    plain: Option<&str>,
) -> anyhow::Result<Option<String>> {
    match plain {
        Some(p) => Ok(Some(seal(conn, field, p).await?)),
        None => Ok(None),
    }
}

pub async fn open_opt<C: ConnectionTrait>(
    conn: &C,
    field: Field,
    stored: Option<&str>,
) -> anyhow::Result<Option<String>> {
    match stored {
        Some(s) => Ok(Some(open(conn, field, s).await?)),
        None => Ok(None),
    }
}

/// Encrypts a file: `SBE1`, the key id's length and bytes, then nonce ‖ ciphertext. Answers the
/// bytes and the key id (kept with the file's row, so rotation knows what still uses a key).
pub async fn seal_file<C: ConnectionTrait>(conn: &C, plain: &[u8]) -> anyhow::Result<(Vec<u8>, String)> {
    let (id, key) = keys::active(conn).await?;
    Ok((seal_file_with(&id, &key, plain)?, id))
}

pub(crate) fn seal_file_with(id: &str, key: &keys::Key, plain: &[u8]) -> anyhow::Result<Vec<u8>> {
    let id_bytes = id.as_bytes();
    let len = u8::try_from(id_bytes.len()).map_err(|_| anyhow::anyhow!("key id too long"))?;
    let mut out = Vec::with_capacity(plain.len() + 64);
    out.extend_from_slice(FILE_MAGIC);
    out.push(len);
    out.extend_from_slice(id_bytes);
    out.extend_from_slice(&encrypt(key, Field::Photo, plain)?);
    Ok(out)
}

/// The key id a sealed file names, if it is sealed.
pub fn file_key_of(sealed: &[u8]) -> Option<&str> {
    let rest = sealed.strip_prefix(FILE_MAGIC)?;
    let (&len, rest) = rest.split_first()?;
    std::str::from_utf8(rest.get(..len as usize)?).ok()
}

/// Decrypts a file sealed by `seal_file` (a file stored before encryption comes back as is).
pub async fn open_file<C: ConnectionTrait>(conn: &C, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
    let Some(id) = file_key_of(sealed) else {
        return Ok(sealed.to_vec());
    };
    let body = &sealed[FILE_MAGIC.len() + 1 + id.len()..];
    let key = keys::key(conn, id).await?;
    decrypt(&key, Field::Photo, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    #[test]
    fn fields_open_only_with_their_key_and_their_field() {
        let key = Zeroizing::new([3u8; 32]);
        let sealed = seal_with("k1", &key, Field::SiteAddress, "1200 Elm Street").unwrap();
        assert!(sealed.starts_with("enc:v1:k1:"));
        assert!(!sealed.contains("Elm"));
        assert_eq!(key_of(&sealed), Some("k1"));
        let body = B64.decode(sealed.rsplit(':').next().unwrap()).unwrap();
        assert_eq!(
            decrypt(&key, Field::SiteAddress, &body).unwrap(),
            b"1200 Elm Street"
        );
        assert!(
            decrypt(&key, Field::UserPhone, &body).is_err(),
            "moved to another column"
        );
        assert!(decrypt(&Zeroizing::new([4u8; 32]), Field::SiteAddress, &body).is_err());
        let mut altered = body.clone();
        altered[30] ^= 1;
        assert!(decrypt(&key, Field::SiteAddress, &altered).is_err());
        // The same value twice seals differently (random nonces).
        assert_ne!(
            sealed,
            seal_with("k1", &key, Field::SiteAddress, "1200 Elm Street").unwrap()
        );
    }

    #[test]
    fn files_carry_their_key_id() {
        let key = Zeroizing::new([5u8; 32]);
        let sealed = seal_file_with("0199-key", &key, b"\xff\xd8jpeg bytes").unwrap();
        assert_eq!(file_key_of(&sealed), Some("0199-key"));
        assert!(!sealed.windows(10).any(|w| w == b"jpeg bytes"));
        assert_eq!(file_key_of(b"\xff\xd8plain"), None);
    }
}
