//! The shapes of the stream commands' replies, read from `redis::Value` with an error that
//! says what was expected wherever a reply differs (a server of another kind or version).

use redis::Value;

use crate::error::{Error, Result};
use crate::EntryId;

/// An entry as the server listed it.
pub(crate) enum Listed {
    /// An entry and the payload field's value, if it has that field.
    Present {
        id: EntryId,
        payload: Option<Vec<u8>>,
    },
    /// An entry still pending but deleted from the stream (`XDEL`, or trimmed away): the
    /// server lists its id with no fields.
    Deleted(EntryId),
}

/// The entries of an `XREADGROUP` reply for one stream: nil (the block timed out) or
/// `[[stream, [[id, [field, value, ...]], ...]]]`.
pub(crate) fn read_group(command: &str, reply: Value, field: &str) -> Result<Vec<Listed>> {
    let streams = match reply {
        Value::Nil => return Ok(Vec::new()),
        Value::Array(streams) => streams,
        Value::Map(streams) => streams
            .into_iter()
            .map(|(key, entries)| Value::Array(vec![key, entries]))
            .collect(),
        other => return Err(shape(command, "an array of streams or nil", &other)),
    };
    let mut listed = Vec::new();
    for stream in streams {
        let Value::Array(mut pair) = stream else {
            return Err(shape(command, "[stream, entries]", &stream));
        };
        if pair.len() != 2 {
            return Err(Error::unexpected(
                command,
                format!("a stream of {} parts, not 2", pair.len()),
            ));
        }
        entries(
            command,
            pair.pop().unwrap_or(Value::Nil),
            field,
            &mut listed,
        )?;
    }
    Ok(listed)
}

/// An `XAUTOCLAIM` reply: `[next cursor, [entries], [deleted ids]]` (the last part since
/// Redis 7). Returns the next cursor and the claimed entries; the server has already dropped
/// the deleted ones from the pending list.
pub(crate) fn auto_claim(
    command: &str,
    reply: Value,
    field: &str,
) -> Result<(String, Vec<Listed>)> {
    let Value::Array(parts) = reply else {
        return Err(shape(command, "[cursor, entries, deleted]", &reply));
    };
    let mut parts = parts.into_iter();
    let cursor = match parts.next() {
        Some(value) => text(command, value)?,
        None => return Err(Error::unexpected(command, "an empty reply")),
    };
    let mut listed = Vec::new();
    if let Some(found) = parts.next() {
        entries(command, found, field, &mut listed)?;
    }
    Ok((cursor, listed))
}

/// The extended `XPENDING` reply: `[[id, consumer, idle ms, deliveries], ...]`, as
/// (id, deliveries) pairs.
pub(crate) fn pending(command: &str, reply: Value) -> Result<Vec<(EntryId, u64)>> {
    let Value::Array(rows) = reply else {
        return Err(shape(command, "an array of pending entries", &reply));
    };
    rows.into_iter()
        .map(|row| match row {
            Value::Array(fields) if fields.len() == 4 => {
                let mut fields = fields.into_iter();
                let id = EntryId(text(command, fields.next().unwrap_or(Value::Nil))?);
                let deliveries = match fields.nth(2) {
                    Some(Value::Int(n)) if n >= 0 => n as u64,
                    other => {
                        return Err(shape(
                            command,
                            "a delivery count",
                            &other.unwrap_or(Value::Nil),
                        ))
                    }
                };
                Ok((id, deliveries))
            }
            other => Err(shape(command, "[id, consumer, idle, deliveries]", &other)),
        })
        .collect()
}

/// The count of the summary `XPENDING` reply: `[count, first, last, consumers]`.
pub(crate) fn pending_count(command: &str, reply: Value) -> Result<u64> {
    match reply {
        Value::Array(parts) => match parts.first() {
            Some(Value::Int(n)) if *n >= 0 => Ok(*n as u64),
            _ => Err(Error::unexpected(
                command,
                "a summary whose first part is not a count",
            )),
        },
        other => Err(shape(command, "[count, first, last, consumers]", &other)),
    }
}

/// The ids `XADD` returned, one per appended entry.
pub(crate) fn added_ids(command: &str, replies: Vec<Value>) -> Result<Vec<EntryId>> {
    replies
        .into_iter()
        .map(|reply| text(command, reply).map(EntryId))
        .collect()
}

fn entries(command: &str, entries: Value, field: &str, out: &mut Vec<Listed>) -> Result<()> {
    let Value::Array(entries) = entries else {
        return Err(shape(command, "an array of entries", &entries));
    };
    for entry in entries {
        let Value::Array(parts) = entry else {
            return Err(shape(command, "[id, fields]", &entry));
        };
        let mut parts = parts.into_iter();
        let id = EntryId(text(command, parts.next().unwrap_or(Value::Nil))?);
        match parts.next() {
            None | Some(Value::Nil) => out.push(Listed::Deleted(id)),
            Some(Value::Array(fields)) => {
                let payload = payload_of(command, fields, field)?;
                out.push(Listed::Present { id, payload });
            }
            Some(Value::Map(fields)) => {
                let fields = fields.into_iter().flat_map(|(k, v)| [k, v]).collect();
                let payload = payload_of(command, fields, field)?;
                out.push(Listed::Present { id, payload });
            }
            Some(other) => return Err(shape(command, "an entry's fields", &other)),
        }
    }
    Ok(())
}

fn payload_of(command: &str, fields: Vec<Value>, field: &str) -> Result<Option<Vec<u8>>> {
    if !fields.len().is_multiple_of(2) {
        return Err(Error::unexpected(
            command,
            "an odd number of field names and values",
        ));
    }
    let mut fields = fields.into_iter();
    while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
        if bytes(command, name)? == field.as_bytes() {
            return bytes(command, value).map(Some);
        }
    }
    Ok(None)
}

fn bytes(command: &str, value: Value) -> Result<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Ok(bytes),
        Value::SimpleString(text) => Ok(text.into_bytes()),
        Value::VerbatimString { text, .. } => Ok(text.into_bytes()),
        other => Err(shape(command, "a string", &other)),
    }
}

fn text(command: &str, value: Value) -> Result<String> {
    let raw = bytes(command, value)?;
    String::from_utf8(raw).map_err(|_| Error::unexpected(command, "an id that is not UTF-8"))
}

fn shape(command: &str, expected: &str, found: &Value) -> Error {
    Error::unexpected(command, format!("expected {expected}, found {found:?}"))
}
