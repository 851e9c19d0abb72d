using Serilog;
using WriteTracer.Events;

namespace WriteTracer.Sinks;

/// <summary>
/// A destination for events with its own bounded queue and worker thread, so a slow
/// or failing sink never blocks the ring-buffer reader or the other sinks. Every
/// event handed to a sink ends up counted exactly once: delivered, dropped, or (sent
/// but never answered before the shutdown timeout) unconfirmed.
/// </summary>
internal abstract class EventSink : IDisposable
{
    /// <summary>How long a worker told to stop delivering gets to account for what it holds.</summary>
    private static readonly TimeSpan AccountingGrace = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Formatted bytes a sink may hold queued, besides its capacity in events: with large
    /// captures an event's line runs to tens of kilobytes, and the queue must stay bounded in memory.
    /// </summary>
    public const long MaxQueuedBytes = 64L << 20;

    /// <summary>Queued batches beyond which sparse ones are compacted (see <see cref="Enqueue"/>).</summary>
    private const int CoalesceAfterBatches = 8;

    private readonly Queue<EventBatch> _queue = new();
    private readonly object _gate = new();
    private readonly long _capacityEvents;
    private readonly TimeSpan _idleInterval;
    private readonly Thread _worker;
    private readonly CancellationTokenSource _flushDeadline = new();
    private readonly ManualResetEventSlim _finished = new();
    private EventBatchPool? _coalescingPool;
    private EventBatch? _coalescing;
    private long _queuedEvents;
    private long _queuedBytes;
    private long _received;
    private long _delivered;
    private long _dropped;
    private long _unconfirmed;
    private bool _completing;

    protected EventSink(string stage, long capacityEvents, TimeSpan idleInterval, EventFormat format)
    {
        Stage = stage;
        Format = format;
        _capacityEvents = capacityEvents;
        _idleInterval = idleInterval;
        _worker = new Thread(Run) { IsBackground = true, Name = $"sink-{stage}" };
    }

    /// <summary>The sink's name in metrics (<c>events_dropped_total{stage=…}</c>) and logs.</summary>
    public string Stage { get; }

    /// <summary>The format of the lines this sink is given.</summary>
    public EventFormat Format { get; }

    public long Delivered => Interlocked.Read(ref _delivered);

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Events sent but never answered (a push cut off by the shutdown timeout): perhaps stored, perhaps not.</summary>
    public long Unconfirmed => Interlocked.Read(ref _unconfirmed);

    /// <summary>Events handed to the sink and not yet counted as delivered, dropped or unconfirmed.</summary>
    public long InFlight => Interlocked.Read(ref _received) - Delivered - Dropped - Unconfirmed;

    /// <summary>
    /// Told, for every batch the worker takes from the queue, how many seconds have passed since
    /// the kernel's timestamp of its oldest event. Set before <see cref="Start"/>.
    /// </summary>
    public Action<double>? BatchDelayObserver { get; set; }

    /// <summary>Events waiting in the queue.</summary>
    public long QueuedEvents
    {
        get { lock (_gate) return _queuedEvents; }
    }

    /// <summary>Cancelled when the shutdown timeout passes (or a second signal cuts it short): stop delivering and account for the rest.</summary>
    protected CancellationToken FlushDeadline => _flushDeadline.Token;

    public void Start() => _worker.Start();

    /// <summary>
    /// Queues the batch, or counts its events as dropped when the queue is full (in events
    /// or in <see cref="MaxQueuedBytes"/>). An empty queue takes any batch, so a capacity
    /// smaller than a batch still delivers.
    /// </summary>
    public void Offer(EventBatch batch)
    {
        Interlocked.Add(ref _received, batch.Count);
        lock (_gate)
        {
            if (!_completing && (_queuedEvents == 0 ||
                (_queuedEvents + batch.Count <= _capacityEvents && _queuedBytes + batch.Length <= MaxQueuedBytes)))
            {
                Enqueue(batch);
                _queuedEvents += batch.Count;
                _queuedBytes += batch.Length;
                Monitor.Pulse(_gate);
                return;
            }
        }
        CountDropped(batch.Count);
    }

    /// <summary>
    /// Stops accepting events and delivers what is queued. Once the timeout passes, or stopNow is
    /// cancelled, the worker is told to stop delivering (<see cref="FlushDeadline"/>) and given a
    /// moment to account for what it holds; what it still has not taken is counted as dropped.
    /// </summary>
    public void Complete(TimeSpan timeout, CancellationToken stopNow = default)
    {
        lock (_gate)
        {
            _completing = true;
            Monitor.Pulse(_gate);
        }
        bool finished;
        try
        {
            finished = _finished.Wait(timeout, stopNow);
        }
        catch (OperationCanceledException)
        {
            finished = false;
        }
        if (finished)
        {
            return;
        }
        _flushDeadline.Cancel();
        if (!_finished.Wait(AccountingGrace))
        {
            Log.Warning("{Stage} sink did not stop within {Grace}; its queued events are counted as dropped", Stage, AccountingGrace);
            lock (_gate)
            {
                while (_queue.TryDequeue(out var batch))
                {
                    CountDropped(batch.Count);
                    batch.Release();
                }
                _queuedEvents = 0;
                _queuedBytes = 0;
                _coalescing = null;
            }
        }
    }

    public virtual void Dispose()
    {
    }

    /// <summary>Writes (or buffers) one batch on the worker thread; accounts for every event in it.</summary>
    protected abstract void Write(EventBatch batch);

    /// <summary>Called on the worker before the first batch.</summary>
    protected virtual void OnStarted()
    {
    }

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

    protected void CountUnconfirmed(long events) => Interlocked.Add(ref _unconfirmed, events);

    /// <summary>
    /// Shares the batch with the queue. Once the sink is several batches behind, a
    /// batch that fills little of its buffer is copied into a batch of the sink's own
    /// instead, so a long backlog of sparse batches (a few events per reader poll)
    /// costs memory in proportion to its events rather than a whole buffer per poll.
    /// </summary>
    private void Enqueue(EventBatch batch)
    {
        var sparse = batch.Length < batch.Buffer.Length / 4;
        if (_queue.Count < CoalesceAfterBatches || !sparse)
        {
            batch.AddReference();
            _queue.Enqueue(batch);
            _coalescing = null;
            return;
        }
        // _coalescing is the last queued batch, so the worker (which takes from the head) is not reading it.
        if (_coalescing is not null && _coalescing.TryAppend(batch))
        {
            return;
        }
        _coalescingPool ??= new EventBatchPool(batch.Buffer.Length, batch.Entries.Length, maxPooled: 4);
        _coalescing = _coalescingPool.Rent();
        _coalescing.TryAppend(batch);
        _queue.Enqueue(_coalescing);
    }

    private void Run()
    {
        Guard(OnStarted);
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
                    _queuedBytes -= batch.Length;
                    if (batch == _coalescing)
                    {
                        _coalescing = null;
                    }
                }
            }
            if (batch is null)
            {
                Guard(OnIdle);
                continue;
            }
            ObserveDelay(batch);
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
        _finished.Set();
    }

    private void ObserveDelay(EventBatch batch)
    {
        if (BatchDelayObserver is { } observe && batch.Count > 0)
        {
            // A wall clock stepped back makes a negative delay: no delay is the truth closest to it.
            observe(Math.Max(0, WallClock.UtcNowNanoseconds() - batch.Entries[0].UnixNanoseconds) / 1e9);
        }
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
