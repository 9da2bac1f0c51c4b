using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailKit.Security;
using MimeKit;

namespace ScaiKey.Api.Email;

internal enum SmtpSecurity
{
    /// <summary>Plain SMTP, no TLS (a relay on the same host or network).</summary>
    None,

    /// <summary>Plain connection upgraded with STARTTLS; fails if the server does not offer it.</summary>
    StartTls,

    /// <summary>TLS from the first byte (port 465).</summary>
    SslOnConnect,

    /// <summary>
    /// TLS whenever the server is another machine: TLS on connect on port 465, otherwise STARTTLS, required (a server
    /// that does not offer it, or a downgrade that strips it, fails the send). Only a loopback server (localhost,
    /// 127.0.0.0/8, ::1) may be spoken to in plain, as MailKit's own Auto would (STARTTLS when offered).
    /// </summary>
    Auto,
}

/// <summary>
/// ScaiKey:Smtp as configured (see <see cref="SmtpSettings"/> for what each means). A class rather than a record so
/// that nothing prints the password by accident (a record's ToString lists every property).
/// </summary>
internal sealed class SmtpOptions
{
    public const string Section = "ScaiKey:Smtp";

    public string? Host { get; set; }
    public int Port { get; set; } = 25;
    public string? Username { get; set; }
    public string? Password { get; set; }
    public string? From { get; set; }
    public string? Security { get; set; }
    public double PollSeconds { get; set; } = 5;
    public int BatchSize { get; set; } = 20;
    public int MaxAttempts { get; set; } = 10;
    public double RetryBaseSeconds { get; set; } = 30;
    public double RetryMaxSeconds { get; set; } = 3600;
    public double ClaimSeconds { get; set; } = 300;
    public double TimeoutSeconds { get; set; } = 30;

    /// <summary>A certificate file (PEM or DER) trusted as a root for the server's certificate, besides the system's.</summary>
    public string? TrustedCertificate { get; set; }

    public X509Certificate2? LoadTrustedCertificate()
    {
        if (string.IsNullOrWhiteSpace(TrustedCertificate))
        {
            return null;
        }

        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(TrustedCertificate);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            return null;
        }
    }

    public SmtpSecurity? ParsedSecurity =>
        string.IsNullOrWhiteSpace(Security) ? SmtpSecurity.Auto
        : Enum.TryParse<SmtpSecurity>(Security, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(Security, out _) ? parsed
        : null;

    public MailboxAddress? ParsedFrom =>
        MailboxAddress.TryParse(string.IsNullOrWhiteSpace(From) ? SmtpSettings.DefaultFrom : From, out var address) ? address : null;
}

internal sealed class SmtpOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<SmtpOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, SmtpOptions o)
    {
        var failures = new List<string>();
        void Check(bool ok, string key, string allowed, object? was)
        {
            if (!ok)
            {
                failures.Add($"{SmtpOptions.Section}:{key} must be {allowed} (was {was}).");
            }
        }

        Check(o.Port is >= 1 and <= 65535, nameof(o.Port), "between 1 and 65535", o.Port);
        Check(o.ParsedFrom is not null, nameof(o.From), "a mail address such as 'ScaiKey <no-reply@example.com>'", $"'{o.From}'");
        Check(o.ParsedSecurity is not null, nameof(o.Security), "None, StartTls, SslOnConnect or Auto", $"'{o.Security}'");
        Check(o.PollSeconds > 0, nameof(o.PollSeconds), "positive", o.PollSeconds);
        Check(o.BatchSize >= 1, nameof(o.BatchSize), "at least 1", o.BatchSize);
        Check(o.MaxAttempts >= 1, nameof(o.MaxAttempts), "at least 1", o.MaxAttempts);
        Check(o.RetryBaseSeconds > 0, nameof(o.RetryBaseSeconds), "positive", o.RetryBaseSeconds);
        Check(o.RetryMaxSeconds >= o.RetryBaseSeconds, nameof(o.RetryMaxSeconds), "at least RetryBaseSeconds", o.RetryMaxSeconds);
        Check(o.TimeoutSeconds > 0, nameof(o.TimeoutSeconds), "positive", o.TimeoutSeconds);
        Check(string.IsNullOrWhiteSpace(o.TrustedCertificate) || o.LoadTrustedCertificate() is not null, nameof(o.TrustedCertificate),
            "a readable certificate file (PEM or DER)", $"'{o.TrustedCertificate}'");
        Check(o.ClaimSeconds >= o.TimeoutSeconds * 3, nameof(o.ClaimSeconds), "at least three TimeoutSeconds", o.ClaimSeconds);
        return failures.Count == 0 ? Microsoft.Extensions.Options.ValidateOptionsResult.Success : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>The SMTP settings in the shape the sender uses, from the validated <see cref="SmtpOptions"/>.</summary>
internal sealed class SmtpSettings
{
    public const string DefaultFrom = "ScaiKey <no-reply@localhost>";

    public string? Host { get; init; }
    public int Port { get; init; } = 25;
    public string? Username { get; init; }
    public string? Password { get; init; }
    public MailboxAddress From { get; init; } = MailboxAddress.Parse(DefaultFrom);
    public SmtpSecurity Security { get; init; } = SmtpSecurity.Auto;
    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(5);

    // Messages claimed per round; each is claimed on its own just before it is sent.
    public int BatchSize { get; init; } = 20;

    // Attempts before a message is given up (failed_at set); a claim counts as an attempt, so a message that
    // crashes the sender cannot loop forever.
    public int MaxAttempts { get; init; } = 10;

    // Wait after the n-th failure: RetryBase * 2^(n-1), at most RetryMax (30 s, 1 min, ... 1 h; about 4 h in all).
    public TimeSpan RetryBase { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan RetryMax { get; init; } = TimeSpan.FromHours(1);

    // How long a claim keeps other instances away; far longer than one send (three SMTP timeouts).
    public TimeSpan ClaimLease { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A root trusted for the server's certificate besides the system's (a private CA, a self-signed relay).</summary>
    public X509Certificate2? TrustedCertificate { get; init; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);

    /// <summary>
    /// MailKit's check of the server's certificate when <see cref="TrustedCertificate"/> is set: what the system
    /// accepts, or a chain the platform builds to that root. A name that does not match the host fails either way.
    /// </summary>
    public bool AcceptServerCertificate(X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null || TrustedCertificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(TrustedCertificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = new X509Certificate2(certificate);
        return chain.Build(presented);
    }

    public SecureSocketOptions SocketOptions => Choose(Security, Host, Port);

    /// <summary>
    /// How to connect. <see cref="SmtpSecurity.Auto"/> never falls back to plain SMTP across a network: MailKit's own
    /// Auto (<c>StartTlsWhenAvailable</c>) sends in the clear when the STARTTLS offer is missing, which an attacker on
    /// the path can arrange by deleting it. Plain is for <see cref="SmtpSecurity.None"/> or a loopback server.
    /// </summary>
    public static SecureSocketOptions Choose(SmtpSecurity security, string? host, int port) => security switch
    {
        SmtpSecurity.None => SecureSocketOptions.None,
        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        _ when IsLoopback(host) => SecureSocketOptions.Auto,
        _ => port == 465 ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls,
    };

    /// <summary>
    /// A loopback address, or a name that can only mean one (localhost and *.localhost, RFC 6761). Other names are
    /// not resolved here: what a name resolves to can change, and a name is a network server until proven otherwise.
    /// </summary>
    public static bool IsLoopback(string? host)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            return false;
        }

        var name = host.Trim().TrimEnd('.');
        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(name.TrimStart('[').TrimEnd(']'), out var address) && IPAddress.IsLoopback(address);
    }

    public TimeSpan RetryDelay(int failedAttempts)
    {
        var factor = Math.Pow(2, Math.Clamp(failedAttempts - 1, 0, 30));
        return TimeSpan.FromTicks((long)Math.Min(RetryBase.Ticks * factor, RetryMax.Ticks));
    }

    /// <summary>From the validated options (the validator has refused what the parsing below falls back from).</summary>
    public static SmtpSettings FromOptions(SmtpOptions o) => new()
    {
        Host = o.Host?.Trim(),
        Port = o.Port,
        Username = o.Username,
        Password = o.Password,
        From = o.ParsedFrom ?? MailboxAddress.Parse(DefaultFrom),
        Security = o.ParsedSecurity ?? SmtpSecurity.Auto,
        Poll = TimeSpan.FromSeconds(o.PollSeconds),
        BatchSize = o.BatchSize,
        MaxAttempts = o.MaxAttempts,
        RetryBase = TimeSpan.FromSeconds(o.RetryBaseSeconds),
        RetryMax = TimeSpan.FromSeconds(o.RetryMaxSeconds),
        ClaimLease = TimeSpan.FromSeconds(o.ClaimSeconds),
        Timeout = TimeSpan.FromSeconds(o.TimeoutSeconds),
        TrustedCertificate = o.LoadTrustedCertificate(),
    };
}
