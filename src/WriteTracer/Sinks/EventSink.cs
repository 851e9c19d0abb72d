using Serilog;
using WriteTracer.Events;

namespace WriteTracer.Sinks;

/// <summary>
/// A destination for events with its own bounded queue and worker thread, so a slow
/// or failing sink never blocks the ring-buffer reader or the other sinks. Every
/// event handed to a sink ends up counted exactly once: delivered or dropped.
/// </summary>
internal abstract class EventSink : IDisposable
{
    private readonly Queue<EventBatch> _queue = new();
    private readonly object _gate = new();
    private readonly long _capacityEvents;
    private readonly TimeSpan _idleInterval;
    private readonly Thread _worker;
    private long _queuedEvents;
    private long _delivered;
    private long _dropped;
    private bool _completing;

    protected EventSink(string stage, long capacityEvents, TimeSpan idleInterval)
    {
        Stage = stage;
        _capacityEvents = capacityEvents;
        _idleInterval = idleInterval;
        _worker = new Thread(Run) { IsBackground = true, Name = $"sink-{stage}" };
    }

    /// <summary>The sink's name in metrics (<c>events_dropped_total{stage=…}</c>) and logs.</summary>
    public string Stage { get; }

    public long Delivered => Interlocked.Read(ref _delivered);

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Start() => _worker.Start();

    /// <summary>Queues the batch, or counts its events as dropped when the queue is full.</summary>
    public void Offer(EventBatch batch)
    {
        lock (_gate)
        {
            if (!_completing && _queuedEvents + batch.Count <= _capacityEvents)
            {
                batch.AddReference();
                _queue.Enqueue(batch);
                _queuedEvents += batch.Count;
                Monitor.Pulse(_gate);
                return;
            }
        }
        CountDropped(batch.Count);
    }

    /// <summary>Stops accepting events, writes what is queued and flushes, within the deadline.</summary>
    public void Complete(TimeSpan deadline)
    {
        lock (_gate)
        {
            _completing = true;
            Monitor.Pulse(_gate);
        }
        if (!_worker.Join(deadline))
        {
            Log.Warning("{Stage} sink did not finish within {Deadline}; its queued events are counted as dropped", Stage, deadline);
            lock (_gate)
            {
                while (_queue.TryDequeue(out var batch))
                {
                    CountDropped(batch.Count);
                    batch.Release();
                }
                _queuedEvents = 0;
            }
        }
    }

    public virtual void Dispose()
    {
    }

    /// <summary>Writes (or buffers) one batch on the worker thread; accounts for every event in it.</summary>
    protected abstract void Write(EventBatch batch);

    /// <summary>Called on the worker when no batch arrived for the idle interval.</summary>
    protected virtual void OnIdle()
    {
    }

    /// <summary>Called on the worker once the queue is drained at completion.</summary>
    protected virtual void OnCompleted()
    {
    }

    protected void CountDelivered(long events) => Interlocked.Add(ref _delivered, events);

    protected void CountDropped(long events) => Interlocked.Add(ref _dropped, events);

    private void Run()
    {
        while (true)
        {
            EventBatch? batch;
            lock (_gate)
            {
                if (_queue.Count == 0 && !_completing)
                {
                    Monitor.Wait(_gate, _idleInterval);
                }
                if (!_queue.TryDequeue(out batch) && _completing)
                {
                    break;
                }
                if (batch is not null)
                {
                    _queuedEvents -= batch.Count;
                }
            }
            if (batch is null)
            {
                Guard(OnIdle);
                continue;
            }
            try
            {
                Write(batch);
            }
            catch (Exception e)
            {
                // A sink bug must not kill the worker: count the batch and keep serving.
                Log.Error(e, "{Stage} sink failed to write a batch", Stage);
                CountDropped(batch.Count);
            }
            finally
            {
                batch.Release();
            }
        }
        Guard(OnCompleted);
    }

    private void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            Log.Error(e, "{Stage} sink failed", Stage);
        }
    }
}
