//! The webhook contract of `docs/flows.md`: the JSON request body, and the validation of the
//! reply (`set` restricted to the node's declared `returns`, `goto` restricted to the node's own
//! edges).
//!
//! Pure JSON in, plain values out: the HTTP call itself is the server's (see
//! [`super::Effect::Webhook`]).

use serde_json::{Map, Value};

use super::session::Session;
use super::vars;
use crate::{Flow, Literal, Node, NodeId, Webhook};

/// The request body for `node`.
pub(crate) fn body(session: &Session, node: &str) -> Value {
    let variables: Map<String, Value> = session
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), vars::to_json(v)))
        .collect();
    let mut m = Map::new();
    m.insert("flow".into(), Value::String(session.flow_id.clone()));
    m.insert("node".into(), Value::String(node.to_owned()));
    m.insert("call_sid".into(), Value::String(session.call_sid.clone()));
    m.insert("caller".into(), Value::String(session.caller.clone()));
    m.insert("called".into(), Value::String(session.called.clone()));
    m.insert("language".into(), Value::String(session.language.clone()));
    m.insert("variables".into(), Value::Object(variables));
    Value::Object(m)
}

/// A reply that passed validation.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    /// Variables to set (declared `returns` only), in the reply's order.
    pub(crate) set: Vec<(String, Literal)>,
    /// The node to go to, already checked to be one of the node's edges.
    pub(crate) goto: Option<NodeId>,
    /// Fields of `set` that the node does not declare in `returns` (ignored).
    pub(crate) ignored: Vec<String>,
}

/// Validates `reply` for webhook node `node`. `Err` carries the reason the fallback is taken.
pub(crate) fn parse_reply(
    flow: &Flow,
    node: &Node,
    webhook: &Webhook,
    reply: &Value,
) -> Result<Reply, String> {
    let Value::Object(obj) = reply else {
        return Err("the reply is not a JSON object".into());
    };
    let mut out = Reply::default();
    match obj.get("set") {
        None | Some(Value::Null) => {}
        Some(Value::Object(set)) => {
            for (key, value) in set {
                if !webhook.returns.iter().any(|r| r == key) {
                    out.ignored.push(key.clone());
                    continue;
                }
                let Some(lit) = vars::from_json(value) else {
                    return Err(format!(
                        "`set.{key}` is not a string, a number or a boolean"
                    ));
                };
                out.set.push((key.clone(), lit));
            }
        }
        Some(_) => return Err("`set` is not a JSON object".into()),
    }
    match obj.get("goto") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => {
            let target = flow
                .find(name)
                .filter(|id| node.edges().iter().any(|(_, t)| t == id));
            match target {
                Some(id) => out.goto = Some(id),
                None => {
                    return Err(format!(
                        "`goto: {name}` is not a node that `{}` leads to",
                        node.id
                    ));
                }
            }
        }
        Some(_) => return Err("`goto` is not a string".into()),
    }
    Ok(out)
}
