using System.Text;
using WriteTracer.Events;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>A copy of what a batch held when it was handed over (batches are recycled once released).</summary>
/// <param name="BufferLength">The batch's capacity in bytes.</param>
internal sealed record RecordedBatch(int Count, int Length, int BufferLength, byte[] Bytes)
{
    public static RecordedBatch Of(EventBatch batch) => new(batch.Count, batch.Length, batch.Buffer.Length, batch.Bytes.ToArray());
}

/// <summary>A copy of one event of a batch: its line (without the newline) and what Loki labels it with.</summary>
internal sealed record RecordedEvent(string Line, uint RootPid, long UnixNanoseconds)
{
    public static IEnumerable<RecordedEvent> AllOf(EventBatch batch) =>
        Enumerable.Range(0, batch.Count).Select(i =>
            new RecordedEvent(Encoding.UTF8.GetString(batch.Line(i)), batch.Entries[i].RootPid, batch.Entries[i].UnixNanoseconds));
}
