//! Graph export of a validated flow: Mermaid (`flowchart TD`) and Graphviz DOT.
//!
//! Node shapes tell the kind (ask = diamond, branch = hexagon, actions = subroutine box,
//! hangup = circle, webhook/bot = parallelogram); edges carry the route label, `default`,
//! `exhausted`, `fallback`. Output is deterministic (file order) so it can be diffed and tested.
//! Pure string building: running `dot` to get SVG is the CLI's job.

use std::fmt::Write as _;

use crate::model::{DialTarget, EdgeKind, Failure, Flow, Node, NodeKind};

fn edge_label(kind: &EdgeKind) -> String {
    match kind {
        EdgeKind::Next => String::new(),
        EdgeKind::Route(label) => label.clone(),
        EdgeKind::Default => "default".into(),
        EdgeKind::Exhausted(None) => "exhausted".into(),
        EdgeKind::Exhausted(Some(Failure::NoInput)) => "exhausted (no input)".into(),
        EdgeKind::Exhausted(Some(Failure::NoMatch)) => "exhausted (no match)".into(),
        EdgeKind::Fallback => "fallback".into(),
    }
}

/// A short description of what the node does, shown under its id.
fn node_detail(node: &Node) -> String {
    match &node.kind {
        NodeKind::Continue { .. } => "say".into(),
        NodeKind::Ask { ask, .. } => format!("ask ({})", ask.save_as),
        NodeKind::Branch { .. } => "branch".into(),
        NodeKind::Dial { dial, .. } => match &dial.target {
            DialTarget::Number(n) => format!("dial {n}"),
            DialTarget::Sip(s) => format!("dial {s}"),
            DialTarget::Template(t) => format!("dial {}", t.source()),
        },
        NodeKind::Enqueue { queue, .. } => format!("enqueue {queue}"),
        NodeKind::Redirect { flow } => format!("redirect {flow}"),
        NodeKind::Record { .. } => "record".into(),
        NodeKind::Hangup => "hangup".into(),
        NodeKind::Webhook { .. } => "webhook".into(),
        NodeKind::Bot { bot, .. } => format!("bot {}", bot.name),
    }
}

fn mermaid_text(s: &str) -> String {
    s.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
        .replace('|', "#124;")
}

/// The flow as a Mermaid flowchart. Node ids are `n0`, `n1`… (Mermaid reserves words such as
/// `end`); the label shows the flow's node id and kind.
pub fn to_mermaid(flow: &Flow) -> String {
    let mut out = String::from("flowchart TD\n");
    for (i, node) in flow.nodes.iter().enumerate() {
        let label = mermaid_text(&format!("{}<br/>{}", node.id, node_detail(node)))
            .replace("#lt;br/#gt;", "<br/>");
        let (open, close) = match node.kind {
            NodeKind::Ask { .. } => ("{\"", "\"}"),
            NodeKind::Branch { .. } => ("{{\"", "\"}}"),
            NodeKind::Hangup => ("((\"", "\"))"),
            NodeKind::Dial { .. }
            | NodeKind::Enqueue { .. }
            | NodeKind::Redirect { .. }
            | NodeKind::Record { .. } => ("[[\"", "\"]]"),
            NodeKind::Webhook { .. } | NodeKind::Bot { .. } => ("[/\"", "\"/]"),
            NodeKind::Continue { .. } => ("[\"", "\"]"),
        };
        let _ = writeln!(out, "    n{i}{open}{label}{close}");
    }
    let _ = writeln!(out, "    start((start)) --> n{}", flow.start.index());
    for (i, node) in flow.nodes.iter().enumerate() {
        for (kind, target) in node.edges() {
            let label = edge_label(&kind);
            let arrow = if matches!(kind, EdgeKind::Exhausted(_) | EdgeKind::Fallback) {
                "-.->"
            } else {
                "-->"
            };
            if label.is_empty() {
                let _ = writeln!(out, "    n{i} {arrow} n{}", target.index());
            } else {
                let _ = writeln!(
                    out,
                    "    n{i} {arrow}|\"{}\"| n{}",
                    mermaid_text(&label),
                    target.index()
                );
            }
        }
    }
    out
}

fn dot_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The flow as a Graphviz DOT digraph (`dot -Tsvg` renders it).
pub fn to_dot(flow: &Flow) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", dot_text(&flow.id));
    out.push_str("    rankdir=TB;\n");
    out.push_str("    node [fontname=\"Helvetica\", fontsize=11];\n");
    out.push_str("    edge [fontname=\"Helvetica\", fontsize=9];\n");
    out.push_str("    \"__start\" [shape=point, width=0.15, label=\"\"];\n");
    for node in &flow.nodes {
        let shape = match node.kind {
            NodeKind::Ask { .. } => "diamond",
            NodeKind::Branch { .. } => "hexagon",
            NodeKind::Hangup => "doublecircle",
            NodeKind::Dial { .. }
            | NodeKind::Enqueue { .. }
            | NodeKind::Redirect { .. }
            | NodeKind::Record { .. } => "box3d",
            NodeKind::Webhook { .. } | NodeKind::Bot { .. } => "parallelogram",
            NodeKind::Continue { .. } => "box",
        };
        let _ = writeln!(
            out,
            "    \"{}\" [shape={shape}, label=\"{}\\n{}\"];",
            dot_text(&node.id),
            dot_text(&node.id),
            dot_text(&node_detail(node))
        );
    }
    let _ = writeln!(
        out,
        "    \"__start\" -> \"{}\";",
        dot_text(&flow.node(flow.start).id)
    );
    for node in &flow.nodes {
        for (kind, target) in node.edges() {
            let label = edge_label(&kind);
            let style = if matches!(kind, EdgeKind::Exhausted(_) | EdgeKind::Fallback) {
                ", style=dashed"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    \"{}\" -> \"{}\" [label=\"{}\"{style}];",
                dot_text(&node.id),
                dot_text(&flow.node(target).id),
                dot_text(&label)
            );
        }
    }
    out.push_str("}\n");
    out
}
