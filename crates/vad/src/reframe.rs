//! Re-framing: turns frames of any length into fixed analysis windows.
//!
//! Pure bookkeeping shared by the backends; it allocates once, at construction.

/// Collects samples into windows of `N` samples.
#[derive(Clone, Debug)]
pub(crate) struct Reframer<const N: usize> {
    window: [i16; N],
    filled: usize,
}

impl<const N: usize> Reframer<N> {
    pub(crate) fn new() -> Self {
        Self {
            window: [0; N],
            filled: 0,
        }
    }

    /// Forgets any partial window.
    pub(crate) fn reset(&mut self) {
        self.filled = 0;
    }

    /// Appends `samples`, calling `on_window` for every window completed, in order.
    pub(crate) fn push(&mut self, mut samples: &[i16], mut on_window: impl FnMut(&[i16; N])) {
        while !samples.is_empty() {
            let room = N - self.filled;
            let take = room.min(samples.len());
            let (head, tail) = samples.split_at(take);
            if let Some(dst) = self.window.get_mut(self.filled..self.filled + take) {
                dst.copy_from_slice(head);
            }
            self.filled += take;
            samples = tail;
            if self.filled == N {
                on_window(&self.window);
                self.filled = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Reframer;

    #[test]
    fn any_chunking_yields_the_same_windows() {
        let samples: Vec<i16> = (0..1000).map(|i| i as i16).collect();
        let mut whole = Vec::new();
        Reframer::<160>::new().push(&samples, |w| whole.push(w.to_vec()));
        for chunk in [1, 7, 160, 333] {
            let mut r = Reframer::<160>::new();
            let mut got = Vec::new();
            for c in samples.chunks(chunk) {
                r.push(c, |w| got.push(w.to_vec()));
            }
            assert_eq!(got, whole, "chunk {chunk}");
        }
        assert_eq!(whole.len(), 6);
    }
}
