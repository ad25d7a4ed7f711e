//! Bench 3: UserSig generation, verification, and the cached lookup every
//! request makes.
//!
//! Baselines: generation and verification written by hand the way the
//! official TLSSigAPIv2 libraries do it (HMAC-SHA256, JSON, zlib, base64);
//! for the cached lookup, signing a fresh sig per request, which is what the
//! cache saves.

mod common;

use std::hint::black_box;
use std::io::{Read, Write};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tim_core::bench_support::cached_sig;
use tim_core::{Client, UserSigKey};

const APPID: u64 = 1_400_000_000;
const SECRET: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const ID: &str = "administrator";
const EXPIRE: u64 = 86_400;

fn hand_mac(time: u64) -> String {
    let content =
        format!("TLS.identifier:{ID}\nTLS.sdkappid:{APPID}\nTLS.time:{time}\nTLS.expire:{EXPIRE}\n");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(content.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

fn hand_gen(time: u64) -> String {
    let json = format!(
        r#"{{"TLS.ver":"2.0","TLS.identifier":"{ID}","TLS.sdkappid":{APPID},"TLS.expire":{EXPIRE},"TLS.time":{time},"TLS.sig":"{}"}}"#,
        hand_mac(time)
    );
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(json.as_bytes()).unwrap();
    STANDARD.encode(enc.finish().unwrap()).replace('+', "*").replace('/', "-").replace('=', "_")
}

fn hand_verify(sig: &str) -> bool {
    let b64 = sig.replace('*', "+").replace('-', "/").replace('_', "=");
    let Ok(zipped) = STANDARD.decode(b64) else { return false };
    let mut json = Vec::new();
    if flate2::read::ZlibDecoder::new(&zipped[..]).read_to_end(&mut json).is_err() {
        return false;
    }
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&json) else { return false };
    let time = doc["TLS.time"].as_u64().unwrap_or(0);
    doc["TLS.identifier"] == ID
        && doc["TLS.sdkappid"].as_u64() == Some(APPID)
        && doc["TLS.sig"].as_str() == Some(hand_mac(time).as_str())
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn main() {
    let key = UserSigKey::new(APPID, SECRET);
    let client = Client::builder(APPID, ID, SECRET).base_url("http://127.0.0.1:1").build().unwrap();
    let sig = key.gen(ID, Duration::from_secs(EXPIRE));
    assert!(hand_verify(&sig), "hand-written verification accepts our sig");
    key.verify(ID, &hand_gen(now())).expect("we accept the hand-written sig");
    key.verify(ID, &cached_sig(&client)).expect("the cached sig is valid");

    let mut c = common::criterion();
    let mut g = c.benchmark_group("usersig");
    g.bench_function("gen", |b| b.iter(|| key.gen(black_box(ID), Duration::from_secs(EXPIRE))));
    g.bench_function("gen_baseline", |b| b.iter(|| hand_gen(black_box(now()))));
    g.bench_function("verify", |b| b.iter(|| key.verify(black_box(ID), black_box(&sig)).unwrap()));
    g.bench_function("verify_baseline", |b| b.iter(|| assert!(hand_verify(black_box(&sig)))));
    g.bench_function("cached", |b| b.iter(|| cached_sig(black_box(&client))));
    g.finish();
    c.final_summary();
    if !common::measuring() {
        return;
    }
    let (gen, gen_base) = common::paired_ns(
        || drop(black_box(key.gen(black_box(ID), Duration::from_secs(EXPIRE)))),
        || drop(black_box(hand_gen(black_box(now())))),
        1.0,
    );
    let (verify, verify_base) = common::paired_ns(
        || drop(black_box(key.verify(black_box(ID), black_box(&sig)).unwrap())),
        || assert!(hand_verify(black_box(&sig))),
        1.0,
    );
    let cached = common::single_ns(|| drop(black_box(cached_sig(black_box(&client)))), 1.0);
    let f = common::fmt_ns;
    common::info("3 UserSig", "generate", &f(gen), &f(gen_base), gen / gen_base);
    common::info("3 UserSig", "verify", &f(verify), &f(verify_base), verify / verify_base);
    common::report(
        "3 UserSig",
        "cached sig per request (baseline: signing per request)",
        &f(cached),
        &f(gen),
        cached / gen,
        "< 100 ns",
        cached < 100.0,
    );
}
