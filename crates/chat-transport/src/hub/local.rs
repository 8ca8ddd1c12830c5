//! The hub's hands on each server worker thread.
//!
//! Waking a task from another thread costs a system call (the runtime's
//! event fd) and a trip through its injection queue; waking it from its own
//! thread costs neither. So the hub does not push frames into connection
//! queues itself: it sends one [`Batch`] per worker thread that has
//! recipients, and a small task on that thread, which owns the queues of the
//! connections living there, does the `try_send`s. A message to a thousand
//! sockets on one worker wakes that worker once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::mpsc;

use super::{Command, ConnId, Outbound};

/// A server worker thread, as the hub knows it.
pub type WorkerId = usize;

/// One frame for some of the connections on one worker.
pub struct Batch {
    pub(crate) frame: Outbound,
    pub(crate) ids: Vec<ConnId>,
    /// Where to report a connection whose queue is full. Weak, so that the
    /// hub still stops once its last handle is dropped.
    pub(crate) hub: mpsc::WeakSender<Command>,
}

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);
static NEXT_WORKER: AtomicUsize = AtomicUsize::new(1);

struct Local {
    worker: WorkerId,
    batches: mpsc::UnboundedSender<Batch>,
    queues: HashMap<ConnId, mpsc::Sender<Outbound>>,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Files a new connection's queue with this thread's deliverer (starting
/// the deliverer on first use). Returns the connection's id, its worker and
/// the channel the hub sends that worker's batches to. Must run on the
/// thread the connection lives on, inside its runtime.
pub fn attach(queue: mpsc::Sender<Outbound>) -> (ConnId, WorkerId, mpsc::UnboundedSender<Batch>) {
    let id = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
    LOCAL.with_borrow_mut(|local| {
        let l = match local {
            Some(l) if !l.batches.is_closed() => l,
            // First use, or a thread that outlived an earlier runtime and
            // so has a dead deliverer.
            slot => {
                let (batches, rx) = mpsc::unbounded_channel();
                actix_web::rt::spawn(deliver(rx));
                slot.insert(Local {
                    worker: NEXT_WORKER.fetch_add(1, Ordering::Relaxed),
                    batches,
                    queues: HashMap::new(),
                })
            }
        };
        l.queues.insert(id, queue);
        (id, l.worker, l.batches.clone())
    })
}

/// Forgets a connection's queue; on the thread that attached it.
pub fn detach(id: ConnId) {
    LOCAL.with_borrow_mut(|local| {
        if let Some(l) = local.as_mut() {
            l.queues.remove(&id);
        }
    });
}

/// The per-worker task: hands each batch's frame to its connections.
async fn deliver(mut rx: mpsc::UnboundedReceiver<Batch>) {
    let mut slow = Vec::new();
    while let Some(batch) = rx.recv().await {
        let queued = LOCAL.with_borrow(|local| {
            let Some(l) = local.as_ref() else { return 0 };
            let mut queued = 0u64;
            for id in &batch.ids {
                match l.queues.get(id).map(|q| q.try_send(batch.frame.clone())) {
                    Some(Ok(())) => queued += 1,
                    Some(Err(mpsc::error::TrySendError::Full(_))) => slow.push(*id),
                    _ => {}
                }
            }
            queued
        });
        // One counter update per batch, not per socket.
        metrics::counter!("chat_events_delivered_total", "event" => batch.frame.event())
            .increment(queued);
        for id in slow.drain(..) {
            tracing::warn!(
                conn = id,
                "outbound queue full; disconnecting slow consumer"
            );
            if let Some(hub) = batch.hub.upgrade() {
                let _ = hub.send(Command::SlowConsumer { id }).await;
            }
        }
    }
}
