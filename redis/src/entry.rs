//! What a source yields and what acknowledgements name.

use std::cmp::Ordering;
use std::fmt;

/// The id the server gave a stream entry (`<milliseconds>-<sequence>`).
///
/// Ids compare as the server orders them, by time and then sequence number (not as text:
/// `5-10` comes after `5-9`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EntryId(pub(crate) String);

impl Ord for EntryId {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.parts(), other.parts()) {
            (Some(mine), Some(theirs)) => mine.cmp(&theirs),
            _ => self.0.cmp(&other.0),
        }
    }
}

impl PartialOrd for EntryId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl EntryId {
    /// An id as text, as `XADD` returned it (for ids kept elsewhere and acknowledged later).
    pub fn new(id: impl Into<String>) -> Self {
        EntryId(id.into())
    }

    /// The id as the server writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id's time (milliseconds since the Unix epoch, by the server's clock) and
    /// sequence number; `None` for text that is not an id.
    pub fn parts(&self) -> Option<(u64, u64)> {
        let (millis, sequence) = self.0.split_once('-')?;
        Some((millis.parse().ok()?, sequence.parse().ok()?))
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl redis::ToRedisArgs for EntryId {
    fn write_redis_args<W: ?Sized + redis::RedisWrite>(&self, out: &mut W) {
        out.write_arg(self.0.as_bytes());
    }
}

impl redis::ToSingleRedisArg for EntryId {}

/// A stream entry delivered to this consumer: acknowledge its `id` once it is handled
/// ([`Acker::ack`](crate::Acker::ack), or [`StreamSink::append_and_ack`](crate::StreamSink::append_and_ack)
/// right after its results are written).
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// The entry's id in its stream.
    pub id: EntryId,
    /// The value of the entry's payload field.
    pub payload: Vec<u8>,
    /// How many times the group has delivered the entry, this time included: 1 the first
    /// time, more once it was claimed from a consumer that went quiet, or read again after a
    /// restart or a reconnect.
    pub deliveries: u64,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("id", &self.id)
            .field("payload", &format_args!("{} bytes", self.payload.len()))
            .field("deliveries", &self.deliveries)
            .finish()
    }
}

/// A stream and one of its consumer groups: where a source reads and where its
/// acknowledgements go.
///
/// A group can also delete each entry it acknowledges
/// ([`delete_acknowledged`](Self::delete_acknowledged)): for a stream that is a work queue
/// with this one group reading it, so that the server keeps only work not done yet, not
/// every payload ever appended.
///
/// Two `Group`s are equal when they name the same group of the same stream, whatever their
/// deletion setting.
#[derive(Clone, Debug)]
pub struct Group {
    stream: String,
    name: String,
    delete_acknowledged: bool,
}

impl PartialEq for Group {
    fn eq(&self, other: &Self) -> bool {
        (&self.stream, &self.name) == (&other.stream, &other.name)
    }
}

impl Eq for Group {}

impl std::hash::Hash for Group {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (&self.stream, &self.name).hash(state);
    }
}

impl Group {
    /// The group `name` of the stream at key `stream`.
    pub fn new(stream: impl Into<String>, name: impl Into<String>) -> Self {
        Group {
            stream: stream.into(),
            name: name.into(),
            delete_acknowledged: false,
        }
    }

    /// Every acknowledgement of this group's entries also deletes them from the stream
    /// (`XACK`, then `XDEL`): by an [`Acker`](crate::Acker), by
    /// [`StreamSink::append_and_ack`](crate::StreamSink::append_and_ack), by a dead letter,
    /// and by [`ack_in`](Self::ack_in).
    ///
    /// Only for a stream that this group alone reads: another group's consumers would find
    /// the entries gone before they read them. An entry acknowledged late by the consumer it
    /// was claimed from (one that was slow, not dead) is deleted then, and acknowledged for
    /// the whole group: the claimer has its payload already, and its own acknowledgement
    /// later finds nothing to do.
    ///
    /// The setting lives in this value, on the client: give it to every handle that
    /// acknowledges for the group (a source's [`group`](crate::StreamSource::group) and
    /// [`acker`](crate::StreamSource::acker) carry it; a `Group::new` passed to
    /// [`Acker::connect`](crate::Acker::connect) needs it set too).
    pub fn delete_acknowledged(mut self) -> Self {
        self.delete_acknowledged = true;
        self
    }

    /// Whether acknowledging deletes ([`delete_acknowledged`](Self::delete_acknowledged)).
    pub fn deletes_acknowledged(&self) -> bool {
        self.delete_acknowledged
    }

    /// The stream's key.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// The group's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds the acknowledgement of `ids` (and their deletion, if the group deletes what it
    /// acknowledges) to a pipeline of your own, their replies ignored: to acknowledge in
    /// the same `MULTI` transaction as writes that record the work done. No ids, nothing
    /// added.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_redis::{EntryId, Group};
    ///
    /// let group = Group::new("results", "assembler").delete_acknowledged();
    /// let mut done = redis::pipe();
    /// done.atomic().cmd("SADD").arg("saved").arg(7).ignore();
    /// group.ack_in(&mut done, &[EntryId::new("1700000000000-0")]);
    /// assert_eq!(done.cmd_iter().count(), 3); // SADD, XACK, XDEL
    /// ```
    pub fn ack_in(&self, pipeline: &mut redis::Pipeline, ids: &[EntryId]) {
        if !ids.is_empty() {
            self.push_ack(pipeline, ids);
            pipeline.ignore();
            self.push_delete(pipeline, ids);
        }
    }

    /// Adds `XACK` of `ids`, its reply kept (the count acknowledged), then `XDEL` if the
    /// group deletes what it acknowledges, its reply ignored.
    pub(crate) fn push_ack_and_delete(&self, pipeline: &mut redis::Pipeline, ids: &[EntryId]) {
        self.push_ack(pipeline, ids);
        self.push_delete(pipeline, ids);
    }

    fn push_ack(&self, pipeline: &mut redis::Pipeline, ids: &[EntryId]) {
        pipeline
            .cmd("XACK")
            .arg(&self.stream)
            .arg(&self.name)
            .arg(ids);
    }

    fn push_delete(&self, pipeline: &mut redis::Pipeline, ids: &[EntryId]) {
        if self.delete_acknowledged {
            pipeline.cmd("XDEL").arg(&self.stream).arg(ids).ignore();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EntryId;

    #[test]
    fn ids_compare_as_numbers() {
        let ids = ["5-9", "5-10", "10-0", "9-99"].map(EntryId::new);
        let mut sorted = ids.to_vec();
        sorted.sort();
        assert_eq!(sorted, ["5-9", "5-10", "9-99", "10-0"].map(EntryId::new));
        assert_eq!(EntryId::new("17-3").parts(), Some((17, 3)));
        assert_eq!(EntryId::new("nonsense").parts(), None);
    }

    #[test]
    fn groups_are_equal_when_they_name_the_same_group() {
        use super::Group;
        use std::collections::HashSet;
        let deleting = Group::new("s", "g").delete_acknowledged();
        assert_eq!(Group::new("s", "g"), deleting);
        assert_ne!(Group::new("s", "g"), Group::new("s", "h"));
        assert_ne!(Group::new("s", "g"), Group::new("t", "g"));
        let set: HashSet<Group> = [Group::new("s", "g"), deleting].into_iter().collect();
        assert_eq!(set.len(), 1);
    }
}
