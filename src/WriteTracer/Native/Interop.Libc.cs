using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace WriteTracer.Native;

internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        private const string Library = "libc";

        [LibraryImport(Library, EntryPoint = "vsnprintf")]
        internal static partial int VsnPrintf(byte* buffer, nuint size, byte* format, nint args);

        [LibraryImport(Library, EntryPoint = "mount", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Mount(string source, string target, string fileSystemType, ulong flags, nint data);

        [LibraryImport(Library, EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int MkFifo(string path, uint mode);

        /// <summary>A file descriptor naming one process, so signals reach it and never a later process given its pid.</summary>
        [LibraryImport(Library, EntryPoint = "pidfd_open", SetLastError = true)]
        internal static partial SafeFileHandle PidFdOpen(int pid, uint flags);

        [LibraryImport(Library, EntryPoint = "pidfd_send_signal", SetLastError = true)]
        private static partial int PidFdSendSignal(SafeFileHandle pidFd, int signal, void* info, uint flags);

        /// <summary>Sends the signal as kill(2) would (no siginfo of our own): 0, or -1 with errno set.</summary>
        internal static int PidFdSendSignal(SafeFileHandle pidFd, int signal) => PidFdSendSignal(pidFd, signal, null, 0);

        [LibraryImport(Library, EntryPoint = "tcgetpgrp", SetLastError = true)]
        internal static partial int TcGetPgrp(SafeFileHandle terminal);

        [LibraryImport(Library, EntryPoint = "getpgid", SetLastError = true)]
        internal static partial int GetPgid(int pid);

        /// <summary>Linux signal numbers.</summary>
        internal const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGTERM = 15;

        [LibraryImport(Library, EntryPoint = "fchmod", SetLastError = true)]
        internal static partial int FChmod(SafeHandle fd, uint mode);

        /// <summary>The effective uid: who registered what the command line names (Environment says only whether it is 0).</summary>
        [LibraryImport(Library, EntryPoint = "geteuid")]
        internal static partial uint GetEUid();

        [LibraryImport(Library, EntryPoint = "chmod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Chmod(string path, uint mode);

        /// <summary>fchmod, an IOException naming path when it fails: the umask-proof way to give a file its mode.</summary>
        internal static void SetMode(SafeHandle fd, UnixFileMode mode, string path)
        {
            if (FChmod(fd, (uint)mode) != 0)
            {
                throw new IOException($"cannot set the mode of '{path}': {ErrorText(Marshal.GetLastPInvokeError())}");
            }
        }

        /// <summary>chmod, an IOException when it fails.</summary>
        internal static void SetMode(string path, UnixFileMode mode)
        {
            if (Chmod(path, (uint)mode) != 0)
            {
                throw new IOException($"cannot set the mode of '{path}': {ErrorText(Marshal.GetLastPInvokeError())}");
            }
        }

        [LibraryImport(Library, EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int StatX(int directoryFd, string path, int flags, uint mask, out StatX buffer);

        /// <summary>faccessat(2): 0 when the file may be accessed so (with AT_EACCESS, by the effective ids, as execve judges).</summary>
        [LibraryImport(Library, EntryPoint = "faccessat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int FAccessAt(int directoryFd, string path, int mode, int flags);

        internal const int X_OK = 1;
        internal const int AT_EACCESS = 0x200;

        /// <summary>statx of a NUL-terminated path the caller built without allocating.</summary>
        [LibraryImport(Library, EntryPoint = "statx", SetLastError = true)]
        internal static partial int StatX(int directoryFd, byte* path, int flags, uint mask, out StatX buffer);

        /// <summary>readlink(2): the link's target, not NUL-terminated; returns its length or -1.</summary>
        /// <summary>
        /// open(2), for reading /proc files by the thousand: File.OpenHandle adds an fstat and a
        /// flock (and a second at close) to every open, two thirds of the cost of reading a stat file.
        /// </summary>
        [LibraryImport(Library, EntryPoint = "open", SetLastError = true)]
        internal static partial SafeFileHandle Open(byte* path, int flags);

        [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
        internal static partial nint Read(SafeFileHandle fd, byte* buffer, nuint count);

        internal const int O_RDONLY = 0, O_CLOEXEC = 0x80000;

        [LibraryImport(Library, EntryPoint = "readlink", SetLastError = true)]
        internal static partial nint ReadLink(byte* path, byte* buffer, nuint size);

        [LibraryImport(Library, EntryPoint = "mmap", SetLastError = true)]
        internal static partial void* MMap(void* address, nuint length, int protection, int flags, int fd, nint offset);

        [LibraryImport(Library, EntryPoint = "munmap", SetLastError = true)]
        internal static partial int MUnmap(void* address, nuint length);

        internal const int PROT_READ = 0x1, PROT_WRITE = 0x2, MAP_SHARED = 0x1;
        internal static readonly void* MAP_FAILED = (void*)-1;

        [LibraryImport(Library, EntryPoint = "poll", SetLastError = true)]
        private static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

        [StructLayout(LayoutKind.Sequential)]
        private struct PollFd
        {
            public int Fd;
            public short Events;
            public short Returned;
        }

        private const short POLLIN = 0x1, POLLERR = 0x8, POLLHUP = 0x10;

        /// <summary>
        /// Waits up to timeoutMs for fd to become readable: true when it is; false on a
        /// timeout (error 0) or a failure (error is its errno, EINTR included).
        /// </summary>
        internal static bool WaitReadable(int fd, int timeoutMs, out int error)
        {
            var entry = new PollFd { Fd = fd, Events = POLLIN };
            var result = Poll(&entry, 1, timeoutMs);
            error = result < 0 ? Marshal.GetLastPInvokeError() : 0;
            return result > 0;
        }

        /// <summary>True when fd is a pipe or socket whose other end has gone (POLLERR/POLLHUP without blocking).</summary>
        internal static bool IsPeerClosed(int fd)
        {
            var entry = new PollFd { Fd = fd, Events = 0 };
            return Poll(&entry, 1, 0) == 1 && (entry.Returned & (POLLERR | POLLHUP)) != 0;
        }

        /// <summary>
        /// The framework's description of errno (thread-safe, unlike strerror). Kept for
        /// BpfTracer.Load until its fallbacks give way to probing; elsewhere call
        /// <see cref="Marshal.GetPInvokeErrorMessage"/> directly.
        /// </summary>
        internal static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);

        /// <summary>statx: relative to the working directory; do not follow a final symlink; the file type; its permissions; its owner; its inode number.</summary>
        internal const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;
        internal const uint STATX_TYPE = 0x1, STATX_MODE = 0x2, STATX_UID = 0x8, STATX_INO = 0x100;

        /// <summary>st_mode file types.</summary>
        internal const int S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFSOCK = 0xC000;

        internal const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, E2BIG = 7, ENOMEM = 12, EACCES = 13, EEXIST = 17, ENOSPC = 28;
    }
}
