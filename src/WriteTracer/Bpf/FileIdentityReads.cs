namespace WriteTracer.Bpf;

/// <summary>Mirror of the WT_RESOLVE_FDS_* values of <c>wt_config.resolve_fds</c>: whether and how events get their <see cref="FileIdentity"/>.</summary>
internal enum FileIdentityReads : uint
{
    None = 0,
    /// <summary>A probe-read helper call per field: any kernel.</summary>
    Probe = 1,
    /// <summary>Plain loads through BTF-typed pointers, about a fifth of the cost: Linux 6.2+.</summary>
    Btf = 2,
}
