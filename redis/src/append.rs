//! Appending entries and acknowledging others in one step that stops before the
//! acknowledgement if an append fails: a Lua script (`append.lua`), which the server runs
//! without interleaving other clients' commands.
//!
//! A `MULTI` transaction would not do: Redis runs every queued command even when one fails
//! (a stream key that holds a string, say), so the acknowledgement would go through with
//! the results missing.

use std::sync::OnceLock;

use redis::Script;

use crate::error::Result;
use crate::link::Reconnecting;
use crate::reply;
use crate::{EntryId, Group};

/// The script, loaded once per process; the server caches it by its hash (`EVALSHA`), and
/// the client sends the text again only when the server does not know it (after a restart).
fn script() -> &'static Script {
    static SCRIPT: OnceLock<Script> = OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(include_str!("append.lua")))
}

/// One batch: entries for `stream` and, optionally, ids of `group` to acknowledge after.
pub(crate) struct Append {
    stream: String,
    max_len: Option<usize>,
    entries: usize,
    args: Vec<Vec<u8>>,
    acks: Option<(Group, Vec<EntryId>)>,
}

impl Append {
    pub(crate) fn to(stream: &str, max_len: Option<usize>) -> Self {
        Append {
            stream: stream.to_owned(),
            max_len,
            entries: 0,
            args: Vec::new(),
            acks: None,
        }
    }

    /// Adds an entry of the given field-value pairs.
    pub(crate) fn entry(&mut self, fields: &[(&[u8], &[u8])]) {
        self.args.push(fields.len().to_string().into_bytes());
        for (field, value) in fields {
            self.args.push(field.to_vec());
            self.args.push(value.to_vec());
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

    fn acks(&self) -> usize {
        self.acks.as_ref().map_or(0, |(_, ids)| ids.len())
    }

    /// Runs it; returns the appended entries' ids. Nothing to do, no round trip.
    pub(crate) fn run(self, link: &mut Reconnecting, name: &str) -> Result<Vec<EntryId>> {
        if self.entries == 0 && self.acks() == 0 {
            return Ok(Vec::new());
        }
        let mut invocation = script().prepare_invoke();
        invocation.key(&self.stream);
        let (acked_stream, group, ids) = match &self.acks {
            Some((group, ids)) => (group.stream(), group.name(), ids.as_slice()),
            None => (self.stream.as_str(), "", &[][..]),
        };
        invocation
            .key(acked_stream)
            .arg(self.max_len.map_or_else(String::new, |n| n.to_string()))
            .arg(group)
            .arg(self.entries)
            .arg(&self.args)
            .arg(ids);
        let replies: Vec<redis::Value> = link.run(name, |c| invocation.invoke(c))?;
        if replies.len() != self.entries {
            return Err(crate::Error::unexpected(
                name,
                format!(
                    "{} ids for {} appended entries",
                    replies.len(),
                    self.entries
                ),
            ));
        }
        reply::added_ids(name, replies)
    }
}
