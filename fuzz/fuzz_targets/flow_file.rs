//! Fuzz target: flow files are user files, validated like a compiler. Any text must load or be
//! refused with diagnostics (never a panic), every diagnostic must point inside the text, and a
//! flow that loads must export as Mermaid and DOT and answer a first call and a silent caller.
//! Diagnostics (a loaded flow's warnings too) must render with their source excerpt.
//! This target must not do I/O: the prompt folder does not exist, so prompt checks report it.
#![no_main]

use hotline_flow::runtime::{self, CallFacts, Input, Links, Session};
use hotline_flow::{Audio, Flow, Sources, graph, load_flow_str, render_diagnostics_with};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

struct FuzzLinks;

impl Links for FuzzLinks {
    fn action(&self, s: &Session) -> String {
        format!("https://ivr.test/step?seq={}", s.seq)
    }
    fn prompt(&self, _flow: &Flow, audio: &Audio, _language: &str) -> Option<String> {
        match audio {
            Audio::Url(u) => Some(u.clone()),
            Audio::File { resolved, .. } => Some(format!("https://ivr.test/{resolved}")),
        }
    }
    fn flow_entry(&self, flow_id: &str) -> String {
        format!("https://ivr.test/flows/{flow_id}")
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = Sources::new();
    sources.add("fuzz.yaml", text);
    match load_flow_str(text, "fuzz.yaml", Path::new("/nonexistent-hotline-fuzz")) {
        Ok(loaded) => {
            let _ = render_diagnostics_with(&loaded.warnings, &sources, true);
            let flow = loaded.flow;
            let _ = graph::to_mermaid(&flow);
            let _ = graph::to_dot(&flow);
            let (mut session, _) = runtime::start(&flow, CallFacts::default(), &FuzzLinks);
            for _ in 0..12 {
                let _ = runtime::step(&flow, &mut session, Input::NoInput, &FuzzLinks);
            }
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "a refused flow has a diagnostic");
            for d in &diagnostics {
                assert!(
                    d.span.end <= text.len(),
                    "a diagnostic points inside the text"
                );
                assert!(d.span.start <= d.span.end, "a diagnostic's span is ordered");
            }
            let _ = render_diagnostics_with(&diagnostics, &sources, true);
        }
    }
});
