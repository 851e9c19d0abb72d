using System.Runtime.InteropServices;

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

        [LibraryImport(Library, EntryPoint = "geteuid")]
        internal static partial uint GetEUid();

        [LibraryImport(Library, EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int StatX(int directoryFd, string path, int flags, uint mask, out StatXBuffer buffer);

        /// <summary>struct statx (the same layout on every architecture); only what is read here is named.</summary>
        [StructLayout(LayoutKind.Explicit, Size = 256)]
        internal struct StatXBuffer
        {
            [FieldOffset(28)] public ushort Mode;
        }

        internal const int AT_FDCWD = -100;
        internal const uint STATX_TYPE = 1;
        internal const ushort S_IFMT = 0xF000, S_IFREG = 0x8000;

        [LibraryImport(Library, EntryPoint = "strerror")]
        private static partial byte* StrError(int errno);

        internal static string ErrorText(int errno) =>
            Marshal.PtrToStringUTF8((nint)StrError(errno)) ?? $"errno {errno}";

        internal const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, E2BIG = 7, EBADF = 9,
            EAGAIN = 11, ENOMEM = 12, EACCES = 13, EEXIST = 17, EINVAL = 22, ENOSPC = 28, ENOTSUP = 95;
    }
}
