namespace ScaiKey.Api.Infrastructure;

internal static class Ids
{
    /// <summary>UUIDv7 text: opaque to clients, time-ordered for index locality.</summary>
    public static string New() => Guid.CreateVersion7().ToString();
}

internal static class Clock
{
    /// <summary>
    /// Now, truncated to whole microseconds: PostgreSQL keeps six fractional digits, so a value written with
    /// seven would read back different from what the write response said.
    /// </summary>
    public static DateTime UtcNow(this TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % 10), DateTimeKind.Utc);
    }
}
