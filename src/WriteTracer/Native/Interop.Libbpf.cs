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

        /// <summary>
        /// Up to *count entries from the position inBatch names (null: the start), and the position
        /// after them in outBatch; *count becomes the entries read. -ENOENT once the end is reached
        /// (with the last entries).
        /// </summary>
        [LibraryImport(Library, EntryPoint = "bpf_map_lookup_batch")]
        internal static partial int MapLookupBatch(int fd, void* inBatch, void* outBatch, void* keys, void* values, uint* count, void* options);

        [LibraryImport(Library, EntryPoint = "btf__load_vmlinux_btf", SetLastError = true)]
        internal static partial SafeBtfHandle BtfLoadVmlinux();

        [LibraryImport(Library, EntryPoint = "btf__free")]
        internal static partial void BtfFree(nint btf);

        /// <summary>The BTF type id of the named type of this kind, or -ENOENT.</summary>
        [LibraryImport(Library, EntryPoint = "btf__find_by_name_kind", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int BtfFindByNameKind(SafeBtfHandle btf, string name, uint kind);

        /// <summary>Loads one program from raw instructions: a new fd, or -errno.</summary>
        [LibraryImport(Library, EntryPoint = "bpf_prog_load", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int ProgramLoad(uint type, string? name, string license, ulong* instructions, nuint count,
            BpfProgramLoadOptions* options);

        /// <summary>1 when programs of this type may call the helper, 0 when not, or -errno.</summary>
        [LibraryImport(Library, EntryPoint = "libbpf_probe_bpf_helper")]
        internal static partial int ProbeHelper(uint programType, uint helper, void* options);

        [LibraryImport(Library, EntryPoint = "libbpf_set_print")]
        internal static partial nint SetPrint(delegate* unmanaged<int, byte*, nint, int> print);

        [LibraryImport(Library, EntryPoint = "libbpf_num_possible_cpus")]
        internal static partial int NumPossibleCpus();

        /// <summary>bpf_map_update_elem flags.</summary>
        internal const ulong BPF_ANY = 0, BPF_NOEXIST = 1;

        /// <summary>enum bpf_prog_type, enum bpf_attach_type, BTF kinds, enum bpf_func_id.</summary>
        internal const uint BPF_PROG_TYPE_TRACEPOINT = 5, BPF_PROG_TYPE_TRACING = 26, BPF_TRACE_FENTRY = 24,
            BTF_KIND_TYPEDEF = 8, BTF_KIND_FUNC = 12, BPF_FUNC_loop = 181;

        /// <summary>libbpf_print_level.</summary>
        internal const int LIBBPF_WARN = 0, LIBBPF_INFO = 1, LIBBPF_DEBUG = 2;
    }
}
