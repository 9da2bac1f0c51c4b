using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ScaiKey.Api.Telemetry;

/// <summary>The values of the <c>channel</c> tag of <c>scaikey.signins</c>: where a sign-in was attempted.</summary>
internal static class SignInChannels
{
    public const string PasswordGrant = "password_grant";
    public const string Hosted = "hosted";
    public const string Mfa = "mfa";
    public const string Federation = "federation";
}

/// <summary>
/// ScaiKey's own instruments, on the meter "ScaiKey" (docs/operations.md names them). Tags are small fixed sets
/// (outcomes, reasons, channels, grant types, cache names): never a user, a tenant, an address or anything secret.
/// Each record is one counter add with a stack-allocated tag list; with no listener (metrics off, no OTLP) it is a
/// flag check. The traces' <see cref="ActivitySource"/> lives here too, for the same reason it is one name.
/// <para>
/// The meter is the process's, not the host's: OpenTelemetry's meter provider listens to every meter of its name in
/// the process, so per-host meters (IMeterFactory) of a second host in one process (the tests run several) were
/// merged into, and on that host's shutdown taken out of, the first one's readings. A service runs one host.
/// </para>
/// </summary>
internal sealed class ScaiKeyMetrics
{
    public const string MeterName = "ScaiKey";

    /// <summary>The spans ScaiKey makes itself (the password hashing queue); static like every ActivitySource.</summary>
    public static readonly ActivitySource Traces = new(MeterName);

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> _signIns = Meter.CreateCounter<long>("scaikey.signins", "{sign-in}",
        "Sign-in attempts by outcome (success|failure), failure reason and channel (password_grant|hosted|mfa|federation).");

    private static readonly Counter<long> _lockouts = Meter.CreateCounter<long>("scaikey.lockouts", "{lockout}",
        "Accounts locked by too many failed sign-ins.");

    private static readonly Counter<long> _tokens = Meter.CreateCounter<long>("scaikey.tokens.issued", "{token response}",
        "Token endpoint responses that issued tokens, by grant_type.");

    private static readonly UpDownCounter<long> _hashingDepth = Meter.CreateUpDownCounter<long>("scaikey.hashing.queue.depth", "{hash}",
        "Password hashes waiting for a hashing thread (running ones not counted).");

    private static readonly Histogram<double> _hashingWait = Meter.CreateHistogram("scaikey.hashing.queue.wait", "s",
        "Time a password hash waited for a hashing thread.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    private static readonly Counter<long> _cache = Meter.CreateCounter<long>("scaikey.cache.requests", "{request}",
        "In-process cache look-ups by cache and result (hit|miss).");

    private static readonly Counter<long> _syncUsers = Meter.CreateCounter<long>("scaikey.federation.sync.users", "{user}",
        "Users a directory sync changed, by provider_type and change (created|updated|disabled|deleted).");

    private static readonly Counter<long> _scim = Meter.CreateCounter<long>("scaikey.scim.operations", "{operation}",
        "SCIM provisioning operations by resource (User|Group|Bulk) and operation (create|replace|patch|delete).");

    // The outbox of the running host (OutboxBacklog.Current), read when a reader collects.
    private static readonly ObservableGauge<long> _outboxBacklog = Meter.CreateObservableGauge("scaikey.outbox.backlog",
        () => OutboxBacklog.Current is { } outbox ? [new Measurement<long>(outbox.Read().Backlog)] : Array.Empty<Measurement<long>>(),
        "{message}", "Email outbox messages neither sent nor given up (read at most every few seconds).");

    private static readonly ObservableGauge<double> _outboxAge = Meter.CreateObservableGauge("scaikey.outbox.oldest_age",
        () => OutboxBacklog.Current is { } outbox ? [new Measurement<double>(outbox.Read().OldestAgeSeconds)] : Array.Empty<Measurement<double>>(),
        "s", "Age of the oldest undelivered email outbox message; 0 when there is none.");

    /// <summary>A sign-in that started a session.</summary>
    public void SignInSucceeded(string channel)
    {
        if (_signIns.Enabled)
        {
            _signIns.Add(1, new TagList { { "outcome", "success" }, { "channel", channel } });
        }
    }

    /// <summary>A sign-in that did not: <paramref name="reason"/> is one of the fixed reasons (SignInFailureReasons and the like).</summary>
    public void SignInFailed(string channel, string reason)
    {
        if (_signIns.Enabled)
        {
            _signIns.Add(1, new TagList { { "outcome", "failure" }, { "reason", reason }, { "channel", channel } });
        }
    }

    public void Lockout() => _lockouts.Add(1);

    public void TokenIssued(string grantType)
    {
        if (_tokens.Enabled)
        {
            _tokens.Add(1, new TagList { { "grant_type", grantType } });
        }
    }

    public void HashQueued() => _hashingDepth.Add(1);

    /// <summary>A hash counted by <see cref="HashQueued"/> that the full queue refused.</summary>
    public void HashRefused() => _hashingDepth.Add(-1);

    /// <summary>A hash left the queue (started, or was abandoned) after waiting <paramref name="waited"/>.</summary>
    public void HashDequeued(TimeSpan waited)
    {
        _hashingDepth.Add(-1);
        _hashingWait.Record(waited.TotalSeconds);
    }

    public void CacheRequest(string cache, bool hit)
    {
        if (_cache.Enabled)
        {
            _cache.Add(1, new TagList { { "cache", cache }, { "result", hit ? "hit" : "miss" } });
        }
    }

    /// <summary><paramref name="change"/>: created, updated, disabled or deleted.</summary>
    public void FederationSyncUsers(string providerType, string change, int count)
    {
        if (count > 0 && _syncUsers.Enabled)
        {
            _syncUsers.Add(count, new TagList { { "provider_type", providerType }, { "change", change } });
        }
    }

    /// <summary>One SCIM operation: <paramref name="resource"/> User, Group or Bulk; <paramref name="operation"/> create, replace, patch or delete.</summary>
    public void ScimOperation(string resource, string operation)
    {
        if (_scim.Enabled)
        {
            _scim.Add(1, new TagList { { "resource", resource }, { "operation", operation } });
        }
    }
}
