using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Users;

namespace ScaiKey.Api.Security;

/// <summary>ScaiKey:RateLimits: failed sign-in attempts allowed per minute.</summary>
internal sealed class RateLimitOptions
{
    public const string Section = "ScaiKey:RateLimits";
    public const int DefaultPerIpPerMinute = 60;
    public const int DefaultPerAccountPerMinute = 10;

    public bool Enabled { get; set; } = true;

    /// <summary>Failed attempts a minute from one client address.</summary>
    public int PerIpPerMinute { get; set; } = DefaultPerIpPerMinute;

    /// <summary>Failed attempts a minute on one account (tenant + normalized email).</summary>
    public int PerAccountPerMinute { get; set; } = DefaultPerAccountPerMinute;
}

/// <summary>
/// Abuse limits for sign-in attempts (the login page, the password grant): a sliding one-minute window per
/// client IP, which slows one machine trying many accounts, and one per account, which slows many machines trying
/// one account. Only failures are counted: an office of hundreds behind one NAT signing in at nine, or a script
/// that signs one account in often, is not guessing and is never refused; a guesser fails nearly every time.
/// Both buckets are consulted before the password is checked, so an attempt over the limit costs no hash.
/// In memory per instance: a limit of N per minute becomes N per instance behind a load balancer, which still
/// bounds guessing; lockout is the shared, exact defence.
/// </summary>
internal sealed class AttemptLimiter : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    // Six segments: a refused caller waits for the oldest tenth of a minute to expire, not a whole minute.
    private const int SegmentsPerWindow = 6;

    private readonly PartitionedRateLimiter<string>? _perIp;
    private readonly PartitionedRateLimiter<string>? _perAccount;

    public AttemptLimiter(RateLimitOptions options)
    {
        if (!options.Enabled)
        {
            return;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.PerIpPerMinute, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PerAccountPerMinute, 1);
        _perIp = Create(options.PerIpPerMinute);
        _perAccount = Create(options.PerAccountPerMinute);
    }

    public bool Enabled => _perIp is not null;

    /// <summary>Binds and checks ScaiKey:RateLimits; a bad value stops the start.</summary>
    public static void AddTo(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section))
            .Validate(o => !o.Enabled || (o.PerIpPerMinute >= 1 && o.PerAccountPerMinute >= 1),
                $"{RateLimitOptions.Section}:PerIpPerMinute and {RateLimitOptions.Section}:PerAccountPerMinute must be at least 1.")
            .ValidateOnStart();
        services.AddSingleton(sp => new AttemptLimiter(sp.GetRequiredService<IOptions<RateLimitOptions>>().Value));
    }

    /// <summary>
    /// The per-account bucket: the tenant and the email as the user lookup normalizes it, so every spelling of one
    /// mailbox shares one allowance.
    /// </summary>
    public static string AccountKey(string tenantId, string email) => tenantId + ":" + EmailAddresses.Normalize(email);

    /// <summary>
    /// The per-address bucket: an IPv4 address as it is (an IPv4-mapped IPv6 address as its IPv4 form), an IPv6
    /// address by its /64, the smallest network a client is normally given, so a host cannot walk through 2^64
    /// buckets of its own.
    /// </summary>
    public static string? IpKey(string? ip)
    {
        if (string.IsNullOrEmpty(ip) || !System.Net.IPAddress.TryParse(ip, out var address))
        {
            return string.IsNullOrEmpty(ip) ? null : ip;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new System.Net.IPAddress(bytes) + "/64";
    }

    /// <summary>
    /// Whether the address (when known) or the account has used up its failures for the minute; nothing is counted.
    /// </summary>
    public bool IsRefused(string? ip, string tenantId, string email, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (_perIp is null || _perAccount is null)
        {
            return false;
        }

        var ipKey = IpKey(ip);
        return (ipKey is not null && IsExhausted(_perIp, ipKey, out retryAfter))
            || IsExhausted(_perAccount, AccountKey(tenantId, email), out retryAfter);
    }

    /// <summary>Counts one failed attempt against the address (when known) and the account.</summary>
    public void RecordFailure(string? ip, string tenantId, string email)
    {
        if (_perIp is not null)
        {
            Count(IpKey(ip), AccountKey(tenantId, email));
        }
    }

    /// <summary>One failure against the address bucket (when known) and the account bucket.</summary>
    private void Count(string? ipKey, string? accountKey)
    {
        if (ipKey is not null)
        {
            _perIp?.AttemptAcquire(ipKey).Dispose();
        }

        if (accountKey is not null)
        {
            _perAccount?.AttemptAcquire(accountKey).Dispose();
        }
    }

    /// <summary>
    /// Starts an attempt: refused (null) when the address or the account has no failure left for the minute once
    /// the attempts still running are counted as failures. Failures are known only after the hash, so without this
    /// a burst sent at once would all pass the check before any of them was counted. Dispose the lease when the
    /// attempt ends; call <see cref="AttemptLease.Failed"/> first when it failed.
    /// </summary>
    public AttemptLease? TryBegin(string? ip, string tenantId, string email, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (_perIp is null || _perAccount is null)
        {
            return new AttemptLease(this, null, null);
        }

        var ipKey = IpKey(ip);
        var accountKey = AccountKey(tenantId, email);
        if (ipKey is not null && !Reserve(_perIp, _inFlightIp, ipKey, out retryAfter))
        {
            return null;
        }

        if (!Reserve(_perAccount, _inFlightAccount, accountKey, out retryAfter))
        {
            if (ipKey is not null)
            {
                Release(_inFlightIp, ipKey);
            }

            return null;
        }

        return new AttemptLease(this, ipKey, accountKey);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _inFlightIp = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _inFlightAccount = new(StringComparer.Ordinal);

    private static bool Reserve(PartitionedRateLimiter<string> limiter, System.Collections.Concurrent.ConcurrentDictionary<string, int> inFlight, string key, out TimeSpan retryAfter)
    {
        if (IsExhausted(limiter, key, out retryAfter))
        {
            return false;
        }

        var running = inFlight.AddOrUpdate(key, 1, (_, n) => n + 1);
        var available = limiter.GetStatistics(key)?.CurrentAvailablePermits ?? long.MaxValue;
        if (running <= available)
        {
            return true;
        }

        // Every failure left is taken by attempts still running; one of them ends within a hash's time.
        Release(inFlight, key);
        retryAfter = TimeSpan.FromSeconds(1);
        return false;
    }

    private static void Release(System.Collections.Concurrent.ConcurrentDictionary<string, int> inFlight, string key)
    {
        if (inFlight.AddOrUpdate(key, 0, (_, n) => n - 1) <= 0)
        {
            inFlight.TryRemove(new KeyValuePair<string, int>(key, 0));
        }
    }

    /// <summary>One running attempt's place in its buckets.</summary>
    internal sealed class AttemptLease(AttemptLimiter owner, string? ipKey, string? accountKey) : IDisposable
    {
        private bool _done;

        /// <summary>Counts the attempt as a failure against the address and the account.</summary>
        public void Failed() => owner.Count(ipKey, accountKey);

        public void Dispose()
        {
            if (_done)
            {
                return;
            }

            _done = true;
            if (ipKey is not null)
            {
                Release(owner._inFlightIp, ipKey);
            }

            if (accountKey is not null)
            {
                Release(owner._inFlightAccount, accountKey);
            }
        }
    }

    public void Dispose()
    {
        _perIp?.Dispose();
        _perAccount?.Dispose();
    }

    private static bool IsExhausted(PartitionedRateLimiter<string> limiter, string key, out TimeSpan retryAfter)
    {
        // Zero permits asks whether any is left without taking one.
        using var lease = limiter.AttemptAcquire(key, permitCount: 0);
        if (lease.IsAcquired)
        {
            retryAfter = TimeSpan.Zero;
            return false;
        }

        // The limiter knows when the next segment frees permits; without that, a segment is the honest wait.
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) && after > TimeSpan.Zero
            ? after
            : Window / SegmentsPerWindow;
        return true;
    }

    // Keys are compared as they are: the account key is normalized already, an IP is one spelling.
    private static PartitionedRateLimiter<string> Create(int permitsPerMinute) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetSlidingWindowLimiter(key, _ => new SlidingWindowRateLimiterOptions
        {
            PermitLimit = permitsPerMinute,
            Window = Window,
            SegmentsPerWindow = SegmentsPerWindow,
            QueueLimit = 0,
            AutoReplenishment = true,
        }), StringComparer.Ordinal);
}
