//! A policy version computed into many open tickets at once: each ticket's step with no
//! decision (what the sweep takes, what a rebuild writes), on as many threads as asked.
//! Pure: the tickets' timelines are read before and the steps written after by the store.

use jiff::Timestamp;

use super::clocks::ClockContext;
use super::events::{Actor, TicketEvent};
use super::step::{Step, StepError, step};
use crate::policy::Policy;

/// An open ticket as a rebuild reads it: what decides its clocks besides its timeline, and
/// its timeline.
#[derive(Clone, Copy, Debug)]
pub struct OpenTicket<'a> {
    pub context: ClockContext<'a>,
    pub events: &'a [TicketEvent],
}

/// Below this many tickets a second thread costs more than it saves.
const TICKETS_PER_THREAD_AT_LEAST: usize = 32;

/// What `keep` keeps of each ticket's step under `policy` at `now` (or at its last event,
/// whichever is later), in the tickets' order, computed on `threads` threads (1: on the
/// caller's).
///
/// `keep` runs on the thread that computed the step: a rebuild keeps a row's worth of each
/// (a whole step is a kilobyte), so a thread's memory is reused from ticket to ticket
/// instead of a batch's steps piling up and being dropped on one thread afterwards.
pub fn rebuild_steps<T: Send>(
    policy: &Policy,
    tickets: &[OpenTicket<'_>],
    now: Timestamp,
    threads: usize,
    keep: impl Fn(Result<Step, StepError>) -> T + Sync,
) -> Vec<T> {
    let one = |ticket: &OpenTicket<'_>| {
        keep(step(
            policy,
            &ticket.context,
            ticket.events,
            Vec::new(),
            Actor::System,
            now,
        ))
    };
    let threads = threads.clamp(
        1,
        tickets.len().div_ceil(TICKETS_PER_THREAD_AT_LEAST).max(1),
    );
    if threads == 1 {
        return tickets.iter().map(one).collect();
    }
    let share = tickets.len().div_ceil(threads);
    let one = &one;
    std::thread::scope(|scope| {
        let workers: Vec<_> = tickets
            .chunks(share)
            .map(|chunk| scope.spawn(move || chunk.iter().map(one).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// The threads this machine runs at once (1 when it cannot tell).
pub fn every_core() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}
