//! Single flight: concurrent callers that ask for the same thing share one in-flight request.
//!
//! `getToken()` may be called by ten components in the same tick; they must cause one refresh, not ten
//! (each refresh rotates the refresh token). [`SingleFlight::run`] starts the work for a key only when
//! none is in flight and otherwise hands out another [`Waiter`] on the running one; every waiter gets a
//! clone of the result. When the work completes its slot is freed, so the next call starts afresh.
//!
//! An **epoch** guards against a result that arrives too late: [`SingleFlight::bump_epoch`] (on
//! sign-out) resolves every waiter at once with `signed_out_during_request`, drops the in-flight work
//! (which cancels its fetch) and makes sure no success it produces is ever delivered. (When the work
//! itself signs out — a refresh answered `session_revoked` — and then fails, its callers get that
//! error rather than the generic one.)
//!
//! The browser is single-threaded, so this is `Rc`/`RefCell` and `std::task` only — no threads, no
//! `futures` crate. The work is polled by whichever waiter is polled: the work future holds the waker
//! of the waiter that polled it last, and when that waiter is dropped it wakes the others so that one
//! of them takes over. When every waiter has been dropped nobody wants the result any more and the
//! work is dropped too (as `futures::Shared` does). A caller that needs the work to finish regardless
//! — e.g. to keep a rotated refresh token — keeps a waiter alive in a spawned task.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::error::Error;

type Work<T> = Pin<Box<dyn Future<Output = Result<T, Error>>>>;

struct Slot<T> {
    /// The epoch the work was started in.
    epoch: u64,
    /// The work; `None` while a waiter is polling it and after it finished.
    work: Option<Work<T>>,
    /// Set exactly once: the work's result, or `signed_out_during_request`.
    result: Option<Result<T, Error>>,
    /// The live waiters: id and the waker of their latest poll.
    waiters: Vec<(u64, Option<Waker>)>,
}

struct Inner<K, T> {
    epoch: u64,
    next_id: u64,
    /// In-flight work by key. A handful at most, so a `Vec` (less wasm than a map).
    slots: Vec<(K, Rc<RefCell<Slot<T>>>)>,
}

/// Shares in-flight work per key. Cloning gives another handle on the same state.
///
/// ```
/// use hallpass::core::single_flight::SingleFlight;
///
/// let flight: SingleFlight<&str, u32> = SingleFlight::new();
/// let a = flight.run("token", || async { Ok(7) });
/// let b = flight.run("token", || async { Ok(8) }); // not called: joins the first run
/// assert!(flight.in_flight(&"token"));
/// # drop((a, b));
/// ```
pub struct SingleFlight<K, T> {
    inner: Rc<RefCell<Inner<K, T>>>,
}

impl<K, T> Clone for SingleFlight<K, T> {
    fn clone(&self) -> Self {
        SingleFlight { inner: self.inner.clone() }
    }
}

impl<K: PartialEq, T: Clone + 'static> Default for SingleFlight<K, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: PartialEq, T: Clone + 'static> SingleFlight<K, T> {
    pub fn new() -> Self {
        SingleFlight { inner: Rc::new(RefCell::new(Inner { epoch: 0, next_id: 0, slots: Vec::new() })) }
    }

    /// The current epoch. Work that is not run through [`run`](Self::run) (sign-in, say) records it
    /// before awaiting and checks [`is_current`](Self::is_current) before applying its result.
    pub fn epoch(&self) -> u64 {
        self.inner.borrow().epoch
    }

    /// True when no sign-out happened since `epoch` was read.
    pub fn is_current(&self, epoch: u64) -> bool {
        self.epoch() == epoch
    }

    /// True while work for `key` is in flight.
    pub fn in_flight(&self, key: &K) -> bool {
        self.inner.borrow().slots.iter().any(|(k, _)| k == key)
    }

    /// Joins the work in flight for `key`, or starts it with `make` when there is none.
    pub fn run<F, Fut>(&self, key: K, make: F) -> Waiter<K, T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Error>> + 'static,
    {
        let (id, epoch, existing) = {
            let mut inner = self.inner.borrow_mut();
            let id = inner.next_id;
            inner.next_id += 1;
            let existing = inner.slots.iter().find(|(k, _)| *k == key).map(|(_, s)| s.clone());
            (id, inner.epoch, existing)
        };
        let slot = match existing {
            Some(slot) => slot,
            None => {
                // No borrow is held while `make` runs: it may call back into the flight.
                let work: Work<T> = Box::pin(make());
                let slot = Rc::new(RefCell::new(Slot {
                    epoch,
                    work: Some(work),
                    result: None,
                    waiters: Vec::new(),
                }));
                self.inner.borrow_mut().slots.push((key, slot.clone()));
                slot
            }
        };
        slot.borrow_mut().waiters.push((id, None));
        Waiter { flight: self.inner.clone(), slot, id }
    }

    /// Sign-out: every waiter resolves with `signed_out_during_request`, in-flight work is dropped, and
    /// the next [`run`](Self::run) starts afresh.
    pub fn bump_epoch(&self) {
        let slots = {
            let mut inner = self.inner.borrow_mut();
            inner.epoch += 1;
            std::mem::take(&mut inner.slots)
        };
        let mut works = Vec::new();
        let mut wakers = Vec::new();
        for (_, slot) in &slots {
            let Ok(mut s) = slot.try_borrow_mut() else { continue };
            if s.result.is_none() {
                s.result = Some(Err(Error::signed_out_during_request()));
            }
            works.extend(s.work.take());
            wakers.extend(s.waiters.iter().filter_map(|(_, w)| w.clone()));
        }
        // Dropped and woken only once no borrow is held: both may run code that calls back in.
        drop(slots);
        drop(works);
        for w in wakers {
            w.wake();
        }
    }
}

/// One caller's share of in-flight work: a future of the work's result.
#[must_use = "a Waiter does nothing unless awaited"]
pub struct Waiter<K, T> {
    flight: Rc<RefCell<Inner<K, T>>>,
    slot: Rc<RefCell<Slot<T>>>,
    id: u64,
}

impl<K, T: Clone> Waiter<K, T> {
    fn register(slot: &mut Slot<T>, id: u64, waker: &Waker) {
        if let Some((_, w)) = slot.waiters.iter_mut().find(|(i, _)| *i == id)
            && !w.as_ref().is_some_and(|old| old.will_wake(waker))
        {
            *w = Some(waker.clone());
        }
    }

    /// Stores the result, frees the slot and wakes the others. After a sign-out (epoch bumped) a
    /// success is dropped — it may carry credentials of the ended session — while an error still
    /// reaches the callers: it is the truth about the work (e.g. `session_revoked`, whose handling
    /// signed the user out in the first place) and carries nothing that could be applied.
    fn finish(&self, result: Result<T, Error>) -> Result<T, Error> {
        let current_epoch = self.flight.borrow().epoch;
        let (out, wakers) = {
            let mut slot = self.slot.borrow_mut();
            if slot.result.is_some() {
                // The work signed out (bumped the epoch) during this very poll: the others have been
                // woken but have not looked yet.
                if result.is_err() {
                    slot.result = Some(result);
                }
                return slot.result.clone().unwrap_or(Err(Error::signed_out_during_request()));
            }
            let r = match result {
                Ok(_) if slot.epoch != current_epoch => Err(Error::signed_out_during_request()),
                r => r,
            };
            slot.result = Some(r.clone());
            let me = self.id;
            let wakers: Vec<Waker> =
                slot.waiters.iter_mut().filter(|(id, _)| *id != me).filter_map(|(_, w)| w.take()).collect();
            (r, wakers)
        };
        self.flight.borrow_mut().slots.retain(|(_, s)| !Rc::ptr_eq(s, &self.slot));
        for w in wakers {
            w.wake();
        }
        out
    }
}

impl<K, T: Clone> Future for Waiter<K, T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let work = {
            let mut slot = this.slot.borrow_mut();
            if let Some(r) = &slot.result {
                return Poll::Ready(r.clone());
            }
            match slot.work.take() {
                Some(work) => work,
                None => {
                    // Another waiter is polling the work right now; it wakes us when it finishes.
                    Self::register(&mut slot, this.id, cx.waker());
                    return Poll::Pending;
                }
            }
        };
        let mut work = work;
        // No borrow is held while the work runs: it may call back into the flight (even sign out).
        match work.as_mut().poll(cx) {
            Poll::Ready(result) => {
                drop(work);
                Poll::Ready(this.finish(result))
            }
            Poll::Pending => {
                let mut slot = this.slot.borrow_mut();
                if let Some(r) = &slot.result {
                    // Signed out while the work was being polled.
                    let r = r.clone();
                    drop(slot);
                    drop(work);
                    return Poll::Ready(r);
                }
                slot.work = Some(work);
                Self::register(&mut slot, this.id, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl<K, T> Drop for Waiter<K, T> {
    fn drop(&mut self) {
        let (abandoned, wakers) = {
            let Ok(mut slot) = self.slot.try_borrow_mut() else { return };
            let me = self.id;
            slot.waiters.retain(|(id, _)| *id != me);
            if slot.result.is_some() {
                return;
            }
            if slot.waiters.is_empty() {
                (slot.work.take(), Vec::new())
            } else {
                // This waiter may have been the one whose waker the work holds: wake the others so
                // that one of them polls the work and registers itself.
                (None, slot.waiters.iter().filter_map(|(_, w)| w.clone()).collect::<Vec<_>>())
            }
        };
        if let Some(work) = abandoned {
            if let Ok(mut inner) = self.flight.try_borrow_mut() {
                inner.slots.retain(|(_, s)| !Rc::ptr_eq(s, &self.slot));
            }
            drop(work);
        }
        for w in wakers {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use hallpass_protocol::ErrorCode;

    use super::*;

    /// A waker that counts its wake-ups.
    #[derive(Default)]
    struct Counter(AtomicUsize);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Counter>, Waker) {
        let c = Arc::new(Counter::default());
        (c.clone(), Waker::from(c))
    }

    fn poll<F: Future + Unpin>(f: &mut F, w: &Waker) -> Poll<F::Output> {
        Pin::new(f).poll(&mut Context::from_waker(w))
    }

    /// Work the test completes by hand; records how often it was polled and whether it was dropped.
    #[derive(Clone, Default)]
    struct Gate {
        value: Rc<RefCell<Option<Result<String, Error>>>>,
        waker: Rc<RefCell<Option<Waker>>>,
        polls: Rc<Cell<usize>>,
        dropped: Rc<Cell<bool>>,
    }

    impl Gate {
        fn open(&self, v: Result<String, Error>) {
            *self.value.borrow_mut() = Some(v);
            if let Some(w) = self.waker.borrow_mut().take() {
                w.wake();
            }
        }
        fn future(&self) -> GateFuture {
            GateFuture(self.clone())
        }
    }

    struct GateFuture(Gate);
    impl Future for GateFuture {
        type Output = Result<String, Error>;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let g = &self.0;
            g.polls.set(g.polls.get() + 1);
            match g.value.borrow_mut().take() {
                Some(v) => Poll::Ready(v),
                None => {
                    *g.waker.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }
    impl Drop for GateFuture {
        fn drop(&mut self) {
            self.0.dropped.set(true);
        }
    }

    type Flight = SingleFlight<&'static str, String>;

    #[test]
    fn twenty_concurrent_waiters_share_one_run() {
        let flight = Flight::new();
        let gate = Gate::default();
        let starts = Rc::new(Cell::new(0));
        let mut waiters: Vec<_> = (0..20)
            .map(|_| {
                let (gate, starts) = (gate.clone(), starts.clone());
                flight.run("sess_1", move || {
                    starts.set(starts.get() + 1);
                    gate.future()
                })
            })
            .collect();
        let wakers: Vec<_> = (0..20).map(|_| waker()).collect();
        for (w, (_, wk)) in waiters.iter_mut().zip(&wakers) {
            assert!(poll(w, wk).is_pending());
        }
        assert_eq!(starts.get(), 1);
        assert!(flight.in_flight(&"sess_1"));
        gate.open(Ok("jwt".into()));
        // The work held the last poller's waker.
        assert_eq!(wakers[19].0.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll(&mut waiters[19], &wakers[19].1), Poll::Ready(Ok("jwt".into())));
        // Completing woke everyone else.
        assert!(wakers[..19].iter().all(|(c, _)| c.0.load(Ordering::SeqCst) == 1));
        for (w, (_, wk)) in waiters.iter_mut().zip(&wakers) {
            assert_eq!(poll(w, wk), Poll::Ready(Ok("jwt".into())));
        }
        assert_eq!(starts.get(), 1);
        assert!(!flight.in_flight(&"sess_1"), "slot freed on completion");
        // Polling a finished waiter again is harmless.
        assert_eq!(poll(&mut waiters[0], &wakers[0].1), Poll::Ready(Ok("jwt".into())));
        // The next call starts new work.
        let gate2 = Gate::default();
        let mut next = flight.run("sess_1", || gate2.future());
        assert!(poll(&mut next, &waker().1).is_pending());
        assert_eq!(gate2.polls.get(), 1);
    }

    #[test]
    fn a_dropped_waiter_does_not_break_the_others() {
        let flight = Flight::new();
        let gate = Gate::default();
        let mut a = flight.run("k", || gate.future());
        let mut b = flight.run("k", || gate.future());
        let mut c = flight.run("k", || gate.future());
        let (wa, wb, wc) = (waker(), waker(), waker());
        assert!(poll(&mut a, &wa.1).is_pending());
        assert!(poll(&mut b, &wb.1).is_pending());
        assert!(poll(&mut c, &wc.1).is_pending()); // the work now holds c's waker
        drop(c);
        assert!(!gate.dropped.get(), "others still wait");
        assert_eq!(wa.0.0.load(Ordering::SeqCst), 1, "a woken to take over");
        assert_eq!(wb.0.0.load(Ordering::SeqCst), 1);
        assert!(poll(&mut a, &wa.1).is_pending()); // a re-registers with the work
        gate.open(Ok("t".into()));
        assert_eq!(wc.0.0.load(Ordering::SeqCst), 0, "the dropped waiter's waker is not used");
        assert_eq!(wa.0.0.load(Ordering::SeqCst), 2);
        assert_eq!(poll(&mut a, &wa.1), Poll::Ready(Ok("t".into())));
        assert_eq!(poll(&mut b, &wb.1), Poll::Ready(Ok("t".into())));
    }

    #[test]
    fn when_every_waiter_is_dropped_the_work_is_cancelled() {
        let flight = Flight::new();
        let gate = Gate::default();
        let mut a = flight.run("k", || gate.future());
        let b = flight.run("k", || gate.future());
        assert!(poll(&mut a, &waker().1).is_pending());
        drop(a);
        drop(b);
        assert!(gate.dropped.get());
        assert!(!flight.in_flight(&"k"));
        let again = Rc::new(Cell::new(false));
        let flag = again.clone();
        let _c = flight.run("k", move || {
            flag.set(true);
            async { Ok(String::new()) }
        });
        assert!(again.get(), "a new run starts new work");
    }

    #[test]
    fn errors_reach_every_waiter_and_free_the_slot() {
        let flight = Flight::new();
        let gate = Gate::default();
        let mut waiters: Vec<_> = (0..3).map(|_| flight.run("k", || gate.future())).collect();
        let w = waker();
        assert!(poll(&mut waiters[0], &w.1).is_pending());
        gate.open(Err(Error::network()));
        for waiter in &mut waiters {
            assert_eq!(poll(waiter, &w.1), Poll::Ready(Err(Error::network())));
        }
        assert!(!flight.in_flight(&"k"));
    }

    #[test]
    fn keys_are_independent() {
        let flight = Flight::new();
        let (g1, g2) = (Gate::default(), Gate::default());
        let mut a = flight.run("a", || g1.future());
        let mut b = flight.run("b", || g2.future());
        let w = waker();
        assert!(poll(&mut a, &w.1).is_pending() && poll(&mut b, &w.1).is_pending());
        g2.open(Ok("B".into()));
        assert_eq!(poll(&mut b, &w.1), Poll::Ready(Ok("B".into())));
        assert!(flight.in_flight(&"a") && !flight.in_flight(&"b"));
        assert!(poll(&mut a, &w.1).is_pending());
    }

    #[test]
    fn sign_out_mid_flight_resolves_waiters_and_drops_the_late_result() {
        let flight = Flight::new();
        let gate = Gate::default();
        let before = flight.epoch();
        let mut a = flight.run("k", || gate.future());
        let mut b = flight.run("k", || gate.future());
        let (wa, wb) = (waker(), waker());
        assert!(poll(&mut a, &wa.1).is_pending());
        assert!(poll(&mut b, &wb.1).is_pending());
        flight.bump_epoch();
        assert!(!flight.is_current(before));
        assert!(gate.dropped.get(), "in-flight work cancelled");
        assert!(wa.0.0.load(Ordering::SeqCst) >= 1 && wb.0.0.load(Ordering::SeqCst) >= 1);
        let signed_out = Poll::Ready(Err(Error::signed_out_during_request()));
        assert_eq!(poll(&mut a, &wa.1), signed_out);
        assert_eq!(poll(&mut b, &wb.1), signed_out);
        // The late answer goes nowhere.
        gate.open(Ok("late".into()));
        assert_eq!(poll(&mut a, &wa.1), signed_out);
        // A new run after the sign-out works normally.
        let mut c = flight.run("k", || async { Ok("fresh".to_owned()) });
        assert_eq!(poll(&mut c, &waker().1), Poll::Ready(Ok("fresh".into())));
    }

    #[test]
    fn sign_out_from_inside_the_work_is_safe() {
        // The work signs out and then keeps waiting.
        let flight = Flight::new();
        let f2 = flight.clone();
        let mut a = flight.run("k", move || {
            std::future::poll_fn(move |_| {
                f2.bump_epoch();
                Poll::<Result<String, Error>>::Pending
            })
        });
        let got = poll(&mut a, &waker().1);
        assert!(matches!(got, Poll::Ready(Err(ref e)) if e.code == ErrorCode::SignedOutDuringRequest));

        // The work signs out and then answers: the answer is dropped.
        let f3 = flight.clone();
        let mut b = flight.run("k", move || {
            std::future::poll_fn(move |_| {
                f3.bump_epoch();
                Poll::Ready(Ok("stale".to_owned()))
            })
        });
        assert_eq!(poll(&mut b, &waker().1), Poll::Ready(Err(Error::signed_out_during_request())));
        assert!(!flight.in_flight(&"k"));

        // The work learns the session was revoked, signs out, and fails with that error: every waiter
        // gets the real error, not the generic one.
        let f4 = flight.clone();
        let revoked = Error::new(ErrorCode::SessionRevoked, "revoked").with_status(401);
        let r2 = revoked.clone();
        let mut c = flight.run("k", move || {
            std::future::poll_fn(move |_| {
                f4.bump_epoch();
                Poll::<Result<String, Error>>::Ready(Err(r2.clone()))
            })
        });
        let mut d = flight.run("k", || async { Ok("unused".to_owned()) }); // joins c
        assert_eq!(poll(&mut c, &waker().1), Poll::Ready(Err(revoked.clone())));
        assert_eq!(poll(&mut d, &waker().1), Poll::Ready(Err(revoked)));
    }

    #[test]
    fn work_started_before_a_sign_out_never_delivers() {
        // Epoch recorded at start; the result arrives in a later epoch via the normal completion path.
        let flight = Flight::new();
        let gate = Gate::default();
        let mut a = flight.run("k", || gate.future());
        // Simulate a bump that could not reach the slot (it is checked again at completion).
        flight.inner.borrow_mut().epoch += 1;
        gate.open(Ok("x".into()));
        assert_eq!(poll(&mut a, &waker().1), Poll::Ready(Err(Error::signed_out_during_request())));
        // An error from such work still reaches the caller.
        let gate = Gate::default();
        let mut b = flight.run("k", || gate.future());
        flight.inner.borrow_mut().epoch += 1;
        gate.open(Err(Error::network()));
        assert_eq!(poll(&mut b, &waker().1), Poll::Ready(Err(Error::network())));
    }
}
