//! The inspector page (`/__tim/ui`) driven in a real headless Chromium:
//! live updates from REST calls, a message sent from the page and read back
//! through the REST API, a reset from the page, every view rendered (a
//! screenshot of each goes to `target/inspector/`), and a large state.
//!
//! Needs `chromium` (Debian's package) on `PATH`, or its path in
//! `TIM_CHROMIUM`. Without one the test says so and passes, unless
//! `TIM_REQUIRE_CHROMIUM` is set, as `.ci/run` does: there a missing browser
//! fails the run.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Emulation;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;
use tim_emulator::{MockConfig, MockServer, World};
use tim_runtime::api::group_open_http_svc::{add_group_member, create_group, send_group_msg};
use tim_runtime::api::im_open_login_svc::{account_check, multiaccount_import};
use tim_runtime::api::openim::{admin_getroammsg, sendmsg};
use tim_runtime::api::sns::friend_add;
use tim_runtime::api::types::{GroupType, MsgBodyElem, TIMTextElem};
use tim_runtime::Client;

const APPID: u64 = 1_400_000_077;
const KEY: &str = "inspector-test-secret-key-0123456789";
const ADMIN: &str = "administrator";
/// How long the page may take to show a change (it polls every 500 ms).
const LIVE: Duration = Duration::from_secs(3);

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TIM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser", "google-chrome"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

fn browser() -> Option<Browser> {
    let Some(path) = chromium() else {
        assert!(
            std::env::var_os("TIM_REQUIRE_CHROMIUM").is_none(),
            "TIM_REQUIRE_CHROMIUM is set but no chromium was found on PATH (or in TIM_CHROMIUM)"
        );
        eprintln!("skipped: no chromium on PATH (install Debian's `chromium` to run the inspector test)");
        return None;
    };
    let options = LaunchOptions::default_builder()
        .path(Some(path))
        .headless(true)
        // CI runs as root, where Chromium's sandbox cannot start.
        .sandbox(false)
        .window_size(Some((1280, 1000)))
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .expect("launch options");
    Some(Browser::new(options).expect("chromium starts"))
}

fn shots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("inspector");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

fn screenshot(tab: &Tab, name: &str) {
    let png =
        tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true).expect("screenshot");
    std::fs::write(shots().join(format!("{name}.png")), png).expect("screenshot written");
}

fn eval(tab: &Tab, js: &str) -> Value {
    tab.evaluate(js, false).expect("evaluate").value.unwrap_or(Value::Null)
}

/// Waits until the page's text contains `text`; how long that took.
fn wait_for_text(tab: &Tab, text: &str, within: Duration) -> Duration {
    let started = Instant::now();
    let probe = format!("document.querySelector('main').innerText.includes({})", serde_json::json!(text));
    loop {
        if eval(tab, &probe) == Value::Bool(true) {
            return started.elapsed();
        }
        if started.elapsed() >= within {
            let main = eval(tab, "document.querySelector('main').innerText");
            let status = eval(tab, "document.getElementById('status').innerText");
            panic!(
                "{text:?} did not appear within {within:?}; the page shows {main}, the status line {status}"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Opens a view by its address and waits for its data to be shown.
fn open(tab: &Tab, base: &str, hash: &str, expect: &str) {
    let page = format!("{base}/__tim/ui");
    if tab.get_url().starts_with(&page) {
        // Another view of the loaded page: only the address's fragment changes.
        eval(tab, &format!("location.hash = {}", serde_json::json!(hash)));
    } else {
        tab.navigate_to(&format!("{page}{hash}")).expect("navigate");
        tab.wait_until_navigated().expect("navigated");
    }
    wait_for_text(tab, expect, LIVE);
    let status = eval(tab, "document.getElementById('status').className");
    assert_ne!(
        status,
        Value::from("status error"),
        "{hash}: {}",
        eval(tab, "document.getElementById('status').innerText")
    );
}

fn text(t: &str) -> Vec<MsgBodyElem> {
    vec![MsgBodyElem::Text(TIMTextElem::new().text(t))]
}

fn texts_of(reply: &admin_getroammsg::Response) -> Vec<String> {
    reply
        .msg_list
        .iter()
        .flatten()
        .flat_map(|m| m.msg_body.iter().flatten())
        .filter_map(|e| match e {
            MsgBodyElem::Text(t) => t.text.clone(),
            _ => None,
        })
        .collect()
}

async fn seed(client: &Client) -> String {
    let import = multiaccount_import::Request::new().accounts(vec![
        "alice".to_owned(),
        "bob".to_owned(),
        "carol".to_owned(),
    ]);
    client.call(&import).await.expect("import");
    let group = create_group::Request::new(GroupType::Public, "Book club")
        .owner_account("alice")
        .member_list(vec![create_group::InitialMember::new("bob")]);
    let gid = client.call(&group).await.expect("create group").group_id;
    let friend =
        friend_add::Request::new("alice", vec![friend_add::AddFriendItem::new("carol")]).force_add_flags(1u8);
    client.call(&friend).await.expect("friend");
    client
        .call(&sendmsg::Request::new("bob", 1u32, text("first message")).from_account("alice"))
        .await
        .expect("send");
    let to_group = send_group_msg::Request::new(gid.as_str(), 3u32, text("hello, club")).from_account("bob");
    client.call(&to_group).await.expect("group message");
    gid
}

#[test]
fn the_inspector_shows_and_drives_the_emulated_app() {
    let Some(browser) = browser() else { return };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (server, client, gid) = rt.block_on(async {
        let receiver = support::ok_receiver().await;
        let config = MockConfig::new(APPID, KEY, ADMIN).callbacks(&receiver, None).expect("callback url");
        let server = MockServer::start(config).await.expect("server");
        let client = server.client_builder().build().expect("client");
        let gid = seed(&client).await;
        (server, client, gid)
    });
    let base = format!("http://{}", server.addr());
    let tab = browser.new_tab().expect("tab");

    // A conversation, live: a message sent through the REST API appears
    // without a reload.
    open(&tab, &base, "#/c2c/alice/bob", "first message");
    eval(&tab, "window.__sameLoad = true");
    rt.block_on(
        client.call(&sendmsg::Request::new("bob", 2u32, text("hello from REST")).from_account("alice")),
    )
    .expect("send");
    let took = wait_for_text(&tab, "hello from REST", LIVE);
    assert_eq!(eval(&tab, "window.__sameLoad === true"), Value::Bool(true), "the page reloaded");
    println!("a REST message appeared in the conversation view after {took:?}");
    screenshot(&tab, "conversation");

    // A message sent from the page, read back through the REST API.
    eval(
        &tab,
        "document.querySelector('form[aria-label=\"Send a message\"] select[name=From]').value = 'bob'",
    );
    tab.find_element("form[aria-label='Send a message'] input[name=Text]")
        .unwrap()
        .type_into("hello from the page")
        .unwrap();
    tab.find_element("form[aria-label='Send a message'] button[type=submit]").unwrap().click().unwrap();
    wait_for_text(&tab, "hello from the page", LIVE);
    let roam = admin_getroammsg::Request::new("alice", "bob", 20u32, 0u64, u64::from(u32::MAX));
    let reply = rt.block_on(client.call(&roam)).expect("roam");
    let texts = texts_of(&reply);
    assert!(texts.iter().any(|t| t == "hello from the page"), "{texts:?}");

    // Every view has an address of its own and renders.
    let views = [
        ("accounts", "#/accounts".to_owned(), "carol"),
        ("account", "#/account/alice".to_owned(), "One-to-one conversations"),
        ("friends", "#/friends/alice".to_owned(), "carol"),
        ("groups", "#/groups".to_owned(), "Book club"),
        ("group", format!("#/group/{}", urlencode(&gid)), "hello, club"),
        ("callbacks", "#/callbacks".to_owned(), "C2C.CallbackAfterSendMsg"),
        ("requests", "#/requests".to_owned(), "openim/sendmsg"),
        ("requests-errors", "#/requests?errors=1".to_owned(), "Requests"),
        ("app", "#/app".to_owned(), "Accounts"),
    ];
    for (name, hash, expect) in &views {
        open(&tab, &base, hash, expect);
        screenshot(&tab, name);
    }
    // Keyboard only: from the header, Tab reaches the search box, Enter
    // searches.
    open(&tab, &base, "#/accounts", "carol");
    // A click on plain text gives the page focus without focusing anything in it.
    tab.find_element("#live").unwrap().click().unwrap();
    tab.press_key("Tab").expect("tab key");
    assert_eq!(eval(&tab, "document.activeElement.id"), Value::from("q"), "Tab reaches the search box");
    tab.type_str("car").expect("typing");
    tab.press_key("Enter").expect("enter key");
    wait_for_text(&tab, "1 in all", LIVE);
    assert_eq!(eval(&tab, "location.hash"), Value::from("#/accounts?q=car"));
    // Readable in the dark scheme too.
    tab.call_method(Emulation::SetEmulatedMedia {
        media: None,
        features: Some(vec![Emulation::MediaFeature {
            name: "prefers-color-scheme".into(),
            value: "dark".into(),
        }]),
    })
    .expect("dark scheme");
    open(&tab, &base, &format!("#/group/{}", urlencode(&gid)), "hello, club");
    let background = eval(&tab, "getComputedStyle(document.body).backgroundColor");
    assert_eq!(background, Value::from("rgb(17, 20, 24)"), "the dark scheme's background");
    screenshot(&tab, "group-dark");
    tab.call_method(Emulation::SetEmulatedMedia { media: None, features: Some(Vec::new()) })
        .expect("light scheme");
    // The account links to its conversation.
    open(&tab, &base, "#/account/alice", "bob");
    let href = eval(&tab, "document.querySelector('a[href=\"#/c2c/alice/bob\"]') !== null");
    assert_eq!(href, Value::Bool(true));

    // A group message sent from the page reaches the group.
    open(&tab, &base, &format!("#/group/{}", urlencode(&gid)), "hello, club");
    tab.find_element("form[aria-label='Send a group message'] input[name=From]")
        .unwrap()
        .type_into("alice")
        .unwrap();
    tab.find_element("form[aria-label='Send a group message'] input[name=Text]")
        .unwrap()
        .type_into("the page to the club")
        .unwrap();
    tab.find_element("form[aria-label='Send a group message'] button[type=submit]").unwrap().click().unwrap();
    wait_for_text(&tab, "the page to the club", LIVE);
    let stored = server.world(|w| {
        w.groups
            .get(&gid)
            .map(|g| g.messages().iter().any(|m| format!("{:?}", m.body).contains("the page to the club")))
    });
    assert_eq!(stored, Some(true));

    // An account created from the page exists for the REST API.
    open(&tab, &base, "#/accounts", "carol");
    tab.find_element("form[aria-label='Create an account'] input[name=UserID]")
        .unwrap()
        .type_into("dave")
        .unwrap();
    tab.find_element("form[aria-label='Create an account'] button[type=submit]").unwrap().click().unwrap();
    wait_for_text(&tab, "dave", LIVE);
    assert!(server.world(|w| w.accounts.exists("dave")));

    // A state file loaded from the page replaces the state.
    let mut saved = World::new(ADMIN);
    saved.accounts.ensure("loaded-from-a-file");
    let file = shots().join("state-to-load.json");
    std::fs::write(&file, tim_emulator::state_file::to_vec(&saved)).unwrap();
    // Chromium reads the file by its plain absolute path.
    let file = file.canonicalize().unwrap();
    open(&tab, &base, "#/app", "Accounts");
    tab.find_element("input[type=file]").unwrap().set_input_files(&[file.to_str().unwrap()]).unwrap();
    tab.find_element("form[aria-label='Load a state file'] button[type=submit]").unwrap().click().unwrap();
    wait_for_text_anywhere(&tab, "state loaded");
    assert!(server.world(|w| w.accounts.exists("loaded-from-a-file") && !w.accounts.exists("alice")));

    // A reset from the page empties the app.
    open(&tab, &base, "#/app", "Accounts");
    eval(&tab, "window.confirm = () => true");
    tab.find_element("#reset").unwrap().click().unwrap();
    wait_for_text_anywhere(&tab, "the state was reset");
    let check = account_check::Request::new(vec![account_check::CheckItem::new("alice")]);
    let reply = rt.block_on(client.call(&check)).expect("account_check");
    let status = reply.result_item.unwrap_or_default().first().and_then(|r| r.account_status.clone());
    assert_eq!(status.as_ref().map(|s| s.as_str()), Some("NotImported"));
    drop(server);
}

fn wait_for_text_anywhere(tab: &Tab, text: &str) {
    let started = Instant::now();
    let probe = format!("document.body.innerText.includes({})", serde_json::json!(text));
    while eval(tab, &probe) != Value::Bool(true) {
        if started.elapsed() >= LIVE {
            let status = eval(tab, "document.getElementById('status').innerText");
            let files = eval(tab, "String(document.querySelector('input[type=file]') && document.querySelector('input[type=file]').files.length)");
            panic!("{text:?} did not appear; the status line says {status}; file inputs hold {files}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn large_states_stay_usable() {
    let Some(browser) = browser() else { return };
    let mut world = World::new(ADMIN);
    for i in 0..10_000 {
        world.accounts.ensure(&format!("user{i:05}"));
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (server, gid) = rt.block_on(async {
        let server =
            MockServer::start(MockConfig::new(APPID, KEY, ADMIN).state(world)).await.expect("server");
        let client = server.client_builder().build().expect("client");
        let group = create_group::Request::new(GroupType::ChatRoom, "Everyone").owner_account("user09999");
        let gid = client.call(&group).await.expect("a group").group_id;
        let accounts: Vec<String> = (0..4_999).map(|i| format!("user{i:05}")).collect();
        // In parts well within what one call may add.
        for part in accounts.chunks(100) {
            let members: Vec<add_group_member::NewMember> =
                part.iter().map(|a| add_group_member::NewMember::new(a.as_str())).collect();
            client.call(&add_group_member::Request::new(gid.as_str(), members)).await.expect("members added");
        }
        (server, gid)
    });
    let base = format!("http://{}", server.addr());
    let tab = browser.new_tab().expect("tab");
    let started = Instant::now();
    open(&tab, &base, "#/accounts", "10001 in all");
    println!("10,001 accounts: first page shown after {:?}", started.elapsed());
    assert_eq!(eval(&tab, "document.querySelectorAll('main tbody tr').length"), Value::from(100));
    open(&tab, &base, "#/accounts?page=99", "user09899");
    let started = Instant::now();
    open(&tab, &base, &format!("#/group/{}", urlencode(&gid)), "5000 in all");
    println!("a group of 5,000: first page of members shown after {:?}", started.elapsed());
    screenshot(&tab, "large-group");
    drop(server);
}
