//! `/proc`: process and system information computed when read, in the
//! Linux formats BusyBox's `ps`, `top`, `free` and `uptime` parse, and
//! Hardtack's own figures under `/proc/hardtack`.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use fs::{SynthKind, Synthetic};

use crate::process::{self, Life, Process};

/// The provider mounted on `/proc`.
pub struct ProcFs;

/// Files in each process directory.
const PROCESS_FILES: [&[u8]; 4] = [b"stat", b"cmdline", b"status", b"comm"];
/// Files in `/proc` itself.
const SYSTEM_FILES: [&[u8]; 5] = [b"uptime", b"meminfo", b"mounts", b"loadavg", b"stat"];
/// Hardtack's own directory in `/proc`.
const HARDTACK_DIR: &[u8] = b"hardtack";
/// Files in `/proc/hardtack`.
const HARDTACK_FILES: [&[u8]; 3] = [b"gcpauses", b"heaps", b"alloc"];

/// The name of `path` inside `/proc/hardtack`, if it is there.
fn hardtack_file(path: &[u8]) -> Option<&[u8]> {
    path.strip_prefix(HARDTACK_DIR)?.strip_prefix(b"/")
}

fn parse_pid(name: &[u8]) -> Option<i32> {
    core::str::from_utf8(name).ok()?.parse().ok()
}

/// Splits `path` into a process and the rest, for "<pid>" and "<pid>/file".
fn process_path(path: &[u8]) -> Option<(Arc<Process>, &[u8])> {
    let (pid, rest) = match path.iter().position(|&b| b == b'/') {
        Some(slash) => (&path[..slash], &path[slash + 1..]),
        None => (path, &b""[..]),
    };
    Some((process::lookup(parse_pid(pid)?)?, rest))
}

impl Synthetic for ProcFs {
    fn kind(&self, path: &[u8]) -> Option<SynthKind> {
        match path {
            b"" | HARDTACK_DIR => Some(SynthKind::Dir),
            p if hardtack_file(p).is_some_and(|f| HARDTACK_FILES.contains(&f)) => Some(SynthKind::File),
            b"self" => Some(SynthKind::Symlink(format!("{}", process::current()?.pid).into_bytes())),
            p if SYSTEM_FILES.contains(&p) => Some(SynthKind::File),
            p => match process_path(p)? {
                (_, b"") => Some(SynthKind::Dir),
                (_, file) if PROCESS_FILES.contains(&file) => Some(SynthKind::File),
                _ => None,
            },
        }
    }

    fn list(&self, path: &[u8]) -> Option<Vec<(Vec<u8>, SynthKind)>> {
        if path.is_empty() {
            let mut entries: Vec<(Vec<u8>, SynthKind)> =
                SYSTEM_FILES.iter().map(|f| (f.to_vec(), SynthKind::File)).collect();
            entries.push((HARDTACK_DIR.to_vec(), SynthKind::Dir));
            if let Some(kind) = self.kind(b"self") {
                entries.push((b"self".to_vec(), kind));
            }
            entries.extend(process::all().iter().map(|p| (format!("{}", p.pid).into_bytes(), SynthKind::Dir)));
            return Some(entries);
        }
        if path == HARDTACK_DIR {
            return Some(HARDTACK_FILES.iter().map(|f| (f.to_vec(), SynthKind::File)).collect());
        }
        match process_path(path)? {
            (_, b"") => Some(PROCESS_FILES.iter().map(|f| (f.to_vec(), SynthKind::File)).collect()),
            _ => None,
        }
    }

    fn read(&self, path: &[u8]) -> Option<Vec<u8>> {
        let text = match path {
            b"uptime" => uptime(),
            b"meminfo" => meminfo(),
            b"mounts" => String::from("rootfs / tmpfs rw 0 0\nproc /proc proc rw 0 0\n"),
            b"loadavg" => format!("0.00 0.00 0.00 1/{} {}\n", process::all().len(), process::all().len()),
            b"stat" => system_stat(),
            b"hardtack/gcpauses" => gc_pauses(),
            b"hardtack/heaps" => heaps(),
            b"hardtack/alloc" => alloc_census(),
            p => {
                let (process, file) = process_path(p)?;
                match file {
                    b"stat" => stat(&process),
                    b"cmdline" => return Some(cmdline(&process)),
                    b"status" => status(&process),
                    b"comm" => format!("{}\n", comm(&process)),
                    _ => return None,
                }
            }
        };
        Some(text.into_bytes())
    }

    /// A process's directory and files belong to its effective uid and
    /// gid (as Linux's for a dumpable process); the rest to root.
    fn owner(&self, path: &[u8]) -> (u32, u32) {
        match process_path(path) {
            Some((process, _)) => {
                let creds = process.creds();
                (creds.uid.effective, creds.gid.effective)
            }
            None => (0, 0),
        }
    }
}

/// The GC pause log (`gc.log=<capacity>` turns it on): a header line
/// `# pauses <kept> dropped <n>`, then `<heap> <cause> <start_ns>
/// <duration_ns> <work>` per pause, oldest first.
fn gc_pauses() -> String {
    let (pauses, dropped) = runtime::heap::pause_log::snapshot();
    let mut text = format!("# pauses {} dropped {dropped}\n", pauses.len());
    for logged in &pauses {
        let p = &logged.pause;
        text += &format!("{} {} {} {} {}\n", logged.heap, p.cause.name(), p.start_ns, p.duration_ns, p.work);
    }
    text
}

/// Every GC heap: a header naming the layout and the columns, then one
/// line per heap (live objects and bytes, cycles, pauses, lock waits).
fn heaps() -> String {
    let mut text = format!(
        "# layout {}\n# id name policy objects bytes cycles pauses pause_total_ns pause_max_ns lock_waits lock_wait_ns\n",
        runtime::heap::layout::active().name()
    );
    for heap in runtime::heap::Heap::all() {
        let s = heap.stats();
        text += &format!(
            "{} {} {} {} {} {} {} {} {} {} {}\n",
            heap.id(),
            s.name,
            s.policy.name(),
            s.objects_live,
            s.bytes_live(),
            s.cycles,
            s.pauses.count(),
            s.pauses.total_ns(),
            s.pauses.max_ns(),
            s.lock_contended,
            s.lock_wait_ns
        );
    }
    text
}

/// The census of the kernel heap since boot (`runtime::heap::census`):
/// `<key> <value>` lines for the managed and the plain side (bytes and
/// blocks allocated, freed, live) and the managed share of allocated
/// bytes. Page frames (user memory, page tables, stacks) are not in it.
fn alloc_census() -> String {
    use runtime::heap::census;
    let now = census::snapshot();
    let mut text = String::new();
    for (side, traffic) in [("managed", now.managed), ("plain", now.plain)] {
        let (live_bytes, live_blocks) = census::live(traffic);
        text += &format!(
            "{side}_bytes_allocated {}\n{side}_bytes_freed {}\n{side}_bytes_live {live_bytes}\n\
             {side}_blocks_allocated {}\n{side}_blocks_freed {}\n{side}_blocks_live {live_blocks}\n",
            traffic.allocated, traffic.freed, traffic.allocs, traffic.frees
        );
    }
    text + &format!("managed_share_permille {}\n", now.managed_permille())
}

fn seconds_and_hundredths(ns: u64) -> String {
    format!("{}.{:02}", ns / 1_000_000_000, ns / 10_000_000 % 100)
}

fn uptime() -> String {
    let now = shim::time::now_ns();
    let idle: u64 = runtime::sched::cpus().iter().map(|c| c.idle_ns).sum();
    format!("{} {}\n", seconds_and_hundredths(now), seconds_and_hundredths(idle))
}

fn meminfo() -> String {
    let free_kib = shim::mem::frame::free_count() as u64 * 4;
    let total_kib = shim::mem::frame::total_count() as u64 * 4;
    format!(
        "MemTotal:       {total_kib:8} kB\nMemFree:        {free_kib:8} kB\nMemAvailable:   {free_kib:8} kB\n\
         Buffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n"
    )
}

fn system_stat() -> String {
    let ticks = |ns: u64| ns / 10_000_000;
    let cpus = runtime::sched::cpus();
    let line = |name: String, busy: u64, idle: u64| format!("{name} {} 0 0 {} 0 0 0 0 0 0\n", ticks(busy), ticks(idle));
    let now = shim::time::now_ns();
    let busy = |idle: u64| now.saturating_sub(idle);
    let idle: u64 = cpus.iter().map(|c| c.idle_ns).sum();
    let mut text = line(String::from("cpu "), busy(idle / cpus.len().max(1) as u64) * cpus.len() as u64, idle);
    for (index, cpu) in cpus.iter().enumerate() {
        text += &line(format!("cpu{index}"), busy(cpu.idle_ns), cpu.idle_ns);
    }
    text + &format!("btime {}\nprocesses {}\n", shim::rtc::realtime_ns() / 1_000_000_000, process::all().len())
}

/// The command name: the program's base name, at most 15 bytes.
fn comm(process: &Process) -> String {
    let cmdline = process.cmdline();
    let argv0 = cmdline.split(|&b| b == 0).next().unwrap_or(b"");
    let base = argv0.rsplit(|&b| b == b'/').next().unwrap_or(b"");
    String::from_utf8_lossy(&base[..base.len().min(15)]).into_owned()
}

fn cmdline(process: &Process) -> Vec<u8> {
    let mut line = process.cmdline();
    if !line.is_empty() {
        line.push(0);
    }
    line
}

fn state(process: &Process) -> char {
    match process.life() {
        Life::Alive => 'S',
        Life::Exiting(_) => 'R',
        Life::Zombie(_) => 'Z',
    }
}

fn memory_kib(process: &Process) -> (u64, u64) {
    match process.vm.try_lock().as_mut().and_then(|vm| vm.as_mut().map(|vm| vm.usage())) {
        Some(usage) => (usage.mapped_bytes / 1024, usage.resident_bytes / 1024),
        None => (0, 0),
    }
}

/// `/proc/<pid>/stat`: the 52 fields of Linux's format (times in ticks,
/// sizes in bytes and pages); ones Hardtack does not track are 0.
fn stat(process: &Process) -> String {
    let (vsize_kib, rss_kib) = memory_kib(process);
    let mut fields = vec![0u64; 52];
    fields[21] = 0; // starttime
    fields[22] = vsize_kib * 1024;
    fields[23] = rss_kib / 4;
    fields[19] = process.thread_count() as u64; // num_threads
    let tail: Vec<String> = fields[9..].iter().map(|v| format!("{v}")).collect();
    format!(
        "{} ({}) {} {} {} {} 0 -1 0 {}\n",
        process.pid,
        comm(process),
        state(process),
        process.ppid(),
        process.pgid(),
        process.sid(),
        tail.join(" ")
    )
}

fn status(process: &Process) -> String {
    let (vsize_kib, rss_kib) = memory_kib(process);
    let creds = process.creds();
    let ids = |ids: crate::creds::Ids| format!("{}\t{}\t{}\t{}", ids.real, ids.effective, ids.saved, ids.fs);
    let groups: Vec<String> = creds.groups.iter().map(|gid| format!("{gid}")).collect();
    format!(
        "Name:\t{}\nState:\t{}\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t{}\nUid:\t{}\nGid:\t{}\nGroups:\t{}\n\
         VmSize:\t{vsize_kib:8} kB\nVmRSS:\t{rss_kib:8} kB\nThreads:\t{}\n",
        comm(process),
        state(process),
        process.ppid(),
        ids(creds.uid),
        ids(creds.gid),
        groups.join(" "),
        process.thread_count(),
        pid = process.pid,
    )
}
