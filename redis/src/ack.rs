//! Acknowledging entries once they are handled.

use std::time::Duration;

use redis::Value;

use crate::error::{Error, Result};
use crate::link::{Reconnecting, DEFAULT_RECONNECT_WINDOW};
use crate::{EntryId, Group};

/// Acknowledges a group's entries (`XACK`), one round trip per call for all the ids given:
/// call it once the sink has handled the entries, with a batch of them (a `batch_timeout`
/// stage before the sink gives the batches).
///
/// Made by [`StreamSource::acker`](crate::StreamSource::acker), or by
/// [`Acker::connect`] in another process.
///
/// # Examples
///
/// ```no_run
/// use weir_redis::{Acker, EntryId, Group};
///
/// # fn main() -> Result<(), weir_redis::Error> {
/// let mut acker = Acker::connect("redis://127.0.0.1:6379/", Group::new("jobs", "workers"))?;
/// let done = [EntryId::new("1700000000000-0"), EntryId::new("1700000000000-1")];
/// let acknowledged = acker.ack(&done)?;
/// assert!(acknowledged <= 2);
/// # Ok(()) }
/// ```
pub struct Acker {
    link: Reconnecting,
    group: Group,
}

impl Acker {
    /// An acknowledger of `group`'s entries on the server at `address`.
    ///
    /// # Errors
    ///
    /// [`Error::Unreachable`] if the server cannot be reached within the default reconnect
    /// window (30 s); [`Error::InvalidArgument`] for an address that is not one.
    pub fn connect(address: &str, group: Group) -> Result<Self> {
        Ok(Acker::over(
            Reconnecting::blocking(address, DEFAULT_RECONNECT_WINDOW, Duration::ZERO)?,
            group,
        ))
    }

    pub(crate) fn over(link: Reconnecting, group: Group) -> Self {
        Acker { link, group }
    }

    /// How long a dropped connection is retried before [`ack`](Self::ack) gives up
    /// (default 30 s).
    pub fn reconnect_for(mut self, window: Duration) -> Self {
        self.link.set_window(window);
        self
    }

    /// The group whose entries this acknowledges.
    pub fn group(&self) -> &Group {
        &self.group
    }

    /// Acknowledges `ids` in one `XACK` (followed by `XDEL` in the same round trip if the
    /// group [deletes what it acknowledges](Group::delete_acknowledged)) and returns how
    /// many the server had pending (an id acknowledged already, or claimed and acknowledged
    /// by another consumer, does not count). No ids, no round trip.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] if the connection is down for the whole reconnect window,
    /// [`Error::Refused`] if the group does not exist, [`Error::UnexpectedReply`] for a
    /// reply that is not a count. The ids are then not acknowledged (some may be, if the
    /// connection dropped after the server took the command): their entries will be
    /// delivered again, which at-least-once delivery allows.
    pub fn ack<'a>(&mut self, ids: impl IntoIterator<Item = &'a EntryId>) -> Result<u64> {
        let ids: Vec<EntryId> = ids.into_iter().cloned().collect();
        acknowledge(&mut self.link, &self.group, &ids)
    }
}

/// Acknowledges `ids` of `group` in one round trip (and deletes them, if the group deletes
/// what it acknowledges); returns how many the server had pending. No ids, no round trip.
pub(crate) fn acknowledge(link: &mut Reconnecting, group: &Group, ids: &[EntryId]) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut ack = redis::pipe();
    group.push_ack_and_delete(&mut ack, ids);
    let name = if group.deletes_acknowledged() {
        format!("XACK and XDEL {} {}", group.stream(), group.name())
    } else {
        format!("XACK {} {}", group.stream(), group.name())
    };
    let replies: Vec<Value> = link.run(&name, |c| ack.query(c))?;
    match replies.as_slice() {
        [Value::Int(n)] if *n >= 0 => Ok(*n as u64),
        other => Err(Error::unexpected(
            &name,
            format!("expected a count, found {other:?}"),
        )),
    }
}
