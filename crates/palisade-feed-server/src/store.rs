//! The embedded store: one redb file holding the issues as last seen, the webhook delivery IDs
//! already processed, and sync state (generation counters, the ETag cache, last sync and seed times).
//!
//! Every change is one write transaction, committed durably (fsync) before the server answers
//! GitHub, so an acknowledged delivery survives a crash. The `generation` counter moves with
//! every change to issue data; `outputs_generation` records which generation the files on disk
//! were built from, so a restart knows whether it can serve them as they are.

use crate::ServerError;
use palisade_feed::github::{Issue, Label};
use palisade_feed::timestamp;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const ISSUES: TableDefinition<u64, &[u8]> = TableDefinition::new("issues");
const DELIVERIES: TableDefinition<&str, u64> = TableDefinition::new("deliveries");
const DELIVERY_SEQ: TableDefinition<u64, &str> = TableDefinition::new("delivery_seq");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// File name of the store inside `--data-dir`.
pub const FILE_NAME: &str = "feed.redb";
/// Delivery IDs remembered for deduplication; the oldest are forgotten beyond this. GitHub
/// redelivers within days, so 100,000 deliveries is weeks of traffic for one repository.
pub const MAX_DELIVERIES: u64 = 100_000;
/// Longest `X-GitHub-Delivery` accepted (GitHub sends a 36-character GUID).
pub const MAX_DELIVERY_ID: usize = 128;

const GENERATION: &str = "generation";
const OUTPUTS_GENERATION: &str = "outputs_generation";
const DELIVERY_COUNTER: &str = "delivery_seq";
pub const ETAG_CACHE: &str = "etag_cache";
/// Unix time of the last successful resync from the GitHub API (never set by a seed).
pub const LAST_SYNC: &str = "last_sync_unix";
/// Unix time the store was last seeded from `--input` pages.
pub const LAST_SEED: &str = "last_seed_unix";

/// An issue as last seen, or a tombstone for one deleted or transferred away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredIssue {
    pub number: u64,
    pub title: String,
    pub html_url: String,
    pub state: String,
    #[serde(default)]
    pub state_reason: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    pub created_at: String,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub closed_at: Option<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    /// Set for `deleted` and `transferred`: kept so a late, older delivery cannot bring it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<String>,
}

/// Kept as its own struct rather than wrapping [`Issue`]: the records on disk store labels as
/// plain strings (`"labels": ["official-cve-feed"]`), GitHub's `Issue` has label objects, and
/// wrapping would change the format of existing data directories. The conversions move every
/// field (no copies), and destructure both structs fully, so a field added to `Issue` fails to
/// compile here until it is either stored or deliberately dropped.
impl From<Issue> for StoredIssue {
    fn from(i: Issue) -> StoredIssue {
        let Issue {
            number,
            title,
            html_url,
            state,
            state_reason,
            body,
            created_at,
            updated_at,
            closed_at,
            labels,
            // Pull requests are never stored (the webhook and the builder skip them).
            pull_request: _,
        } = i;
        StoredIssue {
            number,
            title,
            html_url,
            state,
            state_reason,
            body,
            created_at,
            updated_at,
            closed_at,
            labels: labels.into_iter().map(|l| l.name).collect(),
            removed: None,
        }
    }
}

impl From<StoredIssue> for Issue {
    fn from(s: StoredIssue) -> Issue {
        let StoredIssue {
            number,
            title,
            html_url,
            state,
            state_reason,
            body,
            created_at,
            updated_at,
            closed_at,
            labels,
            // Tombstones are filtered out before building (`in_feed`).
            removed: _,
        } = s;
        Issue {
            number,
            title,
            html_url,
            state,
            state_reason,
            body,
            created_at,
            updated_at,
            closed_at,
            labels: labels.into_iter().map(|name| Label { name }).collect(),
            pull_request: None,
        }
    }
}

impl StoredIssue {
    /// In the feed: not removed and carrying the label.
    pub fn in_feed(&self, label: &str) -> bool {
        self.removed.is_none() && self.labels.iter().any(|l| l.eq_ignore_ascii_case(label))
    }
}

/// What a delivery does to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Upsert(StoredIssue),
    /// `deleted` or `transferred`: the issue leaves this repository.
    Remove(StoredIssue, &'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// The delivery ID was seen before: nothing was done.
    pub duplicate: bool,
    /// Issue data changed (outputs need a rebuild).
    pub changed: bool,
    pub generation: u64,
}

#[derive(Debug)]
pub struct Store {
    db: Database,
    path: PathBuf,
    max_deliveries: u64,
    /// With a label, issues that neither carry it nor were in the feed are not stored: a
    /// repository-wide webhook sends every issue event, and those cannot change the feed.
    label: Option<String>,
}

/// The record's `updated_at` as an instant; `None` when absent or not RFC 3339.
fn updated_at(i: &StoredIssue) -> Option<timestamp::Timestamp> {
    i.updated_at
        .as_deref()
        .and_then(|u| timestamp::parse(u).ok())
}

/// Newer-or-equal `updated_at` wins; a tombstone wins over an upsert of the same age.
/// Returns the record to write, or `None` when nothing changes.
fn merge(existing: Option<StoredIssue>, change: Change) -> Option<StoredIssue> {
    let (incoming, removing) = match change {
        Change::Upsert(i) => (i, false),
        Change::Remove(mut t, reason) => {
            t.removed = Some(reason.to_owned());
            (t, true)
        }
    };
    let Some(old) = existing else {
        return Some(incoming);
    };
    if old == incoming {
        return None;
    }
    // Compared as instants: as text, `"not-a-date"` (stored before deliveries were checked)
    // sorted after every real time and froze the record. Unreadable counts as no time.
    let newer = match (updated_at(&old), updated_at(&incoming)) {
        (Some(o), Some(n)) => n > o || (n == o && (removing || old.removed.is_none())),
        (Some(_), None) => false,
        (None, _) => true,
    };
    newer.then_some(incoming)
}

impl Store {
    /// Opens (or creates) the store. redb takes a lock on the file, so two servers cannot
    /// share one data directory; after a crash it recovers to the last committed transaction.
    pub fn open(path: &Path) -> Result<Store, ServerError> {
        let db = Database::create(path).map_err(|e| ServerError::Store {
            path: path.to_owned(),
            message: format!("cannot open: {e}"),
        })?;
        let store = Store {
            db,
            path: path.to_owned(),
            max_deliveries: MAX_DELIVERIES,
            label: None,
        };
        // Create the tables once so readers never see "table does not exist".
        store.write(|tx| {
            tx.open_table(ISSUES)?;
            tx.open_table(DELIVERIES)?;
            tx.open_table(DELIVERY_SEQ)?;
            tx.open_table(META)?;
            Ok(())
        })?;
        Ok(store)
    }

    /// Remembers at most `n` delivery IDs (at least 1).
    pub fn with_max_deliveries(mut self, n: u64) -> Store {
        self.max_deliveries = n.max(1);
        self
    }

    /// Stores only issues that carry `label` or were in the feed before.
    pub fn with_label(mut self, label: &str) -> Store {
        self.label = Some(label.to_owned());
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: impl std::fmt::Display) -> ServerError {
        ServerError::Store {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<T, redb::Error>,
    ) -> Result<T, ServerError> {
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        let out = f(&tx).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Records a delivery and applies its change in one transaction.
    pub fn apply_delivery(
        &self,
        delivery: &str,
        change: Option<Change>,
    ) -> Result<Applied, ServerError> {
        self.write(|tx| {
            let mut deliveries = tx.open_table(DELIVERIES)?;
            let mut meta = tx.open_table(META)?;
            let generation = read_u64(&meta, GENERATION)?;
            if deliveries.get(delivery)?.is_some() {
                return Ok(Applied {
                    duplicate: true,
                    changed: false,
                    generation,
                });
            }
            let seq = read_u64(&meta, DELIVERY_COUNTER)? + 1;
            deliveries.insert(delivery, seq)?;
            let mut by_seq = tx.open_table(DELIVERY_SEQ)?;
            by_seq.insert(seq, delivery)?;
            if seq > self.max_deliveries {
                let old = seq - self.max_deliveries;
                let forgotten = by_seq.remove(old)?.map(|g| g.value().to_owned());
                if let Some(id) = forgotten {
                    deliveries.remove(id.as_str())?;
                }
            }
            meta.insert(DELIVERY_COUNTER, seq.to_le_bytes().as_slice())?;
            let mut changed = false;
            if let Some(change) = change {
                let mut issues = tx.open_table(ISSUES)?;
                changed = apply_one(&mut issues, change, self.label.as_deref())?;
            }
            let generation = if changed {
                let g = generation + 1;
                meta.insert(GENERATION, g.to_le_bytes().as_slice())?;
                g
            } else {
                generation
            };
            Ok(Applied {
                duplicate: false,
                changed,
                generation,
            })
        })
    }

    /// Applies a batch (seed pages, a resync). With `drop_absent = Some((label, cutoff))` the
    /// batch is a complete search result: stored issues in the feed but not in the batch lose
    /// the label, unless updated at or after `cutoff` (the search index lags behind webhooks).
    pub fn apply_batch(
        &self,
        batch: Vec<StoredIssue>,
        drop_absent: Option<(&str, &str)>,
    ) -> Result<Applied, ServerError> {
        self.write(|tx| {
            let mut meta = tx.open_table(META)?;
            let mut issues = tx.open_table(ISSUES)?;
            let mut changed = false;
            let numbers: std::collections::HashSet<u64> = batch.iter().map(|i| i.number).collect();
            for i in batch {
                changed |= apply_one(&mut issues, Change::Upsert(i), self.label.as_deref())?;
            }
            if let Some((label, cutoff)) = drop_absent {
                let mut drop = Vec::new();
                for entry in issues.iter()? {
                    let (k, v) = entry?;
                    let Ok(s) = serde_json::from_slice::<StoredIssue>(v.value()) else {
                        continue;
                    };
                    let old_enough = match (updated_at(&s), timestamp::parse(cutoff).ok()) {
                        (Some(u), Some(c)) => u < c,
                        _ => true,
                    };
                    if s.in_feed(label) && old_enough && !numbers.contains(&k.value()) {
                        drop.push(s);
                    }
                }
                for mut s in drop {
                    s.labels.retain(|l| !l.eq_ignore_ascii_case(label));
                    let bytes = serde_json::to_vec(&s).map_err(storage)?;
                    issues.insert(s.number, bytes.as_slice())?;
                    changed = true;
                }
            }
            let mut generation = read_u64(&meta, GENERATION)?;
            if changed {
                generation += 1;
                meta.insert(GENERATION, generation.to_le_bytes().as_slice())?;
            }
            Ok(Applied {
                duplicate: false,
                changed,
                generation,
            })
        })
    }

    /// Every stored record (tombstones included), by issue number.
    pub fn issues(&self) -> Result<Vec<StoredIssue>, ServerError> {
        Ok(self.read_all()?.1)
    }

    /// The generation and every record, read in one transaction so they agree.
    pub fn read_all(&self) -> Result<(u64, Vec<StoredIssue>), ServerError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let meta = tx.open_table(META).map_err(|e| self.err(e))?;
        let generation = meta
            .get(GENERATION)
            .map_err(|e| self.err(e))?
            .map_or(0, |g| u64_from(g.value()));
        let table = tx.open_table(ISSUES).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(|e| self.err(e))? {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let issue = serde_json::from_slice(v.value()).map_err(|e| ServerError::Corrupt {
                path: self.path.clone(),
                key: format!("issues/{}", k.value()),
                message: e.to_string(),
            })?;
            out.push(issue);
        }
        Ok((generation, out))
    }

    pub fn has_delivery(&self, delivery: &str) -> Result<bool, ServerError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(DELIVERIES).map_err(|e| self.err(e))?;
        Ok(table.get(delivery).map_err(|e| self.err(e))?.is_some())
    }

    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, ServerError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(META).map_err(|e| self.err(e))?;
        Ok(table
            .get(key)
            .map_err(|e| self.err(e))?
            .map(|g| g.value().to_vec()))
    }

    pub fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), ServerError> {
        self.write(|tx| {
            tx.open_table(META)?.insert(key, value)?;
            Ok(())
        })
    }

    pub fn meta_u64(&self, key: &str) -> Result<u64, ServerError> {
        Ok(self.meta(key)?.map_or(0, |v| u64_from(&v)))
    }

    pub fn generation(&self) -> Result<u64, ServerError> {
        self.meta_u64(GENERATION)
    }

    pub fn outputs_generation(&self) -> Result<u64, ServerError> {
        self.meta_u64(OUTPUTS_GENERATION)
    }

    pub fn set_outputs_generation(&self, g: u64) -> Result<(), ServerError> {
        self.set_meta(OUTPUTS_GENERATION, &g.to_le_bytes())
    }
}

fn storage(e: impl std::fmt::Display) -> redb::Error {
    redb::Error::Io(std::io::Error::other(e.to_string()))
}

fn u64_from(v: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    for (dst, src) in b.iter_mut().zip(v.iter()) {
        *dst = *src;
    }
    u64::from_le_bytes(b)
}

fn read_u64(table: &redb::Table<&str, &[u8]>, key: &str) -> Result<u64, redb::Error> {
    Ok(table.get(key)?.map_or(0, |g| u64_from(g.value())))
}

fn apply_one(
    table: &mut redb::Table<u64, &[u8]>,
    change: Change,
    label: Option<&str>,
) -> Result<bool, redb::Error> {
    let number = match &change {
        Change::Upsert(i) | Change::Remove(i, _) => i.number,
    };
    let existing = match table.get(number)? {
        Some(g) => serde_json::from_slice::<StoredIssue>(g.value()).ok(),
        None => None,
    };
    if let Some(label) = label {
        let was_in_feed = existing.as_ref().is_some_and(|e| e.in_feed(label));
        let skip = match &change {
            Change::Upsert(incoming) => !incoming.in_feed(label) && !was_in_feed,
            // Nothing stored: nothing to remove.
            Change::Remove(..) => existing.is_none(),
        };
        if skip {
            return Ok(false);
        }
    }
    match merge(existing, change) {
        Some(new) => {
            let bytes = serde_json::to_vec(&new).map_err(storage)?;
            table.insert(number, bytes.as_slice())?;
            Ok(true)
        }
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(n: u64, updated: &str, labels: &[&str]) -> StoredIssue {
        StoredIssue {
            number: n,
            title: format!("CVE-2099-{n}: t"),
            html_url: format!("https://github.com/kubernetes/kubernetes/issues/{n}"),
            state: "open".into(),
            state_reason: None,
            body: Some("b".into()),
            created_at: "2024-01-01T00:00:00Z".into(),
            updated_at: Some(updated.into()),
            closed_at: None,
            labels: labels.iter().map(|s| (*s).to_owned()).collect(),
            removed: None,
        }
    }

    #[test]
    fn merge_rules() {
        let a = issue(1, "2024-01-02T00:00:00Z", &["official-cve-feed"]);
        let older = issue(1, "2024-01-01T00:00:00Z", &[]);
        assert_eq!(merge(None, Change::Upsert(a.clone())), Some(a.clone()));
        assert_eq!(merge(Some(a.clone()), Change::Upsert(a.clone())), None);
        // An older delivery arriving late does not undo a newer one.
        assert_eq!(merge(Some(a.clone()), Change::Upsert(older)), None);
        let gone = merge(Some(a.clone()), Change::Remove(a.clone(), "deleted")).unwrap();
        assert_eq!(gone.removed.as_deref(), Some("deleted"));
        // Same age as the tombstone: stays deleted.
        assert_eq!(merge(Some(gone.clone()), Change::Upsert(a.clone())), None);
        let newer = issue(1, "2024-01-03T00:00:00Z", &["official-cve-feed"]);
        assert_eq!(
            merge(Some(gone), Change::Upsert(newer.clone())),
            Some(newer)
        );
    }

    /// Issue 14 item 11: a record stored with a time that is not RFC 3339 (by a version that
    /// did not check) must not win over every later valid delivery, as `"not-a-date"` did as text.
    #[test]
    fn unreadable_stored_times_lose_to_valid_ones() {
        let poisoned = issue(1, "not-a-date", &["official-cve-feed"]);
        let unlabel = issue(1, "2024-01-03T00:00:00Z", &[]);
        assert_eq!(
            merge(Some(poisoned.clone()), Change::Upsert(unlabel.clone())),
            Some(unlabel)
        );
        let mut null = poisoned.clone();
        null.updated_at = None;
        let valid = issue(1, "2024-01-03T00:00:00Z", &[]);
        assert_eq!(
            merge(Some(null), Change::Upsert(valid.clone())),
            Some(valid.clone())
        );
        // Instants, not text: 01:00+02:00 is before 00:00Z the same day.
        let earlier = issue(1, "2024-01-03T01:00:00+02:00", &["official-cve-feed"]);
        assert_eq!(merge(Some(valid.clone()), Change::Upsert(earlier)), None);
        // And an unreadable incoming time never replaces a readable one.
        assert_eq!(merge(Some(valid), Change::Upsert(poisoned)), None);
    }

    #[test]
    fn deliveries_are_deduplicated_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let a = issue(7, "2024-01-02T00:00:00Z", &["official-cve-feed"]);
        {
            let s = Store::open(&path).unwrap();
            let r = s
                .apply_delivery("d-1", Some(Change::Upsert(a.clone())))
                .unwrap();
            assert!(r.changed && !r.duplicate);
            assert_eq!(r.generation, 1);
            let r = s
                .apply_delivery("d-1", Some(Change::Upsert(a.clone())))
                .unwrap();
            assert!(r.duplicate && !r.changed);
            // A new delivery with the same content changes nothing.
            let r = s
                .apply_delivery("d-2", Some(Change::Upsert(a.clone())))
                .unwrap();
            assert!(!r.changed && !r.duplicate);
            s.set_outputs_generation(1).unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert!(s.has_delivery("d-1").unwrap());
        assert!(!s.has_delivery("d-3").unwrap());
        assert_eq!(s.issues().unwrap(), vec![a]);
        assert_eq!(s.generation().unwrap(), 1);
        assert_eq!(s.outputs_generation().unwrap(), 1);
    }

    #[test]
    fn issues_outside_the_feed_are_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join(FILE_NAME))
            .unwrap()
            .with_label("official-cve-feed");
        let other = issue(9, "2024-01-01T00:00:00Z", &["kind/bug"]);
        let r = s.apply_delivery("o", Some(Change::Upsert(other))).unwrap();
        assert!(!r.changed && !r.duplicate);
        assert!(s.issues().unwrap().is_empty());
        // Once in the feed, losing the label is recorded.
        let cve = issue(9, "2024-01-02T00:00:00Z", &["official-cve-feed"]);
        assert!(
            s.apply_delivery("a", Some(Change::Upsert(cve)))
                .unwrap()
                .changed
        );
        let unl = issue(9, "2024-01-03T00:00:00Z", &[]);
        assert!(
            s.apply_delivery("b", Some(Change::Upsert(unl)))
                .unwrap()
                .changed
        );
        assert!(!s.issues().unwrap()[0].in_feed("official-cve-feed"));
    }

    #[test]
    fn delivery_memory_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join(FILE_NAME))
            .unwrap()
            .with_max_deliveries(3);
        for n in 1..=5 {
            s.apply_delivery(&format!("d-{n}"), None).unwrap();
        }
        let seen: Vec<bool> = (1..=5)
            .map(|n| s.has_delivery(&format!("d-{n}")).unwrap())
            .collect();
        assert_eq!(seen, vec![false, false, true, true, true]);
    }

    #[test]
    fn complete_resync_drops_absent_issues_but_not_fresh_ones() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join(FILE_NAME)).unwrap();
        let old = issue(1, "2024-01-01T00:00:00Z", &["official-cve-feed"]);
        let fresh = issue(2, "2024-06-01T00:00:00Z", &["official-cve-feed"]);
        let kept = issue(3, "2024-01-01T00:00:00Z", &["official-cve-feed"]);
        s.apply_batch(vec![old, fresh, kept.clone()], None).unwrap();
        let r = s
            .apply_batch(
                vec![kept.clone()],
                Some(("official-cve-feed", "2024-05-01T00:00:00Z")),
            )
            .unwrap();
        assert!(r.changed);
        let in_feed: Vec<u64> = s
            .issues()
            .unwrap()
            .iter()
            .filter(|i| i.in_feed("official-cve-feed"))
            .map(|i| i.number)
            .collect();
        assert_eq!(in_feed, vec![2, 3]);
    }

    /// Records exactly as earlier versions wrote them (labels as plain strings, `removed` only
    /// on tombstones, optional fields absent in the oldest), written with redb directly and
    /// built from: existing data directories keep loading.
    #[test]
    fn records_in_the_existing_on_disk_format_load() {
        let payload: serde_json::Value = serde_json::from_slice(
            &std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../testdata/feed-server/issues-labeled.CVE-2023-3893.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let i = &payload["issue"];
        let live = serde_json::json!({
            "number": i["number"], "title": i["title"], "html_url": i["html_url"],
            "state": i["state"], "state_reason": i["state_reason"], "body": i["body"],
            "created_at": i["created_at"], "updated_at": i["updated_at"],
            "closed_at": i["closed_at"], "labels": ["official-cve-feed", "area/security"],
        });
        let tombstone = serde_json::json!({
            "number": 7, "title": "CVE-2099-7: gone", "html_url": "https://github.com/kubernetes/kubernetes/issues/7",
            "state": "open", "state_reason": null, "body": "b", "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-02T00:00:00Z", "closed_at": null, "labels": ["official-cve-feed"],
            "removed": "transferred",
        });
        let minimal = serde_json::json!({
            "number": 8, "title": "CVE-2099-8: t", "html_url": "https://github.com/kubernetes/kubernetes/issues/8",
            "state": "closed", "created_at": "2024-01-01T00:00:00Z",
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        {
            let db = Database::create(&path).unwrap();
            let tx = db.begin_write().unwrap();
            {
                let mut t = tx.open_table(ISSUES).unwrap();
                for r in [&live, &tombstone, &minimal] {
                    let bytes = serde_json::to_vec(r).unwrap();
                    t.insert(r["number"].as_u64().unwrap(), bytes.as_slice())
                        .unwrap();
                }
                tx.open_table(META)
                    .unwrap()
                    .insert(GENERATION, 3u64.to_le_bytes().as_slice())
                    .unwrap();
            }
            tx.commit().unwrap();
        }
        let s = Store::open(&path).unwrap();
        let (generation, all) = s.read_all().unwrap();
        assert_eq!(generation, 3);
        let label = "official-cve-feed";
        let by = |n: u64| all.iter().find(|r| r.number == n).unwrap().clone();
        assert_eq!(by(119594).labels, ["official-cve-feed", "area/security"]);
        assert!(by(119594).in_feed(label));
        assert_eq!(by(7).removed.as_deref(), Some("transferred"));
        assert!(!by(7).in_feed(label));
        assert!(by(8).labels.is_empty() && by(8).updated_at.is_none());
        // Rewritten unchanged: the format stays the one on disk.
        assert_eq!(serde_json::to_value(by(119594)).unwrap(), live);
        assert_eq!(serde_json::to_value(by(7)).unwrap(), tombstone);
        // Through the conversion into GitHub's `Issue` and the builder.
        let issue = Issue::from(by(119594));
        assert_eq!(issue.labels[0].name, "official-cve-feed");
        assert_eq!(issue.body.as_deref(), i["body"].as_str());
        let built = crate::outputs::build(
            all,
            label,
            &palisade_feed::Site::default(),
            generation,
            None,
            "2026-01-01T00:00:00Z",
            &palisade_feed::Limits::default(),
        )
        .unwrap();
        let ids: Vec<&str> = built
            .snapshot
            .feed
            .items
            .iter()
            .map(|i| i.id.as_str())
            .collect();
        assert_eq!(ids, ["CVE-2023-3893"]);
    }

    #[test]
    fn issue_round_trips_through_the_stored_form() {
        let stored = issue(
            5,
            "2024-01-02T00:00:00Z",
            &["official-cve-feed", "kind/bug"],
        );
        let back = StoredIssue::from(Issue::from(stored.clone()));
        assert_eq!(back, stored);
    }
}
