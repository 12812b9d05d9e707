//! The funnel report (`hotline report FLOW`), assembled from four grouped queries that every
//! backend runs in its own dialect.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where the callers of one flow went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funnel {
    /// The flow.
    pub flow_id: String,
    /// The version asked for (`None`: all versions).
    pub flow_version: Option<String>,
    /// Calls recorded.
    pub calls: u64,
    /// Calls not ended yet (no outcome).
    pub in_progress: u64,
    /// Per node, most-reached first; ties in the order calls come to them (the earliest step
    /// at the node in any call), then by name.
    pub nodes: Vec<NodeFunnel>,
    /// Per outcome of ended calls, most frequent first (ties by name).
    pub outcomes: Vec<OutcomeCount>,
}

impl Funnel {
    /// The row of `node`, if any call reached it.
    pub fn node(&self, node: &str) -> Option<&NodeFunnel> {
        self.nodes.iter().find(|n| n.node == node)
    }

    /// Calls that ended with `outcome`.
    pub fn outcome(&self, outcome: &str) -> u64 {
        self.outcomes
            .iter()
            .find(|o| o.outcome == outcome)
            .map_or(0, |o| o.calls)
    }
}

/// One node's row in the funnel.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NodeFunnel {
    /// The node id.
    pub node: String,
    /// Distinct calls with at least one step at this node.
    pub reached: u64,
    /// `retry` steps here.
    pub retries: u64,
    /// `no-input` steps here (gather timeouts).
    pub no_inputs: u64,
    /// `no-match` steps here.
    pub no_matches: u64,
    /// Calls that ended `caller-hangup` with this as their last node.
    pub hung_up: u64,
    /// The routes taken from this node, most taken first (ties by label): where its callers
    /// went, and why.
    #[serde(default)]
    pub routes: Vec<RouteCount>,
}

impl NodeFunnel {
    /// How many times the route labelled `route` was taken here.
    pub fn route(&self, route: &str) -> u64 {
        self.routes
            .iter()
            .find(|r| r.route == route)
            .map_or(0, |r| r.taken)
    }
}

/// How many times one route of a node was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteCount {
    /// The route's label, as the records keep it (its keywords, digits or condition).
    pub route: String,
    /// Times taken (a call that came back to the node may take it again).
    pub taken: u64,
}

/// How many calls ended one way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCount {
    /// The outcome.
    pub outcome: String,
    /// Calls.
    pub calls: u64,
}

/// Raw query results: `(node, reached, retries, no_inputs, no_matches, first_seq)`,
/// `(last_node, hangups)`, `(outcome or None, calls)`, `(node, route, taken)`.
#[derive(Debug, Default)]
pub(crate) struct FunnelRows {
    pub(crate) nodes: Vec<(String, i64, i64, i64, i64, i64)>,
    pub(crate) hangups: Vec<(String, i64)>,
    pub(crate) outcomes: Vec<(Option<String>, i64)>,
    pub(crate) routes: Vec<(String, String, i64)>,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(crate) fn assemble_funnel(
    flow_id: &str,
    flow_version: Option<&str>,
    rows: FunnelRows,
) -> Funnel {
    let mut nodes: BTreeMap<String, NodeFunnel> = BTreeMap::new();
    // How early in a call each node comes: its lowest step number in any call.
    let mut first: BTreeMap<String, i64> = BTreeMap::new();
    for (node, reached, retries, no_inputs, no_matches, first_seq) in rows.nodes {
        first.insert(node.clone(), first_seq);
        let row = nodes.entry(node.clone()).or_insert_with(|| NodeFunnel {
            node,
            ..NodeFunnel::default()
        });
        row.reached += count(reached);
        row.retries += count(retries);
        row.no_inputs += count(no_inputs);
        row.no_matches += count(no_matches);
    }
    for (node, hangups) in rows.hangups {
        let row = nodes.entry(node.clone()).or_insert_with(|| NodeFunnel {
            node,
            ..NodeFunnel::default()
        });
        row.hung_up += count(hangups);
    }
    for (node, route, taken) in rows.routes {
        let row = nodes.entry(node.clone()).or_insert_with(|| NodeFunnel {
            node,
            ..NodeFunnel::default()
        });
        row.routes.push(RouteCount {
            route,
            taken: count(taken),
        });
    }
    for row in nodes.values_mut() {
        row.routes
            .sort_by(|a, b| b.taken.cmp(&a.taken).then_with(|| a.route.cmp(&b.route)));
    }
    let mut nodes: Vec<NodeFunnel> = nodes.into_values().collect();
    let position = |n: &NodeFunnel| first.get(&n.node).copied().unwrap_or(i64::MAX);
    nodes.sort_by(|a, b| {
        b.reached
            .cmp(&a.reached)
            .then_with(|| position(a).cmp(&position(b)))
            .then_with(|| a.node.cmp(&b.node))
    });
    let mut calls = 0;
    let mut in_progress = 0;
    let mut outcomes = Vec::new();
    for (outcome, n) in rows.outcomes {
        calls += count(n);
        match outcome {
            Some(outcome) => outcomes.push(OutcomeCount {
                outcome,
                calls: count(n),
            }),
            None => in_progress += count(n),
        }
    }
    outcomes.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then_with(|| a.outcome.cmp(&b.outcome))
    });
    Funnel {
        flow_id: flow_id.to_owned(),
        flow_version: flow_version.map(str::to_owned),
        calls,
        in_progress,
        nodes,
        outcomes,
    }
}
