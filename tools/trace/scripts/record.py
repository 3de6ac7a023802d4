#!/usr/bin/env python3
"""`make trace`: boot berth under QEMU, run a command under `perf record -s`
at its shell, catch the dump from the trace serial port (COM2) in a host
file, power off, and turn the dump into a report, a Perfetto trace, Chrome
JSON and an SVG with the host `trace` tool.

usage: record.py --kernel K --image IMG --trace-tool T --out DIR
                 [--cpus N] [--kvm] [--timeout SECS] [COMMAND...]
COMMAND defaults to `tracework` (two containers of weights 100 and 200,
forks, execs and pipe round trips). The image is copied, not changed.
"""
import argparse
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--trace-tool", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--kvm", action="store_true")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("command", nargs="*", default=["tracework"])
    a = ap.parse_args()

    os.makedirs(a.out, exist_ok=True)
    dump = os.path.join(a.out, "trace.dump")
    if os.path.exists(dump):
        os.unlink(dump)
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "fs.img")
        shutil.copy(a.image, image)
        qemu = ["qemu-system-x86_64", "-machine", "pc", "-bios", "/usr/share/qemu/qboot.rom",
                "-kernel", a.kernel, "-smp", str(a.cpus), "-m", "512M", "-display", "none",
                "-monitor", "none", "-no-reboot", "-serial", "stdio", "-serial", "file:" + dump,
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-drive", "file=%s,format=raw,if=ide,index=0" % image]
        if a.kvm:
            qemu += ["-enable-kvm", "-cpu", "host,-arch-capabilities"]
        p = subprocess.Popen(qemu, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        out = run_at_shell(p, "perf record -s " + " ".join(a.command), a.timeout)
        p.kill()
        p.wait()
    if b"bytes out of the trace serial port" not in out:
        sys.stderr.write(out.decode(errors="replace")[-3000:])
        sys.exit("record.py: perf record did not finish (console above)")
    tool = a.trace_tool
    outputs = [("report.txt", ["report", dump]),
               ("trace.pftrace", ["perfetto", dump, "-o"]),
               ("trace.json", ["chrome", dump, "-o"]),
               ("trace.svg", ["svg", dump, "-o"])]
    for name, args in outputs:
        path = os.path.join(a.out, name)
        if args[-1] == "-o":
            subprocess.run([tool] + args + [path], check=True)
        else:
            with open(path, "wb") as f:
                subprocess.run([tool] + args, check=True, stdout=f)
    print(open(os.path.join(a.out, "report.txt")).read())
    print("trace: wrote %s: trace.dump, report.txt, trace.pftrace (ui.perfetto.dev), "
          "trace.json (chrome://tracing), trace.svg" % a.out)


def run_at_shell(p, line, timeout):
    """Waits for the prompt, types `line`, waits for the prompt again."""
    os.set_blocking(p.stdout.fileno(), False)
    buf, sent, start = b"", False, time.time()
    while time.time() - start < timeout:
        r, _, _ = select.select([p.stdout], [], [], 0.2)
        if r:
            d = p.stdout.read()
            if not d:
                break
            buf += d
        if buf.rstrip().endswith(b"$"):
            if not sent:
                p.stdin.write(line.encode() + b"\n")
                p.stdin.flush()
                sent, mark = True, len(buf)
            elif len(buf) > mark + len(line) + 4:
                return buf
    return buf


if __name__ == "__main__":
    main()
