using System.Text;
using WriteTracer.Events;

namespace WriteTracer.Tests.Infrastructure;

/// <summary>Batches of arbitrary lines, for testing sinks without the formatter.</summary>
internal static class TestBatches
{
    public static EventBatchPool Pool() => new(bufferBytes: 64 * 1024, maxEvents: 1024);

    /// <summary>A batch rented from pool holding these lines; the caller holds its one reference.</summary>
    public static EventBatch Rent(EventBatchPool pool, IEnumerable<string> lines)
    {
        var batch = pool.Rent();
        foreach (var line in lines)
        {
            var length = Encoding.UTF8.GetBytes(line, batch.FreeSpace);
            batch.FreeSpace[length] = (byte)'\n';
            batch.Commit(length, rootPid: 1, unixNanoseconds: 0);
        }
        return batch;
    }

    /// <summary>A batch rented from pool holding these raw records (no terminator); the caller holds its one reference.</summary>
    public static EventBatch RentRaw(EventBatchPool pool, IEnumerable<byte[]> records)
    {
        var batch = pool.Rent();
        foreach (var record in records)
        {
            record.CopyTo(batch.FreeSpace);
            batch.Commit(record.Length, rootPid: 1, unixNanoseconds: 0, terminatorLength: 0);
        }
        return batch;
    }

    /// <summary>"name-0", "name-1", …: lines that tell where each event came from.</summary>
    public static string[] Lines(string name, int count) => [.. Enumerable.Range(0, count).Select(i => $"{name}-{i}")];
}
