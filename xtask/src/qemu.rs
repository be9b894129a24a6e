//! Running a kernel in QEMU: the command line, the serial console (echoed
//! live, or captured line by line for the test and benchmark runners), a
//! timeout, and what the exit status means.
//!
//! Exit statuses: the kernel ends a run through isa-debug-exit with 0x10
//! (QEMU status 33, success) or 0x11 (35, failure: a panic, fatal fault or
//! failed test); an ACPI power-off exits QEMU with 0, which counts as
//! success only if the kernel said it was powering off (with `-no-reboot`, a
//! triple fault also exits with 0). Before it powers off after init
//! exited, the kernel reports init's end in one line ([`InitExit`]), which
//! becomes the status of `cargo xtask run`.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::symbolize::Symbolizer;

/// QEMU status for the kernel's isa-debug-exit success code.
const EXIT_SUCCESS: i32 = 33;
/// QEMU status for the kernel's isa-debug-exit failure code.
const EXIT_FAILURE: i32 = 35;
/// The line the kernel prints before an ACPI power-off.
const POWER_OFF_LINE: &str = "hardtack: power off";
/// What the kernel prints, followed by the status, when init exits.
const INIT_EXITED: &str = "hardtack: init exited with status ";
/// What the kernel prints, followed by the signal number, when a signal
/// kills init.
const INIT_KILLED: &str = "hardtack: init killed by signal ";

/// How init ended, as the kernel reported it on the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitExit {
    /// `exit(N)`: the status (0..=255).
    Exited(u8),
    /// Killed by this signal.
    Killed(u8),
}

impl InitExit {
    /// The status a shell would give it: N, or 128 + the signal.
    pub fn status(self) -> u8 {
        match self {
            InitExit::Exited(status) => status,
            InitExit::Killed(signal) => 128u8.saturating_add(signal),
        }
    }

    /// The last report in `output`. A report may follow other text on its
    /// line: init's output need not end with a newline.
    fn find(output: &str) -> Option<InitExit> {
        let report = |prefix: &str, make: fn(u8) -> InitExit| {
            let at = output.rfind(prefix)?;
            let rest = &output[at + prefix.len()..];
            let digits = &rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())];
            Some((at, make(digits.parse().ok()?)))
        };
        let exited = report(INIT_EXITED, InitExit::Exited);
        let killed = report(INIT_KILLED, InitExit::Killed);
        exited.into_iter().chain(killed).max_by_key(|(at, _)| *at).map(|(_, exit)| exit)
    }
}

/// UEFI firmware for QEMU.
#[derive(Clone, Debug)]
pub enum Ovmf {
    /// Separate code and variable-store flash images; each boot writes its
    /// variables to a private temporary overlay of the template, so runs
    /// cannot affect each other.
    Pflash {
        /// Read-only firmware code.
        code: PathBuf,
        /// Variable-store template.
        vars_template: PathBuf,
    },
    /// One combined image, loaded with `-bios`.
    Combined(PathBuf),
}

/// What a machine boots.
#[derive(Clone, Debug)]
pub enum Boot {
    /// A disk image (Hardtack's BIOS or UEFI image), through the firmware.
    Disk(PathBuf),
    /// A Linux kernel that QEMU loads itself (`-kernel`, `-initrd`, `-append`).
    Kernel {
        /// The `vmlinuz` (bzImage).
        kernel: PathBuf,
        /// Its initramfs.
        initrd: PathBuf,
        /// Its command line.
        append: String,
    },
}

/// One QEMU machine to boot.
pub struct Machine {
    /// `qemu-system-x86_64`.
    pub qemu: PathBuf,
    /// OVMF for UEFI boots; `None` boots with SeaBIOS.
    pub firmware: Option<Ovmf>,
    /// What to boot.
    pub boot: Boot,
    /// CPUs.
    pub smp: u32,
    /// Memory (`512M`).
    pub mem: String,
    /// Use KVM instead of TCG.
    pub kvm: bool,
    /// Under TCG, count instructions for guest time (`-icount shift=N`,
    /// without aligning to or sleeping for host time): each instruction
    /// takes 2^N ns, so guest time depends only on what the guest executes.
    pub icount: Option<u32>,
    /// Wait for GDB on :1234.
    pub gdb: bool,
    /// Kernel command line (fw_cfg `opt/hardtack/cmdline`).
    pub cmdline: String,
    /// Extra QEMU arguments.
    pub extra: Vec<String>,
}

impl Machine {
    /// The `-cpu` model: the host's under KVM, QEMU's `max` under TCG.
    pub fn cpu(&self) -> &'static str {
        if self.kvm { "host" } else { "max" }
    }

    /// The QEMU command; `interactive` multiplexes the QEMU monitor onto the
    /// console (Ctrl-A X quits, Ctrl-A C switches to the monitor). The
    /// writable drives (disk image, UEFI variables) are opened with
    /// `snapshot=on`: the guest's writes go to a temporary overlay, so the
    /// files are only read and several machines can boot them at once.
    pub fn command(&self, interactive: bool) -> Command {
        let mut qemu = Command::new(&self.qemu);
        qemu.args(["-machine", "q35", "-m", &self.mem, "-smp", &self.smp.to_string()]);
        qemu.args(["-display", "none", "-no-reboot"]);
        qemu.args(["-serial", if interactive { "mon:stdio" } else { "stdio" }]);
        qemu.args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
        qemu.args(["-accel", if self.kvm { "kvm" } else { "tcg" }, "-cpu", self.cpu()]);
        if let Some(shift) = self.icount {
            qemu.args(["-icount", &format!("shift={shift},align=off,sleep=off")]);
        }
        if !self.cmdline.trim().is_empty() {
            qemu.arg("-fw_cfg").arg(format!("name=opt/hardtack/cmdline,string={}", self.cmdline.replace(',', ",,")));
        }
        match &self.firmware {
            None => {}
            Some(Ovmf::Combined(image)) => {
                qemu.arg("-bios").arg(image);
            }
            Some(Ovmf::Pflash { code, vars_template }) => {
                qemu.arg("-drive").arg(format!("if=pflash,format=raw,readonly=on,file={}", code.display()));
                qemu.arg("-drive").arg(format!("if=pflash,format=raw,snapshot=on,file={}", vars_template.display()));
            }
        }
        match &self.boot {
            Boot::Disk(image) => {
                qemu.arg("-drive").arg(format!("format=raw,snapshot=on,file={}", image.display()));
            }
            Boot::Kernel { kernel, initrd, append } => {
                qemu.arg("-kernel").arg(kernel).arg("-initrd").arg(initrd).args(["-append", append]);
            }
        }
        if self.gdb {
            qemu.args(["-s", "-S"]);
        }
        qemu.args(&self.extra);
        qemu
    }
}

/// How QEMU ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exited with this status.
    Status(i32),
    /// Killed by a signal.
    Signal,
    /// Ran past the timeout and was killed.
    Timeout,
    /// Printed nothing for longer than allowed and was killed.
    Silent,
}

/// The result of one boot.
pub struct Outcome {
    /// How QEMU ended.
    pub exit: Exit,
    /// Everything the serial console printed.
    pub output: String,
}

impl Outcome {
    /// Whether the kernel ended the run successfully.
    pub fn success(&self) -> bool {
        match self.exit {
            Exit::Status(EXIT_SUCCESS) => true,
            Exit::Status(0) => self.output.contains(POWER_OFF_LINE),
            _ => false,
        }
    }

    /// How init ended, if the kernel reported it.
    pub fn init_exit(&self) -> Option<InitExit> {
        InitExit::find(&self.output)
    }

    /// The status for `cargo xtask run`: init's ([`InitExit::status`]) when
    /// the kernel reported it and then powered off cleanly; otherwise 0 for a
    /// clean end ([`Outcome::success`]) unless `init_expected`, and 1 for
    /// anything else.
    pub fn status(&self, init_expected: bool) -> u8 {
        match (self.success(), self.init_exit()) {
            (true, Some(init)) => init.status(),
            (true, None) if !init_expected => 0,
            _ => 1,
        }
    }

    /// One line saying how the run ended.
    pub fn describe(&self) -> String {
        let init = match self.init_exit() {
            Some(InitExit::Exited(status)) => format!("init exited with status {status}; "),
            Some(InitExit::Killed(signal)) => format!("init was killed by signal {signal}; "),
            None => String::new(),
        };
        init + &self.describe_exit()
    }

    fn describe_exit(&self) -> String {
        match self.exit {
            Exit::Status(EXIT_SUCCESS) => "kernel exited with success".into(),
            Exit::Status(EXIT_FAILURE) => "kernel reported a failure (panic, fatal fault or failed test)".into(),
            Exit::Status(0) if self.success() => "kernel powered off".into(),
            Exit::Status(0) => {
                "QEMU stopped without a power-off from the kernel (triple fault / reset, or quit from the monitor)"
                    .into()
            }
            Exit::Status(code) => format!("QEMU exited with status {code}"),
            Exit::Signal => "QEMU was killed by a signal".into(),
            Exit::Timeout => "timed out; QEMU was killed".into(),
            Exit::Silent => "the console fell silent; QEMU was killed".into(),
        }
    }
}

/// Boots `machine` with the console on this terminal (stdin passed through,
/// output echoed live, backtrace lines symbolized as they appear).
pub fn run_interactive(machine: &Machine, timeout: Option<Duration>, symbols: &Symbolizer) -> Result<Outcome> {
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprintln!("xtask: serial console on this terminal; Ctrl-A X quits QEMU");
    }
    let mut command = machine.command(interactive);
    command.stdin(Stdio::inherit());
    let mut lines = Lines::default();
    run(command, timeout, None, &mut |chunk, _| {
        let mut out = std::io::stdout().lock();
        out.write_all(chunk)?;
        // Annotate each completed backtrace line right after it.
        let mut notes = Vec::new();
        lines.feed(chunk, |line| notes.extend(symbols.annotate(line)));
        for note in notes {
            write!(out, "{note}\r\n")?;
        }
        Ok(out.flush()?)
    })
}

/// Boots `machine` with no input and the console captured.
pub fn run_captured(machine: &Machine, timeout: Duration) -> Result<Outcome> {
    run_lines(machine, timeout, &mut |_, _| {})
}

/// Boots `machine` with no input and the console captured, and hands each
/// console line (without `\r\n`) to `on_line` with the host time it arrived.
pub fn run_lines(machine: &Machine, timeout: Duration, on_line: &mut dyn FnMut(&str, Instant)) -> Result<Outcome> {
    watched(machine, timeout, None, on_line)
}

/// [`run_lines`], and QEMU is also killed ([`Exit::Silent`]) when the
/// console prints nothing for `silence`.
pub fn run_watched(
    machine: &Machine,
    timeout: Duration,
    silence: Duration,
    on_line: &mut dyn FnMut(&str, Instant),
) -> Result<Outcome> {
    watched(machine, timeout, Some(silence), on_line)
}

fn watched(
    machine: &Machine,
    timeout: Duration,
    silence: Option<Duration>,
    on_line: &mut dyn FnMut(&str, Instant),
) -> Result<Outcome> {
    let mut command = machine.command(false);
    command.stdin(Stdio::null());
    let mut lines = Lines::default();
    let outcome = run(command, Some(timeout), silence, &mut |chunk, at| {
        lines.feed(chunk, |line| on_line(line, at));
        Ok(())
    })?;
    lines.finish(|line| on_line(line, Instant::now()));
    Ok(outcome)
}

/// Splits the console's byte stream into lines.
#[derive(Default)]
struct Lines {
    /// The unfinished line.
    pending: Vec<u8>,
}

impl Lines {
    /// Appends `chunk` and calls `each` with every line it completes,
    /// without its `\n` or a `\r` before it.
    fn feed(&mut self, chunk: &[u8], mut each: impl FnMut(&str)) {
        self.pending.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(end) = self.pending[start..].iter().position(|&b| b == b'\n') {
            each(String::from_utf8_lossy(&self.pending[start..start + end]).trim_end_matches('\r'));
            start += end + 1;
        }
        self.pending.drain(..start);
    }

    /// Calls `each` with the unfinished line, if there is one.
    fn finish(self, each: impl FnOnce(&str)) {
        if !self.pending.is_empty() {
            each(String::from_utf8_lossy(&self.pending).trim_end_matches('\r'));
        }
    }
}

/// Runs QEMU until it exits, `timeout` passes or the console is silent for
/// `silence`, handing each chunk of its console output to `on_chunk` with
/// the host time it was read.
fn run(
    mut command: Command,
    timeout: Option<Duration>,
    silence: Option<Duration>,
    on_chunk: &mut dyn FnMut(&[u8], Instant) -> Result<()>,
) -> Result<Outcome> {
    command.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = command.spawn().with_context(|| format!("could not start {:?}", command.get_program()))?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let (chunks, received) = mpsc::channel::<(Vec<u8>, Instant)>();
    let reader = std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buffer) {
            if chunks.send((buffer[..n].to_vec(), Instant::now())).is_err() {
                break;
            }
        }
    });
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut output = Vec::new();
    let mut heard = Instant::now();
    let exit = loop {
        while let Ok((chunk, at)) = received.recv_timeout(Duration::from_millis(20)) {
            on_chunk(&chunk, at)?;
            output.extend_from_slice(&chunk);
            heard = at;
        }
        if let Some(status) = child.try_wait()? {
            break match status.code() {
                Some(code) => Exit::Status(code),
                None => Exit::Signal,
            };
        }
        let stop = match (deadline, silence) {
            (Some(d), _) if Instant::now() > d => Some(Exit::Timeout),
            (_, Some(s)) if heard.elapsed() > s => Some(Exit::Silent),
            _ => None,
        };
        if let Some(exit) = stop {
            let _ = child.kill();
            let _ = child.wait();
            break exit;
        }
    };
    let _ = reader.join();
    while let Ok((chunk, at)) = received.try_recv() {
        on_chunk(&chunk, at)?;
        output.extend_from_slice(&chunk);
    }
    Ok(Outcome { exit, output: String::from_utf8_lossy(&output).replace('\r', "") })
}

/// Checks a memory size in QEMU's syntax: digits with an optional K/M/G/T suffix.
pub fn parse_mem_size(text: &str) -> Result<String, String> {
    let digits = text.trim_end_matches(['K', 'M', 'G', 'T', 'k', 'm', 'g', 't']);
    match digits.parse::<u64>() {
        Ok(n) if n > 0 && text.len() - digits.len() <= 1 => Ok(text.to_uppercase()),
        _ => Err(format!("{text:?} is not a memory size like 512M or 2G")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(exit: Exit, output: &str) -> Outcome {
        Outcome { exit, output: output.into() }
    }

    #[test]
    fn exit_statuses_mean_what_the_kernel_said() {
        assert!(outcome(Exit::Status(33), "").success());
        assert!(!outcome(Exit::Status(35), "").success());
        assert!(outcome(Exit::Status(0), "...\nhardtack: power off\n").success());
        assert!(!outcome(Exit::Status(0), "boot\n").success(), "reset without power-off is a failure");
        assert!(!outcome(Exit::Timeout, "hardtack: power off").success());
    }

    #[test]
    fn init_status_becomes_the_run_status() {
        let off = "\nhardtack: power off\n";
        let exited = outcome(Exit::Status(0), &format!("hello\nhardtack: init exited with status 3\n{off}"));
        assert_eq!(exited.init_exit(), Some(InitExit::Exited(3)));
        assert_eq!((exited.status(true), exited.status(false)), (3, 3));
        assert!(exited.describe().starts_with("init exited with status 3; kernel powered off"));
        let killed = outcome(Exit::Status(0), &format!("no newline:hardtack: init killed by signal 9{off}"));
        assert_eq!((killed.init_exit(), killed.status(true)), (Some(InitExit::Killed(9)), 137));
        let quiet = outcome(Exit::Status(0), off);
        assert_eq!((quiet.init_exit(), quiet.status(false), quiet.status(true)), (None, 0, 1));
        let panicked = outcome(Exit::Status(35), "hardtack: init exited with status 0\npanic");
        assert_eq!(panicked.status(true), 1, "a kernel failure after init exited is a failure");
        let garbled = outcome(Exit::Status(0), &format!("hardtack: init exited with status 300{off}"));
        assert_eq!(garbled.init_exit(), None);
        let last = outcome(
            Exit::Status(0),
            "hardtack: init exited with status 1 (a program's echo)\nhardtack: init killed by signal 2\n",
        );
        assert_eq!(last.init_exit(), Some(InitExit::Killed(2)), "the last report counts");
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_mem_size("512M"), Ok("512M".into()));
        assert_eq!(parse_mem_size("2g"), Ok("2G".into()));
        assert_eq!(parse_mem_size("1024"), Ok("1024".into()));
        assert!(parse_mem_size("M").is_err());
        assert!(parse_mem_size("12MB").is_err());
        assert!(parse_mem_size("0").is_err());
    }

    #[test]
    fn command_line_goes_through_fw_cfg_with_commas_escaped() {
        let machine = Machine {
            qemu: "qemu".into(),
            firmware: None,
            boot: Boot::Disk("disk.img".into()),
            smp: 4,
            mem: "1G".into(),
            kvm: false,
            icount: None,
            gdb: true,
            cmdline: "a=1,2".into(),
            extra: vec!["-S".into()],
        };
        let args: Vec<String> = machine.command(false).get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        let joined = args.join(" ");
        assert!(joined.contains("-smp 4") && joined.contains("-m 1G") && joined.contains("-accel tcg"));
        assert!(joined.contains("name=opt/hardtack/cmdline,string=a=1,,2"));
        assert!(joined.contains("-s -S") && joined.ends_with("-S"));
        let mut quiet = machine;
        quiet.cmdline = " ".into();
        assert!(!quiet.command(false).get_args().any(|a| a == "-fw_cfg"), "no empty fw_cfg string");
    }

    #[test]
    fn a_kernel_boots_with_initrd_append_and_icount() {
        let machine = Machine {
            qemu: "qemu".into(),
            firmware: None,
            boot: Boot::Kernel {
                kernel: "vmlinuz".into(),
                initrd: "i.cpio".into(),
                append: "console=ttyS0 quiet".into(),
            },
            smp: 1,
            mem: "512M".into(),
            kvm: false,
            icount: Some(0),
            gdb: false,
            cmdline: String::new(),
            extra: Vec::new(),
        };
        let args: Vec<String> = machine.command(false).get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        let joined = args.join(" ");
        assert!(joined.contains("-cpu max -icount shift=0,align=off,sleep=off"), "{joined}");
        assert!(joined.contains("-kernel vmlinuz -initrd i.cpio -append"), "{joined}");
        assert!(args.contains(&"console=ttyS0 quiet".to_string()), "the command line is one argument");
        assert!(!joined.contains("-drive"), "no disk");
    }

    #[test]
    fn console_lines_are_split_across_chunks() {
        let mut lines = Lines::default();
        let mut seen = Vec::new();
        for chunk in [&b"bench: a 1"[..], b".5 ns 3\r\nbench-start: b\n\nbe", b"nch: done"] {
            lines.feed(chunk, |line| seen.push(line.to_string()));
        }
        lines.finish(|line| seen.push(line.to_string()));
        assert_eq!(seen, ["bench: a 1.5 ns 3", "bench-start: b", "", "bench: done"]);
    }
}
