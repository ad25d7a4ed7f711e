//! Message extensions: the key values of a one-to-one message, with typed
//! handlers.

use tim_runtime::api::callbacks::c2c::after_c2c_msg_extension as ext_changed;
use tim_runtime::api::openim_msg_ext_http_svc::{get_key_values, set_key_values};
use tim_runtime::api::types::{MsgExtOperateType, MsgExtension, MsgExtensionResult};
use tim_runtime::ErrorRole;

use super::{C2cMessage, ExtensionPair};
use crate::world::typed::{route, Answer, Route, Typed};
use crate::world::{unix_millis, Call, Event, Refusal, World};

/// Most extension pairs one `get_key_values` page returns (the documented 200).
const EXTENSION_PAGE: usize = 200;

/// The extension endpoints.
pub static ROUTES: &[Route] =
    &[route!(set_key_values::Request, set_pairs), route!(get_key_values::Request, get_pairs)];

/// The message an extension call names: by `To_Account` and `MsgKey`, and
/// `From_Account` when given.
fn target<'w>(
    w: &'w mut World,
    call: &Call<'_>,
    from: Option<&str>,
    to: &str,
    key: &str,
) -> Result<&'w mut C2cMessage, Refusal> {
    let found = w
        .c2c
        .threads
        .values_mut()
        .flat_map(|inner| inner.values_mut())
        .flat_map(|t| t.messages.iter_mut())
        .find(|m| m.key == key && m.to == to && from.is_none_or(|f| m.from == f) && !m.recalled);
    found.ok_or_else(|| call.refuse(ErrorRole::MessageNotFound, format!("no message {key} to {to}")))
}

fn set_pairs(w: &mut World, call: &Call<'_>, req: set_key_values::Request) -> Typed<set_key_values::Request> {
    if req.operate_type != MsgExtOperateType::Clear && req.extension_list.is_none() {
        return Err(call.refuse_field("ExtensionList", "ExtensionList is required to set or delete pairs"));
    }
    let items = req.extension_list.unwrap_or_default();
    let m = target(w, call, req.from_account.as_deref(), &req.to_account, &req.msg_key)?;
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
    match req.operate_type {
        MsgExtOperateType::Clear => {
            ext.pairs.clear();
            ext.clear_seq = seq;
        }
        ref op => {
            for item in &items {
                let value = if *op == MsgExtOperateType::Set { item.value.clone() } else { String::new() };
                if *op == MsgExtOperateType::Set {
                    ext.pairs.insert(item.key.clone(), ExtensionPair { value: value.clone(), seq });
                } else {
                    ext.pairs.remove(&item.key);
                }
                let mut pair = MsgExtension::new(item.key.as_str(), value);
                pair.seq = Some(seq);
                changed.push(pair);
            }
        }
    }
    let results: Vec<MsgExtensionResult> =
        changed.iter().map(|p| MsgExtensionResult::new().error_code(0).extension(p.clone())).collect();
    let payload = ext_changed::Payload::new(m.from.as_str(), m.to.as_str())
        .msg_key(m.key.as_str())
        .operate_type(req.operate_type)
        .extension_list(changed)
        .seq(seq)
        .event_time(unix_millis());
    Ok(Answer::with_events(
        set_key_values::Response::new().extension_list(results),
        vec![Event::typed(&payload)],
    ))
}

fn get_pairs(w: &mut World, call: &Call<'_>, req: get_key_values::Request) -> Typed<get_key_values::Request> {
    let start = req.start_seq.unwrap_or(0);
    let m = target(w, call, req.from_account.as_deref(), &req.to_account, &req.msg_key)?;
    let ext = &m.extension;
    let mut pairs: Vec<(&String, &ExtensionPair)> =
        ext.pairs.iter().filter(|(_, p)| p.seq >= start).collect();
    pairs.sort_by(|a, b| a.1.seq.cmp(&b.1.seq).then_with(|| a.0.cmp(b.0)));
    let list: Vec<MsgExtension> = pairs
        .iter()
        .take(EXTENSION_PAGE)
        .map(|(k, p)| {
            let mut e = MsgExtension::new(k.as_str(), p.value.as_str());
            e.seq = Some(p.seq);
            e
        })
        .collect();
    Ok(get_key_values::Response::new()
        .extension_list(list)
        .complete_flag(u32::from(pairs.len() <= EXTENSION_PAGE))
        .latest_seq(ext.latest_seq)
        .clear_seq(ext.clear_seq)
        .into())
}
