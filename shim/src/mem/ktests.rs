//! In-kernel tests of frames, page tables, the heap and kernel stacks.

use alloc::vec::Vec;

use super::frame::{self, Frame};
use super::heap;
use super::kva;
use super::paging::{self, MapError, MapFlags};
use super::stack::{self, KernelStack};
use crate::ktest;

/// A tiny deterministic generator for test patterns and sizes.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn fill(frame: &Frame, value: u64) {
    let words = frame.virt().as_mut_ptr::<u64>();
    for i in 0..512 {
        // SAFETY: the test owns `frame`; it is mapped at the physical offset.
        unsafe { words.add(i).write_volatile(value ^ i as u64) };
    }
}

fn holds(frame: &Frame, value: u64) -> bool {
    let words = frame.virt().as_ptr::<u64>();
    // SAFETY: as in `fill`.
    (0..512).all(|i| unsafe { words.add(i).read_volatile() } == value ^ i as u64)
}

ktest! {
    fn frames_alloc_free_round_trip() {
        // Both vectors are allocated first: growing the kernel heap in the
        // middle would take frames and upset the count.
        let mut frames = Vec::with_capacity(2000);
        let mut sorted: Vec<u64> = Vec::with_capacity(2000);
        let before = frame::free_count();
        frames.extend((0..2000).map(|_| Frame::alloc().expect("frame")));
        assert_eq!(frame::free_count(), before - 2000);
        sorted.extend(frames.iter().map(|f| f.start_address().as_u64()));
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 2000, "a frame was handed out twice");
        assert!(sorted[0] >= 0x10_0000, "frames below 1 MiB are reserved");
        for (i, f) in frames.iter().enumerate() {
            fill(f, i as u64 * 0x9e37_79b9);
        }
        for (i, f) in frames.iter().enumerate() {
            assert!(holds(f, i as u64 * 0x9e37_79b9), "frame contents overlap");
        }
        frames.clear();
        assert_eq!(frame::free_count(), before, "dropped frames are freed");
        let again = Frame::alloc().expect("frame");
        assert!(sorted.binary_search(&again.start_address().as_u64()).is_ok(), "freed frames are reused");
    }
}

ktest! {
    fn kernel_pages_map_translate_unmap() {
        let page = paging::page_of(kva::reserve(1).expect("kva").as_u64());
        let addr = page.start_address();
        let frame = Frame::alloc_zeroed().expect("frame");
        let phys = frame.start_address();
        let frames = frame::free_count();
        assert_eq!(paging::translate(addr), None);
        paging::map(page, frame, MapFlags::DATA).expect("map");
        assert_eq!(paging::translate(addr + 0x123u64), Some(phys + 0x123u64));
        assert_eq!(paging::map_new(page, MapFlags::DATA), Err(MapError::AlreadyMapped));
        assert_eq!(frame::free_count(), frames, "the frame of a refused mapping is freed");
        // Writes through the new page land in the frame.
        // SAFETY: the page was just mapped writable and belongs to the test.
        unsafe { addr.as_mut_ptr::<u64>().write_volatile(0xfeed_f00d) };
        // SAFETY: the frame is mapped at the physical offset too.
        assert_eq!(unsafe { frame::phys_to_virt(phys).as_ptr::<u64>().read_volatile() }, 0xfeed_f00d);
        let wx = MapFlags { writable: true, executable: true, uncached: false };
        let other = paging::page_of(kva::reserve(1).expect("kva").as_u64());
        assert_eq!(paging::map_new(other, wx), Err(MapError::WriteAndExecute), "W^X");
        // SAFETY: mapped by `map` above; nothing refers to it.
        unsafe { paging::unmap_and_free_ranges([(page, 1)]) }.expect("unmap");
        assert_eq!(paging::translate(addr), None);
        assert_eq!(frame::free_count(), frames + 1, "unmapping frees the frame");
        // SAFETY: as above (nothing is mapped there any more).
        assert_eq!(unsafe { paging::unmap_and_free_ranges([(page, 1)]) }, Err(MapError::NotMapped));
        let user = paging::page_of(0x40_0000);
        assert_eq!(paging::map_new(user, MapFlags::DATA), Err(MapError::NotKernelAddress));
    }
}

ktest! {
    fn heap_stress_many_sizes_free_and_reuse() {
        let mut rng = Lcg(42);
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        for round in 0..4u8 {
            for _ in 0..3000 {
                let size = match rng.next() % 100 {
                    0 => 64 << 10,                         // some large blocks
                    1..=9 => 512 + (rng.next() % 4096) as usize,
                    _ => 1 + (rng.next() % 256) as usize, // mostly small
                };
                let tag = (blocks.len() as u8).wrapping_add(round);
                blocks.push(alloc::vec![tag; size]);
            }
            // Check every block, then free every other one.
            for (i, block) in blocks.iter().enumerate() {
                let tag = block[0];
                assert!(block.iter().all(|&b| b == tag), "block {i} was overwritten");
            }
            let mut keep = false;
            blocks.retain(|_| {
                keep = !keep;
                keep
            });
        }
        let big = alloc::vec![7u8; 3 << 20];
        assert!(big.iter().all(|&b| b == 7));
        drop(big);
        drop(blocks);
        // After everything is freed, the same workload runs again without the
        // heap growing: freed memory is reused.
        let mapped = heap::stats().mapped;
        let again: Vec<Vec<u8>> = (0..3000).map(|i| alloc::vec![i as u8; 1 + i % 256]).collect();
        drop(again);
        assert_eq!(heap::stats().mapped, mapped, "heap grew instead of reusing freed memory");
        assert!(heap::stats().allocated < (1 << 20), "memory leaked: {:?}", heap::stats());
    }
}

ktest! {
    fn kernel_stack_has_unmapped_guard_page() {
        let stack = KernelStack::new(4, 0x5eed).expect("stack");
        assert!(paging::translate(stack.bottom()).is_some());
        assert!(paging::translate(stack.top() - 1u64).is_some());
        assert_eq!(paging::translate(stack.guard()), None);
        let owner = stack::guard_owner(stack.guard().as_u64() + 8).expect("guard page is known");
        assert_eq!((owner.slot, owner.tag), (stack.slot(), 0x5eed));
        assert_eq!(stack::guard_owner(stack.bottom().as_u64()), None);
        stack::purge_retired();
        let frames = frame::free_count();
        let (bottom, guard) = (stack.bottom(), stack.guard());
        drop(stack);
        stack::purge_retired();
        assert_eq!(frame::free_count(), frames + 4, "stack frames are freed");
        assert_eq!(paging::translate(bottom), None);
        assert_eq!(stack::guard_owner(guard.as_u64()).map(|o| o.tag), Some(0));
    }
}

ktest! {
    fn tlb_shootdown_makes_an_unmapped_page_fault_on_every_cpu() {
        use crate::mem::probe;
        use x86_64::VirtAddr;
        use core::sync::atomic::{AtomicU64, Ordering};
        // Bit per CPU: the read succeeded with the right value / faulted.
        static READ_OK: AtomicU64 = AtomicU64::new(0);
        static FAULTED: AtomicU64 = AtomicU64::new(0);
        const MAGIC: u64 = 0x7e57_ab1e_0bad_cafe;
        fn read_here(addr: u64, _: u64) {
            let bit = 1 << crate::percpu::index();
            match probe::read_u64(VirtAddr::new(addr)) {
                Some(MAGIC) => READ_OK.fetch_or(bit, Ordering::SeqCst),
                Some(other) => panic!("read {other:#x} through the mapping"),
                None => FAULTED.fetch_or(bit, Ordering::SeqCst),
            };
        }
        let all = crate::smp::online_mask();
        // Even rounds unmap one page (an `invlpg` per CPU); odd rounds two
        // pages apart (a full flush per CPU).
        for round in 0..20 {
            let pages: Vec<_> = (0..1 + round % 2)
                .map(|_| {
                    let addr = kva::reserve(1).expect("address space");
                    let page = paging::page_of(addr.as_u64());
                    paging::map_new(page, MapFlags::DATA).expect("map");
                    // SAFETY: the page was just mapped writable for this test alone.
                    unsafe { addr.as_mut_ptr::<u64>().write_volatile(MAGIC) };
                    page
                })
                .collect();
            // Every CPU reads them, so every TLB caches the translations.
            for page in &pages {
                READ_OK.store(0, Ordering::SeqCst);
                FAULTED.store(0, Ordering::SeqCst);
                crate::smp::xcall::on_each_cpu(read_here, page.start_address().as_u64(), 0);
                assert_eq!((READ_OK.load(Ordering::SeqCst), FAULTED.load(Ordering::SeqCst)), (all, 0), "round {round}");
            }
            // SAFETY: nothing refers to the pages but this test's reads.
            unsafe { paging::unmap_and_free_ranges(pages.iter().map(|&page| (page, 1))) }.expect("unmap");
            for page in &pages {
                READ_OK.store(0, Ordering::SeqCst);
                FAULTED.store(0, Ordering::SeqCst);
                crate::smp::xcall::on_each_cpu(read_here, page.start_address().as_u64(), 0);
                assert_eq!(
                    (READ_OK.load(Ordering::SeqCst), FAULTED.load(Ordering::SeqCst)),
                    (0, all),
                    "round {round}: a CPU still reached the unmapped page {page:?}"
                );
            }
        }
    }
}

ktest! {
    fn kernel_table_maps_nothing_in_the_lower_half() {
        // The bootloader identity-mapped its hand-over code and GDT there;
        // outside a user address space the lower half must be empty.
        crate::task::set_address_space(None);
        let (pml4, _) = x86_64::registers::control::Cr3::read();
        let table = frame::phys_to_virt(pml4.start_address()).as_ptr::<x86_64::structures::paging::PageTable>();
        // SAFETY: CR3 holds the kernel's PML4, mapped at the physical
        // offset; the test only reads its entries.
        let used = (0..256).filter(|&slot| unsafe { !(&*table)[slot].is_unused() }).count();
        assert_eq!(used, 0, "lower-half PML4 entries in the kernel's table");
    }
}
