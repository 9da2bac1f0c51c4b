using System.Collections.Concurrent;

namespace ScaiKey.Api.Security;

/// <summary>
/// Password hashes run on threads of their own, one per core by default, in arrival order. Argon2id is memory-hard:
/// more hashes in flight than cores only time-slice them and evict each other's 19 MiB from the caches, so every
/// sign-in gets slower and a burst of attempts can starve the rest of the API. On threads of their own, hashes
/// neither block the thread pool (which would add threads to make up for it) nor wait for it: a hashing thread
/// starts the next waiting hash as soon as one ends, and the caller continues on the thread pool.
/// </summary>
internal sealed class HashingGate : IDisposable
{
    private readonly BlockingCollection<Action> _jobs = new(new ConcurrentQueue<Action>());
    private readonly Thread[] _threads;

    public HashingGate(int slots)
    {
        _threads = new Thread[Math.Max(1, slots)];
        for (var i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"password-hashing-{i}" };
            _threads[i].Start();
        }
    }

    public static HashingGate FromConfiguration(IConfiguration configuration) =>
        new(configuration.GetValue("ScaiKey:PasswordHashing:Concurrency", Environment.ProcessorCount));

    public Task<T> RunAsync<T>(Func<T> work, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();

        // The caller's continuation must not run on the hashing thread: it would hold up the next hash.
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registration = ct.Register(() => completion.TrySetCanceled(ct));
        _jobs.Add(() =>
        {
            // A request abandoned while it waited costs no hash.
            if (!completion.Task.IsCompleted)
            {
                try
                {
                    completion.TrySetResult(work());
                }
                catch (Exception ex)
                {
                    completion.TrySetException(ex);
                }
            }

            registration.Dispose();
        }, CancellationToken.None);
        return completion.Task;
    }

    private void Work()
    {
        foreach (var job in _jobs.GetConsumingEnumerable())
        {
            job();
        }
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
