namespace WriteTracer.Bpf;

/// <summary>Receives raw ring-buffer records on the reader thread.</summary>
internal interface IRecordConsumer
{
    void OnRecord(ReadOnlySpan<byte> record);
}
