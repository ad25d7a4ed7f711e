//! Issues UserSigs for a client app: your backend signs a short-lived
//! UserSig per user with the app's secret key and hands it to the client
//! SDK at login; the secret key never leaves the backend. The same
//! algorithm as Tencent's `TLSSigAPIv2` for Python (`gen_sig`) and
//! TypeScript/Node (`genUserSig`), so sigs from either verify here and the
//! other way round.
//!
//! ```text
//! cargo run -p tim-cli --example usersigs
//! ```

use std::time::Duration;

use tim_runtime::UserSigKey;

const SDKAPPID: u64 = 1_400_000_000;

fn issue(key: &UserSigKey, user: &str) -> String {
    // One day; the client logs in again with a fresh sig after that.
    key.gen(user, Duration::from_secs(86_400))
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    // In production the key comes from your secret store (TIM_SECRET_KEY).
    let secret = std::env::var("TIM_SECRET_KEY").unwrap_or_else(|_| "example-secret-key".to_owned());
    let key = UserSigKey::new(SDKAPPID, &secret);
    for user in ["alice", "bob"] {
        let sig = issue(&key, user);
        let checked = key.verify(user, &sig)?;
        println!("{user}: {} characters, valid for {} s", sig.len(), checked.expire);
    }
    Ok(())
}

#[test]
fn issued_sigs_verify_for_their_user_only() {
    let key = UserSigKey::new(SDKAPPID, "example-secret-key");
    let sig = issue(&key, "alice");
    assert!(key.verify("alice", &sig).is_ok());
    assert!(key.verify("bob", &sig).is_err());
    assert!(UserSigKey::new(SDKAPPID, "another-key").verify("alice", &sig).is_err());
}
