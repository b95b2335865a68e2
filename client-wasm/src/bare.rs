//! Without `std` (the release build): no panic machinery at all, so panics don't
//! pull `core::fmt` in (a panic traps; the code is written not to panic), and
//! lol_alloc's free-list allocator (~0.7 KB) instead of dlmalloc (~5 KB): the
//! client's heap is a few kilobytes of short-lived strings and closures.

use core::alloc::{GlobalAlloc, Layout};

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// lol_alloc's free list, trapping when out of memory instead of returning null:
/// the compiler then sees every allocation succeed, and drops `handle_alloc_error`,
/// whose "memory allocation of {} bytes failed" message would bring `core::fmt` in.
struct Trapping(lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator>);

unsafe impl GlobalAlloc for Trapping {
    #[inline(always)]
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = self.0.alloc(l);
        if p.is_null() {
            core::arch::wasm32::unreachable()
        }
        p
    }
    #[inline(always)]
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        self.0.dealloc(p, l)
    }
    #[inline(always)]
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        let q = self.0.realloc(p, l, n);
        if q.is_null() {
            core::arch::wasm32::unreachable()
        }
        q
    }
}

// SAFETY: wasm32-unknown-unknown without atomics is single-threaded.
#[global_allocator]
static ALLOC: Trapping =
    Trapping(unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) });
