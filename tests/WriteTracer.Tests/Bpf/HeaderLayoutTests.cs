using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using WriteTracer.Bpf;
using WriteTracer.EndToEnd.Infrastructure;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Bpf;

/// <summary>
/// The C# mirrors of bpf/write_tracer.h, checked against what a C compiler makes of the
/// header. The C program is generated from the mirrors: each C# field names its C field
/// (TimestampNs → timestamp_ns), so a field missing on either side fails the build or a size.
/// </summary>
public partial class HeaderLayoutTests
{
    private static readonly Lazy<IReadOnlyDictionary<string, long>> Header = new(CompileAndRunProbe);

    public static TheoryData<Type, string> Mirrors => new()
    {
        { typeof(WriteEvent), "write_event" },
        { typeof(ProcessEvent), "process_event" },
        { typeof(TrackingChange), "tracking_change" },
        { typeof(FileIdentity), "wt_file_identity" },
        { typeof(TrackedProcess), "tracked_process" },
        { typeof(TrackedCgroup), "tracked_cgroup" },
        { typeof(BpfConfig), "wt_config" },
    };

    [Theory]
    [MemberData(nameof(Mirrors))]
    public void Every_field_has_the_offset_and_size_of_the_header(Type mirror, string cStruct)
    {
        Assert.Equal((cStruct, Header.Value[$"sizeof {cStruct}"]), (cStruct, SizeOf(mirror)));
        foreach (var field in Fields(mirror))
        {
            var name = $"{cStruct}.{CName(field)}";
            Assert.Equal((name, Header.Value[$"offsetof {name}"]), (name, (long)Marshal.OffsetOf(mirror, field.Name)));
            Assert.Equal((name, Header.Value[$"sizeof {name}"]), (name, SizeOf(field.FieldType)));
        }
    }

    [Fact]
    public void The_captured_bytes_start_right_after_the_header()
    {
        Assert.Equal(Header.Value["offsetof write_event.data"], WriteEvent.Size);
        Assert.Equal(Header.Value["offsetof process_event.data"], ProcessEvent.Size);
    }

    [Fact]
    public void The_constants_match()
    {
        Assert.Equal(WriteEvent.CommLength, Header.Value["WT_TASK_COMM_LEN"]);
        Assert.Equal(WriteEvent.MaxCapture, Header.Value["WT_MAX_CAPTURE"]);
        Assert.Equal(WriteEvent.ReadFailedFlag, Header.Value["WT_EVENT_READ_FAILED"]);
        Assert.Equal(WriteEvent.HasResultFlag, Header.Value["WT_EVENT_HAS_RESULT"]);
        Assert.Equal(WriteEvent.CgroupRootFlag, Header.Value["WT_EVENT_CGROUP_ROOT"]);
        Assert.Equal(TrackedProcess.UnprivilegedFlag, Header.Value["WT_TRACK_UNPRIVILEGED"]);
        Assert.Equal(TrackedProcess.CgroupFlag, Header.Value["WT_TRACK_CGROUP"]);
        foreach (var kind in Enum.GetValues<RecordKind>())
        {
            Assert.Equal((kind, Header.Value[$"WT_RECORD_{kind.ToString().ToUpperInvariant()}"]), (kind, (long)kind));
        }
        foreach (var change in Enum.GetValues<TrackingChangeKind>())
        {
            Assert.Equal((change, Header.Value[$"WT_CHANGE_{UpperSnake(change.ToString())}"]), (change, (long)change));
        }
        foreach (var syscall in Enum.GetValues<WriteSyscall>())
        {
            Assert.Equal((syscall, Header.Value[$"WT_SYSCALL_{syscall.ToString().ToUpperInvariant()}"]), (syscall, (long)syscall));
        }
        Assert.Equal(Header.Value["WT_SYSCALL_COUNT"], Enum.GetValues<WriteSyscall>().Length);
        Assert.Equal(FileIdentity.DeletedFlag, Header.Value["WT_FILE_DELETED"]);
        Assert.Equal(FileIdentity.PseudoFlag, Header.Value["WT_FILE_PSEUDO"]);
        Assert.Equal((long)FileIdentityReads.None, Header.Value["WT_RESOLVE_FDS_OFF"]);
        Assert.Equal((long)FileIdentityReads.Probe, Header.Value["WT_RESOLVE_FDS_PROBE"]);
        Assert.Equal((long)FileIdentityReads.Btf, Header.Value["WT_RESOLVE_FDS_BTF"]);
    }

    [Fact]
    public void The_counter_slots_match()
    {
        foreach (var counter in Enum.GetValues<BpfCounter>())
        {
            Assert.Equal((counter, Header.Value[CounterName(counter)]), (counter, (long)counter));
        }
        Assert.Equal(Header.Value["WT_COUNTER_MAX"], Enum.GetValues<BpfCounter>().Length);
    }

    private static IReadOnlyDictionary<string, long> CompileAndRunProbe()
    {
        using var directory = new TempDirectory("wt-layout-");
        var source = directory.File("probe.c");
        var program = directory.File("probe");
        File.WriteAllText(source, ProbeSource());
        Run("cc", "-std=gnu11", "-Wall", "-Werror", "-I", Path.Combine(Repository.Root, "bpf"), "-o", program, source);
        var facts = new Dictionary<string, long>();
        foreach (var line in Run(program).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var space = line.LastIndexOf(' ');
            facts.Add(line[..space], long.Parse(line[(space + 1)..], CultureInfo.InvariantCulture));
        }
        return facts;
    }

    /// <summary>A C program printing "what value" for every size, offset and constant the mirrors depend on.</summary>
    private static string ProbeSource()
    {
        var c = new StringBuilder("""
            #include <stddef.h>
            #include <stdio.h>
            #include "write_tracer.h"

            #define FACT(what, value) printf("%s %lld\n", what, (long long)(value))

            int main(void)
            {

            """);
        foreach (var (mirror, cStruct) in Mirrors.Select(row => ((Type)row[0], (string)row[1])))
        {
            c.AppendLine($"    FACT(\"sizeof {cStruct}\", sizeof(struct {cStruct}));");
            foreach (var field in Fields(mirror))
            {
                var name = CName(field);
                c.AppendLine($"    FACT(\"offsetof {cStruct}.{name}\", offsetof(struct {cStruct}, {name}));");
                c.AppendLine($"    FACT(\"sizeof {cStruct}.{name}\", sizeof(((struct {cStruct} *)0)->{name}));");
            }
        }
        c.AppendLine("    FACT(\"offsetof write_event.data\", offsetof(struct write_event, data));");
        c.AppendLine("    FACT(\"offsetof process_event.data\", offsetof(struct process_event, data));");
        foreach (var constant in new[] { "WT_TASK_COMM_LEN", "WT_MAX_CAPTURE", "WT_EVENT_READ_FAILED", "WT_EVENT_HAS_RESULT",
                "WT_EVENT_CGROUP_ROOT", "WT_TRACK_UNPRIVILEGED", "WT_TRACK_CGROUP", "WT_SYSCALL_COUNT",
                "WT_FILE_DELETED", "WT_FILE_PSEUDO", "WT_RESOLVE_FDS_OFF", "WT_RESOLVE_FDS_PROBE", "WT_RESOLVE_FDS_BTF",
                "WT_COUNTER_MAX" }
            .Concat(Enum.GetValues<BpfCounter>().Select(CounterName))
            .Concat(Enum.GetValues<WriteSyscall>().Select(syscall => $"WT_SYSCALL_{syscall.ToString().ToUpperInvariant()}"))
            .Concat(Enum.GetValues<RecordKind>().Select(kind => $"WT_RECORD_{kind.ToString().ToUpperInvariant()}"))
            .Concat(Enum.GetValues<TrackingChangeKind>().Select(change => $"WT_CHANGE_{UpperSnake(change.ToString())}")))
        {
            c.AppendLine($"    FACT(\"{constant}\", {constant});");
        }
        c.AppendLine("    return 0;\n}");
        return c.ToString();
    }

    private static IEnumerable<FieldInfo> Fields(Type mirror) =>
        mirror.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);

    /// <summary>The header's name of a mirror field: RootPid → root_pid.</summary>
    private static string CName(FieldInfo field) => Words().Replace(field.Name, "_$1").ToLowerInvariant();

    /// <summary>The header's name of a counter slot: ReadFailed → WT_COUNTER_READ_FAILED, where not shortened there.</summary>
    private static string CounterName(BpfCounter counter) => counter switch
    {
        BpfCounter.RingBufferFull => "WT_COUNTER_RINGBUF_FULL",
        BpfCounter.TrackedMapFull => "WT_COUNTER_TRACKED_FULL",
        _ => "WT_COUNTER_" + UpperSnake(counter.ToString()),
    };

    /// <summary>ThreadStart → THREAD_START.</summary>
    private static string UpperSnake(string name) => Words().Replace(name, "_$1").ToUpperInvariant();

    private static long SizeOf(Type type) =>
        (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;

    private static string Run(string file, params string[] args)
    {
        var (exitCode, stdout, stderr) = Shell.ExecAsync(file, args, TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
        Assert.True(exitCode == 0, $"{file} {string.Join(' ', args)} failed ({exitCode}):\n{stderr}");
        return stdout;
    }

    [GeneratedRegex("(?<=[a-z0-9])([A-Z])")]
    private static partial Regex Words();
}
