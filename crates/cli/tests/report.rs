//! `hotline report FLOW`: the funnel as a table (nodes, outcomes, the routes taken from each
//! node, most taken first) and as JSON, of every call or of those started since a time.
#![allow(clippy::unwrap_used)]

use hotline_store::records::sqlite::SqliteConfig;
use hotline_store::{CallRecord, RecordStore, StepRecord};
use std::process::Command;

/// Three calls of `menu`: two pressed 2 for English, one said "français"; one is still in
/// progress.
async fn records(db: &std::path::Path) {
    let store = SqliteConfig::new(db).build().await.unwrap();
    for (i, route) in ["2 / english", "1 / français", "2 / english"]
        .iter()
        .enumerate()
    {
        let sid = format!("CA{i:032}");
        let at = 1_700_000_000_000 + i as i64;
        store
            .call_started(CallRecord::started(
                &sid,
                "menu",
                "v1",
                "+33600000000",
                "+33900000000",
                at,
            ))
            .await
            .unwrap();
        let mut heard = StepRecord::new(&sid, 2, at, "langue", "heard");
        heard.route = Some((*route).to_owned());
        store
            .append_all(vec![
                StepRecord::new(&sid, 1, at, "langue", "entered"),
                heard,
                StepRecord::new(&sid, 3, at, "accueil", "entered"),
            ])
            .await
            .unwrap();
        if i < 2 {
            store.call_ended(&sid, "enqueued", at + 1).await.unwrap();
        }
    }
    store.close().await;
}

fn report(db: &std::path::Path, json: bool) -> String {
    report_with(db, if json { &["--json"] } else { &[] })
}

fn report_with(db: &std::path::Path, extra: &[&str]) -> String {
    let records = format!("sqlite:{}", db.display());
    let mut args = vec!["report", "menu", "--records", &records];
    args.extend(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(&args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn report_counts_the_routes_taken_from_each_node() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    records(&db).await;

    let table = report(&db, false);
    assert!(
        table.starts_with("flow menu — 3 calls (1 in progress)\n"),
        "{table}"
    );
    let routes: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.ends_with("route"))
        .collect();
    assert_eq!(
        routes,
        [
            "node                        taken  route",
            "langue                          2  2 / english",
            "langue                          1  1 / français",
        ],
        "{table}"
    );

    let json: serde_json::Value = serde_json::from_str(&report(&db, true)).unwrap();
    let langue = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "langue")
        .unwrap();
    assert_eq!(
        langue["routes"],
        serde_json::json!([
            { "route": "2 / english", "taken": 2 },
            { "route": "1 / français", "taken": 1 }
        ])
    );

    // The records' calls started on 2023-11-14: none since an hour ago, all since that day.
    let recent = report_with(&db, &["--since", "1h"]);
    assert!(
        recent.starts_with("flow menu — 0 calls started since "),
        "{recent}"
    );
    let day = report_with(&db, &["--since", "2023-11-14"]);
    assert!(
        day.starts_with("flow menu — 3 calls started since 2023-11-14 00:00:00Z (1 in progress)"),
        "{day}"
    );

    // `hotline calls --since` filters the same way.
    let records = format!("sqlite:{}", db.display());
    for (since, listed) in [("1h", 0), ("2023-11-14", 3)] {
        let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
            .args(["calls", "--since", since, "--records", &records])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let rows = String::from_utf8(out.stdout).unwrap().lines().count() - 1;
        assert_eq!(rows, listed, "--since {since}");
    }
}
