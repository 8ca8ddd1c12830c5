//! The hub's hands on each server worker thread.
//!
//! Waking a task from another thread costs a system call (the runtime's
//! event fd) and a trip through its injection queue; waking it from its own
//! thread costs neither. So the hub does not push frames into connection
//! queues itself: it sends one [`Batch`] per worker thread that has
//! recipients, and a small task on that thread, which owns the queues of the
//! connections living there, fills them. A message to a thousand sockets
//! on one worker wakes that worker once.
//!
//! Since the deliverer and the response body that drains a connection's
//! queue (`ws/outgoing.rs`) run on the same thread, the queue is this
//! thread's own ([`queue`]): a `VecDeque` and the body's waker, with
//! none of a thread-safe channel's atomics (its semaphore and block list
//! were 4% of the server's time in a fan-out to 10,000 sockets).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use tokio::sync::mpsc;

use super::{Command, ConnId, KeyHash, Outbound};

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
    queues: HashMap<ConnId, QueueTx, KeyHash>,
}

/// A connection's bounded outbound queue, both ends on its worker thread.
pub fn queue(capacity: usize) -> (QueueTx, QueueRx) {
    let shared = Rc::new(Shared {
        frames: RefCell::new(VecDeque::new()),
        waker: Cell::new(None),
        capacity,
        closed: Cell::new(false),
    });
    (QueueTx(shared.clone()), QueueRx(shared))
}

struct Shared {
    frames: RefCell<VecDeque<Outbound>>,
    /// The body's, from its last poll that found the queue empty.
    waker: Cell<Option<Waker>>,
    capacity: usize,
    /// The sending end is gone: the hub let go of the connection.
    closed: Cell<bool>,
}

impl Shared {
    fn wake(&self) {
        let waker = self.waker.take();
        if let Some(w) = &waker {
            w.wake_by_ref();
        }
        self.waker.set(waker);
    }
}

/// The deliverer's end of a connection's queue.
pub struct QueueTx(Rc<Shared>);

/// The queue was full: the connection reads too slowly.
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

impl QueueTx {
    pub fn push(&self, frame: Outbound) -> Result<(), Full> {
        let mut frames = self.0.frames.borrow_mut();
        if frames.len() >= self.0.capacity {
            return Err(Full);
        }
        frames.push_back(frame);
        drop(frames);
        self.0.wake();
        Ok(())
    }
}

impl Drop for QueueTx {
    fn drop(&mut self) {
        self.0.closed.set(true);
        self.0.wake();
    }
}

/// The response body's end of a connection's queue.
pub struct QueueRx(Rc<Shared>);

impl QueueRx {
    /// The next frame; `Ready(None)` once the queue is empty and its
    /// sending end is gone.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Outbound>> {
        let mut frames = self.0.frames.borrow_mut();
        if let Some(frame) = frames.pop_front() {
            return Poll::Ready(Some(frame));
        }
        if self.0.closed.get() {
            return Poll::Ready(None);
        }
        // A burst can grow a queue; an idle connection keeps a small one.
        if frames.capacity() > IDLE_CAPACITY {
            frames.shrink_to(IDLE_CAPACITY);
        }
        drop(frames);
        let waker = match self.0.waker.take() {
            Some(w) if w.will_wake(cx.waker()) => w,
            _ => cx.waker().clone(),
        };
        self.0.waker.set(Some(waker));
        Poll::Pending
    }
}

/// Slots an empty queue keeps.
const IDLE_CAPACITY: usize = 4;

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Files a new connection's queue with this thread's deliverer (starting
/// the deliverer on first use). Returns the connection's id, its worker and
/// the channel the hub sends that worker's batches to. Must run on the
/// thread the connection lives on, inside its runtime.
pub fn attach(queue: QueueTx) -> (ConnId, WorkerId, mpsc::UnboundedSender<Batch>) {
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
                    queues: HashMap::default(),
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
                match l.queues.get(id).map(|q| q.push(batch.frame.clone())) {
                    Some(Ok(())) => queued += 1,
                    Some(Err(Full)) => slow.push(*id),
                    None => {}
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    /// Counts its wakes.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn frame(text: &'static str) -> Outbound {
        Outbound::new(text.into(), None, "chat.typing")
    }

    fn text(p: Poll<Option<Outbound>>) -> Option<String> {
        match p {
            Poll::Ready(Some(f)) => Some(f.text().to_string()),
            Poll::Ready(None) => Some("closed".to_owned()),
            Poll::Pending => None,
        }
    }

    #[test]
    fn a_queue_hands_frames_over_in_order_up_to_its_bound_and_wakes_its_reader() {
        let (tx, mut rx) = queue(2);
        let wakes = Arc::new(Wakes::default());
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);

        assert_eq!(text(rx.poll_recv(&mut cx)), None, "empty: the reader waits");
        assert_eq!(tx.push(frame("a")), Ok(()));
        assert_eq!(wakes.0.load(Ordering::Relaxed), 1, "a push wakes it");
        assert_eq!(tx.push(frame("b")), Ok(()));
        assert_eq!(tx.push(frame("c")), Err(Full), "past its bound");
        assert_eq!(text(rx.poll_recv(&mut cx)).as_deref(), Some("a"));
        assert_eq!(tx.push(frame("c")), Ok(()), "room again once read");
        assert_eq!(text(rx.poll_recv(&mut cx)).as_deref(), Some("b"));
        assert_eq!(text(rx.poll_recv(&mut cx)).as_deref(), Some("c"));
        assert_eq!(text(rx.poll_recv(&mut cx)), None);

        // The sending end let go: what is queued still comes out, then the end.
        tx.push(frame("d")).unwrap();
        let before = wakes.0.load(Ordering::Relaxed);
        drop(tx);
        assert!(wakes.0.load(Ordering::Relaxed) > before, "the end wakes it");
        assert_eq!(text(rx.poll_recv(&mut cx)).as_deref(), Some("d"));
        assert_eq!(text(rx.poll_recv(&mut cx)).as_deref(), Some("closed"));
    }

    #[test]
    fn a_drained_queue_gives_back_what_a_burst_grew() {
        let (tx, mut rx) = queue(512);
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..300 {
            tx.push(frame("x")).unwrap();
        }
        assert!(rx.0.frames.borrow().capacity() >= 300);
        while let Poll::Ready(Some(_)) = rx.poll_recv(&mut cx) {}
        assert!(rx.0.frames.borrow().capacity() <= IDLE_CAPACITY);
    }
}
