namespace ScaiKey.Api.Infrastructure;

internal static class Ids
{
    /// <summary>UUIDv7 text: opaque to clients, time-ordered for index locality.</summary>
    public static string New() => Guid.CreateVersion7().ToString();
}
