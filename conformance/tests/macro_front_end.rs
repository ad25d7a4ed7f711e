//! The proc-macro front end generates the same API inside a downstream crate.

mod generated {
    tim_codegen_macros::generate!("../specs");
}

use serde_json::json;

#[test]
fn macro_api_lists_the_same_endpoints() {
    let a: Vec<_> = generated::ENDPOINTS.iter().map(|e| e.meta.path).collect();
    let b: Vec<_> = tim_runtime::api::ENDPOINTS.iter().map(|e| e.meta.path).collect();
    assert_eq!(a, b);
}

#[test]
fn macro_types_serialize_like_the_shipped_ones() {
    let mine = generated::openim::admin_set_msg_read::Request::new("a", "b").msg_read_time("1653360000");
    let shipped =
        tim_runtime::api::openim::admin_set_msg_read::Request::new("a", "b").msg_read_time("1653360000");
    assert_eq!(serde_json::to_value(&mine).unwrap(), serde_json::to_value(&shipped).unwrap());
    assert_eq!(
        serde_json::to_value(&mine).unwrap(),
        json!({"Report_Account": "a", "Peer_Account": "b", "MsgReadTime": "1653360000"})
    );
}

#[tokio::test]
async fn macro_api_calls_the_mock() {
    use tim_emulator::{MockConfig, MockServer};
    let server = MockServer::start(MockConfig::new(7, "k", "admin").replay().endpoints(generated::ENDPOINTS))
        .await
        .unwrap();
    let client = tim_runtime::Client::builder(7, "admin", "k").base_url(&server.base_url()).build().unwrap();
    let req = generated::group_open_http_svc::set_unread_msg_num::Request::new("g", "m", 2u32);
    client.call(&req).await.unwrap();
    assert_eq!(server.requests().len(), 1);
}
