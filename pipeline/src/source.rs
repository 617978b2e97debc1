//! Where items come from: an iterator ([`Pipeline::from_iter`](crate::Pipeline::from_iter)),
//! or the [`Input`] handles of [`Pipeline::input`](crate::Pipeline::input).

use std::fmt;
use std::time::{Duration, Instant};

use weir_backpressure::{RecvTimeoutError, SendError, TryRecvError, TrySendError};

use crate::control::Control;
use crate::link::{MpmcReceiver, MpmcSender};
use crate::stage::{Source, CHUNK};

/// How long a source gathers items for one chunk before it sends what it has: a source that
/// yields slowly gets its items on their way at once instead of after a whole chunk.
const GATHER_FOR: Duration = Duration::from_micros(20);

/// How often a source waiting for its [`Input`]s looks whether the run was cancelled.
const INPUT_POLL: Duration = Duration::from_millis(10);

/// A source over an iterator, which sends chunks as large as the iterator's speed allows
/// within [`GATHER_FOR`].
pub(crate) struct IterSource<I> {
    iter: I,
    /// The chunk size that fits in `GATHER_FOR` at the iterator's recent speed.
    chunk: usize,
}

impl<I> IterSource<I> {
    pub(crate) fn new(iter: I) -> Self {
        IterSource { iter, chunk: CHUNK }
    }
}

impl<I: Iterator + Send> Source<I::Item> for IterSource<I> {
    fn fill(&mut self, buf: &mut Vec<I::Item>, max: usize, _: &Control) -> bool {
        let want = self.chunk.min(max);
        let started = Instant::now();
        // Look at the clock every few items only: for a fast iterator, the clock would cost
        // more than the items.
        let check_every = if self.chunk <= 16 { 1 } else { 64 };
        while buf.len() < want {
            let Some(item) = self.iter.next() else {
                return false;
            };
            buf.push(item);
            if buf.len() % check_every == 0 && started.elapsed() > GATHER_FOR {
                // Slow items: chunks of what one gathering time yields.
                self.chunk = buf.len().max(1);
                return true;
            }
        }
        if self.chunk < CHUNK && started.elapsed() < GATHER_FOR / 2 {
            self.chunk = (self.chunk * 2).min(CHUNK);
        }
        true
    }
}

/// A source fed by [`Input`] handles.
pub(crate) struct InputSource<T> {
    pub(crate) receiver: MpmcReceiver<T>,
}

impl<T: Send> Source<T> for InputSource<T> {
    fn fill(&mut self, buf: &mut Vec<T>, max: usize, control: &Control) -> bool {
        loop {
            if control.is_stopped() {
                return false;
            }
            match self.receiver.recv_timeout(INPUT_POLL) {
                Ok(item) => {
                    buf.push(item);
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
        while buf.len() < max {
            match self.receiver.try_recv() {
                Ok(item) => buf.push(item),
                Err(TryRecvError::Empty) => break,
                // The next fill sees the end.
                Err(TryRecvError::Disconnected) => break,
            }
        }
        true
    }
}

/// A handle that feeds a pipeline made by [`Pipeline::input`](crate::Pipeline::input).
///
/// `Clone` and `Send`: any number of threads may feed one pipeline. The stream ends when every
/// `Input` is dropped. A `send` waits while the pipeline's first queue is full, so
/// backpressure reaches whoever feeds it.
///
/// # Examples
///
/// ```
/// use weir_pipeline::Pipeline;
///
/// let (input, pipeline) = Pipeline::input::<u32>(64);
/// let running = pipeline.map(|x| x * 2).fold(0, |sum, x| sum + x).spawn();
/// for i in 0..100 {
///     input.send(i).unwrap();
/// }
/// drop(input); // the end of the stream
/// assert_eq!(running.join().unwrap().output, 9900);
/// ```
pub struct Input<T> {
    pub(crate) sender: MpmcSender<T>,
}

impl<T> Input<T> {
    /// Sends an item into the pipeline, waiting while its first queue is full.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the item once the pipeline has stopped (it ended, failed or was
    /// cancelled), or if it was dropped without being run.
    pub fn send(&self, item: T) -> Result<(), SendError<T>> {
        self.sender.send(item)
    }

    /// Sends an item if there is room now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] with the item if the first queue is full, and
    /// [`TrySendError::Disconnected`] with the item once the pipeline has stopped.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        self.sender.try_send(item)
    }

    /// Sends an item, waiting at most `timeout` for room.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send), and a timeout, each with the item.
    pub fn send_timeout(
        &self,
        item: T,
        timeout: Duration,
    ) -> Result<(), weir_backpressure::SendTimeoutError<T>> {
        self.sender.send_timeout(item, timeout)
    }

    /// How many items wait in the pipeline's first queue.
    pub fn len(&self) -> usize {
        self.sender.len()
    }

    /// Whether the pipeline's first queue is empty.
    pub fn is_empty(&self) -> bool {
        self.sender.is_empty()
    }

    /// The capacity of the pipeline's first queue.
    pub fn capacity(&self) -> usize {
        self.sender.capacity()
    }
}

impl<T> Clone for Input<T> {
    fn clone(&self) -> Self {
        Input {
            sender: self.sender.clone(),
        }
    }
}

impl<T> fmt::Debug for Input<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}
