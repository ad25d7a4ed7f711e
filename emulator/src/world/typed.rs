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

/// One endpoint a family answers from the state.
pub struct Route {
    /// The endpoint (its path without `v4/` is what calls are matched on).
    pub meta: &'static EndpointMeta,
    /// Runs the typed handler on a checked call.
    pub handle: fn(&mut World, &Call<'_>) -> Handled,
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
}

impl<T> From<T> for Answer<T> {
    fn from(reply: T) -> Self {
        Self { reply, events: Vec::new() }
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
        Ok(Value::Object(fields)) => fields,
        Ok(_) => serde_json::Map::new(),
        Err(e) => return Err(call.refuse(ErrorRole::InvalidField, format!("reply does not serialize: {e}"))),
    };
    Ok(Done { reply, events: answer.events, ignored: false })
}

/// A [`Route`] for the request type `$req` answered by `$handler`
/// (`fn(&mut World, &Call, $req) -> Typed<$req>`).
macro_rules! route {
    ($req:ty, $handler:expr) => {
        $crate::world::typed::Route {
            meta: <$req as ::tim_runtime::ApiRequest>::META,
            handle: |w, call| $crate::world::typed::run::<$req>(w, call, $handler),
        }
    };
}
pub(crate) use route;
