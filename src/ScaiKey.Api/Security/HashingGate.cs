using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Telemetry;

namespace ScaiKey.Api.Security;

/// <summary>ScaiKey:PasswordHashing: Argon2id's cost (for <see cref="PasswordHasher"/>) and the gate's threads and queue.</summary>
internal sealed class HashingGateOptions
{
    public const string Section = "ScaiKey:PasswordHashing";

    /// <summary>Waiting hashes per hashing thread when <see cref="QueueLimit"/> is not set.</summary>
    public const int DefaultQueuePerThread = 256;

    /// <summary>Argon2id passes of new hashes (OWASP's recommendation: 2).</summary>
    public int Iterations { get; set; } = PasswordHasher.DefaultIterations;

    /// <summary>Argon2id memory of new hashes in KiB (OWASP's recommendation: 19 MiB).</summary>
    public int MemoryKiB { get; set; } = PasswordHasher.DefaultMemoryBytes / 1024;

    /// <summary>Hashing threads; default one per core.</summary>
    public int Concurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>Hashes that may wait for a thread (running ones not counted); default 256 per thread.</summary>
    public int? QueueLimit { get; set; }

    /// <summary>
    /// Results of consecutive hashes a hashing thread hands back together while more hashes wait (see
    /// <see cref="HashingGate"/>); 1 hands each result back as soon as it is ready.
    /// </summary>
    public int Batch { get; set; } = HashingGate.DefaultBatch;

    public int EffectiveQueueLimit => QueueLimit ?? DefaultQueuePerThread * Concurrency;
}

/// <summary>The hashing queue is full: the caller answers 503 with Retry-After instead of waiting behind it.</summary>
internal sealed class HashingQueueFullException(TimeSpan retryAfter)
    : Exception("Too many password hashes are waiting; try again later.")
{
    public TimeSpan RetryAfter => retryAfter;
}

/// <summary>
/// Password hashes run on threads of their own, one per core by default, in arrival order. Argon2id is memory-hard:
/// more hashes in flight than cores only time-slice them and evict each other's 19 MiB from the caches, so every
/// sign-in gets slower and a burst of attempts can starve the rest of the API. On threads of their own, hashes
/// neither block the thread pool (which would add threads to make up for it) nor wait for it: a hashing thread
/// starts the next waiting hash as soon as one ends, and the caller continues on the thread pool.
/// <para>
/// While more hashes wait, a hashing thread keeps the results of its consecutive hashes, up to
/// <see cref="HashingGateOptions.Batch"/>, and hands them back together, so the callers' continuations run back to
/// back on the thread pool instead of one at a time between slices of the next hash. Each hash evicts the core's
/// caches (19 MiB through a 1-2 MiB L2, and two of them fill a 32 MiB L3), so request work squeezed in between hashes
/// runs from memory; run together, the continuations after the first find their code and data cached, and the hashes
/// run with fewer interruptions
/// (docs/performance.md, session 19: about 10 % more sign-ins per second on a 2-core AMD EPYC). Hashes are still
/// taken one at a time in arrival order by whichever thread is free; a result is handed back as soon as no hash
/// waits, and before a next hash (at its recent average time) would keep it past <see cref="MaxHold"/>.
/// </para>
/// <para>
/// The queue is bounded: a flood of attempts would otherwise hold a request, its memory and its connection for
/// every hash ahead of it, and each newcomer would wait longer than any client does. When it is full,
/// <see cref="RunAsync{T}"/> throws <see cref="HashingQueueFullException"/> at once, with the time the queue
/// needs to drain at the recent hash rate.
/// </para>
/// </summary>
internal sealed class HashingGate : IDisposable
{
    public const int DefaultBatch = 4;

    public const int MaxBatch = 64;

    /// <summary>The longest a finished result waits for the rest of its batch.</summary>
    public static readonly TimeSpan MaxHold = TimeSpan.FromMilliseconds(50);

    private readonly BlockingCollection<Func<Action?>> _jobs;
    private readonly Thread[] _threads;
    private readonly ScaiKeyMetrics? _metrics;
    private readonly int _batchSize;
    private readonly TimeSpan _maxHold;

    // Recent time per hash (moving average, ticks), for Retry-After when the queue is full; races only blur it.
    private long _averageTicks = TimeSpan.FromMilliseconds(50).Ticks;

    /// <param name="metrics">Queue depth and wait (scaikey.hashing.queue.*); absent in the command line.</param>
    /// <param name="maxHold">For tests: the longest a finished result waits for its batch (default <see cref="MaxHold"/>).</param>
    public HashingGate(int slots, int? queueLimit = null, ScaiKeyMetrics? metrics = null, int batch = DefaultBatch, TimeSpan? maxHold = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        _metrics = metrics;
        _batchSize = batch;
        _maxHold = maxHold ?? MaxHold;
        _threads = new Thread[Math.Max(1, slots)];
        QueueLimit = queueLimit ?? HashingGateOptions.DefaultQueuePerThread * _threads.Length;
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueLimit, 1);
        _jobs = new(new ConcurrentQueue<Func<Action?>>(), QueueLimit);
        for (var i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"password-hashing-{i}" };
            _threads[i].Start();
        }
    }

    public HashingGate(IOptions<HashingGateOptions> options, ScaiKeyMetrics? metrics = null)
        : this(options.Value.Concurrency, options.Value.EffectiveQueueLimit, metrics, options.Value.Batch)
    {
    }

    public int QueueLimit { get; }

    public int Threads => _threads.Length;

    /// <summary>Binds and checks ScaiKey:PasswordHashing; a bad value stops the start.</summary>
    public static void AddTo(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HashingGateOptions>().Bind(configuration.GetSection(HashingGateOptions.Section))
            .Validate(o => o.Concurrency >= 1 && o.EffectiveQueueLimit >= 1,
                $"{HashingGateOptions.Section}:Concurrency and {HashingGateOptions.Section}:QueueLimit must be at least 1.")
            .Validate(o => o.Batch is >= 1 and <= MaxBatch,
                $"{HashingGateOptions.Section}:Batch must be between 1 and {MaxBatch}.")
            .Validate(o => o.Iterations is >= 1 and <= ForeignPasswordHashes.MaxArgonPasses,
                $"{HashingGateOptions.Section}:Iterations must be between 1 and {ForeignPasswordHashes.MaxArgonPasses}.")
            .Validate(o => o.MemoryKiB is >= 8 and <= ForeignPasswordHashes.MaxArgonMemoryKiB,
                $"{HashingGateOptions.Section}:MemoryKiB must be between 8 and {ForeignPasswordHashes.MaxArgonMemoryKiB}.")
            .ValidateOnStart();

        // Made by the container, so the container stops its threads when the host stops.
        services.AddSingleton(sp => new HashingGate(sp.GetRequiredService<IOptions<HashingGateOptions>>(), sp.GetService<ScaiKeyMetrics>()));
    }

    /// <summary>Runs <paramref name="work"/> on a hashing thread; throws <see cref="HashingQueueFullException"/> when the queue is full.</summary>
    public Task<T> RunAsync<T>(Func<T> work, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();

        // One span for the wait and the hash, a child of the request's. It ends on the hashing thread, so it must not
        // stay the caller's current activity (it would parent the caller's next spans and outlive this call).
        var caller = Activity.Current;
        var activity = ScaiKeyMetrics.Traces.StartActivity("password_hash");
        Activity.Current = caller;
        var queued = Stopwatch.GetTimestamp();

        // Results reach the caller from a thread-pool work item (HandBack), never on the hashing thread, so the caller's
        // continuation runs inline there; a cancellation is handed over the same way.
        var completion = new TaskCompletionSource<T>();
        var registration = ct.UnsafeRegister(static s =>
        {
            var (c, token) = ((TaskCompletionSource<T>, CancellationToken))s!;
            ThreadPool.UnsafeQueueUserWorkItem(static x => x.c.TrySetCanceled(x.token), (c, token), preferLocal: false);
        }, (completion, ct));

        // Counted before it can be taken, so the depth never dips below zero.
        _metrics?.HashQueued();
        var added = _jobs.TryAdd(() =>
        {
            var waited = Stopwatch.GetElapsedTime(queued);
            _metrics?.HashDequeued(waited);
            activity?.SetTag("scaikey.hashing.wait_ms", (long)waited.TotalMilliseconds);

            // A request abandoned while it waited costs no hash (its cancellation may still be on its way to the task).
            if (completion.Task.IsCompleted || ct.IsCancellationRequested)
            {
                activity?.SetTag("scaikey.hashing.abandoned", true);
                registration.Dispose();
                activity?.Dispose();
                return null;
            }

            // The span ends when the result goes back, so it shows the time the result waited for its batch.
            Action release;
            try
            {
                var result = work();
                release = () =>
                {
                    activity?.Dispose();
                    completion.TrySetResult(result);
                };
            }
            catch (Exception ex)
            {
                activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
                release = () =>
                {
                    activity?.Dispose();
                    completion.TrySetException(ex);
                };
            }

            registration.Dispose();
            return release;
        });
        if (!added)
        {
            registration.Dispose();
            _metrics?.HashRefused();
            activity?.SetStatus(ActivityStatusCode.Error, "queue full");
            activity?.Dispose();
            throw new HashingQueueFullException(DrainTime());
        }

        return completion.Task;
    }

    /// <summary>How long the waiting hashes take at the recent rate: what a refused caller should wait.</summary>
    public TimeSpan DrainTime() =>
        TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, Interlocked.Read(ref _averageTicks) * Math.Max(1, _jobs.Count) / _threads.Length));

    private void Work()
    {
        var done = new List<Action>(_batchSize);
        var firstDone = 0L;
        try
        {
            while (true)
            {
                // Hashes are taken one at a time, in arrival order, by whichever thread is free; only the results wait.
                if (!_jobs.TryTake(out var job))
                {
                    // Nothing else is waiting: what is done goes back now.
                    HandBack(done);
                    if (!_jobs.TryTake(out job, Timeout.Infinite))
                    {
                        return;
                    }
                }
                else if (done.Count > 0 && Stopwatch.GetElapsedTime(firstDone).Ticks + Interlocked.Read(ref _averageTicks) >= _maxHold.Ticks)
                {
                    // The next hash would keep the first result waiting past the limit (imported hashes may be slow).
                    HandBack(done);
                }

                var started = Stopwatch.GetTimestamp();
                if (job() is not { } release)
                {
                    continue;
                }

                var ticks = Stopwatch.GetElapsedTime(started).Ticks;
                var average = Interlocked.Read(ref _averageTicks);
                Interlocked.Exchange(ref _averageTicks, average + ((ticks - average) / 8));
                if (done.Count == 0)
                {
                    firstDone = Stopwatch.GetTimestamp();
                }

                done.Add(release);
                if (done.Count >= _batchSize)
                {
                    HandBack(done);
                }
            }
        }
        finally
        {
            // Whatever ends this thread (the gate's disposal, or a failure outside a hash), no result stays behind.
            HandBack(done);
        }
    }

    // Each result goes back on a thread-pool work item of its own, where the caller's continuation runs inline: the
    // batch's continuations run back to back there, off the hashing thread.
    private static void HandBack(List<Action> done)
    {
        foreach (var release in done)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static r => r(), release, preferLocal: false);
        }

        done.Clear();
    }

    public void Dispose()
    {
        _jobs.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join();
        }

        _jobs.Dispose();
    }
}
