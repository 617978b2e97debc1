//! Appending entries, then acknowledging others once every append succeeded.
//!
//! Two round trips on one connection: the appends (pipelined `XADD`s), and only if all of
//! them succeeded, the acknowledgement (`XACK`). Not a `MULTI` transaction: Redis runs every
//! queued command even when one fails (a stream key that holds a string, say), so the
//! acknowledgement would go through with results missing. Not a Lua script either: it would
//! be one step, but the server copies every payload into the script and out again, which
//! made a 235 kB tile's append three times slower (`examples/round_trip.rs`).
//!
//! A process that dies between the two round trips leaves the entries pending with their
//! results written: they are delivered again and their results appear twice, which
//! at-least-once delivery allows (the consumer of the results ignores the duplicate).

use redis::{Pipeline, Value};

use crate::ack::acknowledge;
use crate::error::{Error, Result};
use crate::link::Reconnecting;
use crate::reply;
use crate::{EntryId, Group};

/// One batch: entries for a stream and, optionally, ids of a group to acknowledge after.
pub(crate) struct Append {
    stream: String,
    max_len: Option<usize>,
    appends: Pipeline,
    entries: usize,
    acks: Option<(Group, Vec<EntryId>)>,
}

impl Append {
    pub(crate) fn to(stream: &str, max_len: Option<usize>) -> Self {
        Append {
            stream: stream.to_owned(),
            max_len,
            appends: redis::pipe(),
            entries: 0,
            acks: None,
        }
    }

    /// Adds an entry of the given field-value pairs.
    pub(crate) fn entry(&mut self, fields: &[(&[u8], &[u8])]) {
        self.appends.cmd("XADD").arg(&self.stream);
        if let Some(max) = self.max_len {
            self.appends.arg("MAXLEN").arg("~").arg(max);
        }
        self.appends.arg("*");
        for (field, value) in fields {
            self.appends.arg(*field).arg(*value);
        }
        self.entries += 1;
    }

    /// Acknowledges `ids` of `group` once every entry is appended.
    pub(crate) fn ack<'a>(&mut self, group: &Group, ids: impl IntoIterator<Item = &'a EntryId>) {
        self.acks = Some((group.clone(), ids.into_iter().cloned().collect()));
    }

    pub(crate) fn entries(&self) -> usize {
        self.entries
    }

    /// Runs it; returns the appended entries' ids. Nothing to do, no round trip.
    ///
    /// # Errors
    ///
    /// The first failing append's (nothing acknowledged then), or the acknowledgement's.
    pub(crate) fn run(self, link: &mut Reconnecting, name: &str) -> Result<Vec<EntryId>> {
        let mut ids = Vec::new();
        if self.entries > 0 {
            let appends = &self.appends;
            let replies: Vec<Value> = link.run(name, |c| appends.query(c))?;
            if replies.len() != self.entries {
                return Err(Error::unexpected(
                    name,
                    format!(
                        "{} replies to {} XADD commands",
                        replies.len(),
                        self.entries
                    ),
                ));
            }
            ids = reply::added_ids(name, replies)?;
        }
        if let Some((group, handled)) = self.acks {
            acknowledge(link, &group, &handled)?;
        }
        Ok(ids)
    }
}
