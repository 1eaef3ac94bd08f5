#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal of its own, for the terminal tests (test_terminal.sh).

The command is the session leader and the pty its controlling terminal, 120x40,
TERM=xterm-256color.

  pty_run.py block RELEASE_FILE -- CMD...
      Nobody reads the terminal until RELEASE_FILE exists (at most 300 s) or the command ends:
      once the pty's buffer is full, the command's writes to it block. Then prints `unread N`
      (the bytes waiting in the pty when it was released), reads everything, types q, and waits.
  pty_run.py hangup TEXT -- CMD...
      Reads the terminal until the command has written TEXT (at most 120 s; not once the
      terminal is closed, the command gone), then closes it:
      the kernel hangs it up (SIGHUP to the command, EIO for its writes), as when a terminal
      window or an ssh session closes.
  pty_run.py output COLSxROWS -- CMD...
      Runs the command on a terminal of that size and prints what it wrote there (line ends as
      the terminal has them, \r\n), until it closes the terminal (at most 60 s).

The last line printed is `exit N` (128 + the signal when a signal ended it). A command still
running 60 s after that point is killed (`exit timeout`).
"""
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import threading
import time


def spawn(cmd, cols=120, rows=40):
    pid, fd = pty.fork()
    if pid == 0:
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.environ["TERM"] = "xterm-256color"
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    return pid, fd


def unread(fd):
    buf = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return struct.unpack("i", bytes(buf))[0]


def drain(fd, stop, seen=None, text=b""):
    """Reads the terminal until it is closed (EOF or EIO) or stop is set; sets seen once the
    output has shown text."""
    tail = b""
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        if seen is not None and not seen.is_set():
            tail = (tail + data)[-65536:]
            if text in tail:
                seen.set()


def code(status):
    return str(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


def ended(pid):
    """The command's exit code once it has ended (it is then reaped), else None."""
    done, status = os.waitpid(pid, os.WNOHANG)
    return code(status) if done else None


def wait_exit(pid, seconds, rc=None):
    end = time.monotonic() + seconds
    while rc is None and time.monotonic() < end:
        rc = ended(pid)
        if rc is None:
            time.sleep(0.05)
    if rc is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        return "timeout"
    return rc


def main(argv):
    if len(argv) < 4 or argv[2] != "--" or argv[0] not in ("block", "hangup", "output"):
        sys.exit(__doc__)
    mode, arg, cmd = argv[0], argv[1], argv[3:]
    if mode == "output":
        cols, rows = (int(v) for v in arg.split("x"))
        pid, fd = spawn(cmd, cols, rows)
        out = bytearray()
        end = time.monotonic() + 60
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            out += data
        sys.stdout.buffer.write(bytes(out))
        sys.stdout.flush()
        os.close(fd)
        print("exit", wait_exit(pid, 60), flush=True)
        return
    pid, fd = spawn(cmd)
    stop = threading.Event()
    if mode == "block":
        # (a command that ends meanwhile ends the wait: there is nothing left to block)
        end = time.monotonic() + 300
        rc = None
        while not os.path.exists(arg) and time.monotonic() < end and rc is None:
            time.sleep(0.05)
            rc = ended(pid)
        if rc is not None:
            print("ended before the release", flush=True)
        print("unread", unread(fd), flush=True)
        reader = threading.Thread(target=drain, args=(fd, stop), daemon=True)
        reader.start()
        if rc is None:
            os.write(fd, b"q")
        rc = wait_exit(pid, 60, rc)
    else:
        seen = threading.Event()
        reader = threading.Thread(target=drain, args=(fd, stop, seen, arg.encode()), daemon=True)
        reader.start()
        # until the text shows, or the terminal closes (the command ended without showing it)
        end = time.monotonic() + 120
        while not seen.wait(0.1) and reader.is_alive() and time.monotonic() < end:
            pass
        if not seen.is_set():
            print("never shown:", arg, flush=True)
        stop.set()
        reader.join()
        os.close(fd)
        rc = wait_exit(pid, 60)
    stop.set()
    print("exit", rc, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
