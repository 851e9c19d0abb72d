using WriteTracer.Api;
using WriteTracer.Tests.Infrastructure;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Api;

/// <summary>
/// A pid from a caller in a pid namespace below the tracer's, read in that namespace: through
/// NSpid, within the caller's own namespace where the tracer can read namespaces (ns/pid), by
/// NSpid alone where it cannot, and never a guess between two candidates.
/// </summary>
public sealed class AccessPolicyTranslationTests : IDisposable
{
    private const int TracerPid = 1;
    private readonly TempDirectory _proc = new("wt-proc-ns-");

    public AccessPolicyTranslationTests() => AddProcess(TracerPid, [TracerPid], "pid:[100]");

    public void Dispose() => _proc.Dispose();

    private AccessPolicy Policy => new(new ProcFs(_proc.Path), TracerPid);

    /// <summary>/proc/PID/status with NSpid (the tracer's pid first) and, unless null, the ns/pid link.</summary>
    private void AddProcess(int pid, int[] nsPids, string? pidNamespace)
    {
        var directory = Path.Combine(_proc.Path, $"{pid}");
        Directory.CreateDirectory(Path.Combine(directory, "ns"));
        File.WriteAllText(Path.Combine(directory, "status"),
            $"Tgid:\t{pid}\nPPid:\t1\nUid:\t0\t0\t0\t0\nCapEff:\t0\nNSpid:\t{string.Join('\t', nsPids)}\n");
        if (pidNamespace is not null)
        {
            File.CreateSymbolicLink(Path.Combine(directory, "ns", "pid"), pidNamespace);
        }
    }

    private int? Translate(int callerPid, int nsPid)
    {
        var policy = Policy;
        Assert.True(policy.Proc.TryReadStatus(callerPid, out var caller));
        Assert.True(policy.InOtherNamespace(caller));
        return policy.Translate(callerPid, caller, nsPid);
    }

    [Fact]
    public void A_pid_is_the_one_numbered_so_in_the_caller_s_own_namespace_not_in_a_sibling_s()
    {
        AddProcess(200, [200, 1], "pid:[201]"); // the caller, pid 1 of its namespace
        AddProcess(210, [210, 7], "pid:[201]");
        AddProcess(300, [300, 7], "pid:[301]"); // pid 7 of another namespace at the same depth

        Assert.Equal(210, Translate(200, 7));
        Assert.Null(Translate(200, 8));
    }

    [Fact]
    public void Where_namespaces_cannot_be_read_nspid_alone_decides_and_two_candidates_are_none()
    {
        AddProcess(200, [200, 1], pidNamespace: null);
        AddProcess(210, [210, 7], pidNamespace: null);
        AddProcess(220, [220, 9], pidNamespace: null);
        AddProcess(300, [300, 9], pidNamespace: null); // 9 in two namespaces the tracer cannot tell apart

        Assert.Equal(210, Translate(200, 7));
        Assert.Null(Translate(200, 9));
    }

    [Fact]
    public void A_process_of_a_namespace_above_the_caller_s_is_never_a_match()
    {
        AddProcess(200, [200, 5, 1], "pid:[202]"); // two levels down
        AddProcess(210, [210, 7], "pid:[201]"); // one level down: no pid at the caller's depth
        AddProcess(220, [220, 6, 7], "pid:[202]");

        Assert.Equal(220, Translate(200, 7));
    }
}
