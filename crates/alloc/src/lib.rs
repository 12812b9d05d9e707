//! The process's global allocator: mimalloc, entered the way its C API expects.
//!
//! Why not `mimalloc::MiMalloc`: that crate calls `mi_malloc_aligned(size, align)` for every
//! allocation. In mimalloc 3, the aligned entry point only has a fast path while the size
//! class's current page has a free block; otherwise a size that is not a power of two (a
//! 24-byte `String` triple, a 40-byte node, …) is *over-allocated* from the next size classes
//! (`size + align - 1`, `alloc-aligned.c`), and the size class's own page is not refilled
//! on that path. Under the server's load about one allocation in ten took that slow path
//! (callgrind, `scripts/bench-instructions.sh`; see BENCHMARKS.md). Here an allocation whose
//! alignment every mimalloc block already has goes to `mi_malloc`, whose slow path refills the
//! page; only over-aligned layouts use the aligned entry points.
//!
//! What it must not do: anything but forward to mimalloc. Every block, however allocated, is
//! freed by `mi_free`, which finds its page from the pointer.
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc,
    mi_zalloc_aligned,
};

/// The alignment of every mimalloc block: block sizes are multiples of a machine word and
/// pages start aligned, so any block is at least word-aligned. Larger alignments (a 16-byte
/// `u128`, a cache-padded Tokio cell) go to the aligned entry points.
const PLAIN_ALIGN: usize = core::mem::size_of::<usize>();

/// mimalloc as the global allocator (`#[global_allocator] static A: Mimalloc = Mimalloc;`).
pub struct Mimalloc;

/// Whether a block of `size` bytes from the plain entry points is aligned enough for `align`.
/// A block smaller than the word is still a whole word, but the layout's size bounds its
/// alignment (as Rust's `System` allocator also requires).
#[inline]
fn plain(align: usize, size: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

// SAFETY: every method forwards to mimalloc, which returns either null or a block of at least
// the requested size with at least the requested alignment (`plain` only routes layouts that a
// word-aligned block satisfies to the plain entry points); `dealloc` and `realloc` receive only
// pointers this allocator returned, as `GlobalAlloc` requires of its callers, and `mi_free` /
// `mi_realloc*` accept any mimalloc block whichever entry point allocated it.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let (size, align) = (layout.size(), layout.align());
        // SAFETY: plain C calls with sizes and a power-of-two alignment from a valid `Layout`.
        unsafe {
            if plain(align, size) {
                mi_malloc(size).cast()
            } else {
                mi_malloc_aligned(size, align).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let (size, align) = (layout.size(), layout.align());
        // SAFETY: as in `alloc`.
        unsafe {
            if plain(align, size) {
                mi_zalloc(size).cast()
            } else {
                mi_zalloc_aligned(size, align).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (the caller's `GlobalAlloc` contract).
        unsafe { mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let align = layout.align();
        // SAFETY: `ptr` came from this allocator with `layout`; `new_size` is non-zero and,
        // rounded to `align`, fits an `isize` (the caller's `GlobalAlloc` contract).
        unsafe {
            if plain(align, new_size) {
                mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast::<c_void>(), new_size, align).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: [usize; 16] = [
        1,
        3,
        8,
        12,
        16,
        24,
        40,
        100,
        1000,
        1024,
        1025,
        4000,
        4096,
        70_000,
        1 << 20,
        3 << 21,
    ];
    const ALIGNS: [usize; 9] = [1, 2, 4, 8, 16, 32, 128, 4096, 65_536];

    fn layouts() -> impl Iterator<Item = Layout> {
        SIZES.iter().flat_map(|&size| {
            ALIGNS
                .iter()
                .filter_map(move |&align| Layout::from_size_align(size, align).ok())
        })
    }

    /// The bytes of a block the tests write and read back: all of the first 4 KiB, then every
    /// 4093rd byte and the last (the largest blocks are megabytes).
    fn touched(len: usize) -> impl Iterator<Item = usize> {
        (0..len.min(4096))
            .chain((4096..len).step_by(4093))
            .chain(len.checked_sub(1))
    }

    fn fill(p: *mut u8, len: usize, seed: u8) {
        for i in touched(len) {
            // SAFETY: `p` is a live block of at least `len` bytes.
            unsafe { p.add(i).write(seed.wrapping_add(i as u8)) }
        }
    }

    fn check(p: *const u8, len: usize, seed: u8) {
        for i in touched(len) {
            // SAFETY: `p` is a live block of at least `len` initialised bytes.
            let b = unsafe { p.add(i).read() };
            assert_eq!(b, seed.wrapping_add(i as u8), "byte {i} of {len}");
        }
    }

    #[test]
    fn every_layout_is_aligned_writable_and_freed() {
        for layout in layouts() {
            // SAFETY: a non-zero-sized layout; the block is freed with the same layout.
            unsafe {
                let p = Mimalloc.alloc(layout);
                assert!(!p.is_null(), "{layout:?}");
                assert_eq!(p as usize % layout.align(), 0, "{layout:?}");
                fill(p, layout.size(), 7);
                check(p, layout.size(), 7);
                Mimalloc.dealloc(p, layout);
            }
        }
    }

    #[test]
    fn zeroed_blocks_are_zero_even_when_reused() {
        for layout in layouts() {
            // SAFETY: as above; the first block is dirtied and freed so that the zeroed one
            // may reuse it.
            unsafe {
                let dirty = Mimalloc.alloc(layout);
                fill(dirty, layout.size(), 1);
                Mimalloc.dealloc(dirty, layout);
                let p = Mimalloc.alloc_zeroed(layout);
                assert!(!p.is_null(), "{layout:?}");
                assert_eq!(p as usize % layout.align(), 0, "{layout:?}");
                for i in touched(layout.size()) {
                    assert_eq!(p.add(i).read(), 0, "byte {i} of {layout:?}");
                }
                Mimalloc.dealloc(p, layout);
            }
        }
    }

    #[test]
    fn realloc_keeps_contents_and_alignment_both_ways() {
        for layout in layouts() {
            for &new_size in &SIZES {
                // SAFETY: `p` is live with `layout` until reallocated, then live with the new
                // layout until freed with it.
                unsafe {
                    let p = Mimalloc.alloc(layout);
                    fill(p, layout.size(), 3);
                    let q = Mimalloc.realloc(p, layout, new_size);
                    assert!(!q.is_null(), "{layout:?} → {new_size}");
                    assert_eq!(q as usize % layout.align(), 0, "{layout:?} → {new_size}");
                    check(q, layout.size().min(new_size), 3);
                    let new = Layout::from_size_align(new_size, layout.align());
                    Mimalloc.dealloc(q, new.unwrap_or(layout));
                }
            }
        }
    }

    #[test]
    fn blocks_freed_on_another_thread() {
        let layout = Layout::new::<[usize; 3]>(); // a `String`'s size and alignment
        // SAFETY: blocks are allocated here and freed (once each) on the other thread.
        let blocks: Vec<usize> = (0..10_000)
            .map(|i| unsafe {
                let p = Mimalloc.alloc(layout);
                fill(p, 24, i as u8);
                p as usize
            })
            .collect();
        let freer = std::thread::spawn(move || {
            for (i, p) in blocks.into_iter().enumerate() {
                check(p as *const u8, 24, i as u8);
                // SAFETY: each block is live and freed exactly once.
                unsafe { Mimalloc.dealloc(p as *mut u8, layout) }
            }
        });
        assert!(freer.join().is_ok(), "the freeing thread panicked");
        // The freeing thread's frees are collected when this thread allocates again.
        // SAFETY: as above.
        unsafe {
            let p = Mimalloc.alloc(layout);
            assert!(!p.is_null());
            Mimalloc.dealloc(p, layout);
        }
    }
}
