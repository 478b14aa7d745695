//! An account's requests per second: a token bucket whose rate adapts to the provider's 429s, and the gate
//! where every request waits for its token, in its lane's queue, asleep until a token is its own.
//!
//! **Too fast or unlucky.** A 429 alone does not say that infertop is going too fast: a provider (or a proxy)
//! may refuse a share of requests at any rate. So answers are counted in windows of a second (or the round
//! trip, if longer), and only a window in which 429s are more than a quarter of the answers, and at least two,
//! lowers the rate: by half, once for that window, and never below 5% of the configured rate. Answers to
//! requests sent before a decrease say nothing about the lower rate and are not counted (as TCP ignores
//! the losses of a window it has already answered). A window with fewer 429s was unlucky: the refused
//! requests wait their `Retry-After` and are sent again, and nobody else waits.
//!
//! **`Retry-After`.** The request that was refused waits what the header asks before it is sent again (see
//! [`super::http::RetryPolicy`]). When a window is too fast, the account's own reads (every lane but the
//! user's) also pause until the latest `Retry-After` of that window: the provider asked for a pause, and
//! the account takes it.
//!
//! **Recovery.** From a decrease on, the rate climbs back linearly by the configured rate every
//! [`RECOVER`]: from the floor to the configured rate in under 30 s once the 429s stop.

use super::http::{Lane, RateLimit};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// The shortest window answers are counted in (the round trip, when longer).
pub const WINDOW_MIN: Duration = Duration::from_secs(1);
/// A window whose 429s are more than this share of its answers was too fast.
pub const TOO_FAST_SHARE: f64 = 0.25;
/// ... and had at least this many 429s.
pub const TOO_FAST_MIN: u32 = 2;
/// What a decrease multiplies the rate by.
pub const DECREASE: f64 = 0.5;
/// The effective rate never falls below this share of the configured one.
pub const MIN_RATE_SHARE: f64 = 0.05;
/// The rate climbs back by the configured rate over this long (linearly).
pub const RECOVER: Duration = Duration::from_secs(30);

/// The answers of one window.
#[derive(Debug, Default, Clone, Copy)]
struct Window {
    opened: Option<Instant>,
    answers: u32,
    throttled: u32,
    /// The latest end of a `Retry-After` among its 429s.
    retry_until: Option<Instant>,
}

/// The adaptive rate and its token bucket, on a clock the caller gives (so tests drive it).
#[derive(Debug)]
pub struct RateControl {
    limit: RateLimit,
    tokens: f64,
    /// Tokens are counted up to here.
    last: Instant,
    /// The rate set by the last decrease, and when: the rate climbs back from it.
    low: f64,
    since: Instant,
    last_decrease: Option<Instant>,
    paused_until: Option<Instant>,
    window: Window,
    /// Smoothed round trip.
    srtt: Option<Duration>,
    decreases: u64,
}

impl RateControl {
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        RateControl {
            limit,
            tokens: f64::from(limit.burst.max(1)),
            last: now,
            low: limit.per_second,
            since: now,
            last_decrease: None,
            paused_until: None,
            window: Window::default(),
            srtt: None,
            decreases: 0,
        }
    }

    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    fn floor(&self) -> f64 {
        self.limit.per_second * MIN_RATE_SHARE
    }

    /// The rate allowed at `now` (None: no limit).
    pub fn rate(&self, now: Instant) -> Option<f64> {
        if self.limit.is_unlimited() {
            return None;
        }
        let r = self.limit.per_second;
        let climbed = now.saturating_duration_since(self.since).as_secs_f64() / RECOVER.as_secs_f64() * r;
        Some((self.low + climbed).min(r))
    }

    fn accrue(&self, a: Instant, b: Instant) -> f64 {
        let (ra, rb) = (self.rate(a).unwrap_or(0.0), self.rate(b).unwrap_or(0.0));
        (ra + rb) / 2.0 * b.saturating_duration_since(a).as_secs_f64()
    }

    /// Counts the tokens up to `now`. While paused, at most one token is kept: no burst when the pause ends.
    fn refill(&mut self, now: Instant) {
        if now <= self.last {
            return;
        }
        if let Some(p) = self.paused_until
            && p > self.last
        {
            let mid = p.min(now);
            self.tokens = (self.tokens + self.accrue(self.last, mid)).min(1.0);
            self.last = mid;
        }
        let burst = f64::from(self.limit.burst.max(1));
        self.tokens = (self.tokens + self.accrue(self.last, now)).min(burst);
        self.last = now;
    }

    /// How long the provider asked to hear nothing more from the account's own reads.
    pub fn pause_left(&self, now: Instant) -> Duration {
        self.paused_until.map_or(Duration::ZERO, |p| p.saturating_duration_since(now))
    }

    /// Takes a token at `now` if one is there (and, unless `through_pause`, the account is not paused);
    /// otherwise says when to look again.
    pub fn try_take(&mut self, now: Instant, through_pause: bool) -> Result<(), Instant> {
        if !through_pause && let Some(p) = self.paused_until.filter(|p| *p > now) {
            return Err(p);
        }
        let Some(rate) = self.rate(now) else { return Ok(()) };
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let short = (1.0 - self.tokens) / rate;
        // A rate so small that the wait does not fit a Duration looks again in an hour.
        Err(now
            + Duration::try_from_secs_f64(short)
                .unwrap_or(Duration::from_secs(3600))
                .min(Duration::from_secs(3600)))
    }

    /// Gives back a token taken for a request that was not sent after all.
    pub fn untake(&mut self) {
        if !self.limit.is_unlimited() {
            self.tokens += 1.0;
        }
    }

    /// A request sent at `sent` was answered at `now`: 429 (`throttled`, with its `Retry-After`) or not.
    /// Returns whether this answer closed a window that was too fast (the rate was lowered).
    pub fn answered(
        &mut self,
        now: Instant,
        sent: Instant,
        throttled: bool,
        retry_after: Option<Duration>,
    ) -> bool {
        let rtt = now.saturating_duration_since(sent);
        self.srtt = Some(self.srtt.map_or(rtt, |s| (s * 7 + rtt) / 8));
        // Sent at the rate before the last decrease: it says nothing about the rate now.
        if self.last_decrease.is_some_and(|d| sent < d) {
            return false;
        }
        let w = &mut self.window;
        let opened = *w.opened.get_or_insert(now);
        w.answers += 1;
        if throttled {
            w.throttled += 1;
            if let Some(ra) = retry_after {
                let until = now + ra;
                w.retry_until = Some(w.retry_until.map_or(until, |u| u.max(until)));
            }
        }
        let len = self.srtt.unwrap_or_default().max(WINDOW_MIN);
        if now.saturating_duration_since(opened) < len {
            return false;
        }
        let w = std::mem::take(&mut self.window);
        let too_fast =
            w.throttled >= TOO_FAST_MIN && f64::from(w.throttled) > f64::from(w.answers) * TOO_FAST_SHARE;
        if too_fast {
            self.decrease(now, w.retry_until);
        }
        too_fast
    }

    fn decrease(&mut self, now: Instant, retry_until: Option<Instant>) {
        self.refill(now);
        if let Some(r) = self.rate(now) {
            self.low = (r * DECREASE).max(self.floor());
            self.since = now;
        }
        self.tokens = self.tokens.min(0.0);
        self.last_decrease = Some(now);
        if let Some(u) = retry_until.filter(|u| *u > now) {
            self.paused_until = Some(self.paused_until.map_or(u, |p| p.max(u)));
        }
        self.decreases += 1;
    }

    /// How many times the rate was lowered.
    pub fn decreases(&self) -> u64 {
        self.decreases
    }
}

/// Lane queues, highest first.
fn slot(lane: Lane) -> usize {
    match lane {
        Lane::User => 0,
        Lane::Normal => 1,
        Lane::Background => 2,
    }
}

/// Where an account's requests wait for their turn (a token and a slot in flight): one queue per lane, first
/// come first served within a lane, a higher lane always first; a lower lane's request is never handed a turn
/// while a higher lane's waits, for a token or for a slot. A waiter sleeps until it is handed its turn; a timer
/// wakes the gate when the next token is due (or the pause ends), and the end of a request when a slot frees.
/// Background requests hold at most `slots - 1` of the slots, so one is always left to the others.
#[derive(Debug)]
pub struct Gate {
    state: Mutex<GateState>,
}

#[derive(Debug)]
struct GateState {
    ctl: RateControl,
    queues: [VecDeque<oneshot::Sender<Turn>>; 3],
    /// A wake-up is set for this instant.
    armed: Option<Instant>,
    slots: usize,
    in_flight: usize,
    background: usize,
}

/// A request's turn: its slot in flight, given back (and the next waiter served) when dropped.
#[derive(Debug)]
pub struct Turn {
    gate: std::sync::Weak<Gate>,
    background: bool,
    /// Whether dropping it gives the slot back (not for a turn that never reached its waiter).
    held: bool,
}

impl Drop for Turn {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        if let Some(gate) = self.gate.upgrade() {
            let mut g = gate.lock();
            g.in_flight = g.in_flight.saturating_sub(1);
            if self.background {
                g.background = g.background.saturating_sub(1);
            }
            gate.pump(&mut g);
        }
    }
}

impl Gate {
    pub fn new(limit: RateLimit, slots: usize) -> Arc<Gate> {
        Arc::new(Gate {
            state: Mutex::new(GateState {
                ctl: RateControl::new(limit, Instant::now()),
                queues: Default::default(),
                armed: None,
                slots: slots.max(1),
                in_flight: 0,
                background: 0,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits (asleep) until this request is handed its turn: hold it while the request is in flight.
    pub async fn turn(self: &Arc<Self>, lane: Lane) -> Turn {
        let rx = {
            let mut g = self.lock();
            let (tx, rx) = oneshot::channel();
            g.queues[slot(lane)].push_back(tx);
            self.pump(&mut g);
            rx
        };
        // The gate gone (the client dropped): go without a turn.
        rx.await.unwrap_or(Turn { gate: std::sync::Weak::new(), background: false, held: false })
    }

    /// Hands out the turns there are, highest lane first; sets a wake-up for the next token.
    fn pump(self: &Arc<Self>, g: &mut GateState) {
        let now = Instant::now();
        loop {
            let mut next = None;
            for (i, q) in g.queues.iter_mut().enumerate() {
                // Waiters that gave up (their request was dropped) leave the queue here.
                while q.front().is_some_and(|tx| tx.is_closed()) {
                    q.pop_front();
                }
                if !q.is_empty() {
                    next = Some(i);
                    break;
                }
            }
            let Some(i) = next else { return };
            let background = i == 2;
            // No slot: the end of a request serves the next waiter.
            if g.in_flight >= g.slots || (background && g.background >= g.slots.saturating_sub(1).max(1)) {
                return;
            }
            match g.ctl.try_take(now, i == 0) {
                Ok(()) => {
                    let Some(tx) = g.queues[i].pop_front() else { return };
                    let turn = Turn { gate: Arc::downgrade(self), background, held: true };
                    match tx.send(turn) {
                        Ok(()) => {
                            g.in_flight += 1;
                            if background {
                                g.background += 1;
                            }
                        }
                        Err(mut turn) => {
                            // Its waiter is gone: nothing was taken.
                            turn.held = false;
                            g.ctl.untake();
                        }
                    }
                }
                Err(at) => {
                    self.arm(g, at);
                    return;
                }
            }
        }
    }

    fn arm(self: &Arc<Self>, g: &mut GateState, at: Instant) {
        if g.armed.is_some_and(|a| a <= at) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        g.armed = Some(at);
        let gate = Arc::downgrade(self);
        rt.spawn(async move {
            tokio::time::sleep_until(at).await;
            if let Some(gate) = gate.upgrade() {
                let mut g = gate.lock();
                if g.armed == Some(at) {
                    g.armed = None;
                }
                gate.pump(&mut g);
            }
        });
    }

    /// A request that was handed its turn at `sent` was answered (see [`RateControl::answered`]).
    pub fn answered(&self, sent: Instant, throttled: bool, retry_after: Option<Duration>) -> bool {
        self.lock().ctl.answered(Instant::now(), sent, throttled, retry_after)
    }

    /// The configured limit.
    pub fn limit(&self) -> RateLimit {
        self.lock().ctl.limit()
    }

    /// Requests per second allowed now (None: no limit).
    pub fn effective_rate(&self) -> Option<f64> {
        self.lock().ctl.rate(Instant::now())
    }

    pub fn pause_left(&self) -> Duration {
        self.lock().ctl.pause_left(Instant::now())
    }

    /// How many times the rate was lowered.
    pub fn decreases(&self) -> u64 {
        self.lock().ctl.decreases()
    }

    /// Waiters in each lane's queue (User, Normal, Background).
    pub fn waiting(&self) -> [usize; 3] {
        let g = self.lock();
        [0, 1, 2].map(|i| g.queues[i].len())
    }

    /// Requests holding a turn now.
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: RateLimit = RateLimit { per_second: 20.0, burst: 1 };

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// `n` answers spread evenly from `t` to `t + over`, each sent one round trip (50 ms) earlier; those
    /// `throttled` picks by index are 429s with a `Retry-After` of 1 s. Returns how many lowered the rate.
    fn answers(
        c: &mut RateControl,
        t: Instant,
        over: Duration,
        n: u32,
        throttled: impl Fn(u32) -> bool,
    ) -> u32 {
        (0..n)
            .filter(|&i| {
                let at = t + over * i / (n - 1);
                let is = throttled(i);
                c.answered(at, at - ms(50), is, is.then_some(Duration::from_secs(1)))
            })
            .count() as u32
    }

    #[test]
    fn a_window_full_of_429s_lowers_the_rate_once() {
        let t0 = Instant::now();
        let mut c = RateControl::new(R, t0);
        // One second of answers at 20/s, every other one a 429: one decrease, by half.
        assert_eq!(answers(&mut c, t0, Duration::from_secs(1), 21, |i| i % 2 == 0), 1);
        assert_eq!(c.decreases(), 1);
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(c.rate(t1), Some(10.0));
        // Answers to requests sent before the decrease, 429s or not, change nothing.
        for i in 0..40 {
            assert!(!c.answered(t1 + ms(50 * i), t1 - ms(1), true, None));
        }
        assert_eq!(c.decreases(), 1);
        // Windows sent at the lower rate and still refused: one decrease each, down to 5% and no lower.
        let mut t = t1 + Duration::from_secs(2) + ms(100);
        for _ in 0..10 {
            assert_eq!(answers(&mut c, t, Duration::from_secs(1) + ms(100), 10, |_| true), 1);
            t += Duration::from_secs(1) + ms(200);
        }
        assert_eq!(c.decreases(), 11);
        assert_eq!(c.low, 1.0, "the floor: 5% of 20");
    }

    #[test]
    fn random_429s_below_a_quarter_of_the_answers_are_bad_luck_not_speed() {
        let t0 = Instant::now();
        let mut c = RateControl::new(R, t0);
        // Ten minutes at 20/s, one answer in ten a 429 (the simulator's `flaky`): the rate stays.
        let mut t = t0;
        for _ in 0..600 {
            answers(&mut c, t, Duration::from_secs(1), 20, |i| i % 10 == 3);
            t += Duration::from_secs(1);
        }
        assert_eq!(c.decreases(), 0);
        assert_eq!(c.rate(t), Some(20.0));
        assert_eq!(c.pause_left(t), Duration::ZERO, "an unlucky 429's Retry-After is its own request's");
        // A single 429 in a quiet spell is not a window too fast either.
        assert!(!c.answered(t + Duration::from_secs(5), t, true, Some(Duration::from_secs(3))));
        assert!(!c.answered(t + Duration::from_secs(9), t + Duration::from_secs(8), false, None));
        assert_eq!(c.decreases(), 0);
    }

    #[test]
    fn the_rate_is_back_to_the_configured_one_within_a_minute_of_the_last_429() {
        let t0 = Instant::now();
        let mut c = RateControl::new(R, t0);
        let mut t = t0;
        while c.low > 1.0 {
            answers(&mut c, t, Duration::from_secs(1) + ms(10), 10, |_| true);
            t += Duration::from_secs(1) + ms(20);
        }
        let last = c.since;
        assert_eq!(c.rate(last), Some(1.0));
        let mut seen = vec![];
        for s in 0..=60 {
            seen.push(c.rate(last + Duration::from_secs(s)).unwrap());
        }
        assert!(seen.windows(2).all(|w| w[1] >= w[0]), "climbs step by step: {seen:?}");
        assert!(seen[10] < 20.0, "not at once: {seen:?}");
        let back = seen.iter().position(|r| *r == 20.0).expect("back to the configured rate");
        assert!(back <= 30, "back in {back} s");
    }

    #[test]
    fn retry_after_pauses_the_account_only_when_the_window_was_too_fast() {
        let t0 = Instant::now();
        let mut c = RateControl::new(R, t0);
        c.answered(t0, t0 - ms(50), true, Some(Duration::from_secs(2)));
        assert_eq!(c.pause_left(t0), Duration::ZERO, "one 429 is its own request's wait");
        let t1 = t0 + Duration::from_secs(1);
        assert!(c.answered(t1, t1 - ms(50), true, Some(Duration::from_secs(3))));
        // The pause the provider asked for, from the latest 429 of the window.
        assert_eq!(c.pause_left(t1), Duration::from_secs(3));
        assert_eq!(c.try_take(t1, false), Err(t1 + Duration::from_secs(3)));
        // The user's lane goes through the pause, one token at a time.
        let t2 = t1 + Duration::from_secs(1);
        assert!(c.try_take(t2, true).is_ok());
        assert!(c.try_take(t2, true).is_err());
        // After the pause, no burst of the tokens of the pause: one, then one every 1/rate.
        let t3 = t1 + Duration::from_secs(3);
        assert!(c.try_take(t3, false).is_ok());
        assert!(c.try_take(t3, false).is_err());
    }

    #[tokio::test]
    async fn the_gate_hands_tokens_to_the_highest_lane_first_and_first_come_within_it() {
        // One token every 100 ms: every waiter below is queued long before the next one.
        let gate = Gate::new(RateLimit { per_second: 10.0, burst: 1 }, 16);
        drop(gate.turn(Lane::Normal).await);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, lane) in [
            ("b1", Lane::Background),
            ("n1", Lane::Normal),
            ("b2", Lane::Background),
            ("gone", Lane::User),
            ("u1", Lane::User),
            ("n2", Lane::Normal),
        ] {
            let (g, order) = (gate.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = g.turn(lane).await;
                order.lock().unwrap().push(name);
            }));
            // On this runtime's one thread, the task runs up to its wait (queued) before this one goes on.
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
            if name == "gone" {
                // A waiter that gives up (its request was dropped) leaves its place to the next.
                tasks.pop().unwrap().abort();
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
            }
        }
        assert_eq!(gate.waiting().iter().sum::<usize>(), 5, "all queued; the one gone left at the next look");
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["u1", "n1", "n2", "b1", "b2"]);
        assert_eq!(gate.waiting(), [0, 0, 0]);
    }

    #[tokio::test]
    async fn no_lower_lane_is_handed_a_turn_while_a_higher_one_waits_for_a_slot() {
        // Tokens aplenty, two slots: the sweep holds one of its own at most, and never the last one.
        let gate = Gate::new(RateLimit::unlimited(), 2);
        let first = gate.turn(Lane::Background).await;
        let second = gate.turn(Lane::Normal).await;
        assert_eq!(gate.in_flight(), 2);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, lane) in [("b", Lane::Background), ("n", Lane::Normal), ("u", Lane::User)] {
            let (g, order) = (gate.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let turn = g.turn(lane).await;
                order.lock().unwrap().push(name);
                turn
            }));
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
        }
        assert_eq!(gate.waiting(), [1, 1, 1], "every slot is taken: all wait");
        // A slot frees: the user's request has it, then the dashboard's, and the sweep waits for one of its own.
        drop(second);
        let u = tasks.remove(2).await.unwrap();
        assert_eq!(*order.lock().unwrap(), ["u"]);
        drop(u);
        let n = tasks.remove(1).await.unwrap();
        drop(first);
        let b = tasks.remove(0).await.unwrap();
        assert_eq!(*order.lock().unwrap(), ["u", "n", "b"]);
        drop((n, b));
        assert_eq!(gate.in_flight(), 0);
    }
}
