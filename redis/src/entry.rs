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
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Group {
    stream: String,
    name: String,
}

impl Group {
    /// The group `name` of the stream at key `stream`.
    pub fn new(stream: impl Into<String>, name: impl Into<String>) -> Self {
        Group {
            stream: stream.into(),
            name: name.into(),
        }
    }

    /// The stream's key.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// The group's name.
    pub fn name(&self) -> &str {
        &self.name
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
}
