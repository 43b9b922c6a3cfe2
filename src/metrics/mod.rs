//! Operational metrics for `/metrics` (opt-in with `--metrics`), kept in one registry of their
//! own rather than the crate's global one, so that servers started side by side (tests) never
//! share counters. Request metrics are recorded as requests finish (`middleware`); everything
//! that reads the database, the index or the file system is measured at scrape time instead
//! (`Snapshot`), so that it costs nothing between scrapes.

pub mod middleware;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::db::locked;
use crate::supervisor::TaskStatus;

pub use middleware::{count_connections, OpenConnection, RecordRequests};

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// The route label of a request that matched no route: one value for all of them, so that
/// scanners probing random paths cannot grow the label set.
pub const UNMATCHED: &str = "unmatched";

/// Latency buckets in seconds: most answers here take well under a millisecond, searches and
/// filters on a large account take tens to hundreds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, thiserror::Error)]
#[error("metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

/// What is measured at scrape time.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub write_queue_depth: usize,
    /// Changes committed to the database that searches cannot see yet.
    pub index_lag: i64,
    pub index_documents: u64,
    /// Rows waiting in each outbox, by outbox name.
    pub outbox_backlog: Vec<(&'static str, i64)>,
    pub database_bytes: u64,
    pub wal_bytes: u64,
    pub tasks: BTreeMap<&'static str, TaskStatus>,
}

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    open_connections: IntGauge,
    write_queue_depth: IntGauge,
    index_lag: IntGauge,
    index_documents: IntGauge,
    outbox_backlog: IntGaugeVec,
    database_bytes: IntGauge,
    wal_bytes: IntGauge,
    task_up: IntGaugeVec,
    task_restarts: IntCounterVec,
    /// Scrapes one at a time: the restart counters are brought up to date by adding the
    /// difference, which two scrapes at once would add twice.
    scraping: Mutex<()>,
}

impl Metrics {
    pub fn new() -> Result<Self, MetricsError> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "wootlite_http_requests_total",
                "HTTP requests answered, by method, route pattern and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "wootlite_http_request_duration_seconds",
                "Time from a request's arrival to its response head, by method and route pattern",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        let metrics = Self {
            requests,
            latency,
            open_connections: IntGauge::new(
                "wootlite_http_open_connections",
                "HTTP connections open now",
            )?,
            write_queue_depth: IntGauge::new(
                "wootlite_write_queue_depth",
                "Writes waiting for the database writer",
            )?,
            index_lag: IntGauge::new(
                "wootlite_search_index_lag",
                "Changes to searchable messages committed but not yet visible to searches",
            )?,
            index_documents: IntGauge::new(
                "wootlite_search_index_documents",
                "Messages held by the search index",
            )?,
            outbox_backlog: IntGaugeVec::new(
                Opts::new(
                    "wootlite_outbox_backlog",
                    "Rows waiting to be processed, by outbox",
                ),
                &["outbox"],
            )?,
            database_bytes: IntGauge::new(
                "wootlite_database_bytes",
                "Size of the SQLite database file",
            )?,
            wal_bytes: IntGauge::new(
                "wootlite_database_wal_bytes",
                "Size of the SQLite write-ahead log file",
            )?,
            task_up: IntGaugeVec::new(
                Opts::new(
                    "wootlite_task_up",
                    "1 while a background task is up, 0 while it waits to be restarted",
                ),
                &["task"],
            )?,
            task_restarts: IntCounterVec::new(
                Opts::new(
                    "wootlite_task_restarts_total",
                    "Restarts of a background task after a failure",
                ),
                &["task"],
            )?,
            scraping: Mutex::new(()),
            registry,
        };
        metrics.register()?;
        Ok(metrics)
    }

    fn register(&self) -> Result<(), prometheus::Error> {
        let r = &self.registry;
        r.register(Box::new(self.requests.clone()))?;
        r.register(Box::new(self.latency.clone()))?;
        r.register(Box::new(self.open_connections.clone()))?;
        r.register(Box::new(self.write_queue_depth.clone()))?;
        r.register(Box::new(self.index_lag.clone()))?;
        r.register(Box::new(self.index_documents.clone()))?;
        r.register(Box::new(self.outbox_backlog.clone()))?;
        r.register(Box::new(self.database_bytes.clone()))?;
        r.register(Box::new(self.wal_bytes.clone()))?;
        r.register(Box::new(self.task_up.clone()))?;
        r.register(Box::new(self.task_restarts.clone()))?;
        Ok(())
    }

    /// Counts one answered request. `route` is a route pattern or `UNMATCHED`, never a raw
    /// path, and `method` one of a fixed few (see `middleware::method_label`), so the label
    /// set stays as small as the route table.
    pub fn observe_request(&self, method: &str, route: &str, status: &str, elapsed: Duration) {
        // The `get_metric_*` forms return an error where `with_label_values` would panic.
        if let Ok(counter) = self
            .requests
            .get_metric_with_label_values(&[method, route, status])
        {
            counter.inc();
        }
        if let Ok(histogram) = self.latency.get_metric_with_label_values(&[method, route]) {
            histogram.observe(elapsed.as_secs_f64());
        }
    }

    /// Counts a connection as open until the returned guard is dropped.
    pub fn connection_opened(&self) -> OpenConnection {
        OpenConnection::new(self.open_connections.clone())
    }

    /// Everything in the exposition text format, with `snapshot` as the scrape-time values.
    pub fn render(&self, snapshot: &Snapshot) -> Result<String, MetricsError> {
        let _one_at_a_time = locked(&self.scraping);
        self.set(snapshot)?;
        Ok(TextEncoder::new().encode_to_string(&self.registry.gather())?)
    }

    fn set(&self, snapshot: &Snapshot) -> Result<(), prometheus::Error> {
        self.write_queue_depth
            .set(gauge_value(snapshot.write_queue_depth));
        self.index_lag.set(snapshot.index_lag);
        self.index_documents
            .set(gauge_value(snapshot.index_documents));
        for (outbox, rows) in &snapshot.outbox_backlog {
            self.outbox_backlog
                .get_metric_with_label_values(&[outbox])?
                .set(*rows);
        }
        self.database_bytes
            .set(gauge_value(snapshot.database_bytes));
        self.wal_bytes.set(gauge_value(snapshot.wal_bytes));
        for (task, status) in &snapshot.tasks {
            self.task_up
                .get_metric_with_label_values(&[task])?
                .set(i64::from(status.up));
            let restarts = self.task_restarts.get_metric_with_label_values(&[task])?;
            // A counter only goes up: it is brought to the supervisor's count by the difference.
            restarts.inc_by(status.restarts.saturating_sub(restarts.get()));
        }
        Ok(())
    }
}

fn gauge_value(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(up: bool, restarts: u64) -> TaskStatus {
        TaskStatus {
            up,
            restarts,
            last_error: None,
        }
    }

    fn scrape(metrics: &Metrics, restarts: u64) -> String {
        let snapshot = Snapshot {
            tasks: BTreeMap::from([("mail-sender", status(restarts == 0, restarts))]),
            ..Snapshot::default()
        };
        metrics.render(&snapshot).unwrap()
    }

    #[test]
    fn restart_counters_follow_the_supervisor_without_counting_twice() {
        let metrics = Metrics::new().unwrap();
        scrape(&metrics, 2);
        let text = scrape(&metrics, 3);
        assert!(text.contains("wootlite_task_restarts_total{task=\"mail-sender\"} 3\n"));
        assert!(text.contains("wootlite_task_up{task=\"mail-sender\"} 0\n"));
        let text = scrape(&metrics, 3);
        assert!(text.contains("wootlite_task_restarts_total{task=\"mail-sender\"} 3\n"));
    }

    #[test]
    fn an_open_connection_is_counted_until_its_guard_is_dropped() {
        let metrics = Metrics::new().unwrap();
        let first = metrics.connection_opened();
        let second = metrics.connection_opened();
        assert_eq!(metrics.open_connections.get(), 2);
        drop(first);
        assert_eq!(metrics.open_connections.get(), 1);
        drop(second);
        assert_eq!(metrics.open_connections.get(), 0);
    }
}
