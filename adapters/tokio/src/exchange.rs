//! A client request's way to its connection task and its response head's way back, in one
//! allocation shared by the caller's [`ResponseFuture`](crate::client::ResponseFuture) and
//! the task.
//!
//! Why not a `Box` for the request and a oneshot channel for the answer: those are two heap
//! allocations per request (about 290 and 230 bytes), sizes glibc's malloc serves from its
//! slow path when a busy client makes a burst of them (its per-thread cache keeps 7 of a
//! size), and the answer is moved into the channel and out again. Here the request waits in
//! the exchange until the task takes it (`ResponseTx::take_request`), and the answer is
//! written where the caller reads it.
//!
//! The caller's half is [`ResponseRx`], the task's is [`ResponseTx`]. Either may go first:
//! a caller that gives up leaves the task's `send` refused ([`ResponseTx::is_closed`]), a
//! task that ends without answering wakes the caller with nothing (`Poll::Ready(None)`).

use crate::RecvBody;
use crate::body::BoxBody;
use crate::driver::OnInformational;
use crate::error::Error;
use crate::slots::Slot;
use h2proto::Protocol;
use http::{Request, Response};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// The response head (or why there is none) for a client request.
pub(crate) type Answer = Result<Response<RecvBody>, Error>;

/// A request on its way to the connection task.
pub(crate) struct Outgoing {
    pub(crate) head: Request<()>,
    pub(crate) body: Option<BoxBody>,
    pub(crate) informational: Option<OnInformational>,
    /// Its place on the connection, held until the stream is forgotten.
    pub(crate) slot: Slot,
}

struct Exchange {
    /// Names the request for `Command::Cancel`.
    key: u64,
    /// An extended CONNECT (RFC 8441): it waits for the server's SETTINGS.
    extended_connect: bool,
    state: Mutex<State>,
}

struct State {
    /// Until the task takes it.
    request: Option<Outgoing>,
    answer: Option<Answer>,
    /// The caller waiting for the answer.
    waker: Option<Waker>,
    /// The task's half went without answering.
    unanswered: bool,
}

impl Exchange {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The two halves of the exchange of request `key`: the task's and the caller's.
pub(crate) fn exchange(key: u64, request: Outgoing) -> (ResponseTx, ResponseRx) {
    let extended_connect = request.head.extensions().get::<Protocol>().is_some();
    // One expression, so the state is written into the allocation with fewer copies.
    let shared = Arc::new(Exchange {
        key,
        extended_connect,
        state: Mutex::new(State {
            request: Some(request),
            answer: None,
            waker: None,
            unanswered: false,
        }),
    });
    (ResponseTx(Some(shared.clone())), ResponseRx(shared))
}

/// The connection task's half: takes the request, sends the answer. Dropped without
/// answering, it wakes the caller with nothing.
pub(crate) struct ResponseTx(Option<Arc<Exchange>>);

impl ResponseTx {
    /// The request, the first time (the task takes it as it opens its stream).
    pub(crate) fn take_request(&self) -> Option<Outgoing> {
        self.0.as_ref()?.lock().request.take()
    }

    /// The request's key (for `Command::Cancel`).
    pub(crate) fn key(&self) -> Option<u64> {
        self.0.as_ref().map(|shared| shared.key)
    }

    /// Whether the request is an extended CONNECT (RFC 8441).
    pub(crate) fn is_extended_connect(&self) -> bool {
        self.0.as_ref().is_some_and(|shared| shared.extended_connect)
    }

    /// A copy of the request's head, while it has not been taken.
    pub(crate) fn head_copy(&self) -> Option<Request<()>> {
        self.0.as_ref()?.lock().request.as_ref().map(|r| r.head.clone())
    }

    /// Whether the caller gave up (its [`ResponseRx`] is gone).
    pub(crate) fn is_closed(&self) -> bool {
        self.0.as_ref().is_none_or(|shared| Arc::strong_count(shared) == 1)
    }

    /// Hands `answer` to the caller; whether it was still there. If not, the answer is
    /// dropped at once (a body in it then cancels its stream).
    pub(crate) fn send(mut self, answer: Answer) -> bool {
        let Some(shared) = self.0.take() else { return false };
        if Arc::strong_count(&shared) == 1 {
            return false;
        }
        let waker = {
            let mut state = shared.lock();
            state.answer = Some(answer);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }
}

impl Drop for ResponseTx {
    fn drop(&mut self) {
        let Some(shared) = self.0.take() else { return };
        let waker = {
            let mut state = shared.lock();
            state.unanswered = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The caller's half: waits for the answer.
pub(crate) struct ResponseRx(Arc<Exchange>);

impl ResponseRx {
    /// The answer once it is there; `None` if the task went without one.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<Answer>> {
        let mut state = self.0.lock();
        if let Some(answer) = state.answer.take() {
            return Poll::Ready(Some(answer));
        }
        if state.unanswered {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn outgoing() -> Outgoing {
        let slot = crate::slots::Slots::new(1, 0).try_acquire().expect("a slot is free");
        Outgoing { head: Request::new(()), body: None, informational: None, slot }
    }

    fn context() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn the_request_is_taken_once_and_the_answer_wakes_the_caller() {
        let (tx, mut rx) = exchange(7, outgoing());
        let (count, waker) = context();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(tx.key(), Some(7));
        assert!(!tx.is_extended_connect());
        assert!(tx.head_copy().is_some());
        assert!(tx.take_request().is_some());
        assert!(tx.take_request().is_none());
        assert!(tx.head_copy().is_none());
        assert!(rx.poll(&mut cx).is_pending());
        assert!(!tx.is_closed());
        let answer = Err(Error::new(ErrorKind::NotSent));
        assert!(tx.send(answer));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        match rx.poll(&mut cx) {
            Poll::Ready(Some(Err(e))) => assert!(matches!(e.kind(), ErrorKind::NotSent)),
            _ => panic!("the answer is there"),
        }
    }

    #[test]
    fn a_task_gone_without_answering_wakes_the_caller_with_nothing() {
        let (tx, mut rx) = exchange(1, outgoing());
        let (count, waker) = context();
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll(&mut cx).is_pending());
        drop(tx);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(matches!(rx.poll(&mut cx), Poll::Ready(None)));
    }

    #[test]
    fn an_answer_for_a_caller_that_gave_up_comes_back() {
        let (tx, rx) = exchange(1, outgoing());
        drop(rx);
        assert!(tx.is_closed());
        assert!(!tx.send(Err(Error::new(ErrorKind::Closed))));
    }
}
