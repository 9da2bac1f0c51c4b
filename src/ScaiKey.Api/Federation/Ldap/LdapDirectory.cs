using System.DirectoryServices.Protocols;
using System.Net;
using System.Text;

namespace ScaiKey.Api.Federation.Ldap;

/// <summary>The directory could not be reached or refused the service account: nothing about the user is known.</summary>
internal sealed class LdapUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// One connection to a provider's directory through System.DirectoryServices.Protocols (OpenLDAP's libldap on
/// Linux), bound as the provider's service account. Every value placed in a filter goes through
/// <see cref="Escape(string)"/> (RFC 4515); the bind password is never part of a message or log.
/// </summary>
internal sealed class LdapDirectory : IDisposable
{
    // LDAP result codes (RFC 4511 section 4.1.9) that mean "these credentials are not accepted", as opposed to
    // "the directory is not answering": invalidCredentials, inappropriateAuthentication, unwillingToPerform
    // (Active Directory answers a disabled or expired account with 49 and a sub-code; some servers with 53).
    private static readonly HashSet<int> CredentialRefusals = [49, 48, 53];

    public const int PageSize = 1000;

    private readonly LdapConnection _connection;

    public LdapSettings Settings { get; }

    private LdapDirectory(LdapSettings settings, LdapConnection connection)
    {
        Settings = settings;
        _connection = connection;
    }

    /// <summary>Connects (ldaps, or ldap with StartTLS when set) and binds as bind_dn (anonymously without one).</summary>
    public static LdapDirectory Connect(LdapSettings settings, TimeSpan timeout)
    {
        var port = settings.Url.IsDefaultPort || settings.Url.Port <= 0 ? (settings.Ldaps ? 636 : 389) : settings.Url.Port;
        var connection = new LdapConnection(new LdapDirectoryIdentifier(settings.Url.Host, port, fullyQualifiedDnsHostName: true, connectionless: false))
        {
            AuthType = AuthType.Basic,
            Timeout = timeout,
        };
        var directory = new LdapDirectory(settings, connection);
        try
        {
            connection.SessionOptions.ProtocolVersion = 3;
            connection.SessionOptions.ReferralChasing = ReferralChasingOptions.None;
            if (settings.Ldaps)
            {
                connection.SessionOptions.SecureSocketLayer = true;
            }
            else if (settings.StartTls)
            {
                connection.SessionOptions.StartTransportLayerSecurity(null);
            }

            // An empty DN with an empty password is an anonymous bind (RFC 4513 section 5.1.1), which is what a
            // provider without bind_dn asks for; with a DN the password must not be empty (see TryBind).
            connection.Bind(new NetworkCredential(settings.BindDn ?? "", settings.BindDn is null ? "" : settings.BindPassword ?? ""));
            return directory;
        }
        catch (Exception e) when (e is LdapException or DirectoryOperationException or InvalidOperationException or PlatformNotSupportedException)
        {
            directory.Dispose();
            throw new LdapUnavailableException($"The directory at {settings.Url.Host}:{port} refused the service bind or did not answer ({Describe(e)}).", e);
        }
    }

    /// <summary>
    /// Whether <paramref name="dn"/> binds with <paramref name="password"/>. An empty password is refused here,
    /// never sent: LDAP takes a DN with an empty password as an unauthenticated bind that "succeeds" (RFC 4513
    /// section 5.1.2). Throws <see cref="LdapUnavailableException"/> when the directory does not answer.
    /// </summary>
    public bool TryBind(string dn, string password)
    {
        // A NUL ends the password where libldap reads it: "\0" would go out as an empty, unauthenticated bind.
        if (string.IsNullOrEmpty(password) || string.IsNullOrEmpty(dn)
            || password.Contains('\0', StringComparison.Ordinal) || dn.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            _connection.Bind(new NetworkCredential(dn, password));
            return true;
        }
        catch (LdapException e) when (CredentialRefusals.Contains(e.ErrorCode))
        {
            return false;
        }
        catch (Exception e) when (e is LdapException or DirectoryOperationException)
        {
            throw new LdapUnavailableException($"The directory did not answer the user bind ({Describe(e)}).", e);
        }
    }

    /// <summary>The DN of the user entry whose stable id is <paramref name="subject"/>, or null when none (any longer) matches.</summary>
    public string? FindUserDn(string subject)
    {
        var filter = $"(&{Settings.UserFilter}({Settings.Attributes.Id}={EscapeId(Settings.Attributes.Id, subject)}))";
        var request = new SearchRequest(Settings.BaseDn, filter, SearchScope.Subtree, "1.1") { SizeLimit = 2 };
        try
        {
            var response = (SearchResponse)_connection.SendRequest(request);
            return response.Entries.Count == 1 ? response.Entries[0].DistinguishedName : null;
        }
        catch (Exception e) when (e is LdapException or DirectoryOperationException)
        {
            throw new LdapUnavailableException($"The directory did not answer the user search ({Describe(e)}).", e);
        }
    }

    /// <summary>The stable id of the user entry at <paramref name="dn"/>, or null when there is none or it is not a user_filter entry.</summary>
    public string? UserIdAt(string dn)
    {
        var request = new SearchRequest(dn, Settings.UserFilter, SearchScope.Base, Settings.Attributes.Id);
        try
        {
            var response = (SearchResponse)_connection.SendRequest(request);
            return response.Entries.Count == 1 ? Id(response.Entries[0], Settings.Attributes.Id) : null;
        }
        catch (DirectoryOperationException e) when (e.Response?.ResultCode is ResultCode.NoSuchObject or ResultCode.InvalidDNSyntax)
        {
            return null;
        }
        catch (Exception e) when (e is LdapException or DirectoryOperationException)
        {
            throw new LdapUnavailableException($"The directory did not answer a member lookup ({Describe(e)}).", e);
        }
    }

    /// <summary>
    /// Every entry under base_dn matching <paramref name="filter"/>, a page at a time (RFC 2696 paged results), so
    /// a directory with a size limit below its number of entries (AD's MaxPageSize is 1000) gives all of them.
    /// </summary>
    public IEnumerable<IReadOnlyList<SearchResultEntry>> SearchPages(string filter, string[] attributes)
    {
        var paging = new PageResultRequestControl(PageSize) { IsCritical = true };
        var request = new SearchRequest(Settings.BaseDn, filter, SearchScope.Subtree, attributes);
        request.Controls.Add(paging);
        while (true)
        {
            SearchResponse response;
            try
            {
                response = (SearchResponse)_connection.SendRequest(request);
            }
            catch (Exception e) when (e is LdapException or DirectoryOperationException)
            {
                throw new LdapUnavailableException($"The directory search failed ({Describe(e)}).", e);
            }

            var page = new SearchResultEntry[response.Entries.Count];
            response.Entries.CopyTo(page, 0);
            yield return page;
            var cookie = response.Controls.OfType<PageResultResponseControl>().FirstOrDefault()?.Cookie;
            if (cookie is null || cookie.Length == 0)
            {
                yield break;
            }

            paging.Cookie = cookie;
        }
    }

    /// <summary>The text of an entry's stable id: entryUUID as given, objectGUID (16 bytes) as a GUID.</summary>
    public static string? Id(SearchResultEntry entry, string attribute)
    {
        if (entry.Attributes[attribute] is not { Count: > 0 } values)
        {
            return null;
        }

        if (string.Equals(attribute, "objectGUID", StringComparison.OrdinalIgnoreCase))
        {
            return values.GetValues(typeof(byte[])) is [byte[] { Length: 16 } bytes, ..] ? new Guid(bytes).ToString() : null;
        }

        return values.GetValues(typeof(string)) is [string text, ..] && text.Length > 0 ? text.ToLowerInvariant() : null;
    }

    public static string? First(SearchResultEntry entry, string attribute) =>
        entry.Attributes[attribute] is { Count: > 0 } values && values.GetValues(typeof(string)) is [string text, ..] && text.Length > 0 ? text : null;

    public static IEnumerable<string> All(SearchResultEntry entry, string attribute) =>
        entry.Attributes[attribute] is { Count: > 0 } values ? values.GetValues(typeof(string)).Cast<string>() : [];

    /// <summary>An id as a filter value: objectGUID as its escaped bytes, anything else escaped as text.</summary>
    private static string EscapeId(string attribute, string subject) =>
        string.Equals(attribute, "objectGUID", StringComparison.OrdinalIgnoreCase) && Guid.TryParse(subject, out var guid)
            ? string.Concat(guid.ToByteArray().Select(b => "\\" + b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)))
            : Escape(subject);

    /// <summary>
    /// RFC 4515 section 3: a value inside a filter with '*', '(', ')', '\' and NUL (and, to keep filters plain
    /// ASCII, every non-ASCII byte of its UTF-8) written as \XX, so no value can change the filter's structure.
    /// </summary>
    public static string Escape(string value)
    {
        var builder = new StringBuilder(value.Length + 8);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is (byte)'*' or (byte)'(' or (byte)')' or (byte)'\\' or 0 || b >= 0x80)
            {
                builder.Append('\\').Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append((char)b);
            }
        }

        return builder.ToString();
    }

    /// <summary>An LDAP failure for logs and job details: the result code and server message, never a credential.</summary>
    public static string Describe(Exception e) => e switch
    {
        LdapException l => $"LDAP error {l.ErrorCode}: {l.Message}{(string.IsNullOrEmpty(l.ServerErrorMessage) ? "" : " " + l.ServerErrorMessage)}",
        DirectoryOperationException d => $"LDAP {d.Response?.ResultCode}: {d.Message}",
        _ => e.GetType().Name + ": " + e.Message,
    };

    public void Dispose() => _connection.Dispose();
}
