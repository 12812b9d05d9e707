//! `hotline purge --older-than AGE`: the calls started before the cutoff leave the records with
//! their steps; later ones stay; an age under a day is refused and deletes nothing; records
//! that do not exist are an error for it, `calls` and `report`, never created.
#![allow(clippy::unwrap_used)]

use hotline_store::records::sqlite::SqliteConfig;
use hotline_store::{CallRecord, RecordStore, StepRecord};
use std::process::{Command, Output};

const DAY_MS: i64 = 86_400_000;

fn hotline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(args)
        .output()
        .unwrap()
}

/// A records file holding calls started `ages` days ago (`CA…0`, `CA…1`, …), two steps each.
async fn records_with_calls(db: &std::path::Path, ages: &[i64]) {
    let store = SqliteConfig::new(db).build().await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for (i, age) in ages.iter().enumerate() {
        let sid = format!("CA{i:032}");
        let started = now - age * DAY_MS;
        store
            .call_started(CallRecord::started(
                &sid,
                "triage",
                "v1",
                "+33600000000",
                "+33900000000",
                started,
            ))
            .await
            .unwrap();
        store
            .append_all(vec![
                StepRecord::new(&sid, 1, started, "menu", "entered"),
                StepRecord::new(&sid, 2, started + 1_000, "menu", "heard"),
            ])
            .await
            .unwrap();
    }
    store.close().await;
}

#[tokio::test]
async fn purge_deletes_the_calls_older_than_the_age_given() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    records_with_calls(&db, &[40, 35, 2]).await;
    let records = format!("sqlite:{}", db.display());

    let refused = hotline(&["purge", "--older-than", "12h", "--records", &records]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("at least a day"), "{err}");

    let purged = hotline(&["purge", "--older-than", "30d", "--records", &records]);
    let out = String::from_utf8_lossy(&purged.stdout);
    assert!(
        purged.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&purged.stderr)
    );
    assert!(out.starts_with("purged 2 calls started before "), "{out}");

    let listed = hotline(&["calls", "--json", "--records", &records]);
    let calls: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let sids: Vec<&str> = calls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, [format!("CA{:032}", 2)]);
    // The steps went with their calls.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let steps: i64 = conn
        .query_row("SELECT COUNT(*) FROM steps", [], |r| r.get(0))
        .unwrap();
    assert_eq!(steps, 2);

    let again = hotline(&["purge", "--older-than", "30d", "--records", &records]);
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("purged 0 calls"));
}

#[test]
fn records_that_do_not_exist_are_an_error_not_a_new_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.db");
    let records = format!("sqlite:{}", missing.display());
    for args in [
        &["purge", "--older-than", "30d"][..],
        &["calls"][..],
        &["report", "covid-triage-fr"][..],
    ] {
        let out = hotline(&[args, &["--records", &records]].concat());
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no call records at"), "{args:?}: {err}");
        assert!(!missing.exists(), "{args:?} created {}", missing.display());
    }
}
