using System.Threading.RateLimiting;

namespace ScaiKey.Api.Security;

/// <summary>
/// Abuse limits for sign-in attempts (the login page, the password grant): a sliding one-minute window per
/// client IP, which slows one machine trying many accounts, and one per account key (e.g. "tenant:email"),
/// which slows many machines trying one account. In memory per instance: a limit of N per minute becomes
/// N per instance behind a load balancer, which still bounds guessing; lockout is the shared, exact defence.
/// </summary>
internal sealed class AttemptLimiter : IDisposable
{
    public const int DefaultPerIpPerMinute = 60;
    public const int DefaultPerAccountPerMinute = 10;

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    // Six segments: a rejected caller waits for the oldest tenth of a minute to expire, not a whole minute.
    private const int SegmentsPerWindow = 6;

    private readonly PartitionedRateLimiter<string>? _perIp;
    private readonly PartitionedRateLimiter<string>? _perAccount;

    public AttemptLimiter(bool enabled, int perIpPerMinute, int perAccountPerMinute)
    {
        if (!enabled)
        {
            return;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(perIpPerMinute, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(perAccountPerMinute, 1);
        _perIp = Create(perIpPerMinute, StringComparer.Ordinal);

        // Emails compare case-insensitively everywhere else; "Ada@" and "ada@" must share one allowance.
        _perAccount = Create(perAccountPerMinute, StringComparer.OrdinalIgnoreCase);
    }

    public bool Enabled => _perIp is not null;

    public static AttemptLimiter FromConfiguration(IConfiguration configuration) => new(
        configuration.GetValue("ScaiKey:RateLimits:Enabled", true),
        configuration.GetValue("ScaiKey:RateLimits:PerIpPerMinute", DefaultPerIpPerMinute),
        configuration.GetValue("ScaiKey:RateLimits:PerAccountPerMinute", DefaultPerAccountPerMinute));

    /// <summary>
    /// Counts one attempt against the IP and the account (either may be null: that limit is skipped). When the IP
    /// is over its limit the account is not charged, so one noisy address cannot use up a victim's allowance.
    /// </summary>
    public bool TryAcquire(string? ip, string? account, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (_perIp is null || _perAccount is null)
        {
            return true;
        }

        if (!string.IsNullOrEmpty(ip) && !TryAcquire(_perIp, ip, out retryAfter))
        {
            return false;
        }

        return string.IsNullOrEmpty(account) || TryAcquire(_perAccount, account, out retryAfter);
    }

    public void Dispose()
    {
        _perIp?.Dispose();
        _perAccount?.Dispose();
    }

    private static bool TryAcquire(PartitionedRateLimiter<string> limiter, string key, out TimeSpan retryAfter)
    {
        using var lease = limiter.AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            retryAfter = TimeSpan.Zero;
            return true;
        }

        // The limiter knows when the next segment frees permits; without that, a segment is the honest wait.
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) && after > TimeSpan.Zero
            ? after
            : Window / SegmentsPerWindow;
        return false;
    }

    private static PartitionedRateLimiter<string> Create(int permitsPerMinute, StringComparer keys) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetSlidingWindowLimiter(key, _ => new SlidingWindowRateLimiterOptions
        {
            PermitLimit = permitsPerMinute,
            Window = Window,
            SegmentsPerWindow = SegmentsPerWindow,
            QueueLimit = 0,
            AutoReplenishment = true,
        }), keys);
}
