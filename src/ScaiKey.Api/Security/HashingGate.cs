namespace ScaiKey.Api.Security;

/// <summary>
/// At most one password hash per core at a time. Argon2id is memory-hard: more hashes in flight than cores only
/// time-slice them and evict each other's 19 MiB from the caches, so every sign-in gets slower and a burst of
/// attempts can starve the rest of the API. Callers wait their turn asynchronously instead.
/// </summary>
internal sealed class HashingGate(int slots) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(Math.Max(1, slots), Math.Max(1, slots));

    public static HashingGate FromConfiguration(IConfiguration configuration) =>
        new(configuration.GetValue("ScaiKey:PasswordHashing:Concurrency", Environment.ProcessorCount));

    public async Task<T> RunAsync<T>(Func<T> work, CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        try
        {
            return work();
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();
}
