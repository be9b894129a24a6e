//! A processor's local run queue: a bounded ring (256 slots, as in Go) plus
//! a `runnext` slot for the goroutine that should run next (one just woken
//! by the running goroutine: the two usually talk to each other).
//!
//! Plain logic, generic over the item so the host tests can drive it; the
//! scheduler keeps one per CPU behind that CPU's lock. Nothing here
//! allocates, so interrupt handlers may push (wake-ups).

/// Ring capacity.
pub const CAPACITY: usize = 256;

/// A bounded FIFO ring plus a `runnext` slot.
pub struct RunQueue<T> {
    ring: [Option<T>; CAPACITY],
    /// Index of the oldest item.
    head: usize,
    /// Items in the ring.
    len: usize,
    runnext: Option<T>,
}

impl<T> RunQueue<T> {
    /// An empty queue.
    pub const fn new() -> Self {
        RunQueue { ring: [const { None }; CAPACITY], head: 0, len: 0, runnext: None }
    }

    /// Items queued, `runnext` included.
    pub fn len(&self) -> usize {
        self.len + usize::from(self.runnext.is_some())
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `item` to the ring; gives it back if the ring is full.
    pub fn push_back(&mut self, item: T) -> Result<(), T> {
        if self.len == CAPACITY {
            return Err(item);
        }
        self.ring[(self.head + self.len) % CAPACITY] = Some(item);
        self.len += 1;
        Ok(())
    }

    /// Puts `item` in `runnext`; returns what it displaced, which the caller
    /// appends (it was waiting longer, but runs after the new one).
    pub fn push_next(&mut self, item: T) -> Option<T> {
        self.runnext.replace(item)
    }

    /// Takes the next item to run: `runnext` first, then the oldest.
    pub fn pop(&mut self) -> Option<T> {
        self.runnext.take().or_else(|| self.pop_oldest())
    }

    /// Takes the `runnext` item only.
    pub fn pop_runnext(&mut self) -> Option<T> {
        self.runnext.take()
    }

    fn pop_oldest(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let item = self.ring[self.head].take();
        self.head = (self.head + 1) % CAPACITY;
        self.len -= 1;
        item
    }

    /// Hands the older half of the ring (rounded up) to `take`, oldest
    /// first; `runnext` too if the ring was empty. For a thief (an idle
    /// processor) and for overflow to the global queue. Returns how many.
    pub fn take_half(&mut self, mut take: impl FnMut(T)) -> usize {
        if self.len == 0 {
            return self.runnext.take().map(take).map_or(0, |()| 1);
        }
        let count = self.len.div_ceil(2);
        for _ in 0..count {
            take(self.pop_oldest().expect("counted"));
        }
        count
    }
}

impl<T> Default for RunQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::{CAPACITY, RunQueue};

    #[test]
    fn fifo_with_runnext_first() {
        let mut q = RunQueue::new();
        for i in 0..3 {
            q.push_back(i).unwrap();
        }
        assert_eq!(q.push_next(10), None);
        assert_eq!(q.push_next(11), Some(10));
        assert_eq!(q.len(), 4);
        assert_eq!(q.pop_runnext(), Some(11));
        assert_eq!(q.pop_runnext(), None);
        q.push_next(11);
        let order: Vec<_> = core::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, [11, 0, 1, 2]);
        assert!(q.is_empty());
    }

    #[test]
    fn full_ring_refuses_and_wraps() {
        let mut q = Box::new(RunQueue::new());
        for round in 0..3 {
            for i in 0..CAPACITY {
                q.push_back(round * 1000 + i).unwrap();
            }
            assert_eq!(q.push_back(7), Err(7));
            for _ in 0..CAPACITY / 2 {
                q.pop().unwrap();
            }
            for i in 0..CAPACITY / 2 {
                q.push_back(i).unwrap();
            }
            while q.pop().is_some() {}
        }
        assert!(q.is_empty());
    }

    #[test]
    fn stealing_takes_the_older_half() {
        let mut victim = RunQueue::new();
        for i in 0..5 {
            victim.push_back(i).unwrap();
        }
        victim.push_next(99);
        let mut loot = Vec::new();
        assert_eq!(victim.take_half(|g| loot.push(g)), 3);
        assert_eq!(loot, [0, 1, 2]);
        assert_eq!(victim.len(), 3);
        assert_eq!(victim.pop(), Some(99));
        // Only runnext left in an empty ring: a thief takes it.
        let mut lone = RunQueue::new();
        lone.push_next(5);
        let mut loot = Vec::new();
        assert_eq!(lone.take_half(|g| loot.push(g)), 1);
        assert_eq!(loot, [5]);
        assert_eq!(lone.take_half(|g| loot.push(g)), 0);
    }

    #[test]
    fn repeated_stealing_conserves_items() {
        // Two queues trading halves never lose or duplicate an item.
        let (mut a, mut b) = (Box::new(RunQueue::new()), Box::new(RunQueue::new()));
        for i in 0..200 {
            a.push_back(i).unwrap();
        }
        for round in 0..50 {
            let (from, to) = if round % 2 == 0 { (&mut a, &mut b) } else { (&mut b, &mut a) };
            from.take_half(|g| to.push_back(g).unwrap());
            if let Some(g) = to.pop() {
                to.push_next(g);
            }
        }
        let mut all: Vec<_> = core::iter::from_fn(|| a.pop()).chain(core::iter::from_fn(|| b.pop())).collect();
        all.sort();
        assert_eq!(all, (0..200).collect::<Vec<_>>());
    }
}
