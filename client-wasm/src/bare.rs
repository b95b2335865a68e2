//! Without `std` (the release build): no panic machinery at all, so panics don't
//! pull `core::fmt` in (a panic traps; the code is written not to panic), and
//! lol_alloc's free-list allocator (~0.7 KB) instead of dlmalloc (~5 KB): the
//! client's heap is a few kilobytes of short-lived strings and closures.

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

// SAFETY: wasm32-unknown-unknown without atomics is single-threaded.
#[global_allocator]
static ALLOC: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
