using Microsoft.Extensions.Options;

namespace ScaiKey.Api.Operations;

/// <summary>ScaiKey:Housekeeping: the purge of rows nothing can use any more (see <see cref="Housekeeping"/>).</summary>
internal sealed class HousekeepingOptions
{
    public const string Section = "ScaiKey:Housekeeping";

    public bool Enabled { get; set; } = true;

    /// <summary>Minutes between purges; one instance of all those sharing the database purges per interval.</summary>
    public int IntervalMinutes { get; set; } = 60;

    /// <summary>Rows deleted per statement, so no purge holds a table's locks for long.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// Days an ended row (a revoked session or token chain, an expired or used link, an expired sign-in step) is
    /// kept after it ended, for the sessions lists and for support, before it is purged.
    /// </summary>
    public int KeepEndedDays { get; set; } = 7;

    /// <summary>Days audit events are kept; empty (the default) keeps them for ever.</summary>
    public int? AuditRetentionDays { get; set; }
}

internal sealed class HousekeepingOptionsValidator : IValidateOptions<HousekeepingOptions>
{
    public ValidateOptionsResult Validate(string? name, HousekeepingOptions options)
    {
        var failures = new List<string>();
        if (options.IntervalMinutes is < 1 or > 1440)
        {
            failures.Add($"{HousekeepingOptions.Section}:IntervalMinutes must be between 1 and 1440 (was {options.IntervalMinutes}).");
        }

        if (options.BatchSize is < 10 or > 10_000)
        {
            failures.Add($"{HousekeepingOptions.Section}:BatchSize must be between 10 and 10000 (was {options.BatchSize}).");
        }

        if (options.KeepEndedDays is < 0 or > 3650)
        {
            failures.Add($"{HousekeepingOptions.Section}:KeepEndedDays must be between 0 and 3650 (was {options.KeepEndedDays}).");
        }

        if (options.AuditRetentionDays is < 1 or > 36_500)
        {
            failures.Add($"{HousekeepingOptions.Section}:AuditRetentionDays must be empty (keep) or between 1 and 36500 (was {options.AuditRetentionDays}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
