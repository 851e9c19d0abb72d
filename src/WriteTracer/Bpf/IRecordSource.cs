namespace WriteTracer.Bpf;

/// <summary>Where records come from: a ring buffer, or in tests a queue of the test's.</summary>
internal interface IRecordSource
{
    /// <summary>Returns once a record is available, or after timeoutMs without one.</summary>
    void Wait(int timeoutMs);

    /// <summary>Hands every available record to consumer, without waiting; returns how many. One consumer at a time.</summary>
    int Consume(IRecordConsumer consumer);
}
