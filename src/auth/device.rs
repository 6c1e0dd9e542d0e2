//! Known devices (S-AU-3): after a successful sign-in the client gets a device token signed
//! with the server's key, naming the device and the account. Presented at a later sign-in, it
//! lets that device be counted apart from failures elsewhere, so an attack on the account
//! cannot lock its owner out.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use uuid::Uuid;

use crate::ids::UserId;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &SecretString, device: Uuid, user: UserId) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(key.expose_secret().as_bytes()).ok()?;
    // Domain separation: this key signs other things too.
    mac.update(b"sunbridge-device-v1|");
    mac.update(device.as_bytes());
    mac.update(user.0.as_bytes());
    Some(mac)
}

/// `<device id>.<hex HMAC-SHA256>`.
pub fn issue(key: &SecretString, device: Uuid, user: UserId) -> Option<String> {
    let tag = mac(key, device, user)?.finalize().into_bytes();
    Some(format!("{device}.{}", hex::encode(tag)))
}

/// The device id, if `token` was issued by us to a device of `user`.
pub fn verify(key: &SecretString, token: &str, user: UserId) -> Option<Uuid> {
    let (device, tag) = token.split_once('.')?;
    let device = Uuid::parse_str(device).ok()?;
    let tag = hex::decode(tag).ok()?;
    // verify_slice compares in constant time.
    mac(key, device, user)?.verify_slice(&tag).ok()?;
    Some(device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_token_verifies_only_for_its_account_and_key() {
        let key = SecretString::from("k".repeat(32));
        let (alice, bob) = (UserId::new(), UserId::new());
        let device = Uuid::new_v4();
        let token = issue(&key, device, alice).unwrap();
        assert_eq!(verify(&key, &token, alice), Some(device));
        assert_eq!(verify(&key, &token, bob), None);
        assert_eq!(verify(&SecretString::from("x".repeat(32)), &token, alice), None);
        let forged = format!("{}.{}", Uuid::new_v4(), token.split_once('.').unwrap().1);
        assert_eq!(verify(&key, &forged, alice), None);
        assert_eq!(verify(&key, "garbage", alice), None);
    }
}
