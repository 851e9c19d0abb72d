using System.Runtime.InteropServices;

namespace WriteTracer.Native;

internal static partial class Interop
{
    /// <summary>
    /// libbpf 1.1 (libbpf.so.1). Functions returning int give 0 or -errno; functions
    /// returning pointers give NULL and set errno.
    /// </summary>
    internal static unsafe partial class Libbpf
    {
        private const string Library = "libbpf.so.1";

        [LibraryImport(Library, EntryPoint = "bpf_object__open_mem", SetLastError = true)]
        internal static partial SafeBpfObjectHandle ObjectOpenMem(byte* objBuffer, nuint objBufferSize, void* options);

        [LibraryImport(Library, EntryPoint = "bpf_object__load")]
        internal static partial int ObjectLoad(SafeBpfObjectHandle obj);

        [LibraryImport(Library, EntryPoint = "bpf_object__close")]
        internal static partial void ObjectClose(nint obj);

        [LibraryImport(Library, EntryPoint = "bpf_object__find_map_by_name", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial nint ObjectFindMapByName(SafeBpfObjectHandle obj, string name);

        [LibraryImport(Library, EntryPoint = "bpf_object__next_map")]
        internal static partial nint ObjectNextMap(SafeBpfObjectHandle obj, nint previousMap);

        [LibraryImport(Library, EntryPoint = "bpf_object__find_program_by_name", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial nint ObjectFindProgramByName(SafeBpfObjectHandle obj, string name);

        [LibraryImport(Library, EntryPoint = "bpf_map__name")]
        internal static partial byte* MapName(nint map);

        [LibraryImport(Library, EntryPoint = "bpf_map__fd")]
        internal static partial int MapFd(nint map);

        [LibraryImport(Library, EntryPoint = "bpf_map__set_max_entries")]
        internal static partial int MapSetMaxEntries(nint map, uint maxEntries);

        [LibraryImport(Library, EntryPoint = "bpf_map__set_initial_value")]
        internal static partial int MapSetInitialValue(nint map, void* data, nuint size);

        [LibraryImport(Library, EntryPoint = "bpf_program__attach", SetLastError = true)]
        internal static partial SafeBpfLinkHandle ProgramAttach(nint program);

        [LibraryImport(Library, EntryPoint = "bpf_program__set_autoload")]
        internal static partial int ProgramSetAutoload(nint program, [MarshalAs(UnmanagedType.U1)] bool autoload);

        [LibraryImport(Library, EntryPoint = "bpf_link__destroy")]
        internal static partial int LinkDestroy(nint link);

        [LibraryImport(Library, EntryPoint = "bpf_map__max_entries")]
        internal static partial uint MapMaxEntries(nint map);

        [LibraryImport(Library, EntryPoint = "bpf_map_update_elem")]
        internal static partial int MapUpdateElem(int fd, void* key, void* value, ulong flags);

        [LibraryImport(Library, EntryPoint = "bpf_map_lookup_elem")]
        internal static partial int MapLookupElem(int fd, void* key, void* value);

        [LibraryImport(Library, EntryPoint = "bpf_map_delete_elem")]
        internal static partial int MapDeleteElem(int fd, void* key);

        [LibraryImport(Library, EntryPoint = "bpf_map_get_next_key")]
        internal static partial int MapGetNextKey(int fd, void* key, void* nextKey);

        [LibraryImport(Library, EntryPoint = "libbpf_set_print")]
        internal static partial nint SetPrint(delegate* unmanaged<int, byte*, nint, int> print);

        [LibraryImport(Library, EntryPoint = "libbpf_num_possible_cpus")]
        internal static partial int NumPossibleCpus();

        /// <summary>bpf_map_update_elem flags.</summary>
        internal const ulong BPF_ANY = 0, BPF_NOEXIST = 1;

        /// <summary>libbpf_print_level.</summary>
        internal const int LIBBPF_WARN = 0, LIBBPF_INFO = 1, LIBBPF_DEBUG = 2;
    }
}
