//! More than one HTTP/2 connection per host.
//!
//! hyper-util's pool shares one HTTP/2 connection per host, so the connection's limit of
//! concurrent streams caps the requests in flight and the rest queue behind it. Here the
//! transport holds several pooled clients, *slots*, each with its own connection to a host; a
//! request goes to the first slot of its host with a free stream, and waits when every slot is
//! full. Waiting requests go in arrival order (a fair semaphore holds one permit per stream),
//! so a request that just arrived never overtakes one that has waited. The slots' pools still do the rest: they replace closed connections (GOAWAY, resets)
//! and expire idle ones, so nothing is leaked.
//!
//! A host that answers over HTTP/1.1 uses the first slot only and is never limited here: its
//! pool opens a connection per request in flight.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::uri::Authority;
use http_body_util::Full;
use hyper_util::client::legacy::Client as PooledClient;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::transport::Connector;

pub(crate) type Client = PooledClient<Connector, Full<Bytes>>;

/// The slots of a transport and the streams in flight on them, per host.
pub(crate) struct Slots {
    clients: Box<[Client]>,
    max_streams: usize,
    /// Plain `http://` may use HTTP/2 (prior knowledge); otherwise it is always HTTP/1.1.
    plain_http2: bool,
    /// Only HTTP/1.1 is offered, to every host.
    http1_only: bool,
    hosts: Mutex<HashMap<(bool, Authority), Arc<Host>>>,
}

/// Where a request goes: the pooled client, the lease of its HTTP/2 stream when it counts
/// against a slot's limit, and whether the configuration makes it HTTP/1.1 (HTTP/1.1 only,
/// or plain `http://` without HTTP/2 prior knowledge).
pub(crate) struct Route<'a> {
    pub(crate) client: &'a Client,
    pub(crate) lease: Option<Lease>,
    pub(crate) http1: bool,
}

/// The streams in flight to one host, per slot.
pub(crate) struct Host {
    in_flight: Box<[AtomicUsize]>,
    /// The host answered over HTTP/1.1: no limit, first slot only.
    http1: AtomicBool,
    /// One permit per stream of every slot; closed once the host is known to speak HTTP/1.1.
    streams: Arc<Semaphore>,
}

/// A stream taken on a slot; dropping it frees the stream.
pub(crate) struct Lease {
    host: Arc<Host>,
    slot: usize,
    /// Released after the slot's count went down (fields drop after `drop` ran).
    _permit: OwnedSemaphorePermit,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.host.in_flight[self.slot].fetch_sub(1, Ordering::AcqRel);
    }
}

impl Lease {
    /// Records that the host speaks HTTP/1.1, so later requests skip the limit.
    pub(crate) fn saw_http1(&self) {
        if !self.host.http1.load(Ordering::Acquire) {
            self.host.http1.store(true, Ordering::Release);
            // Requests waiting for an HTTP/2 stream may all go now.
            self.host.streams.close();
        }
    }
}

impl Slots {
    pub(crate) fn new(
        clients: Vec<Client>,
        max_streams: usize,
        plain_http2: bool,
        http1_only: bool,
    ) -> Self {
        Slots {
            clients: clients.into_boxed_slice(),
            max_streams: max_streams.max(1),
            plain_http2,
            http1_only,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// The route of a request to `uri`.
    pub(crate) async fn acquire(&self, uri: &http::Uri) -> Route<'_> {
        let https = uri.scheme_str() == Some("https");
        let first = |http1| Route {
            client: &self.clients[0],
            lease: None,
            http1,
        };
        // Plain `http://` without prior knowledge is always HTTP/1.1.
        let http1 = self.http1_only || !(https || self.plain_http2);
        if self.clients.len() == 1 || http1 {
            return first(http1);
        }
        let Some(authority) = uri.authority() else {
            return first(false);
        };
        let host = {
            let key = (https, authority.clone());
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            hosts
                .entry(key)
                .or_insert_with(|| {
                    Arc::new(Host {
                        in_flight: (0..self.clients.len())
                            .map(|_| AtomicUsize::new(0))
                            .collect(),
                        http1: AtomicBool::new(false),
                        streams: Arc::new(Semaphore::new(
                            self.clients
                                .len()
                                .saturating_mul(self.max_streams)
                                .min(Semaphore::MAX_PERMITS),
                        )),
                    })
                })
                .clone()
        };
        // A host that answered over HTTP/1.1 may still offer HTTP/2 on a later connection:
        // `http1` stays false, it is not known by configuration.
        if host.http1.load(Ordering::Acquire) {
            return first(false);
        }
        let Ok(permit) = host.streams.clone().acquire_owned().await else {
            // Closed: the host speaks HTTP/1.1.
            return first(false);
        };
        // A permit means a slot has a free stream (a lease gives its stream back before its
        // permit); the fallback only keeps the counts balanced.
        let slot = self.take_free(&host).unwrap_or_else(|| {
            host.in_flight[0].fetch_add(1, Ordering::AcqRel);
            0
        });
        Route {
            client: &self.clients[slot],
            lease: Some(Lease {
                host,
                slot,
                _permit: permit,
            }),
            http1: false,
        }
    }

    /// Takes a stream on the first slot of `host` with one free.
    fn take_free(&self, host: &Host) -> Option<usize> {
        host.in_flight.iter().position(|count| {
            count
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < self.max_streams).then_some(n + 1)
                })
                .is_ok()
        })
    }
}
