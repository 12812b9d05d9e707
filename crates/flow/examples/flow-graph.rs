//! Prints a flow's diagnostics, or its Mermaid graph: `cargo run -p hotline-flow --example
//! flow-graph -- FLOW.yaml [dot]`. A stand-in for `hotline check`/`hotline graph` while the
//! CLI is being written; it holds no logic of its own.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: flow-graph FLOW.yaml [dot]");
        return ExitCode::FAILURE;
    };
    match hotline_flow::load_flow(Path::new(path)) {
        Ok(loaded) => {
            let sources = hotline_flow::Sources::read_for(&loaded.warnings);
            eprint!(
                "{}",
                hotline_flow::render_diagnostics(&loaded.warnings, &sources)
            );
            if args.get(1).map(String::as_str) == Some("dot") {
                print!("{}", hotline_flow::graph::to_dot(&loaded.flow));
            } else {
                print!("{}", hotline_flow::graph::to_mermaid(&loaded.flow));
            }
            ExitCode::SUCCESS
        }
        Err(diags) => {
            let sources = hotline_flow::Sources::read_for(&diags);
            eprint!("{}", hotline_flow::render_diagnostics(&diags, &sources));
            ExitCode::FAILURE
        }
    }
}
