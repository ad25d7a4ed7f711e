//! Content moderation: the cloud keyword libraries and the local word list
//! (`im_msg_audit_mgr`), and the verdicts of `content_moderation` and
//! `batch_content_moderation`, which judge text against them.
//!
//! Libraries are made in the console, not through the API, so the first
//! keyword added to an unknown `LibID` creates that library. How verdicts
//! are reached is in the `content_moderation` spec's note.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tim_runtime::api::im_msg_audit::{batch_content_moderation as batch, content_moderation as single};
use tim_runtime::api::im_msg_audit_mgr::{
    add_cloud_audit_keywords as add_cloud, add_local_audit_keywords as add_local,
    delete_cloud_audit_keywords as delete_cloud, delete_local_audit_keywords as delete_local,
    get_cloud_audit_keywords as get_cloud, get_cloud_audit_keywords_ids as get_libs,
    get_local_audit_keywords as get_local,
};

use super::typed::{route, Route, Typed};
use super::{datetime, Call, World};

/// The endpoints of this family.
pub static ROUTES: &[Route] = &[
    route!(add_cloud::Request, add_cloud_keywords),
    route!(get_cloud::Request, get_cloud_keywords),
    route!(get_libs::Request, get_libraries),
    route!(delete_cloud::Request, delete_cloud_keywords),
    route!(add_local::Request, add_local_words),
    route!(get_local::Request, get_local_words),
    route!(delete_local::Request, delete_local_words),
    route!(single::Request, moderate),
    route!(batch::Request, moderate_batch),
];

/// The app's moderation keywords.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Moderation {
    /// Cloud keyword libraries by `LibID`.
    pub libraries: BTreeMap<String, Library>,
    /// Local words by ID.
    pub local_words: BTreeMap<u64, LocalWord>,
    /// Last keyword or word ID handed out.
    pub last_id: u64,
    /// Requests answered (for `RequestId`s).
    pub requests: u64,
}

/// One cloud keyword library.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Library {
    /// When it was created (Unix seconds).
    pub create_time: u64,
    /// Keywords by their text.
    pub keywords: BTreeMap<String, Keyword>,
}

/// One cloud keyword.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Keyword {
    /// Its ID.
    pub id: u64,
    /// Its label (`Ad`, `Abuse`, ...).
    pub label: String,
    /// When it was added (Unix seconds).
    pub create_time: u64,
}

/// One local word.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct LocalWord {
    /// The word or regular expression.
    pub keyword: String,
    /// 1 word, 2 regular expression.
    pub word_type: i64,
    /// 1 replace, 2 block.
    pub filter_type: i64,
    /// Replacement text.
    pub replaced_content: String,
    /// Last change (Unix seconds).
    pub update_time: u64,
}

impl Moderation {
    fn request_id(&mut self) -> String {
        self.requests = self.requests.saturating_add(1);
        format!("00000000-0000-4000-8000-{:012x}", self.requests)
    }

    fn next_id(&mut self) -> u64 {
        self.last_id = self.last_id.saturating_add(1);
        self.last_id
    }

    /// The verdict on a text: result, score, label and the keywords hit.
    fn judge(&self, text: &str) -> Verdict {
        let mut hits: Vec<(&str, &str)> = self
            .libraries
            .values()
            .flat_map(|l| l.keywords.iter())
            .filter(|(word, _)| !word.is_empty() && text.contains(word.as_str()))
            .map(|(word, k)| (word.as_str(), k.label.as_str()))
            .collect();
        hits.sort_unstable();
        hits.dedup();
        if let Some((_, label)) = hits.first() {
            let keywords = hits.iter().map(|(w, _)| (*w).to_owned()).collect();
            return Verdict { result: "Block", score: 100, label: label.to_string(), keywords };
        }
        let local: Vec<&LocalWord> = self
            .local_words
            .values()
            .filter(|w| w.word_type == 1 && !w.keyword.is_empty() && text.contains(w.keyword.as_str()))
            .collect();
        let keywords: Vec<String> = local.iter().map(|w| w.keyword.clone()).collect();
        if local.iter().any(|w| w.filter_type == 2) {
            return Verdict { result: "Block", score: 100, label: "Composite".into(), keywords };
        }
        if !local.is_empty() {
            return Verdict { result: "Review", score: 80, label: "Composite".into(), keywords };
        }
        Verdict { result: "Pass", score: 0, label: "Normal".into(), keywords: Vec::new() }
    }
}

struct Verdict {
    result: &'static str,
    score: u32,
    label: String,
    keywords: Vec<String>,
}

fn page<T: Clone>(items: &[T], offset: u64, limit: u64) -> Vec<T> {
    items.iter().skip(usize::try_from(offset).unwrap_or(usize::MAX)).take(limit as usize).cloned().collect()
}

fn add_cloud_keywords(w: &mut World, call: &Call<'_>, req: add_cloud::Request) -> Typed<add_cloud::Request> {
    let m = &mut w.moderation;
    let ids: Vec<u64> = req.user_keywords.iter().map(|_| m.next_id()).collect();
    let lib = m
        .libraries
        .entry(req.lib_id)
        .or_insert_with(|| Library { create_time: call.now, ..Library::default() });
    for (k, id) in req.user_keywords.iter().zip(ids) {
        let label = k.label.as_ref().map_or("Normal", |l| l.as_str()).to_owned();
        lib.keywords.entry(k.content.clone()).or_insert(Keyword { id, label, create_time: call.now });
    }
    Ok(add_cloud::Response::new().request_id(m.request_id()).into())
}

fn get_cloud_keywords(w: &mut World, _call: &Call<'_>, req: get_cloud::Request) -> Typed<get_cloud::Request> {
    let m = &mut w.moderation;
    let filter = req.content.as_deref().unwrap_or("");
    let all: Vec<get_cloud::KeywordInfo> = m
        .libraries
        .get(&req.lib_id)
        .map(|l| {
            l.keywords
                .iter()
                .filter(|(word, _)| filter.is_empty() || word.contains(filter))
                .map(|(word, k)| {
                    get_cloud::KeywordInfo::new()
                        .id(k.id.to_string())
                        .content(word.as_str())
                        .create_time(datetime(k.create_time))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(get_cloud::Response::new()
        .request_id(m.request_id())
        .total_count(all.len() as u64)
        .infos(page(&all, req.offset, u64::from(req.limit)))
        .into())
}

fn get_libraries(w: &mut World, _call: &Call<'_>, req: get_libs::Request) -> Typed<get_libs::Request> {
    let m = &mut w.moderation;
    let all: Vec<get_libs::KeywordLibrary> = m
        .libraries
        .iter()
        .map(|(id, l)| {
            get_libs::KeywordLibrary::new()
                .id(id.as_str())
                .lib_name(id.as_str())
                .describe("")
                .create_time(datetime(l.create_time))
                .suggestion("Block")
        })
        .collect();
    Ok(get_libs::Response::new()
        .request_id(m.request_id())
        .total_count(all.len() as u64)
        .infos(page(&all, req.offset, u64::from(req.limit)))
        .into())
}

fn delete_cloud_keywords(
    w: &mut World,
    _call: &Call<'_>,
    req: delete_cloud::Request,
) -> Typed<delete_cloud::Request> {
    let m = &mut w.moderation;
    let lib = m.libraries.get_mut(&req.lib_id);
    let mut details = Vec::new();
    let mut count = 0u64;
    let mut lib = lib;
    for word in &req.keywords {
        let removed = lib.as_mut().and_then(|l| l.keywords.remove(word));
        let d = delete_cloud::DeletedKeyword::new().keyword(word.as_str());
        details.push(match removed {
            Some(k) => {
                count += 1;
                d.keyword_id(k.id.to_string()).deleted(true).error_info("")
            }
            None => d.deleted(false).error_info("no such keyword in the library"),
        });
    }
    Ok(delete_cloud::Response::new().request_id(m.request_id()).details(details).count(count).into())
}

fn add_local_words(w: &mut World, call: &Call<'_>, req: add_local::Request) -> Typed<add_local::Request> {
    let m = &mut w.moderation;
    for word in req.local_audit_words.unwrap_or_default() {
        let Some(keyword) = word.keyword.filter(|k| !k.is_empty()) else {
            return Err(call.refuse_named("InvalidParameter", "each word needs a Keyword"));
        };
        let id = m.next_id();
        m.local_words.insert(
            id,
            LocalWord {
                keyword,
                word_type: word.word_type.map_or(1, |t| t.value()),
                filter_type: word.filter_type.map_or(2, |t| t.value()),
                replaced_content: word.replaced_content.unwrap_or_default(),
                update_time: call.now,
            },
        );
    }
    Ok(add_local::Response::new().request_id(m.request_id()).into())
}

fn get_local_words(w: &mut World, _call: &Call<'_>, req: get_local::Request) -> Typed<get_local::Request> {
    let m = &mut w.moderation;
    let filter_type = req.filter_type.as_ref().map(|f| f.value());
    let text = req.keyword.as_deref().unwrap_or("");
    let matching: Vec<(&u64, &LocalWord)> = m
        .local_words
        .iter()
        .filter(|(_, w)| filter_type.is_none_or(|f| w.filter_type == f))
        .filter(|(_, w)| text.is_empty() || w.keyword.contains(text))
        .collect();
    let regex =
        |words: &mut dyn Iterator<Item = &LocalWord>| words.filter(|w| w.word_type == 2).count() as u64;
    let (cur, cur_reg) = (matching.len() as u64, regex(&mut matching.iter().map(|(_, w)| *w)));
    let (total, total_reg) = (m.local_words.len() as u64, regex(&mut m.local_words.values()));
    let all: Vec<get_local::LocalAuditWord> = matching
        .iter()
        .map(|(id, w)| {
            get_local::LocalAuditWord::new()
                .id(**id)
                .keyword(w.keyword.as_str())
                .word_type(get_local::WordType::from_raw(w.word_type))
                .filter_type(get_local::WordFilterType::from_raw(w.filter_type))
                .replaced_content(w.replaced_content.as_str())
                .update_time(datetime(w.update_time))
        })
        .collect();
    let words = page(&all, req.offset.unwrap_or(0), u64::from(req.limit.unwrap_or(100)));
    Ok(get_local::Response::new()
        .request_id(m.request_id())
        .local_audit_words(words)
        .total_count(total)
        .total_reg_count(total_reg)
        .cur_count(cur)
        .cur_reg_count(cur_reg)
        .into())
}

fn delete_local_words(
    w: &mut World,
    _call: &Call<'_>,
    req: delete_local::Request,
) -> Typed<delete_local::Request> {
    let m = &mut w.moderation;
    for word in req.local_audit_words.unwrap_or_default() {
        match (word.id, word.keyword) {
            (Some(id), _) => {
                m.local_words.remove(&id);
            }
            (None, Some(k)) => m.local_words.retain(|_, w| w.keyword != k),
            (None, None) => {}
        }
    }
    Ok(delete_local::Response::new().request_id(m.request_id()).into())
}

fn moderate(w: &mut World, _call: &Call<'_>, req: single::Request) -> Typed<single::Request> {
    let m = &mut w.moderation;
    let v = match req.content_type {
        single::ContentType::Text => m.judge(&req.content),
        _ => Verdict { result: "Pass", score: 0, label: "Normal".into(), keywords: Vec::new() },
    };
    let mut reply = single::Response::new()
        .request_id(m.request_id())
        .result(single::ModerationResult::from_raw(v.result.to_owned()))
        .score(v.score)
        .label(single::ModerationLabel::from_raw(v.label));
    if !v.keywords.is_empty() {
        reply = reply.keywords(v.keywords);
    }
    Ok(reply.into())
}

fn moderate_batch(w: &mut World, _call: &Call<'_>, req: batch::Request) -> Typed<batch::Request> {
    let m = &mut w.moderation;
    let results = req
        .contents
        .iter()
        .map(|item| {
            let v = match item.content_type {
                batch::ContentType::Text => m.judge(&item.content),
                _ => Verdict { result: "Pass", score: 0, label: "Normal".into(), keywords: Vec::new() },
            };
            let mut r = batch::AuditResult::new()
                .content_id(item.content_id)
                .error_code(0i64)
                .error_info("")
                .result(batch::ModerationResult::from_raw(v.result.to_owned()))
                .score(v.score)
                .label(batch::ModerationLabel::from_raw(v.label))
                .request_id(m.request_id());
            if !v.keywords.is_empty() {
                r = r.keywords(v.keywords);
            }
            r
        })
        .collect::<Vec<_>>();
    Ok(batch::Response::new().audit_results(results).into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{exec_ok, world};
    use super::datetime;

    const NOW: u64 = 1_687_650_304;

    #[test]
    fn times_read_as_the_service_writes_them() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
        assert_eq!(datetime(NOW), "2023-06-24 23:45:04");
        assert_eq!(datetime(951_782_400), "2000-02-29 00:00:00");
    }

    #[test]
    fn a_cloud_keyword_added_then_flags_text_containing_it() {
        let mut w = world(&[]);
        let text = |t: &str| json!({"AuditName": "C2C", "ContentType": "Text", "Content": t});
        let r = exec_ok(&mut w, "im_msg_audit/content_moderation", text("buy cheap xyz now"), NOW).body();
        assert_eq!(r["Result"], "Pass");
        let add = json!({"SdkAppId": 1, "LibID": "lib1", "UserKeywords": [{"Content": "cheap xyz", "Label": "Ad"}]});
        exec_ok(&mut w, "im_msg_audit_mgr/add_cloud_audit_keywords", add, NOW);
        let r = exec_ok(&mut w, "im_msg_audit/content_moderation", text("buy cheap xyz now"), NOW).body();
        assert_eq!(
            (r["Result"].as_str(), r["Label"].as_str(), r["Score"].as_u64()),
            (Some("Block"), Some("Ad"), Some(100))
        );
        assert_eq!(r["Keywords"], json!(["cheap xyz"]));
        let list = json!({"SdkAppId": 1, "Offset": 0, "Limit": 10, "LibID": "lib1"});
        let r = exec_ok(&mut w, "im_msg_audit_mgr/get_cloud_audit_keywords", list, NOW).body();
        assert_eq!(r["TotalCount"], 1);
        assert_eq!(r["Infos"][0]["CreateTime"], "2023-06-24 23:45:04");
        let libs = exec_ok(
            &mut w,
            "im_msg_audit_mgr/get_cloud_audit_keywords_ids",
            json!({"SdkAppId": 1, "Offset": 0, "Limit": 10}),
            NOW,
        )
        .body();
        assert_eq!(libs["Infos"][0]["ID"], "lib1");
        let del = json!({"SdkAppId": 1, "LibID": "lib1", "Keywords": ["cheap xyz", "other"]});
        let r = exec_ok(&mut w, "im_msg_audit_mgr/delete_cloud_audit_keywords", del, NOW).body();
        assert_eq!(r["Count"], 1);
        assert_eq!(r["Details"][1]["Deleted"], false);
        let r = exec_ok(&mut w, "im_msg_audit/content_moderation", text("buy cheap xyz now"), NOW).body();
        assert_eq!(r["Result"], "Pass");
    }

    #[test]
    fn local_words_block_or_send_for_review_in_batches() {
        let mut w = world(&[]);
        let add = json!({"SdkAppId": 1, "LocalAuditWords": [
            {"Keyword": "badword", "WordType": 1, "FilterType": 2},
            {"Keyword": "meh", "WordType": 1, "FilterType": 1, "ReplacedContent": "***"},
            {"Keyword": "a.*b", "WordType": 2, "FilterType": 2}]});
        exec_ok(&mut w, "im_msg_audit_mgr/add_local_audit_keywords", add, NOW);
        let batch = json!({"AuditName": "Group", "Contents": [
            {"ContentId": 0, "ContentType": "Text", "Content": "a badword here"},
            {"ContentId": 1, "ContentType": "Text", "Content": "meh"},
            {"ContentId": 2, "ContentType": "Image", "Content": "https://example.invalid/1.jpg"}]});
        let r = exec_ok(&mut w, "im_msg_audit/batch_content_moderation", batch, NOW).body();
        let results: Vec<&str> =
            r["AuditResults"].as_array().unwrap().iter().map(|x| x["Result"].as_str().unwrap()).collect();
        assert_eq!(results, ["Block", "Review", "Pass"]);
        let list = exec_ok(
            &mut w,
            "im_msg_audit_mgr/get_local_audit_keywords",
            json!({"SdkAppId": 1, "FilterType": 2}),
            NOW,
        )
        .body();
        assert_eq!((list["TotalCount"].as_u64(), list["TotalRegCount"].as_u64()), (Some(3), Some(1)));
        assert_eq!((list["CurCount"].as_u64(), list["CurRegCount"].as_u64()), (Some(2), Some(1)));
        let id = list["LocalAuditWords"][0]["Id"].as_u64().unwrap();
        exec_ok(
            &mut w,
            "im_msg_audit_mgr/delete_local_audit_keywords",
            json!({"SdkAppId": 1, "LocalAuditWords": [{"Id": id}]}),
            NOW,
        );
        let list =
            exec_ok(&mut w, "im_msg_audit_mgr/get_local_audit_keywords", json!({"SdkAppId": 1}), NOW).body();
        assert_eq!(list["TotalCount"], 2);
    }
}
