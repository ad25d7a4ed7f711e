//! Message extensions: the key values of a one-to-one message.

use serde_json::{json, Value};
use tim_runtime::ErrorRole;

use super::{C2cMessage, ExtensionPair};
use crate::world::{unix_millis, Call, Done, Handled, Refusal, World};

/// Most extension pairs one `get_key_values` page returns (the documented 200).
const EXTENSION_PAGE: usize = 200;

/// The message an extension call names: by `To_Account` and `MsgKey`, and
/// `From_Account` when given.
fn extension_target<'w>(w: &'w mut World, call: &Call<'_>) -> Result<&'w mut C2cMessage, Refusal> {
    let from = call.str("From_Account");
    let to = call.str("To_Account").unwrap_or_default();
    let key = call.str("MsgKey").unwrap_or_default();
    let found = w
        .c2c
        .threads
        .values_mut()
        .flat_map(|inner| inner.values_mut())
        .flat_map(|t| t.messages.iter_mut())
        .find(|m| m.key == key && m.to == to && from.is_none_or(|f| m.from == f) && !m.recalled);
    found.ok_or_else(|| call.refuse(ErrorRole::MessageNotFound, format!("no message {key} to {to}")))
}

pub(super) fn set_key_values(w: &mut World, call: &Call<'_>) -> Handled {
    let op = call.u64("OperateType").unwrap_or(0);
    let items = call.body.get("ExtensionList").and_then(Value::as_array).cloned();
    if op != 3 && items.is_none() {
        return Err(call.refuse_field("ExtensionList", "ExtensionList is required to set or delete pairs"));
    }
    let now_ms = unix_millis();
    let m = extension_target(w, call)?;
    if !m.supports_extension {
        return Err(call.refuse(
            ErrorRole::PermissionDenied,
            format!("message {} was not sent with SupportMessageExtension", m.key),
        ));
    }
    let ext = &mut m.extension;
    ext.latest_seq = ext.latest_seq.saturating_add(1);
    let seq = ext.latest_seq;
    let mut changed = Vec::new();
    match op {
        3 => {
            ext.pairs.clear();
            ext.clear_seq = seq;
        }
        _ => {
            for item in items.unwrap_or_default() {
                let Some(k) = item.get("Key").and_then(Value::as_str) else { continue };
                let value = match op {
                    1 => item.get("Value").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    _ => String::new(),
                };
                if op == 1 {
                    ext.pairs.insert(k.to_owned(), ExtensionPair { value: value.clone(), seq });
                } else {
                    ext.pairs.remove(k);
                }
                changed.push(json!({"Key": k, "Value": value, "Seq": seq}));
            }
        }
    }
    let event = json!({
        "From_Account": m.from,
        "To_Account": m.to,
        "MsgKey": m.key,
        "OperateType": op,
        "ExtensionList": changed,
        "Seq": seq,
        "EventTime": now_ms,
    });
    let results: Vec<Value> = changed.iter().map(|p| json!({"ErrorCode": 0, "Extension": p})).collect();
    Ok(Done::reply(json!({"ExtensionList": results})).event("C2C.CallbackAfterC2CMsgExtension", event))
}

pub(super) fn get_key_values(w: &mut World, call: &Call<'_>) -> Handled {
    let start = call.u64("StartSeq").unwrap_or(0);
    let m = extension_target(w, call)?;
    let ext = &m.extension;
    let mut pairs: Vec<(&String, &ExtensionPair)> =
        ext.pairs.iter().filter(|(_, p)| p.seq >= start).collect();
    pairs.sort_by(|a, b| a.1.seq.cmp(&b.1.seq).then_with(|| a.0.cmp(b.0)));
    let complete = pairs.len() <= EXTENSION_PAGE;
    let list: Vec<Value> = pairs
        .iter()
        .take(EXTENSION_PAGE)
        .map(|(k, p)| json!({"Key": k, "Value": p.value, "Seq": p.seq}))
        .collect();
    Ok(Done::reply(json!({
        "ExtensionList": list,
        "CompleteFlag": u32::from(complete),
        "LatestSeq": ext.latest_seq,
        "ClearSeq": ext.clear_seq,
    })))
}
