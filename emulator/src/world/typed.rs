//! Typed handlers: an endpoint's generated request in, its generated reply
//! out.
//!
//! A family lists its endpoints as [`Route`]s built with `route!`: the
//! request type names the endpoint (its `META` carries the path), and the
//! handler receives the request already checked against the spec and
//! deserialized from the canonical body (without copying it), and returns
//! the reply type, which is serialized as the body's fields. The route
//! list is the one list of paths a family answers.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tim_runtime::{ApiRequest, EndpointMeta, ErrorRole};

use super::{Call, Done, Event, Handled, Refusal, World};

/// A route's before step: the before-callbacks, or why the call is refused.
pub type Before = fn(&World, &Call<'_>) -> Result<Vec<Event>, Refusal>;

/// One endpoint a family answers from the state.
pub struct Route {
    /// The endpoint (its path without `v4/` is what calls are matched on).
    pub meta: &'static EndpointMeta,
    /// Runs the typed handler on a checked call.
    pub handle: fn(&mut World, &Call<'_>) -> Handled,
    /// The before-callbacks the call fires, or why it is refused before
    /// any; `None` for an endpoint with none.
    pub before: Option<Before>,
}

impl Route {
    /// The path without `v4/` (`openconfigsvr/setnospeaking`).
    pub fn path(&self) -> &'static str {
        self.meta.path.strip_prefix("v4/").unwrap_or(self.meta.path)
    }
}

/// A typed handler's answer: the reply and the after-callbacks it fires.
pub struct Answer<T> {
    /// The reply's fields.
    pub reply: T,
    /// After-callbacks, in order.
    pub events: Vec<Event>,
    /// Some items failed (listed in the reply): `ActionStatus` is
    /// `SomeError` rather than `OK`, as batch endpoints answer.
    pub partial: bool,
}

impl<T> Answer<T> {
    /// A reply and the after-callbacks it fires.
    pub fn with_events(reply: T, events: Vec<Event>) -> Self {
        Self { reply, events, partial: false }
    }

    /// A reply listing items that failed (`ActionStatus` `SomeError`).
    pub fn some_error(reply: T) -> Self {
        Self { reply, events: Vec::new(), partial: true }
    }
}

impl<T> From<T> for Answer<T> {
    fn from(reply: T) -> Self {
        Self::with_events(reply, Vec::new())
    }
}

/// What a typed handler returns.
pub type Typed<R> = Result<Answer<<R as ApiRequest>::Response>, Refusal>;

/// Runs `handler` on `call`: the body as `R`, the answer as the body's fields.
pub fn run<R>(w: &mut World, call: &Call<'_>, handler: fn(&mut World, &Call<'_>, R) -> Typed<R>) -> Handled
where
    R: ApiRequest + DeserializeOwned,
    R::Response: Serialize,
{
    // The body was checked against the same type: this only fails on a
    // bug, which is reported rather than panicked on.
    let request = R::deserialize(call.body)
        .map_err(|e| call.refuse(ErrorRole::InvalidField, format!("request does not fit its type: {e}")))?;
    let answer = handler(w, call, request)?;
    let reply = match serde_json::to_value(&answer.reply) {
        Ok(Value::Object(mut fields)) => {
            if answer.partial {
                fields.insert("ActionStatus".into(), Value::from("SomeError"));
            }
            fields
        }
        Ok(_) => serde_json::Map::new(),
        Err(e) => return Err(call.refuse(ErrorRole::InvalidField, format!("reply does not serialize: {e}"))),
    };
    Ok(Done { reply, events: answer.events, ignored: false })
}

/// Runs the before step `before` on `call`, the body as `R`.
///
/// The request is read from the body again by [`run`]: an allowing
/// before-callback may have modified the body in between.
pub fn run_before<R>(
    w: &World,
    call: &Call<'_>,
    before: fn(&World, &Call<'_>, &R) -> Result<Vec<Event>, Refusal>,
) -> Result<Vec<Event>, Refusal>
where
    R: ApiRequest + DeserializeOwned,
{
    let request = R::deserialize(call.body)
        .map_err(|e| call.refuse(ErrorRole::InvalidField, format!("request does not fit its type: {e}")))?;
    before(w, call, &request)
}

/// A [`Route`] for the request type `$req` answered by `$handler`
/// (`fn(&mut World, &Call, $req) -> Typed<$req>`), with an optional
/// `before = $before` (`fn(&World, &Call, &$req) -> Result<Vec<Event>, Refusal>`)
/// giving its before-callbacks.
macro_rules! route {
    ($req:ty, $handler:expr) => {
        $crate::world::typed::Route {
            meta: <$req as ::tim_runtime::ApiRequest>::META,
            handle: |w, call| $crate::world::typed::run::<$req>(w, call, $handler),
            before: None,
        }
    };
    ($req:ty, $handler:expr, before = $before:expr) => {
        $crate::world::typed::Route {
            meta: <$req as ::tim_runtime::ApiRequest>::META,
            handle: |w, call| $crate::world::typed::run::<$req>(w, call, $handler),
            before: Some(|w, call| $crate::world::typed::run_before::<$req>(w, call, $before)),
        }
    };
}
pub(crate) use route;
