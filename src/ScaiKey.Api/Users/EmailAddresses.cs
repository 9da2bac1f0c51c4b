namespace ScaiKey.Api.Users;

/// <summary>
/// The one place that says when two spellings of an email address are the same mailbox. Uniqueness, sign-in lookup
/// and the sign-in limiter's per-account buckets all key on <see cref="Normalize"/>, so they can never disagree.
/// </summary>
internal static class EmailAddresses
{
    /// <summary>The key an address is stored and looked up under (<c>users.email_normalized</c>).</summary>
    public static string Normalize(string email) => email.Trim().ToLowerInvariant();
}
