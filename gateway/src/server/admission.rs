//! Which connections are let in, and which make room: at most `max_connections_per_address` open
//! connections per client address (trusted proxies are exempt: everyone arrives through them),
//! and when `max_connections` is nearly reached, idle connections are closed so a new visitor is
//! served at once instead of waiting in the kernel's backlog behind connections that send
//! nothing.
//!
//! ```text
//! accept ─▶ admit(peer): over its address's limit? closed, counted ─▶ Ticket (open until dropped)
//!        └─ free permits below the reserve ─▶ shed: the idle ones (never a request first, then
//!           the longest idle) are told to close through their ticket's token
//! ```
//!
//! The table is one mutex over two maps; it is taken once when a connection opens, once when it
//! closes, and for a scan when the gateway is nearly full: never per request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::telemetry::activity::Activity;
use crate::telemetry::limit_metrics::LimitMetrics;

/// The open connections of the public listeners, by address.
pub struct Admission {
    table: Mutex<Table>,
    per_address: usize,
    first_request_grace: Duration,
    /// Free connection permits below which idle connections are shed.
    reserve: usize,
    permits: Arc<Semaphore>,
    metrics: LimitMetrics,
}

#[derive(Default)]
struct Table {
    by_address: HashMap<IpAddr, usize>,
    open: HashMap<u64, Open>,
    next_id: u64,
}

struct Open {
    activity: Arc<Activity>,
    close: CancellationToken,
}

/// An admitted connection: its activity (which requests mark) and the token that asks it to
/// close. Dropping it frees its place.
pub struct Ticket {
    admission: Arc<Admission>,
    id: u64,
    address: Option<IpAddr>,
    /// What the connection's requests mark, so shedding sees whether it is idle.
    pub activity: Arc<Activity>,
    /// Cancelled when the connection should close to make room.
    pub close: CancellationToken,
}

impl Admission {
    /// The admission of connections that take permits from `permits` (`max_connections` of
    /// them); a connection with nothing sent for `first_request_grace` counts as idle.
    pub fn new(
        permits: Arc<Semaphore>,
        max_connections: usize,
        per_address: usize,
        first_request_grace: Duration,
        metrics: LimitMetrics,
    ) -> Arc<Self> {
        Arc::new(Self {
            table: Mutex::new(Table::default()),
            per_address,
            first_request_grace,
            // About 1 % kept free, at least one: room for the next visitors before they queue.
            reserve: (max_connections / 100).max(1),
            permits,
            metrics,
        })
    }

    /// A ticket for a connection from `peer`, or `None` (counted) when that address already
    /// holds its maximum. `exempt` (a trusted proxy) is not counted per address.
    pub fn admit(self: &Arc<Self>, peer: IpAddr, exempt: bool) -> Option<Ticket> {
        let activity = Activity::new();
        let close = CancellationToken::new();
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if !exempt {
            let count = table.by_address.entry(peer).or_insert(0);
            if *count >= self.per_address {
                drop(table);
                self.metrics.refused_per_address.inc();
                return None;
            }
            *count += 1;
        }
        let id = table.next_id;
        table.next_id += 1;
        table.open.insert(
            id,
            Open {
                activity: activity.clone(),
                close: close.clone(),
            },
        );
        Some(Ticket {
            admission: self.clone(),
            id,
            address: (!exempt).then_some(peer),
            activity,
            close,
        })
    }

    /// When fewer than the reserve of permits are free: asks enough idle connections to close
    /// to restore it (at least one when none is free). Returns how many were asked.
    pub fn make_room(&self) -> usize {
        let free = self.permits.available_permits();
        if free >= self.reserve {
            return 0;
        }
        self.shed(self.reserve - free)
    }

    /// Asks up to `wanted` idle connections to close: those that never sent a request first,
    /// then the longest idle.
    fn shed(&self, wanted: usize) -> usize {
        let table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        // Those already asked are on their way out: they count towards the room wanted.
        let closing = table
            .open
            .values()
            .filter(|open| open.close.is_cancelled())
            .count();
        let wanted = wanted.saturating_sub(closing);
        if wanted == 0 {
            return 0;
        }
        let mut idle: Vec<_> = table
            .open
            .values()
            .filter(|open| !open.close.is_cancelled())
            .filter_map(|open| {
                open.activity
                    .shed_rank(self.first_request_grace)
                    .map(|rank| (rank, &open.close))
            })
            .collect();
        let n = wanted.min(idle.len());
        if n == 0 {
            return 0;
        }
        if n < idle.len() {
            idle.select_nth_unstable_by_key(n - 1, |(rank, _)| *rank);
        }
        for (_, close) in &idle[..n] {
            close.cancel();
        }
        drop(table);
        self.metrics.shed.inc_by(n as u64);
        n
    }

    fn release(&self, id: u64, address: Option<IpAddr>) {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        table.open.remove(&id);
        if let Some(address) = address
            && let Some(count) = table.by_address.get_mut(&address)
        {
            *count -= 1;
            if *count == 0 {
                table.by_address.remove(&address);
            }
        }
        // A burst of closes leaves the maps far larger than needed; give the memory back.
        let (open, addresses) = (table.open.len(), table.by_address.len());
        if table.open.capacity() > 64 && open < table.open.capacity() / 4 {
            table.open.shrink_to(open * 2);
            table.by_address.shrink_to(addresses * 2);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.release(self.id, self.address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus::Registry;

    fn admission(max: usize, per_address: usize) -> (Arc<Admission>, Arc<Semaphore>) {
        let permits = Arc::new(Semaphore::new(max));
        let metrics = LimitMetrics::register(&Registry::new()).unwrap_or_else(|e| panic!("{e}"));
        let admission = Admission::new(permits.clone(), max, per_address, Duration::ZERO, metrics);
        (admission, permits)
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn an_address_gets_its_limit_and_its_place_back_when_one_closes() {
        let (admission, _) = admission(100, 2);
        let first = admission.admit(ip(1), false);
        let second = admission.admit(ip(1), false);
        assert!(first.is_some() && second.is_some());
        assert!(admission.admit(ip(1), false).is_none());
        assert!(admission.admit(ip(2), false).is_some());
        assert!(
            admission.admit(ip(1), true).is_some(),
            "a trusted proxy is exempt"
        );
        drop(first);
        assert!(admission.admit(ip(1), false).is_some());
        assert_eq!(admission.metrics.refused_per_address.get(), 1);
    }

    #[test]
    fn idle_connections_are_shed_only_when_nearly_full_and_busy_ones_never() {
        let (admission, permits) = admission(2, 10);
        let busy = admission.admit(ip(1), false).unwrap_or_else(|| panic!());
        let _request = busy.activity.begin_request();
        let idle = admission.admit(ip(2), false).unwrap_or_else(|| panic!());
        let _one = permits.clone().try_acquire_owned();
        assert_eq!(admission.make_room(), 0, "one permit free is the reserve");
        let _two = permits.clone().try_acquire_owned();
        assert_eq!(admission.make_room(), 1);
        assert!(idle.close.is_cancelled());
        assert!(!busy.close.is_cancelled());
        assert_eq!(admission.make_room(), 0, "nothing idle is left to shed");
    }
}
