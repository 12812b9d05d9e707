//! Whole-flow checks that need every node at once: unreachable nodes, loops the call can never
//! leave (strongly connected components without an exit), and variables read but never set.
//!
//! Works on the [`GraphFacts`] recorded during lowering, so it also runs when some nodes failed
//! to lower (those count as exits, to avoid cascades of follow-up errors). Pure: no I/O.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lower::GraphFacts;
use crate::model::BUILTIN_VARIABLES;
use crate::suggest::did_you_mean;

/// Runs the graph and variable checks, appending to `diags`.
pub(crate) fn check(facts: &GraphFacts, file: &str, diags: &mut Vec<Diagnostic>) {
    unreachable(facts, file, diags);
    loops(facts, file, diags);
    variables(facts, file, diags);
}

fn unreachable(facts: &GraphFacts, file: &str, diags: &mut Vec<Diagnostic>) {
    let Some(start) = facts.start else {
        return;
    };
    let n = facts.names.len();
    let mut seen = vec![false; n];
    let mut stack = vec![start];
    while let Some(i) = stack.pop() {
        match seen.get_mut(i) {
            Some(s) if !*s => *s = true,
            _ => continue,
        }
        if let Some(edges) = facts.edges.get(i) {
            stack.extend(edges.iter().copied());
        }
    }
    let start_name = facts
        .names
        .get(start)
        .map(|s| s.value.as_str())
        .unwrap_or("");
    for (i, name) in facts.names.iter().enumerate() {
        if !seen.get(i).copied().unwrap_or(true) {
            diags.push(
                Diagnostic::warning(
                    codes::UNREACHABLE_NODE,
                    file,
                    name.span,
                    format!("node `{}` can never be reached", name.value),
                    "unreachable",
                )
                .with_help(format!(
                    "no route, `next`, `exhausted` or `fallback` leads here from `{start_name}`; link it or remove it"
                )),
            );
        }
    }
}

/// Tarjan's strongly connected components, iterative (flows may have thousands of nodes).
fn components(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    let mut counter = 0usize;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge position)
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut pos)) = work.last_mut() {
            let succ = edges.get(v).and_then(|e| e.get(*pos)).copied();
            if let Some(w) = succ {
                *pos += 1;
                if w >= n {
                    continue;
                }
                if index[w] == usize::MAX {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comp.sort_unstable();
                    out.push(comp);
                }
            }
        }
    }
    out
}

fn loops(facts: &GraphFacts, file: &str, diags: &mut Vec<Diagnostic>) {
    let comps = components(&facts.edges);
    let mut comp_of = vec![usize::MAX; facts.edges.len()];
    for (c, members) in comps.iter().enumerate() {
        for &m in members {
            comp_of[m] = c;
        }
    }
    let mut found: Vec<&Vec<usize>> = Vec::new();
    for (c, members) in comps.iter().enumerate() {
        let cyclic = members.len() > 1
            || members
                .first()
                .is_some_and(|&m| facts.edges.get(m).is_some_and(|e| e.contains(&m)));
        if !cyclic {
            continue;
        }
        let has_exit = members.iter().any(|&m| {
            facts.exits.get(m).copied().unwrap_or(true)
                || facts
                    .edges
                    .get(m)
                    .is_some_and(|e| e.iter().any(|&t| comp_of.get(t) != Some(&c)))
        });
        if !has_exit {
            found.push(members);
        }
    }
    found.sort_by_key(|m| m.first().copied());
    for members in found {
        let Some(first) = members.first().and_then(|&m| facts.names.get(m)) else {
            continue;
        };
        let names: Vec<String> = members
            .iter()
            .filter_map(|&m| facts.names.get(m))
            .map(|n| format!("`{}`", n.value))
            .collect();
        let message = if names.len() == 1 {
            format!("node {} loops on itself with no way out", names.join(""))
        } else {
            format!(
                "nodes {} form a loop the call can never leave",
                names.join(", ")
            )
        };
        diags.push(
            Diagnostic::error(
                codes::LOOP_WITHOUT_EXIT,
                file,
                first.span,
                message,
                "loop starts here",
            )
            .with_help(
                "give one of these nodes a route, `exhausted` or `fallback` target outside the loop, or end the call with `hangup: true`",
            ),
        );
    }
}

fn variables(facts: &GraphFacts, file: &str, diags: &mut Vec<Diagnostic>) {
    let known: Vec<&str> = facts
        .writes
        .iter()
        .map(String::as_str)
        .chain(BUILTIN_VARIABLES.iter().copied())
        .collect();
    let mut reported = std::collections::HashSet::new();
    for read in &facts.reads {
        if known.contains(&read.value.as_str()) || !reported.insert((read.value.clone(), read.span))
        {
            continue;
        }
        let mut sorted = known.clone();
        sorted.sort_unstable();
        let help = did_you_mean(&read.value, sorted.iter().copied()).unwrap_or_else(|| {
            format!(
                "declare it under `variables:` at the top of the flow, or set it with `set: {{ {}: ... }}`",
                read.value
            )
        });
        diags.push(
            Diagnostic::warning(
                codes::UNKNOWN_VARIABLE,
                file,
                read.span,
                format!("variable `{}` is never set", read.value),
                "unknown variable",
            )
            .with_help(help),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tarjan_finds_cycles() {
        let edges = vec![vec![1], vec![2], vec![1, 3], vec![], vec![4]];
        let mut comps = components(&edges);
        comps.sort();
        assert_eq!(comps, vec![vec![0], vec![1, 2], vec![3], vec![4]]);
    }

    #[test]
    fn tarjan_handles_long_chains() {
        let n = 10_000;
        let edges: Vec<Vec<usize>> = (0..n).map(|i| vec![(i + 1) % n]).collect();
        let comps = components(&edges);
        assert_eq!(comps.len(), 1);
        assert_eq!(comps.first().map(Vec::len), Some(n));
    }
}
