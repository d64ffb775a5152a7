//! In-process event bus. Domain changes are published after their transaction
//! committed; live streams (SSE) subscribe. Every event has a sequence number
//! and the last few thousand are kept, so a client that reconnects with its
//! last seen number catches up with no gap and no duplicate.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::broadcast;

/// Events kept for catch-up after a reconnect.
pub const RING: usize = 10_000;

/// Something others may need to see.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Event {
    /// Monotonic sequence number (the SSE id).
    pub seq: u64,
    /// What happened: `queue` (a queue's lists changed), `message` (a new
    /// message in a conversation), `offer` (an offer for `agent_id`),
    /// `conversation` (status of one conversation changed).
    pub kind: &'static str,
    /// Queue concerned, if any (visibility).
    pub queue_id: Option<i64>,
    /// Conversation concerned, if any.
    pub conversation_id: Option<i64>,
    /// Agent concerned, if any (targeted events).
    pub agent_id: Option<i64>,
}

/// An event before it gets its number.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Change {
    /// See [`Event::kind`].
    pub kind: &'static str,
    /// See [`Event::queue_id`].
    pub queue_id: Option<i64>,
    /// See [`Event::conversation_id`].
    pub conversation_id: Option<i64>,
    /// See [`Event::agent_id`].
    pub agent_id: Option<i64>,
}

impl Change {
    /// A change to the lists of a queue (and to one conversation in it).
    pub fn queue(queue_id: i64, conversation_id: i64) -> Change {
        Change { kind: "queue", queue_id: Some(queue_id), conversation_id: Some(conversation_id), agent_id: None }
    }
    /// A new message in a conversation.
    pub fn message(queue_id: i64, conversation_id: i64, agent_id: Option<i64>) -> Change {
        Change { kind: "message", queue_id: Some(queue_id), conversation_id: Some(conversation_id), agent_id }
    }
    /// An offer made to an agent.
    pub fn offer(queue_id: i64, conversation_id: i64, agent_id: i64) -> Change {
        Change {
            kind: "offer",
            queue_id: Some(queue_id),
            conversation_id: Some(conversation_id),
            agent_id: Some(agent_id),
        }
    }
    /// Something about one user only: `notification`, `presence`, `tasks`.
    pub fn user(kind: &'static str, user_id: i64) -> Change {
        Change { kind, queue_id: None, conversation_id: None, agent_id: Some(user_id) }
    }
    /// Something that concerns one agent only (their list changed).
    pub fn agent(agent_id: i64, conversation_id: i64) -> Change {
        Change {
            kind: "conversation",
            queue_id: None,
            conversation_id: Some(conversation_id),
            agent_id: Some(agent_id),
        }
    }
}

/// `changes` without repeats, first occurrences in order. Events only tell
/// a client to reload a part, so one per part is enough for a batch that
/// touches it many times (5,000 tasks falling due for 50 agents are 50 pairs
/// of events, not 10,000).
pub fn unique(changes: Vec<Change>) -> Vec<Change> {
    let mut seen = std::collections::HashSet::with_capacity(changes.len());
    changes.into_iter().filter(|c| seen.insert(c.clone())).collect()
}

/// The bus.
pub struct Bus {
    tx: broadcast::Sender<Event>,
    state: Mutex<(u64, VecDeque<Event>)>,
}

impl Default for Bus {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Bus { tx, state: Mutex::new((0, VecDeque::with_capacity(RING))) }
    }
}

impl Bus {
    /// Numbers and sends changes, in order.
    pub fn publish(&self, changes: Vec<Change>) {
        let Ok(mut st) = self.state.lock() else { return };
        for c in changes {
            st.0 += 1;
            let e = Event {
                seq: st.0,
                kind: c.kind,
                queue_id: c.queue_id,
                conversation_id: c.conversation_id,
                agent_id: c.agent_id,
            };
            if st.1.len() == RING {
                st.1.pop_front();
            }
            st.1.push_back(e.clone());
            // Sent under the lock so subscribers see events in sequence order.
            let _ = self.tx.send(e);
        }
    }

    /// A receiver of new events plus the events after `after` still held
    /// (`None` when some were already dropped: the client must reload).
    pub fn subscribe(&self, after: Option<u64>) -> (broadcast::Receiver<Event>, Option<Vec<Event>>) {
        let st = match self.state.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let rx = self.tx.subscribe();
        let backlog = match after {
            None => Some(Vec::new()),
            Some(a) if a >= st.0 => Some(Vec::new()),
            Some(a) => match st.1.front() {
                Some(first) if first.seq <= a + 1 => Some(st.1.iter().filter(|e| e.seq > a).cloned().collect()),
                _ => None,
            },
        };
        (rx, backlog)
    }

    /// The number of the newest event.
    pub fn last_seq(&self) -> u64 {
        self.state.lock().map(|s| s.0).unwrap_or(0)
    }

    /// How many live subscribers (open streams, jobs) the bus has now.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }
}
