//! Topics of communities created with `SupportTopic: 1`: created (or
//! imported), read, modified and destroyed, each with its own messages
//! (`send_group_msg`, `import_group_msg` and `group_msg_get_simple` with a
//! `TopicId`), sequence numbers and per-member read positions.
//!
//! A topic ID is `<GroupId>@TOPIC#_<custom part>`, as the specs' `TopicId`
//! fields say; generated ones use a serial as the custom part.

use tim_runtime::api::callbacks::group::{
    after_create_topic, after_topic_destroyed, after_topic_info_changed,
};
use tim_runtime::api::group_open_http_svc::{import_topic, send_group_msg};
use tim_runtime::api::million_group_open_http_svc::{create_topic, destroy_topic, get_topic, modify_topic};
use tim_runtime::api::types::{GroupMsgFlag, GroupMuteAllMember, GroupType};
use tim_runtime::ErrorRole;

use super::super::typed::{route, Answer, Route, Typed};
use super::super::{Call, Event, Refusal, World};
use super::{Group, GroupMessage, Topic};

/// What separates a topic ID's group part from its own part.
const TOPIC_MARK: &str = "@TOPIC#_";

/// The topic endpoints.
pub static ROUTES: &[Route] = &[
    route!(create_topic::Request, create),
    route!(import_topic::Request, import),
    route!(get_topic::Request, get),
    route!(modify_topic::Request, modify),
    route!(destroy_topic::Request, destroy),
];

fn community<'w>(w: &'w mut World, call: &Call<'_>, id: &str) -> Result<&'w mut Group, Refusal> {
    let g = w.groups.get_or_refuse(call, id)?;
    if !g.support_topic {
        return Err(call
            .refuse_named("TopicsNotSupported", format!("group {id} was not created with SupportTopic 1")));
    }
    Ok(g)
}

fn group_type(g: &Group) -> GroupType {
    GroupType::from_raw(g.group_type.clone())
}

/// The fields shared by `create_topic` and `import_topic`.
struct NewTopic {
    group_id: String,
    topic_id: Option<String>,
    name: String,
    from: Option<String>,
    custom_string: Option<String>,
    face_url: Option<String>,
    notification: Option<String>,
    introduction: Option<String>,
    create_time: u64,
}

fn add(w: &mut World, call: &Call<'_>, t: NewTopic) -> Result<(String, Event), Refusal> {
    let serial = w.groups.last_serial.saturating_add(1);
    let g = community(w, call, &t.group_id)?;
    let id = match t.topic_id {
        Some(id) => {
            if !id.starts_with(&format!("{}{TOPIC_MARK}", t.group_id)) {
                return Err(call
                    .refuse_field("TopicId", format!("a topic ID starts with {}{TOPIC_MARK}", t.group_id)));
            }
            if g.topics.contains_key(&id) {
                return Err(call.refuse(ErrorRole::AlreadyExists, format!("topic {id} exists already")));
            }
            id
        }
        None => format!("{}{TOPIC_MARK}@TOPIC#{serial}", t.group_id),
    };
    let topic = Topic {
        name: t.name.clone(),
        face_url: t.face_url.unwrap_or_default(),
        notification: t.notification.unwrap_or_default(),
        introduction: t.introduction.unwrap_or_default(),
        custom_string: t.custom_string.unwrap_or_default(),
        create_time: t.create_time,
        ..Topic::default()
    };
    g.topics.insert(id.clone(), topic);
    let mut payload = after_create_topic::Payload::new(t.group_id.as_str(), call.operator)
        .topic_id(id.as_str())
        .r#type(group_type(g))
        .name(t.name);
    if let Some(owner) = t.from {
        payload = payload.owner_account(owner);
    }
    w.groups.last_serial = serial;
    Ok((id, Event::typed(&payload)))
}

fn create(w: &mut World, call: &Call<'_>, req: create_topic::Request) -> Typed<create_topic::Request> {
    let (id, event) = add(
        w,
        call,
        NewTopic {
            group_id: req.group_id,
            topic_id: req.topic_id,
            name: req.topic_name,
            from: req.from_account,
            custom_string: req.custom_string,
            face_url: req.face_url,
            notification: req.notification,
            introduction: req.introduction,
            create_time: call.now,
        },
    )?;
    Ok(Answer::with_events(create_topic::Response::new(id), vec![event]))
}

fn import(w: &mut World, call: &Call<'_>, req: import_topic::Request) -> Typed<import_topic::Request> {
    let (id, _) = add(
        w,
        call,
        NewTopic {
            group_id: req.group_id,
            topic_id: req.topic_id,
            name: req.topic_name,
            from: req.from_account,
            custom_string: req.custom_string,
            face_url: req.face_url,
            notification: req.notification,
            introduction: req.introduction,
            create_time: req.create_time.filter(|t| *t > 0).unwrap_or(call.now),
        },
    )?;
    // Imports are migrations: no callback.
    Ok(import_topic::Response::new(id).into())
}

fn get(w: &mut World, call: &Call<'_>, req: get_topic::Request) -> Typed<get_topic::Request> {
    let deleted = call.refuse_named("TopicDeleted", "").code;
    let g = community(w, call, &req.group_id)?;
    let ids: Vec<String> = match req.topic_id_list.as_deref() {
        Some(ids) if !ids.is_empty() => ids.to_vec(),
        _ => g.topics.keys().cloned().collect(),
    };
    let wants = |field: &str| {
        req.response_filter.as_ref().is_none_or(|f| f.is_empty() || f.iter().any(|x| x == field))
    };
    let flag = g.member(&req.from_account).map(|m| m.msg_flag.clone());
    let muted = g.muted_until(&req.from_account, call.now).unwrap_or(0);
    let list = ids
        .iter()
        .map(|id| {
            let Some(t) = g.topics.get(id) else {
                return get_topic::TopicAndSelfInfo::new()
                    .error_code(deleted)
                    .error_info(format!("topic {id} does not exist"));
            };
            let mut info = get_topic::TopicInfo::new().topic_id(id.as_str()).group_id(req.group_id.as_str());
            if wants("TopicName") {
                info = info.topic_name(t.name.as_str());
            }
            if wants("FaceUrl") {
                info = info.face_url(t.face_url.as_str());
            }
            if wants("Notification") {
                info = info.notification(t.notification.as_str());
            }
            if wants("Introduction") {
                info = info.introduction(t.introduction.as_str());
            }
            if wants("CustomString") {
                info = info.custom_string(t.custom_string.as_str());
            }
            if wants("CreateTime") {
                info = info.create_time(t.create_time);
            }
            if wants("LastMsgTime") {
                info = info.last_msg_time(t.last_msg_time);
            }
            if wants("NextMsgSeq") {
                info = info.next_msg_seq(t.msg_seq.saturating_add(1));
            }
            if wants("MuteAllMember") {
                info = info.mute_all_member(if t.mute_all {
                    GroupMuteAllMember::On
                } else {
                    GroupMuteAllMember::Off
                });
            }
            let mut me = get_topic::TopicSelfInfo::new()
                .shut_up_time(muted)
                .msg_seq(t.reads.get(&req.from_account).copied().unwrap_or(0));
            if let Some(f) = &flag {
                me = me.msg_flag(GroupMsgFlag::from_raw(f.clone()));
            }
            get_topic::TopicAndSelfInfo::new().error_code(0i64).error_info("").self_info(me).topic_info(info)
        })
        .collect::<Vec<_>>();
    Ok(get_topic::Response::new().topic_and_self_info(list).into())
}

fn modify(w: &mut World, call: &Call<'_>, req: modify_topic::Request) -> Typed<modify_topic::Request> {
    let g = community(w, call, &req.group_id)?;
    let kind = group_type(g);
    let Some(t) = g.topics.get_mut(&req.topic_id) else {
        return Err(call.refuse_named("TopicDeleted", format!("topic {} does not exist", req.topic_id)));
    };
    let mut payload =
        after_topic_info_changed::Payload::new(req.group_id.as_str(), call.operator).r#type(kind);
    if let Some(v) = req.topic_name {
        t.name = v.clone();
        payload = payload.name(v);
    }
    if let Some(v) = req.introduction {
        t.introduction = v.clone();
        payload = payload.introduction(v);
    }
    if let Some(v) = req.notification {
        t.notification = v.clone();
        payload = payload.notification(v);
    }
    if let Some(v) = req.face_url {
        t.face_url = v.clone();
        payload = payload.face_url(v);
    }
    if let Some(v) = req.custom_string {
        t.custom_string = v;
    }
    if let Some(m) = req.mute_all_member {
        t.mute_all = m == GroupMuteAllMember::On;
    }
    Ok(Answer::with_events(modify_topic::Response::new(), vec![Event::typed(&payload)]))
}

fn destroy(w: &mut World, call: &Call<'_>, req: destroy_topic::Request) -> Typed<destroy_topic::Request> {
    let gone = call.refuse_named("TopicAlreadyDeleted", "").code;
    let g = community(w, call, &req.group_id)?;
    let mut removed = Vec::new();
    let results = req
        .topic_id_list
        .iter()
        .map(|id| match g.topics.remove(id) {
            Some(_) => {
                removed.push(id.clone());
                destroy_topic::DestroyResult::new(id.as_str()).error_code(0i64).error_info("")
            }
            None => {
                destroy_topic::DestroyResult::new(id.as_str()).error_code(gone).error_info("no such topic")
            }
        })
        .collect::<Vec<_>>();
    let mut events = Vec::new();
    if !removed.is_empty() {
        let payload = after_topic_destroyed::Payload::new(req.group_id.as_str())
            .r#type(group_type(g))
            .topic_id_list(removed);
        events.push(Event::typed(&payload));
    }
    Ok(Answer::with_events(destroy_topic::Response::new().destroy_result_item(results), events))
}

fn topic_mut<'g>(g: &'g mut Group, call: &Call<'_>, id: &str) -> Result<&'g mut Topic, Refusal> {
    let supported = g.support_topic;
    match g.topics.get_mut(id) {
        Some(t) if supported => Ok(t),
        _ => Err(call.refuse(ErrorRole::GroupNotFound, format!("topic {id} does not exist"))),
    }
}

/// `send_group_msg` with a `TopicId`: the message goes to the topic.
pub(super) fn send(
    g: &mut Group,
    call: &Call<'_>,
    topic: &str,
    req: &send_group_msg::Request,
    from: &str,
) -> Result<u64, Refusal> {
    let t = topic_mut(g, call, topic)?;
    if t.mute_all && from != call.operator {
        return Err(call.refuse(ErrorRole::PermissionDenied, "the whole topic is muted"));
    }
    let seq = t.msg_seq.saturating_add(1);
    t.msg_seq = seq;
    t.last_msg_time = call.now;
    if req.online_only_flag != Some(1) {
        t.messages.push(GroupMessage::sent(req, seq, from, call.now));
    }
    t.reads.insert(from.to_owned(), seq);
    Ok(seq)
}

/// `group_msg_get_simple` with a `TopicId`: the topic's history, newest first.
pub(super) fn history<'g>(
    g: &'g mut Group,
    call: &Call<'_>,
    topic: &str,
    upto: Option<u64>,
    with_recalled: bool,
    wanted: usize,
) -> Result<Vec<&'g GroupMessage>, Refusal> {
    let t = topic_mut(g, call, topic)?;
    let upto = upto.unwrap_or(t.msg_seq);
    Ok(t.messages
        .iter()
        .rev()
        .filter(|m| m.seq <= upto && (with_recalled || !m.recalled))
        .take(wanted)
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::super::testing::{exec, exec_ok, named_code, world};

    const NOW: u64 = 1_700_000_000;
    const GID: &str = "@TGS#_c1";

    fn community(support: u8) -> super::World {
        let mut w = world(&["alice", "bob"]);
        let create = json!({"Owner_Account": "alice", "Type": "Community", "Name": "c", "GroupId": GID,
            "SupportTopic": support, "MemberList": [{"Member_Account": "bob"}]});
        exec_ok(&mut w, "group_open_http_svc/create_group", create, NOW);
        w
    }

    #[test]
    fn topics_created_listed_modified_destroyed() {
        let mut w = community(1);
        let done = exec_ok(
            &mut w,
            "million_group_open_http_svc/create_topic",
            json!({"GroupId": GID, "TopicName": "news"}),
            NOW,
        );
        assert_eq!(done.events[0].command, "Group.CallbackAfterCreateTopic");
        let id = done.body()["TopicId"].as_str().unwrap().to_owned();
        assert!(id.starts_with("@TGS#_c1@TOPIC#_"), "{id}");
        let custom = format!("{GID}@TOPIC#_chat");
        exec_ok(
            &mut w,
            "million_group_open_http_svc/create_topic",
            json!({"GroupId": GID, "TopicName": "chat", "TopicId": custom}),
            NOW,
        );
        let taken = exec(
            &mut w,
            "million_group_open_http_svc/create_topic",
            json!({"GroupId": GID, "TopicName": "x", "TopicId": custom}),
            NOW,
        );
        assert!(taken.is_err());
        let all = exec_ok(
            &mut w,
            "million_group_open_http_svc/get_topic",
            json!({"GroupId": GID, "From_Account": "bob"}),
            NOW,
        )
        .body();
        assert_eq!(all["TopicAndSelfInfo"].as_array().unwrap().len(), 2);
        let modify = json!({"GroupId": GID, "TopicId": id, "TopicName": "headlines", "MuteAllMember": "On"});
        let done = exec_ok(&mut w, "million_group_open_http_svc/modify_topic", modify, NOW);
        assert_eq!(done.events[0].payload["Name"], "headlines");
        let one = exec_ok(
            &mut w,
            "million_group_open_http_svc/get_topic",
            json!({"GroupId": GID, "From_Account": "bob", "TopicIdList": [id]}),
            NOW,
        )
        .body();
        assert_eq!(one["TopicAndSelfInfo"][0]["TopicInfo"]["TopicName"], "headlines");
        assert_eq!(one["TopicAndSelfInfo"][0]["TopicInfo"]["MuteAllMember"], "On");
        let r = exec_ok(
            &mut w,
            "million_group_open_http_svc/destroy_topic",
            json!({"GroupId": GID, "TopicIdList": [id, "nope"]}),
            NOW,
        )
        .body();
        assert_eq!(r["DestroyResultItem"][0]["ErrorCode"], 0);
        assert_ne!(r["DestroyResultItem"][1]["ErrorCode"], 0);
        let left = exec_ok(
            &mut w,
            "million_group_open_http_svc/get_topic",
            json!({"GroupId": GID, "From_Account": "bob"}),
            NOW,
        )
        .body();
        assert_eq!(left["TopicAndSelfInfo"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn topic_messages_have_their_own_sequence_history_and_unread() {
        let mut w = community(1);
        let id = exec_ok(
            &mut w,
            "million_group_open_http_svc/create_topic",
            json!({"GroupId": GID, "TopicName": "t"}),
            NOW,
        )
        .body()["TopicId"]
            .as_str()
            .unwrap()
            .to_owned();
        let send = |text: &str| {
            json!({"GroupId": GID, "TopicId": id, "Random": 1, "From_Account": "alice",
            "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]})
        };
        for t in ["one", "two", "three"] {
            exec_ok(&mut w, "group_open_http_svc/send_group_msg", send(t), NOW);
        }
        // The group's own sequence is untouched.
        assert_eq!(w.groups.get(GID).unwrap().latest_seq(), 0);
        let h = exec_ok(
            &mut w,
            "group_open_http_svc/group_msg_get_simple",
            json!({"GroupId": GID, "TopicId": id, "ReqMsgNumber": 2}),
            NOW,
        )
        .body();
        let seqs: Vec<u64> =
            h["RspMsgList"].as_array().unwrap().iter().map(|m| m["MsgSeq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, [3, 2]);
        let info = exec_ok(
            &mut w,
            "million_group_open_http_svc/get_topic",
            json!({"GroupId": GID, "From_Account": "bob", "TopicIdList": [id]}),
            NOW,
        )
        .body();
        let t = &info["TopicAndSelfInfo"][0];
        let unread =
            t["TopicInfo"]["NextMsgSeq"].as_u64().unwrap() - 1 - t["SelfInfo"]["MsgSeq"].as_u64().unwrap();
        assert_eq!(unread, 3);
        let sender = exec_ok(
            &mut w,
            "million_group_open_http_svc/get_topic",
            json!({"GroupId": GID, "From_Account": "alice", "TopicIdList": [id]}),
            NOW,
        )
        .body();
        assert_eq!(sender["TopicAndSelfInfo"][0]["SelfInfo"]["MsgSeq"], 3);
    }

    #[test]
    fn a_community_without_topics_refuses_them() {
        let mut w = community(0);
        let r = exec(
            &mut w,
            "million_group_open_http_svc/create_topic",
            json!({"GroupId": GID, "TopicName": "t"}),
            NOW,
        );
        assert_eq!(
            r.unwrap_err().code,
            named_code("million_group_open_http_svc/create_topic", "TopicsNotSupported")
        );
    }
}
