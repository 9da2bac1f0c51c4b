using System.Net;
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
/// ScaiKey:Smtp. A class rather than a record so that nothing prints the password by accident (a record's
/// ToString lists every property).
/// </summary>
internal sealed class SmtpSettings
{
    public const string Section = "ScaiKey:Smtp";
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

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);

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

    /// <summary>Reads and checks the settings; a wrong value stops the start rather than every later send.</summary>
    public static SmtpSettings FromConfiguration(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var from = section["From"];
        var security = section["Security"];
        var settings = new SmtpSettings
        {
            Host = section["Host"]?.Trim(),
            Port = section.GetValue("Port", 25),
            Username = section["Username"],
            Password = section["Password"],
            From = MailboxAddress.TryParse(string.IsNullOrWhiteSpace(from) ? DefaultFrom : from, out var address)
                ? address
                : throw new InvalidOperationException($"{Section}:From is not a valid address: '{from}'."),
            Security = string.IsNullOrWhiteSpace(security) ? SmtpSecurity.Auto
                : Enum.TryParse<SmtpSecurity>(security, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed
                : throw new InvalidOperationException($"{Section}:Security must be None, StartTls, SslOnConnect or Auto, not '{security}'."),
            Poll = Seconds(section, "PollSeconds", 5),
            BatchSize = section.GetValue("BatchSize", 20),
            MaxAttempts = section.GetValue("MaxAttempts", 10),
            RetryBase = Seconds(section, "RetryBaseSeconds", 30),
            RetryMax = Seconds(section, "RetryMaxSeconds", 3600),
            ClaimLease = Seconds(section, "ClaimSeconds", 300),
            Timeout = Seconds(section, "TimeoutSeconds", 30),
        };

        if (settings.Port is < 1 or > 65535 || settings.BatchSize < 1 || settings.MaxAttempts < 1
            || settings.Poll <= TimeSpan.Zero || settings.Timeout <= TimeSpan.Zero || settings.ClaimLease < settings.Timeout * 3)
        {
            throw new InvalidOperationException(
                $"{Section}: Port must be 1-65535, BatchSize, MaxAttempts, PollSeconds and TimeoutSeconds positive, ClaimSeconds at least three timeouts.");
        }

        return settings;
    }

    private static TimeSpan Seconds(IConfigurationSection section, string key, double fallback) =>
        TimeSpan.FromSeconds(section.GetValue(key, fallback));
}
