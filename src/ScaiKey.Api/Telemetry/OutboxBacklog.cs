using Microsoft.EntityFrameworkCore;
using ScaiKey.Data;

namespace ScaiKey.Api.Telemetry;

/// <summary>
/// The email outbox's backlog for the <c>scaikey.outbox.*</c> gauges: one indexed query (count and oldest of the
/// messages neither sent nor given up) at most every <see cref="MaxAge"/> (5 s), however often and by however many
/// readers the gauges are collected, and never concurrently: a scrape storm costs no database work.
/// </summary>
internal sealed class OutboxBacklog(IServiceScopeFactory scopes, TimeProvider time, ILogger<OutboxBacklog> logger)
{
    private static readonly Lock Registry = new();
    private static readonly List<OutboxBacklog> Running = [];

    /// <summary>The outbox the gauges read: the running host's (the last started, in a process that runs several).</summary>
    public static OutboxBacklog? Current
    {
        get
        {
            lock (Registry)
            {
                return Running.Count == 0 ? null : Running[^1];
            }
        }
    }

    /// <summary>How old a reading may be before the next collection reads again (tests read every time).</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private Snapshot _last = new(0, 0);
    private long _readAt = long.MinValue;

    public readonly record struct Snapshot(long Backlog, double OldestAgeSeconds);

    /// <summary>The last reading, refreshed first when it is older than <see cref="MaxAge"/>.</summary>
    public Snapshot Read()
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            if (_readAt != long.MinValue && time.GetElapsedTime(_readAt, now) < MaxAge)
            {
                return _last;
            }

            _readAt = now;
            try
            {
                // Observable instruments are read synchronously; the query is one indexed aggregate.
                _last = QueryAsync().GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A metric must never fail a scrape: the last reading stands, and the health check reports the database.
                logger.LogWarning(ex, "Reading the email outbox backlog for the metrics failed");
            }

            return _last;
        }
    }

    private async Task<Snapshot> QueryAsync()
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        var pending = await db.EmailOutbox.AsNoTracking()
            .Where(m => m.SentAt == null && m.FailedAt == null)
            .GroupBy(_ => 1)
            .Select(g => new { Count = g.LongCount(), Oldest = g.Min(m => m.CreatedAt) })
            .FirstOrDefaultAsync();
        if (pending is null)
        {
            return new Snapshot(0, 0);
        }

        var age = time.GetUtcNow().UtcDateTime - DateTime.SpecifyKind(pending.Oldest, DateTimeKind.Utc);
        return new Snapshot(pending.Count, Math.Max(0, age.TotalSeconds));
    }

    /// <summary>Makes the host's outbox the gauges' while the host runs; only where a metrics reader is configured.</summary>
    internal sealed class Registration(OutboxBacklog outbox) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lock (Registry)
            {
                Running.Add(outbox);
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            lock (Registry)
            {
                Running.Remove(outbox);
            }

            return Task.CompletedTask;
        }
    }
}
