using WriteTracer.Tracking;

namespace WriteTracer.Tests.Tracking;

/// <summary>/proc/PID/status as the authorization reads it.</summary>
public sealed class ProcessStatusTests
{
    private const string InNamespace = """
        Name:	python3
        Umask:	0022
        State:	S (sleeping)
        Tgid:	4321
        Ngid:	0
        Pid:	4321
        PPid:	4300
        TracerPid:	0
        Uid:	1000	1000	1000	1000
        Gid:	1000	1000	1000	1000
        NStgid:	4321	7
        NSpid:	4321	7
        NSpgid:	4321	7
        CapInh:	0000000000000000
        CapPrm:	0000000000080000
        CapEff:	0000000000080000
        """;

    [Fact]
    public void Reads_uids_capabilities_and_the_namespace_pids()
    {
        Assert.True(ProcessStatus.TryParse(InNamespace, out var status));

        Assert.Equal(4321, status!.Tgid);
        Assert.Equal(4300, status.ParentPid);
        Assert.Equal([1000, 1000, 1000, 1000], status.Uids);
        Assert.True(status.IsOwnedBy(1000));
        Assert.False(status.IsOwnedBy(0));
        Assert.True(status.HasCapability(ProcessStatus.CapSysPtrace));
        Assert.Equal([4321, 7], status.NamespacePids);
        Assert.Equal(7, status.OwnNamespacePid);
    }

    [Theory]
    [InlineData("1000\t0\t1000\t1000")] // effective uid root: a setuid program
    [InlineData("1000\t1000\t0\t1000")] // saved uid root: could become root again
    public void A_process_with_another_effective_or_saved_uid_is_not_owned(string uids)
    {
        Assert.True(ProcessStatus.TryParse(InNamespace.Replace("1000\t1000\t1000\t1000", uids), out var status));
        Assert.False(status!.IsOwnedBy(1000));
    }

    [Theory]
    [InlineData("Uid:")]
    [InlineData("CapEff:")]
    [InlineData("PPid:")]
    public void A_status_without_a_field_it_needs_is_refused(string field)
    {
        var text = string.Join('\n', InNamespace.Split('\n').Where(l => !l.StartsWith(field, StringComparison.Ordinal)));
        Assert.False(ProcessStatus.TryParse(text, out _));
    }
}
