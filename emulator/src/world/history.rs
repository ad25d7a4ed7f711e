//! Message history archives (`open_msg_svc/get_history`): the one-to-one or
//! group messages of one hour, as a gzip-compressed JSON file that the
//! emulator serves itself at `/__tim/history/<ChatType>/<YYYYMMDDHH>` (the
//! URL the reply gives). An hour's file exists once the hour is over and
//! for the retention the spec's limits give; an hour without messages has
//! none, as the service documents.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use md5::{Digest, Md5};
use serde::Serialize;
use tim_runtime::api::open_msg_svc::get_history;

use super::typed::{route, Route, Typed};
use tim_runtime::api::types::MsgBody;

use super::{datetime, Call, World};

/// The endpoint of this module.
pub static ROUTES: &[Route] = &[route!(get_history::Request, history)];

/// Seconds in an hour.
const HOUR: u64 = 3_600;

/// One message in an archive.
#[derive(Serialize)]
struct Archived<'a> {
    #[serde(rename = "From_Account")]
    from: &'a str,
    #[serde(rename = "To_Account", skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    #[serde(rename = "GroupId", skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    #[serde(rename = "MsgTimestamp")]
    time: u64,
    #[serde(rename = "MsgSeq")]
    seq: u64,
    #[serde(rename = "MsgRandom")]
    random: u64,
    #[serde(rename = "MsgBody")]
    body: &'a MsgBody,
}

#[derive(Serialize)]
struct Archive<'a> {
    #[serde(rename = "MsgList")]
    messages: Vec<Archived<'a>>,
}

/// Unix seconds of the start of the hour `YYYYMMDDHH` (UTC).
pub fn hour_start(text: &str) -> Option<u64> {
    if text.len() != 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r).and_then(|s| s.parse::<i64>().ok());
    let (y, m, d, h) = (num(0..4)?, num(4..6)?, num(6..8)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days.checked_mul(86_400)?.checked_add(h * 3_600)?;
    // A day the month does not have (31 February) does not read back.
    let start = u64::try_from(secs).ok()?;
    (datetime(start).get(..13)?
        == format!("{}-{}-{} {}", &text[0..4], &text[4..6], &text[6..8], &text[8..10]))
    .then_some(start)
}

impl World {
    /// The JSON archive of the `chat` (`C2C` or `Group`) messages sent in
    /// the hour starting at `start`; `None` when there were none.
    pub fn history_archive(&self, chat: &str, start: u64) -> Option<Vec<u8>> {
        let in_hour = |t: u64| t >= start && t < start.saturating_add(HOUR);
        let mut messages: Vec<Archived<'_>> = match chat {
            "C2C" => self
                .c2c
                .threads
                .values()
                .flat_map(|inner| inner.values())
                .flat_map(|t| t.messages.iter())
                .filter(|m| in_hour(m.time))
                .map(|m| Archived {
                    from: &m.from,
                    to: Some(&m.to),
                    group: None,
                    time: m.time,
                    seq: m.seq,
                    random: m.random,
                    body: &m.body,
                })
                .collect(),
            "Group" => self
                .groups
                .groups
                .iter()
                .flat_map(|(id, g)| g.messages.iter().map(move |m| (id, m)))
                .filter(|(_, m)| in_hour(m.time))
                .map(|(id, m)| Archived {
                    from: &m.from,
                    to: None,
                    group: Some(id),
                    time: m.time,
                    seq: m.seq,
                    random: m.random,
                    body: &m.body,
                })
                .collect(),
            _ => Vec::new(),
        };
        if messages.is_empty() {
            return None;
        }
        messages.sort_by_key(|m| (m.time, m.seq));
        serde_json::to_vec(&Archive { messages }).ok()
    }
}

/// The archive gzip-compressed, as served.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn history(w: &mut World, call: &Call<'_>, req: get_history::Request) -> Typed<get_history::Request> {
    let Some(start) = hour_start(&req.msg_time) else {
        return Err(call.refuse_named(
            "InvalidParameter",
            format!("MsgTime {} is not an hour as YYYYMMDDHH", req.msg_time),
        ));
    };
    let end = start.saturating_add(HOUR);
    if end > call.now {
        return Err(call.refuse_named("FileNotReady", "the hour is not over yet"));
    }
    if let Some(keep) = call.meta.limit("retention_days") {
        if call.now.saturating_sub(end) > keep.max.saturating_mul(86_400) {
            let info = format!("files are kept {} days", keep.max);
            return Err(super::Refusal { code: keep.code.unwrap_or(-1), info });
        }
    }
    let chat = req.chat_type.as_str();
    let Some(archive) = w.history_archive(chat, start) else {
        return Err(call.refuse_named("FileNotReady", "no message was sent in that hour"));
    };
    let gz = gzip(&archive);
    let file = get_history::HistoryFile::new()
        .url(format!("http://{}/__tim/history/{chat}/{}", call.server, req.msg_time))
        .expire_time(datetime(call.now.saturating_add(HOUR)))
        .file_size(archive.len() as u64)
        .file_md5(md5_hex(&archive))
        .gzip_size(gz.len() as u64)
        .gzip_md5(md5_hex(&gz));
    Ok(get_history::Response::new().file(vec![file]).into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{exec, exec_ok, named_code, world};
    use super::hour_start;

    #[test]
    fn hours_read_as_utc() {
        assert_eq!(hour_start("2015120121"), Some(1_449_003_600));
        assert_eq!(hour_start("1970010100"), Some(0));
        assert_eq!(hour_start("2024022923"), Some(1_709_247_600));
        for bad in ["2023022900", "2015123124x", "2015133121", "2015120124", "201512012"] {
            assert_eq!(hour_start(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_hour_with_messages_has_a_file_once_it_is_over() {
        let mut w = world(&["alice", "bob"]);
        let sent = 1_449_003_700; // 2015-12-01 21:01:40
        let msg = json!({"From_Account": "alice", "To_Account": "bob", "MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]});
        exec_ok(&mut w, "openim/sendmsg", msg, sent);
        let path = "open_msg_svc/get_history";
        let ask = json!({"ChatType": "C2C", "MsgTime": "2015120121"});
        assert_eq!(
            exec(&mut w, path, ask.clone(), sent + 60).unwrap_err().code,
            named_code(path, "FileNotReady")
        );
        let r = exec_ok(&mut w, path, ask.clone(), sent + 3_600).body();
        let file = &r["File"][0];
        assert_eq!(file["URL"], "http://127.0.0.1:8080/__tim/history/C2C/2015120121");
        assert_eq!(file["FileMD5"].as_str().unwrap().len(), 32);
        let archive = w.history_archive("C2C", 1_449_003_600).unwrap();
        assert_eq!(file["FileSize"], archive.len());
        let archive: serde_json::Value = serde_json::from_slice(&archive).unwrap();
        assert_eq!(archive["MsgList"][0]["To_Account"], "bob");
        let empty = json!({"ChatType": "Group", "MsgTime": "2015120121"});
        assert_eq!(
            exec(&mut w, path, empty, sent + 3_600).unwrap_err().code,
            named_code(path, "FileNotReady")
        );
        assert_eq!(
            exec(&mut w, path, ask, sent + 30 * 86_400).unwrap_err().code,
            named_code(path, "FileExpired")
        );
    }
}
